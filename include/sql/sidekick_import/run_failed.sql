insert into webelect.sidekick_import_runs (campaign_id, run_id, status, error)
values (%(campaign_id)s, %(run_id)s, 'failed', %(error)s)
on conflict (campaign_id, run_id) do update set status = 'failed', error = excluded.error
