"""Settings of the nightly import, from environment variables (or Airflow Variables).

Each setting is read from ``WEBELECT_SIDEKICK_<NAME>``, else from the Airflow Variable of
the same name exposed the usual way as ``AIRFLOW_VAR_WEBELECT_SIDEKICK_<NAME>``, else the
default. They are read when the DAG file is parsed (schedule, retries) or when a task
runs (page size, retention) — never from the metadata database at parse time.
"""

from __future__ import annotations

import os
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_SCHEDULE = "0 1 * * *"  # 01:00 every night ...
DEFAULT_TIMEZONE = "America/New_York"  # ... New York time: before 2 AM in every US zone
DEFAULT_PAGE_SIZE = 5000  # the API's maximum: fewest requests under the 10 req/s pacing
DEFAULT_RETRIES = 3
DEFAULT_RETRY_DELAY_SECONDS = 60
DEFAULT_INBOX_RETENTION_DAYS = 35  # Sidekick keeps changes 30 days; keep ids a little longer


def _setting(name: str) -> str | None:
    for key in (f"WEBELECT_SIDEKICK_{name}", f"AIRFLOW_VAR_WEBELECT_SIDEKICK_{name}"):
        value = os.environ.get(key)
        if value is not None and value.strip() != "":
            return value.strip()
    return None


def _int_setting(name: str, default: int, low: int, high: int) -> int:
    raw = _setting(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"WEBELECT_SIDEKICK_{name} must be a whole number, not {raw!r}.") from None
    if not low <= value <= high:
        raise ValueError(f"WEBELECT_SIDEKICK_{name} must be between {low} and {high}, not {value}.")
    return value


def import_schedule() -> str:
    """Cron expression of the nightly run (``WEBELECT_SIDEKICK_IMPORT_SCHEDULE``, default 01:00)."""
    return _setting("IMPORT_SCHEDULE") or DEFAULT_SCHEDULE


def import_timezone() -> str:
    """IANA zone the cron expression is read in (``WEBELECT_SIDEKICK_IMPORT_TIMEZONE``)."""
    name = _setting("IMPORT_TIMEZONE") or DEFAULT_TIMEZONE
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"WEBELECT_SIDEKICK_IMPORT_TIMEZONE must be an IANA time zone such as America/New_York, not {name!r}."
        ) from None
    return name


def page_size() -> int:
    """Changes asked for per request (``WEBELECT_SIDEKICK_IMPORT_PAGE_SIZE``, 1–5000)."""
    return _int_setting("IMPORT_PAGE_SIZE", DEFAULT_PAGE_SIZE, 1, 5000)


def retries() -> int:
    return _int_setting("IMPORT_RETRIES", DEFAULT_RETRIES, 2, 20)


def retry_delay() -> timedelta:
    return timedelta(seconds=_int_setting("IMPORT_RETRY_DELAY_SECONDS", DEFAULT_RETRY_DELAY_SECONDS, 0, 3600))


def inbox_retention_days() -> int:
    return _int_setting("INBOX_RETENTION_DAYS", DEFAULT_INBOX_RETENTION_DAYS, 31, 3650)
