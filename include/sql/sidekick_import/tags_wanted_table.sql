create temp table sidekick_tag_wanted (
    name      text primary key,   -- the Sidekick tag name, trimmed
    first_seq bigint,
    tag_id    bigint,
    created   boolean not null default false
) on commit drop
