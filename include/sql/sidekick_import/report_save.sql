update webelect.sidekick_import_runs
set status = 'complete', finished_at = now(), report = %(report)s
where campaign_id = %(campaign_id)s and run_id = %(run_id)s
