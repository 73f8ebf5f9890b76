create temp table sidekick_user_wanted (
    email_key  text primary key,  -- lower(trimmed email)
    email      text not null,     -- trimmed, as the earliest change spelled it
    first_name text,
    last_name  text,
    user_id    bigint,
    created    boolean not null default false
) on commit drop
