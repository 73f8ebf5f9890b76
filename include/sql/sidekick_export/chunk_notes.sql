-- The chunk's notes, oldest first (created_at, then note id). created_at is written in UTC
-- (the session's time zone is UTC); author_email is the note creator's email when that
-- user belongs to this campaign, else null.
select n.voter_id, n.body, n.created_at, u.email
from unnest(%(ids)s::bigint[]) as s (voter_id)
join webelect.notes n on n.voter_id = s.voter_id
left join webelect.users u on u.id = n.created_by and u.campaign_id = %(campaign_id)s
where n.voter_id between %(lo)s and %(hi)s
order by n.voter_id, n.created_at, n.id
