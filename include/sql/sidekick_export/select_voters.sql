-- Every voter the export sends, once, in voter-id order (behaviour.md, rule 2):
--   targeted  = the query's voters of its campaign whose status is not 'purged';
--   housemate = a voter of the same campaign, not in the query, not purged, sharing a
--               household_id (not null) with a targeted voter (a purged query voter
--               brings no housemates).
-- Every join is guarded by the campaign, so a query row that names another campaign's
-- voter is ignored. Output: voter_id, targeted (1 or 0).
with targeted as (
    select v.id, v.household_id
    from webelect.target_query_voters tq
    join webelect.voters v on v.id = tq.voter_id and v.campaign_id = %(campaign_id)s
    where tq.query_id = %(query_id)s
      and v.status <> 'purged'
)
select t.id as voter_id, 1 as targeted
from targeted t
union all
select h.id, 0
from webelect.voters h
where h.campaign_id = %(campaign_id)s
  and h.status <> 'purged'
  and h.household_id in (select t.household_id from targeted t where t.household_id is not null)
  and not exists (
      select from webelect.target_query_voters x
      where x.query_id = %(query_id)s and x.voter_id = h.id
  )
order by 1
