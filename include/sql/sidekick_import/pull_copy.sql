copy pg_temp.sidekick_pull_stage (change_id, seq, change_type, occurred_at, voter_webelect_id, voter_sos_id,
                                  user_email, value, phone_type, problem, payload) from stdin
