-- What this merge does with its changes: applied by type, rejected by reason.
select coalesce(change_type, '(none)'), reason, count(*)
from pg_temp.sidekick_merge_stage
group by 1, 2
