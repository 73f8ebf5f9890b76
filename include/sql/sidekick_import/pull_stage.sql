-- What this pull received, in delivery order, before deduplication.
create temp table sidekick_pull_stage (
    ord               bigint generated always as identity,
    change_id         text not null,
    seq               bigint,
    change_type       text,
    occurred_at       timestamptz,
    voter_webelect_id bigint,
    voter_sos_id      text,
    user_email        text,
    value             text,
    phone_type        text,
    problem           text,
    payload           jsonb not null
) on commit drop
