-- Every voter the export sends, once, in voter-id order (behaviour.md, rule 2):
--   kind 1, targeted  = the query's voters of its campaign whose status is not 'purged';
--   kind 0, housemate = a voter of the same campaign, not in the query, not purged, sharing
--                       a household_id (not null) with a targeted voter (a purged query
--                       voter brings no housemates);
--   kind 2, skipped   = the query's purged voters of its campaign: never sent, counted.
-- Every join is guarded by the campaign, so a query row that names another campaign's
-- voter is ignored. This statement goes by index (a query that is a small share of the
-- voters); select_voters_large.sql gives the same answer in one pass over the campaign.
with query_voters as (
    select v.id, v.household_id, v.status
    from webelect.target_query_voters tq
    join webelect.voters v on v.id = tq.voter_id and v.campaign_id = %(campaign_id)s
    where tq.query_id = %(query_id)s
)
select q.id as voter_id, case when q.status = 'purged' then 2 else 1 end as kind
from query_voters q
union all
select h.id, 0
from webelect.voters h
where h.campaign_id = %(campaign_id)s
  and h.status <> 'purged'
  and h.household_id in (
      select q.household_id from query_voters q where q.status <> 'purged' and q.household_id is not null
  )
  and not exists (
      select from webelect.target_query_voters x
      where x.query_id = %(query_id)s and x.voter_id = h.id
  )
order by 1
