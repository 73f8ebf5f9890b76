create temp table sidekick_merge_stage (
    change_id   text not null,
    change_type text,
    seq         bigint,
    occurred_at timestamptz,
    value       text,
    phone_type  text,
    voter_id    bigint,
    user_id     bigint,
    tag_id      bigint,
    reason      text            -- null: apply it
) on commit drop
