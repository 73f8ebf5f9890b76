-- The export's record in webElect (behaviour.md, rule 6), one row per run: an upsert keyed
-- by the run id, so retried and cleared tasks update it instead of adding rows. A value
-- not given (null) keeps what is there; the start never moves later.
insert into webelect.sidekick_exports as e (
    run_id, upload_key, query_id, campaign_id, status, add_to_group, targeted_sent, housemates_sent,
    skipped_purged, part_count, record_count, records_loaded, records_rejected, rejections, failure_reason,
    started_at, finished_at
) values (
    %(run_id)s, %(upload_key)s, %(query_id)s, %(campaign_id)s, %(status)s, %(add_to_group)s, %(targeted_sent)s,
    %(housemates_sent)s, %(skipped_purged)s, %(part_count)s, %(record_count)s, %(records_loaded)s,
    %(records_rejected)s, %(rejections)s, %(failure_reason)s, %(started_at)s, %(finished_at)s
)
on conflict (run_id) do update set
    status           = excluded.status,
    add_to_group     = coalesce(excluded.add_to_group, e.add_to_group),
    targeted_sent    = coalesce(excluded.targeted_sent, e.targeted_sent),
    housemates_sent  = coalesce(excluded.housemates_sent, e.housemates_sent),
    skipped_purged   = coalesce(excluded.skipped_purged, e.skipped_purged),
    part_count       = coalesce(excluded.part_count, e.part_count),
    record_count     = coalesce(excluded.record_count, e.record_count),
    records_loaded   = coalesce(excluded.records_loaded, e.records_loaded),
    records_rejected = coalesce(excluded.records_rejected, e.records_rejected),
    rejections       = coalesce(excluded.rejections, e.rejections),
    failure_reason   = case when excluded.status = 'Failed' then coalesce(e.failure_reason, excluded.failure_reason) end,
    started_at       = least(e.started_at, excluded.started_at),
    finished_at      = excluded.finished_at
