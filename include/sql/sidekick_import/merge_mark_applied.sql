update webelect.sidekick_change_inbox i
set applied_at = now(),
    applied_run_id = %(run_id)s,
    outcome = case when s.reason is null then 'applied' else 'rejected' end
from pg_temp.sidekick_merge_stage s
where i.campaign_id = %(campaign_id)s and i.change_id = s.change_id
