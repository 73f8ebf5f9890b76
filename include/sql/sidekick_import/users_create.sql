-- Everyone else becomes a user who can never log in: level 0 and expired at the moment of
-- creation (webElect lets a user in only when level > 0 and expires_at is null or later than now).
with created as (
    insert into webelect.users (campaign_id, email, first_name, last_name, level, expires_at, created_at, created_via)
    select %(campaign_id)s, email, first_name, last_name, 0, now(), now(), 'sidekick'
    from pg_temp.sidekick_user_wanted
    where user_id is null
    order by email_key
    on conflict (campaign_id, lower(email)) do nothing
    returning id, lower(email) as email_key
)
update pg_temp.sidekick_user_wanted w
set user_id = c.id, created = true
from created c
where w.email_key = c.email_key
