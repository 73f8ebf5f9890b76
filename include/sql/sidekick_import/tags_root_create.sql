insert into webelect.tags (campaign_id, name, parent_id, sidekick_name)
values (%(campaign_id)s, 'Sidekick', null, null)
returning id
