-- Add what is new to the inbox (first delivery of each id wins) and count: delivered (records
-- received), inserted, and already_this_run (stored — pending or applied — by an earlier attempt
-- of this same run: not duplicates). Everything else delivered is a duplicate: a change id
-- that is pending in the inbox or recorded in the ledger is never stored again.
with distinct_changes as (
    select distinct on (change_id) *
    from pg_temp.sidekick_pull_stage
    order by change_id, ord
), known as (
    select d.change_id, coalesce(i.pulled_run_id, l.pulled_run_id) as pulled_run_id
    from distinct_changes d
    left join webelect.sidekick_change_inbox i on i.campaign_id = %(campaign_id)s and i.change_id = d.change_id
    left join webelect.sidekick_change_ledger l on l.campaign_id = %(campaign_id)s and l.change_id = d.change_id
    where i.change_id is not null or l.change_id is not null
), inserted as (
    insert into webelect.sidekick_change_inbox
        (campaign_id, change_id, seq, change_type, occurred_at, voter_webelect_id, voter_sos_id,
         user_email, value, phone_type, problem, payload, pulled_run_id)
    select %(campaign_id)s, d.change_id, d.seq, d.change_type, d.occurred_at, d.voter_webelect_id, d.voter_sos_id,
           d.user_email, d.value, d.phone_type, d.problem, d.payload, %(run_id)s
    from distinct_changes d
    where not exists (select 1 from known k where k.change_id = d.change_id)
    order by d.seq nulls last, d.change_id
    on conflict (campaign_id, change_id) do nothing
    returning 1
)
select (select count(*) from pg_temp.sidekick_pull_stage) as delivered,
       (select count(*) from inserted) as inserted,
       (select count(*) from known where pulled_run_id = %(run_id)s) as already_this_run
