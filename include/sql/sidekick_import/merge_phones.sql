-- E.164 numbers, source 'user', the user rank; not added when the voter has that number
-- (the first change wins when one night brings the same number twice).
with written as (
    insert into webelect.phones (voter_id, number, phone_type, source, rank_score, created_by)
    select distinct on (voter_id, value) voter_id, value, phone_type, 'user', %(rank_score)s, user_id
    from pg_temp.sidekick_merge_stage
    where reason is null and change_type = 'phone'
    order by voter_id, value, seq nulls last, change_id
    on conflict (voter_id, number) do nothing
    returning 1
)
select count(*) from written
