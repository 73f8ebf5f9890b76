update webelect.sidekick_import_runs set root_tag_created = true
where campaign_id = %(campaign_id)s and run_id = %(run_id)s
