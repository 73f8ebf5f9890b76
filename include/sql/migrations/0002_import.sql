-- sidekick_import bookkeeping (behaviour.md, "sidekick_import"). Owned by the import DAG.
-- Later changes go in new migration files.

-- Whitespace trimming as Python's str.strip() does it (plus the BOM), for comparing Sidekick
-- tag names with webElect's tag names and "Sidekick Tag" fields. PostgreSQL's btrim() alone
-- trims only spaces.
create or replace function webelect.sidekick_trim(value text) returns text
    language sql immutable parallel safe
    as $fn$ select btrim(value, E' \t\n\r\f\u000b\u001c\u001d\u001e\u001f\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff') $fn$;

-- The saved cursor of each campaign: where the next night's pull starts. It moves only in
-- the merge transaction that commits the effects of every change before it.
create table if not exists webelect.sidekick_import_cursors (
    campaign_id      bigint primary key,
    cursor           text null,          -- null: from the oldest change Sidekick keeps
    updated_at       timestamptz not null default now(),
    updated_by_run   text null,
    reset_at         timestamptz null,   -- last time someone asked for a full re-pull
    reset_by         text null
);

-- Changes pulled and not yet applied: the merge moves them out (to the ledger) in the
-- transaction that applies them, so this table only ever holds the pending work. Raw payload
-- kept for the rejections; the typed columns are what the pull derived from it (trimmed tag,
-- note body, E.164 phone, syntax-checked email, or the problem that makes the change unusable).
create table if not exists webelect.sidekick_change_inbox (
    campaign_id       bigint not null,
    change_id         text not null,
    seq               bigint null,
    change_type       text null,
    occurred_at       timestamptz null,
    voter_webelect_id bigint null,
    voter_sos_id      text null,
    user_email        text null,         -- trimmed, as typed; matched with lower()
    value             text null,         -- tag name (trimmed) | note body | E.164 number | email (trimmed)
    phone_type        text null,         -- 'cell' | 'landline' | 'unknown' for phone changes
    problem           text null,         -- a rejection reason found from the change alone
    payload           jsonb not null,
    pulled_at         timestamptz not null default now(),
    pulled_run_id     text not null,
    primary key (campaign_id, change_id)
);

-- Every change id ever applied (or rejected), once per campaign: with the inbox, the memory
-- that makes at-least-once delivery exactly-once — a change delivered again (on another
-- page, in a retry, another night or after a cursor reset) is found here and skipped.
-- Pruned after Sidekick's 30 days (+ margin): by then Sidekick cannot deliver it again.
create table if not exists webelect.sidekick_change_ledger (
    campaign_id     bigint not null,
    change_id       text not null,
    change_type     text null,
    outcome         text not null check (outcome in ('applied', 'rejected')),
    pulled_run_id   text not null,
    applied_run_id  text not null,
    applied_at      timestamptz not null default now(),
    primary key (campaign_id, change_id)
);

-- Changes that could not be applied, with the reason (kept after the inbox is pruned).
create table if not exists webelect.sidekick_import_rejections (
    campaign_id  bigint not null,
    change_id    text not null,
    change_type  text null,
    reason       text not null,
    run_id       text not null,
    rejected_at  timestamptz not null default now(),
    payload      jsonb not null,
    primary key (campaign_id, change_id)
);
create index if not exists sidekick_import_rejections_run_idx
    on webelect.sidekick_import_rejections (campaign_id, run_id);

-- Sidekick tag name (trimmed) -> webElect tag, as resolved by a run. created: this run made the tag.
create table if not exists webelect.sidekick_import_tag_map (
    campaign_id   bigint not null,
    run_id        text not null,
    sidekick_tag  text not null,
    tag_id        bigint not null,
    created       boolean not null default false,
    primary key (campaign_id, run_id, sidekick_tag)
);

-- Sidekick user (lower-cased email) -> webElect user, as resolved by a run. created: this run made the user.
create table if not exists webelect.sidekick_import_user_map (
    campaign_id   bigint not null,
    run_id        text not null,
    email_key     text not null,
    user_id       bigint not null,
    created       boolean not null default false,
    primary key (campaign_id, run_id, email_key)
);

-- One row per campaign per night: progress, the pending cursor, counts and the final report.
create table if not exists webelect.sidekick_import_runs (
    campaign_id        bigint not null,
    run_id             text not null,
    status             text not null,     -- pulling | pulled | tags_mapped | users_resolved | merged | complete | failed
    started_at         timestamptz not null default now(),
    finished_at        timestamptz null,
    cursor_reset       boolean not null default false,
    from_cursor        text null,
    pending_cursor     text null,
    cursor_committed   boolean not null default false,
    pages              integer null,
    delivered          integer null,      -- change records received, duplicates included
    new_changes        integer null,      -- of those, first seen by this run
    duplicates         integer null,      -- delivered again (same id): skipped
    root_tag_created   boolean not null default false,
    voter_tags_written integer not null default 0,
    notes_written      integer not null default 0,
    phones_written     integer not null default 0,
    emails_written     integer not null default 0,
    applied            jsonb not null default '{}',  -- changes applied, by type (summed over committed merges)
    rejected           jsonb not null default '{}',  -- changes rejected, by reason (likewise)
    pull_seconds       double precision null,
    map_seconds        double precision null,
    users_seconds      double precision null,
    merge_seconds      double precision null,
    error              text null,
    report             jsonb null,
    primary key (campaign_id, run_id)
);
create index if not exists sidekick_import_runs_started_idx on webelect.sidekick_import_runs (started_at);
