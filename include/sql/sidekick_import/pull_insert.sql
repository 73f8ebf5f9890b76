-- Add what is new to the inbox (first delivery of each id wins) and count:
-- delivered (records received), already_this_run (stored by an earlier attempt of this
-- same run: not duplicates), inserted. Everything else delivered is a duplicate.
with distinct_changes as (
    select distinct on (change_id) *
    from pg_temp.sidekick_pull_stage
    order by change_id, ord
), inserted as (
    insert into webelect.sidekick_change_inbox
        (campaign_id, change_id, seq, change_type, occurred_at, voter_webelect_id, voter_sos_id,
         user_email, value, phone_type, problem, payload, pulled_run_id)
    select %(campaign_id)s, change_id, seq, change_type, occurred_at, voter_webelect_id, voter_sos_id,
           user_email, value, phone_type, problem, payload, %(run_id)s
    from distinct_changes
    order by seq nulls last, change_id
    on conflict (campaign_id, change_id) do nothing
    returning 1
)
select (select count(*) from pg_temp.sidekick_pull_stage) as delivered,
       (select count(*) from inserted) as inserted,
       (select count(*)
          from distinct_changes d
          join webelect.sidekick_change_inbox i
            on i.campaign_id = %(campaign_id)s and i.change_id = d.change_id
         where i.pulled_run_id = %(run_id)s) as already_this_run
