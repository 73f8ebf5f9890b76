-- Changes the map steps have not covered (e.g. the merge was retried alone after a new pull).
select count(*) from pg_temp.sidekick_merge_stage where reason in ('unresolved_user', 'unmapped_tag')
