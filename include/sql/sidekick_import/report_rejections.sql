select reason, count(*)
from webelect.sidekick_import_rejections
where campaign_id = %(campaign_id)s and run_id = %(run_id)s
group by reason
order by reason
