-- A step finished: its status and its seconds (the other steps' seconds are kept).
update webelect.sidekick_import_runs
set status        = %(status)s,
    map_seconds   = coalesce(%(map_seconds)s, map_seconds),
    users_seconds = coalesce(%(users_seconds)s, users_seconds)
where campaign_id = %(campaign_id)s and run_id = %(run_id)s
