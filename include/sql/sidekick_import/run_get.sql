select status, started_at, finished_at, cursor_reset, from_cursor, pending_cursor, cursor_committed,
       pages, delivered, new_changes, duplicates, root_tag_created,
       voter_tags_written, notes_written, phones_written, emails_written, applied, rejected,
       pull_seconds, map_seconds, users_seconds, merge_seconds, error
from webelect.sidekick_import_runs
where campaign_id = %(campaign_id)s and run_id = %(run_id)s
