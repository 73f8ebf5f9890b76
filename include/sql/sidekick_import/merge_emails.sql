-- Lower-cased addresses, source 'user', the user rank; not added when the voter has the
-- address in any case (webElect's unique key is (voter_id, lower(address))).
with written as (
    insert into webelect.emails (voter_id, address, source, rank_score, created_by)
    select distinct on (voter_id, lower(value)) voter_id, lower(value), 'user', %(rank_score)s, user_id
    from pg_temp.sidekick_merge_stage
    where reason is null and change_type = 'email'
    order by voter_id, lower(value), seq nulls last, change_id
    on conflict (voter_id, lower(address)) do nothing
    returning 1
)
select count(*) from written
