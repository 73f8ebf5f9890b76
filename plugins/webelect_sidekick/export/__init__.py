"""``sidekick_export``: send a webElect target query's voters to Campaign Sidekick.

Modules, in the order the DAG's steps use them: ``request`` (params, rule-1 checks, the
run's upload key), ``voters`` (who is sent: rule 2), ``storage`` (the run's folder),
``records`` (the NDJSON voter records, vectorised), ``build`` (parts, built in parallel),
``upload`` (resume and send), ``history`` (``sidekick_exports`` and "Add To Group"),
``report`` (rule 7) and ``tasks`` (what each DAG step calls).
"""
