-- The chunk's notes as one CSV text (voter_id,"body",created_at,"author_email" per line),
-- oldest first (created_at, then note id). created_at is PostgreSQL's ISO text in UTC (the
-- builder's session time zone); author_email is the note creator's email when that user
-- belongs to this campaign, else empty (NULL).
select convert_to(coalesce(string_agg(
           concat_ws(',', n.voter_id, '"' || replace(n.body, '"', '""') || '"', n.created_at,
                     coalesce('"' || replace(u.email, '"', '""') || '"', '')),
           E'\n' order by n.voter_id, n.created_at, n.id), ''), 'UTF8')
from unnest(%(ids)s::bigint[]) as s (voter_id)
join webelect.notes n on n.voter_id = s.voter_id
left join webelect.users u on u.id = n.created_by and u.campaign_id = %(campaign_id)s
where n.voter_id between %(lo)s and %(hi)s
