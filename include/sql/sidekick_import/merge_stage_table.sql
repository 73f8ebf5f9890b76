create temp table sidekick_merge_stage (
    change_id   text primary key,
    change_type text,
    seq         bigint,
    occurred_at timestamptz,
    value       text,
    phone_type  text,
    voter_id    bigint,
    user_id     bigint,
    tag_id      bigint,
    pulled_run_id text not null,
    reason      text            -- null: apply it
) on commit drop
