-- Move the saved cursor to the run's pending cursor, only from where this run's pull started
-- (compare-and-set): a reset or another run that moved it meanwhile is never overwritten.
update webelect.sidekick_import_cursors
set cursor = %(pending_cursor)s, updated_at = now(), updated_by_run = %(run_id)s
where campaign_id = %(campaign_id)s
  and cursor is not distinct from %(from_cursor)s
returning campaign_id
