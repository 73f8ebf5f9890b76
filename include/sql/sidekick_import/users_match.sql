-- A webElect user of THIS campaign with that email, any case (webElect's own unique key).
update pg_temp.sidekick_user_wanted w
set user_id = u.id
from webelect.users u
where w.user_id is null
  and u.campaign_id = %(campaign_id)s
  and lower(u.email) = w.email_key
