-- What this run's merge did with each change, by type and outcome.
select coalesce(change_type, '(none)'), outcome, count(*)
from webelect.sidekick_change_inbox
where campaign_id = %(campaign_id)s and applied_run_id = %(run_id)s
group by 1, 2
