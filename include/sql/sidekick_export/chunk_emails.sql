-- The chunk's emails, highest rank first, then address (code point order).
select e.voter_id, e.address, e.rank_score
from unnest(%(ids)s::bigint[]) as s (voter_id)
join webelect.emails e on e.voter_id = s.voter_id
where e.voter_id between %(lo)s and %(hi)s
order by e.voter_id, e.rank_score desc, e.address collate "C"
