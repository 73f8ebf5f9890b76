-- The run's map; a retried step keeps "created" from the attempt that created the tag.
insert into webelect.sidekick_import_tag_map (campaign_id, run_id, sidekick_tag, tag_id, created)
select %(campaign_id)s, %(run_id)s, name, tag_id, created
from pg_temp.sidekick_tag_wanted
on conflict (campaign_id, run_id, sidekick_tag) do update
    set tag_id = excluded.tag_id,
        created = webelect.sidekick_import_tag_map.created or excluded.created
returning created
