update webelect.sidekick_import_runs set cursor_reset = true
where campaign_id = %(campaign_id)s and run_id = %(run_id)s
