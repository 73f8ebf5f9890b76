-- The voter gets the tag once.
with written as (
    insert into webelect.voter_tags (voter_id, tag_id, created_by)
    select distinct on (voter_id, tag_id) voter_id, tag_id, user_id
    from pg_temp.sidekick_merge_stage
    where reason is null and change_type = 'tag'
    order by voter_id, tag_id, seq nulls last, change_id
    on conflict (voter_id, tag_id) do nothing
    returning 1
)
select count(*) from written
