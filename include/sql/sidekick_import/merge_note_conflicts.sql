-- notes.external_id is unique across campaigns: a note change whose id is already taken by a
-- note of another voter was not written, and is reported rather than silently dropped.
update pg_temp.sidekick_merge_stage s
set reason = 'note_id_conflict'
where s.reason is null and s.change_type = 'note'
  and not exists (select 1 from webelect.notes n where n.external_id = s.change_id and n.voter_id = s.voter_id)
