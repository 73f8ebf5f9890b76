-- Forget change ids applied longer ago than Sidekick can deliver them again, and old runs'
-- tag/user maps. Rejections and run reports are kept.
with ledger as (
    delete from webelect.sidekick_change_ledger
    where campaign_id = %(campaign_id)s and applied_at < now() - make_interval(days => %(days)s)
    returning 1
), tag_maps as (
    delete from webelect.sidekick_import_tag_map m
    using webelect.sidekick_import_runs r
    where m.campaign_id = %(campaign_id)s and r.campaign_id = m.campaign_id and r.run_id = m.run_id
      and r.started_at < now() - make_interval(days => %(days)s)
    returning 1
), user_maps as (
    delete from webelect.sidekick_import_user_map m
    using webelect.sidekick_import_runs r
    where m.campaign_id = %(campaign_id)s and r.campaign_id = m.campaign_id and r.run_id = m.run_id
      and r.started_at < now() - make_interval(days => %(days)s)
    returning 1
)
select (select count(*) from ledger), (select count(*) from tag_maps), (select count(*) from user_maps)
