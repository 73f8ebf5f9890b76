"""webelect-sidekick: move voter lists from webElect to Campaign Sidekick and canvass data back.

Airflow puts ``plugins/`` on ``sys.path`` for the scheduler, workers and the triggerer,
so everything the DAGs need lives in this ordinary importable package.
"""
