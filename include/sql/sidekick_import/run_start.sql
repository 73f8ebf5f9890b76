-- The night's row for the campaign; a retried or re-run step keeps started_at.
insert into webelect.sidekick_import_runs (campaign_id, run_id, status)
values (%(campaign_id)s, %(run_id)s, %(status)s)
on conflict (campaign_id, run_id) do update
    set status = excluded.status, error = null, finished_at = null
returning started_at, cursor_reset, from_cursor, pending_cursor, cursor_committed
