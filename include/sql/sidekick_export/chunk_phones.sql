-- The chunk's phones, highest rank first, then number (code point order).
select p.voter_id, p.number, p.phone_type, p.rank_score
from unnest(%(ids)s::bigint[]) as s (voter_id)
join webelect.phones p on p.voter_id = s.voter_id
where p.voter_id between %(lo)s and %(hi)s
order by p.voter_id, p.rank_score desc, p.number collate "C"
