-- Session settings for the import's batch statements: no JIT (its compile time costs more
-- than it saves on these one-off queries) and room to sort and hash a night in memory.
select set_config('jit', 'off', false), set_config('work_mem', '128MB', false)
