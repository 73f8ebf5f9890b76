-- One new tag under the root for each name no tag matched. Names that differ only in case
-- share one tag (the any-case rule would find it for both), spelled as the earliest change
-- spelled it. The new tag's sidekick_name is that spelling, so the next night finds it by
-- rule 1 even if someone later adds another tag with the same name.
with missing as (
    select distinct on (lower(name)) name
    from pg_temp.sidekick_tag_wanted
    where tag_id is null
    order by lower(name), first_seq nulls last, name
), created as (
    insert into webelect.tags (campaign_id, name, parent_id, sidekick_name)
    select %(campaign_id)s, name, %(root_id)s, name
    from missing
    order by name
    returning id, name
)
update pg_temp.sidekick_tag_wanted w
set tag_id = c.id, created = true
from created c
where w.tag_id is null and lower(w.name) = lower(c.name)
