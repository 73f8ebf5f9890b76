-- The changes are applied (or rejected): record their ids in the ledger and take them out of
-- the inbox — in the merge's transaction, together with their effects and the cursor.
with recorded as (
    insert into webelect.sidekick_change_ledger
        (campaign_id, change_id, change_type, outcome, pulled_run_id, applied_run_id)
    select %(campaign_id)s, change_id, change_type,
           case when reason is null then 'applied' else 'rejected' end, pulled_run_id, %(run_id)s
    from pg_temp.sidekick_merge_stage
    on conflict (campaign_id, change_id) do nothing
    returning 1
)
select count(*) from recorded
