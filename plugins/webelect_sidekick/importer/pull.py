"""Step 1: pull every page of changes from the saved cursor into the inbox, in one transaction.

Pages are staged with COPY into a temporary table as they arrive (memory stays flat), then
added to ``sidekick_change_inbox`` — the first delivery of a change id wins; an id already
pending in the inbox or recorded in ``sidekick_change_ledger`` (applied before) is counted as
a duplicate and skipped. The last page's ``next_cursor`` is
saved as the run's pending cursor; the campaign's saved cursor is NOT moved here (only the
merge moves it, together with the effects). If the pull fails half-way nothing is kept and
the retry starts again from the same saved cursor.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass

import psycopg

from webelect_sidekick import sql
from webelect_sidekick.errors import TransientError
from webelect_sidekick.importer import faults
from webelect_sidekick.importer.normalize import Normalizer

log = logging.getLogger(__name__)

#: ``pages(from_cursor)`` -> the change pages ({changes, next_cursor, has_more}) from that cursor.
PageSource = Callable[[str | None], Iterable[dict]]


@dataclass(frozen=True)
class PullResult:
    pages: int
    delivered: int
    new_changes: int
    duplicates: int
    seconds: float

    def as_dict(self) -> dict:
        return asdict(self)


def _check_page(page: object, label: str) -> tuple[list, str]:
    if (
        not isinstance(page, dict)
        or not isinstance(page.get("changes"), list)
        or not isinstance(page.get("next_cursor"), str)
        or not page["next_cursor"]
    ):
        raise TransientError(
            f"Sidekick answered the changes request of {label} with a page that is not "
            "{changes: [...], next_cursor: \"...\", has_more: ...}; nothing was imported — "
            "if this keeps happening, Sidekick's changes feed is broken: contact Sidekick support."
        )
    return page["changes"], page["next_cursor"]


_DONE = object()
_ANALYZE_AFTER = 5000  # new inbox rows after which the pull refreshes the table's statistics


def prefetch(pages: Iterable[dict], depth: int = 2) -> Iterator[dict]:
    """Iterate ``pages`` in a background thread, ``depth`` pages ahead.

    Fetching the next page (network, JSON) then overlaps normalising and COPYing this one,
    so a long pull costs about max(fetch, process) rather than their sum. An error in the
    fetching thread is raised here; leaving early stops the thread after its current page.
    """
    box: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for page in pages:
                while not stop.is_set():
                    try:
                        box.put(page, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            box.put(_DONE)
        except BaseException as exc:  # handed to the consumer, raised there
            box.put(exc)
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="sidekick-pull-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = box.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():
            try:
                box.get(timeout=0.2)
            except queue.Empty:
                pass
        worker.join()


def pull_into_inbox(conn: psycopg.Connection, campaign_id: int, run_id: str, pages: PageSource, *,
                    label: str) -> PullResult:
    """Run the whole pull in one transaction on ``conn``; the run row must exist."""
    started = time.monotonic()
    params = {"campaign_id": campaign_id, "run_id": run_id}
    normalizer = Normalizer()
    with conn.transaction():
        conn.execute(sql.load("sidekick_import/lock_campaign.sql"), params)
        conn.execute(sql.load("sidekick_import/cursor_ensure.sql"), params)
        from_cursor = conn.execute(sql.load("sidekick_import/cursor_get.sql"), params).fetchone()[0]
        conn.execute(sql.load("sidekick_import/pull_stage.sql"))
        copy_sql = sql.load("sidekick_import/pull_copy.sql")
        page_count = 0
        pending_cursor = None
        with conn.cursor() as cur:
            for page in prefetch(pages(from_cursor)):
                changes, pending_cursor = _check_page(page, label)
                page_count += 1
                if changes:
                    with cur.copy(copy_sql) as copy:
                        for change in changes:
                            copy.write_row(normalizer.row(change))
                if page_count == 1:
                    faults.checkpoint("pull:mid_pages", campaign_id)
        if pending_cursor is None:
            raise TransientError(f"Sidekick sent no page of changes for {label}; nothing was imported.")
        delivered, inserted, already = conn.execute(sql.load("sidekick_import/pull_insert.sql"), params).fetchone()
        if inserted >= _ANALYZE_AFTER:
            # Fresh statistics before the next steps plan their joins over these rows.
            conn.execute(sql.load("sidekick_import/pull_analyze.sql"))
        new_changes = inserted + already
        result = PullResult(
            pages=page_count, delivered=delivered, new_changes=new_changes,
            duplicates=delivered - new_changes, seconds=round(time.monotonic() - started, 3),
        )
        conn.execute(sql.load("sidekick_import/pull_done.sql"), {
            **params, "from_cursor": from_cursor, "pending_cursor": pending_cursor, "pages": result.pages,
            "delivered": result.delivered, "new_changes": result.new_changes, "duplicates": result.duplicates,
            "seconds": result.seconds,
        })
    log.info("%s: pulled %d changes in %d pages (%d new, %d duplicates skipped) in %.1f s.",
             label, result.delivered, result.pages, result.new_changes, result.duplicates, result.seconds)
    return result
