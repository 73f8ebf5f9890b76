delete from webelect.sidekick_change_inbox i
using pg_temp.sidekick_merge_stage s
where i.campaign_id = %(campaign_id)s and i.change_id = s.change_id
