insert into webelect.sidekick_import_user_map (campaign_id, run_id, email_key, user_id, created)
select %(campaign_id)s, %(run_id)s, email_key, user_id, created
from pg_temp.sidekick_user_wanted
where user_id is not null
on conflict (campaign_id, run_id, email_key) do update
    set user_id = excluded.user_id,
        created = webelect.sidekick_import_user_map.created or excluded.created
returning created
