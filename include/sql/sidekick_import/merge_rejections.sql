insert into webelect.sidekick_import_rejections (campaign_id, change_id, change_type, reason, run_id, payload)
select %(campaign_id)s, s.change_id, s.change_type, s.reason, %(run_id)s, i.payload
from pg_temp.sidekick_merge_stage s
join webelect.sidekick_change_inbox i on i.campaign_id = %(campaign_id)s and i.change_id = s.change_id
where s.reason is not null
on conflict (campaign_id, change_id) do update
    set reason = excluded.reason, run_id = excluded.run_id, rejected_at = now(), change_type = excluded.change_type
