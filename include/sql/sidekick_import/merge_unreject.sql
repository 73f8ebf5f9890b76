-- A change applied now (e.g. re-queued by hand after its voter was added) is no longer rejected.
delete from webelect.sidekick_import_rejections r
using pg_temp.sidekick_merge_stage s
where r.campaign_id = %(campaign_id)s and r.change_id = s.change_id and s.reason is null
