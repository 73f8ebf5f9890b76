insert into webelect.sidekick_import_cursors (campaign_id, cursor)
values (%(campaign_id)s, null)
on conflict (campaign_id) do nothing
