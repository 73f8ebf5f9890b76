-- The same answer as select_voters.sql (read its rules there), for a query that holds a
-- large share of the campaign: one pass over the campaign's voters in id order (merge
-- join with the query's rows), instead of index probes per household. Chosen by
-- export/voters.py when the query is large; tests check that both give the same answer.
select v.id as voter_id, case when tq.voter_id is null then 0 else 1 end as targeted
from webelect.voters v
left join webelect.target_query_voters tq on tq.query_id = %(query_id)s and tq.voter_id = v.id
where v.campaign_id = %(campaign_id)s
  and v.status <> 'purged'
  and (
      tq.voter_id is not null
      or v.household_id in (
          select t.household_id
          from webelect.target_query_voters q
          join webelect.voters t on t.id = q.voter_id and t.campaign_id = %(campaign_id)s
          where q.query_id = %(query_id)s
            and t.status <> 'purged'
            and t.household_id is not null
      )
  )
order by v.id
