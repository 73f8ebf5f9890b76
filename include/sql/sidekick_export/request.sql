-- The saved target query and its campaign (behaviour.md, rule 1), answered fast even for a
-- query of millions: whether it holds at least one voter of its own campaign that is not
-- purged (the voters to send), and how many rows it has (which picks the selection
-- statement). The exact counts come with the selection itself (select_voters*.sql).
select q.id, q.name, q.campaign_id,
       exists (
           select
           from webelect.target_query_voters tqv
           join webelect.voters v on v.id = tqv.voter_id and v.campaign_id = q.campaign_id
           where tqv.query_id = q.id and v.status <> 'purged'
       ) as has_voters,
       (select count(*) from webelect.target_query_voters tqv where tqv.query_id = q.id) as query_rows
from webelect.target_queries q
where q.id = %(query_id)s
