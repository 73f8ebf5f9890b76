-- One import step at a time per campaign (transaction-scoped; released at commit/rollback).
select pg_advisory_xact_lock(hashtextextended('sidekick_import:' || %(campaign_id)s::text, 0))
