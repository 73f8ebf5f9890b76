-- The chunk's phones as one CSV text (voter_id,"number","type",rank per line), highest rank
-- first, then number (code point order).
select convert_to(coalesce(string_agg(
           concat_ws(',', p.voter_id, '"' || replace(p.number, '"', '""') || '"',
                     '"' || replace(p.phone_type, '"', '""') || '"', p.rank_score),
           E'\n' order by p.voter_id, p.rank_score desc, p.number collate "C"), ''), 'UTF8')
from unnest(%(ids)s::bigint[]) as s (voter_id)
join webelect.phones p on p.voter_id = s.voter_id
where p.voter_id between %(lo)s and %(hi)s
