-- A full re-pull: the next pull starts from the oldest change Sidekick keeps. Changes already
-- imported come again and are skipped as duplicates by the inbox's primary key.
insert into webelect.sidekick_import_cursors (campaign_id, cursor, reset_at, reset_by)
values (%(campaign_id)s, null, now(), %(reset_by)s)
on conflict (campaign_id) do update
    set cursor = null, updated_at = now(), updated_by_run = null, reset_at = now(), reset_by = excluded.reset_by
