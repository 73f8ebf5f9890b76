-- The chunk's emails as one CSV text (voter_id,"address",rank per line), highest rank
-- first, then address (code point order).
select convert_to(coalesce(string_agg(
           concat_ws(',', e.voter_id, '"' || replace(e.address, '"', '""') || '"', e.rank_score),
           E'\n' order by e.voter_id, e.rank_score desc, e.address collate "C"), ''), 'UTF8')
from unnest(%(ids)s::bigint[]) as s (voter_id)
join webelect.emails e on e.voter_id = s.voter_id
where e.voter_id between %(lo)s and %(hi)s
