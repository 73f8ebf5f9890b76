"""Fault injection for the crash tests: raise at a named point of the import, on purpose.

Off unless ``WEBELECT_SIDEKICK_IMPORT_FAULT`` is set, so it costs one dict look-up in
production. The value is a point name (see ``POINTS``), optionally ``point@campaign_id``
to hit one campaign only. With ``WEBELECT_SIDEKICK_IMPORT_FAULT_ONCE`` set to a file path,
the fault fires only while that file does not exist (and creates it): "crash once, then
let the retry through".

The fault is a ``TransientError``, so Airflow retries the task as it would after a lost
worker or a dropped connection.
"""

from __future__ import annotations

import os
from pathlib import Path

from webelect_sidekick.errors import TransientError

ENV = "WEBELECT_SIDEKICK_IMPORT_FAULT"
ONCE_ENV = "WEBELECT_SIDEKICK_IMPORT_FAULT_ONCE"

#: Every point where a fault can be injected, in the order a night passes them.
POINTS = (
    "pull:mid_pages",        # inside the pull transaction, after the first page is staged
    "pull:after_commit",     # pull committed, task not yet done
    "map_tags:after_commit",
    "resolve_users:after_commit",
    "merge:after_notes",     # inside the merge transaction: tags and notes written, phones not yet
    "merge:before_commit",   # everything written and the cursor moved, not yet committed
    "merge:after_commit",
    "report:before_commit",
)


class InjectedFault(TransientError):
    """Raised at a fault point on purpose (tests only)."""


def checkpoint(point: str, campaign_id: int) -> None:
    spec = os.environ.get(ENV)
    if not spec:
        return
    wanted, _, campaign = spec.partition("@")
    if wanted != point or (campaign and campaign != str(campaign_id)):
        return
    once = os.environ.get(ONCE_ENV)
    if once:
        marker = Path(once)
        if marker.exists():
            return
        marker.touch()
    raise InjectedFault(f"Injected fault at {point} for campaign {campaign_id} (test fault injection).")
