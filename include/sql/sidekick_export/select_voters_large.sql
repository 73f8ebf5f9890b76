-- The same answer as select_voters.sql (read its rules there), for a query that holds a
-- large share of the voters: one pass over the campaign's voters in id order (a merge
-- join with the query's rows) instead of index probes per household. export/voters.py
-- picks it for a large query; the tests check that both statements agree.
select v.id as voter_id,
       case when tq.voter_id is null then 0 when v.status = 'purged' then 2 else 1 end as kind
from webelect.voters v
left join webelect.target_query_voters tq on tq.query_id = %(query_id)s and tq.voter_id = v.id
where v.campaign_id = %(campaign_id)s
  and (
      tq.voter_id is not null
      or (
          v.status <> 'purged'
          and v.household_id in (
              select t.household_id
              from webelect.target_query_voters q
              join webelect.voters t on t.id = q.voter_id and t.campaign_id = %(campaign_id)s
              where q.query_id = %(query_id)s
                and t.status <> 'purged'
                and t.household_id is not null
          )
      )
  )
order by v.id
