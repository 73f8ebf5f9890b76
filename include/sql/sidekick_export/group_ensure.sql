-- The "Add To Group" group of the campaign, created when missing (names are unique per
-- campaign; two runs creating it at once both end with the same row).
with created as (
    insert into webelect.groups (campaign_id, name) values (%(campaign_id)s, %(name)s)
    on conflict (campaign_id, name) do nothing
    returning id
)
select id, true from created
union all
select id, false from webelect.groups where campaign_id = %(campaign_id)s and name = %(name)s
limit 1
