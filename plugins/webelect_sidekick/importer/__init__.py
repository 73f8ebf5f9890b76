"""The nightly import: Sidekick's canvass changes back into webElect, exactly once.

One night, for one campaign (each step is one task of the ``sidekick_import`` DAG and one
database transaction):

1. ``pull``   — every page of ``GET /v1/changes`` from the campaign's saved cursor, staged
   with COPY and added to ``sidekick_change_inbox`` unless its id is already pending there or
   recorded in ``sidekick_change_ledger`` (a change delivered twice — on two pages, two
   attempts or two nights — is stored and applied once).
   The final ``next_cursor`` becomes the run's *pending* cursor; the saved cursor stays put.
2. ``tags``   — Sidekick tag names -> webElect tags (found by the rule, or created under 'Sidekick').
3. ``users``  — Sidekick users -> webElect users of the campaign (found by email, or created
   as users who can never log in).
4. ``merge``  — every inbox change of the campaign, in ONE transaction: voter tags, notes,
   phones, emails, rejections; the change ids move from the inbox to the ledger and the
   saved cursor moves to the pending cursor in that same transaction.
5. ``report`` — the night's counts, saved in ``sidekick_import_runs`` and returned.

Why this is exactly once: effects are keyed (voter_tags' primary key, notes.external_id,
phones (voter_id, number), emails (voter_id, lower(address)), users (campaign_id,
lower(email)), the inbox's and the ledger's primary keys), every step is idempotent, and the cursor only
moves together with the effects of the changes before it. A crash anywhere leaves either
the state before a step or after it; the retry picks up from there.

Decisions where behaviour.md is silent
--------------------------------------
- Tags created by the import get ``sidekick_name`` = the Sidekick spelling (trimmed), so the
  next night finds them by rule 1 even if someone adds a same-named tag later. Names that
  differ only in case, new the same night, share one new tag (rule 2 would find it for
  both), spelled as the earliest change spelled it. The root 'Sidekick' is found as a tag
  without parent named 'Sidekick' in any case (lowest id); it is reported apart from
  ``tags_created``. Tags and users are only created for changes that will be applied (a
  usable change for a voter of the campaign), never for rejected ones.
- A created user's email is the trimmed spelling of the earliest change; first and last
  names are trimmed, empty -> null. A change without a user email is rejected
  (``missing_user``): every row the import writes must name its author.
- Notes are stored exactly as typed (not trimmed). A note needs ``occurred_at`` (it becomes
  ``created_at``), else ``missing_occurred_at``. Voter tags, phones and emails get the
  default ``created_at`` (when the import wrote them).
- Phones must pass ``phonenumbers.is_valid_number`` (a possible-but-unassigned number is
  rejected); an extension is dropped; numbers with a country code (+44 …) are kept. The type
  is 'cell' or 'landline' in any case, anything else 'unknown'. When one night brings the
  same number (or email) for a voter twice, the earliest change's row is written.
- Emails are checked on the trimmed text and written as ``lower(address)`` — PostgreSQL's
  lower(), the function of webElect's unique index, so "already there" agrees with it.
- ``voter_not_in_campaign``: the webElect voter id names a voter of another campaign and the
  SOS id matches none of this campaign; otherwise an unmatched voter is ``unknown_voter``.
- ``note_id_conflict``: ``notes.external_id`` is unique across campaigns; a note change whose
  id another campaign's note already holds is rejected rather than dropped silently.
- A change without an id is stored once under ``malformed:<hash of its JSON>`` and rejected
  as ``malformed``. Other reasons: ``unknown_type``, ``empty_tag``, ``empty_note``,
  ``invalid_phone``, ``invalid_email``.
- Duplicates skipped = records delivered in this pull whose id was already pending, already
  applied, or repeated within the pull; records stored by an earlier attempt of the same run
  are not counted again.
- The merge moves the saved cursor only from where this run's pull started (compare-and-set):
  a cursor reset or another run's merge in between is never overwritten; the next night then
  re-pulls and skips what it already has. If the merge finds changes the map steps have not
  mapped (pulled by an overlapping run), it maps them itself, in its own transaction.
- Change ids are kept 35 days after they were applied (Sidekick can redeliver for 30);
  rejections and run reports are kept.
"""
