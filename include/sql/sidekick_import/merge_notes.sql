-- One note per note change; external_id (unique) = the change id makes it at most once.
with written as (
    insert into webelect.notes (voter_id, body, created_at, created_by, source, external_id)
    select voter_id, value, occurred_at, user_id, 'sidekick', change_id
    from pg_temp.sidekick_merge_stage
    where reason is null and change_type = 'note'
    order by seq nulls last, change_id
    on conflict (external_id) do nothing
    returning 1
)
select count(*) from written
