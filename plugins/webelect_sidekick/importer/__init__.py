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
"""
