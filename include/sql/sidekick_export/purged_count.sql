-- The query's purged voters of its campaign (for the refusal message when nothing is left).
select count(*)
from webelect.target_query_voters tq
join webelect.voters v on v.id = tq.voter_id and v.campaign_id = %(campaign_id)s
where tq.query_id = %(query_id)s
  and v.status = 'purged'
