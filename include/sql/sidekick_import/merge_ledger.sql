-- The changes are applied (or rejected): take them out of the inbox and record their ids in
-- the ledger — in the merge's transaction, together with their effects and the cursor.
with dequeued as (
    delete from webelect.sidekick_change_inbox i
    using pg_temp.sidekick_merge_stage s
    where i.campaign_id = %(campaign_id)s and i.change_id = s.change_id
    returning i.change_id, i.change_type, i.pulled_run_id, s.reason
), recorded as (
    insert into webelect.sidekick_change_ledger
        (campaign_id, change_id, change_type, outcome, pulled_run_id, applied_run_id)
    select %(campaign_id)s, change_id, change_type,
           case when reason is null then 'applied' else 'rejected' end, pulled_run_id, %(run_id)s
    from dequeued
    on conflict (campaign_id, change_id) do nothing
    returning 1
)
select count(*) from recorded
