update webelect.sidekick_import_runs
set status = 'pulled', from_cursor = %(from_cursor)s, pending_cursor = %(pending_cursor)s,
    pages = %(pages)s, delivered = %(delivered)s, new_changes = %(new_changes)s,
    duplicates = %(duplicates)s, pull_seconds = %(seconds)s
where campaign_id = %(campaign_id)s and run_id = %(run_id)s
