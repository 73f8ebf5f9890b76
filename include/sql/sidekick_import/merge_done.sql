-- Counts add up over the transactions that committed them (a retried merge that finds nothing
-- left adds zero); cursor_committed never goes back to false.
update webelect.sidekick_import_runs
set status = 'merged',
    cursor_committed = cursor_committed or %(cursor_committed)s,
    voter_tags_written = voter_tags_written + %(voter_tags)s,
    notes_written = notes_written + %(notes)s,
    phones_written = phones_written + %(phones)s,
    emails_written = emails_written + %(emails)s,
    applied = %(applied)s,
    rejected = %(rejected)s,
    merge_seconds = %(seconds)s
where campaign_id = %(campaign_id)s and run_id = %(run_id)s
