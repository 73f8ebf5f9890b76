-- The saved target query, its campaign and what it holds (behaviour.md, rule 1).
-- Voter ids of the query that are not voters of the query's own campaign count as
-- "other_campaign" and are never sent (rule 2: nothing from another campaign, ever).
select q.id                                                   as query_id,
       q.name                                                 as query_name,
       q.campaign_id                                          as campaign_id,
       count(v.id) filter (where v.status <> 'purged')        as targeted,
       count(v.id) filter (where v.status = 'purged')         as purged,
       count(tqv.voter_id) filter (where v.id is null)        as other_campaign
from webelect.target_queries q
left join webelect.target_query_voters tqv on tqv.query_id = q.id
left join webelect.voters v on v.id = tqv.voter_id and v.campaign_id = q.campaign_id
where q.id = %(query_id)s
group by q.id, q.name, q.campaign_id
