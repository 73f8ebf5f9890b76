-- Add a batch of the export's targeted, sent voters to the group; members already there
-- stay as they are. The ids come from this run's voter list, which select_voters.sql
-- drew from the group's campaign only.
insert into webelect.group_members (group_id, voter_id)
select %(group_id)s, s.voter_id
from unnest(%(voter_ids)s::bigint[]) as s (voter_id)
on conflict (group_id, voter_id) do nothing
