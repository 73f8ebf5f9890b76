"""Failures a person can act on.

Every failure that a person can cause (a wrong param, a missing connection, a bad
token, an unreachable service) is raised as one of these, with a single sentence that
says what to fix. Subclasses of ``AirflowFailException`` fail the task without
retrying: retrying cannot fix a missing query or a revoked token.
"""

from __future__ import annotations

import functools
import logging

from airflow.sdk.exceptions import AirflowException, AirflowFailException


class UserFacingError(AirflowFailException):
    """A problem only a person can fix: fail now, do not retry."""


class TransientError(AirflowException):
    """A problem that may go away by itself: Airflow's task retries apply."""


def explained(step):
    """Log a person-fixable failure as its own ERROR line before Airflow prints the traceback.

    Staff reading a failed task's log in the UI then see the one sentence that says what to
    fix first, not at the bottom of a stack of Airflow's frames.
    """

    @functools.wraps(step)
    def run(*args, **kwargs):
        try:
            return step(*args, **kwargs)
        except (UserFacingError, TransientError) as exc:
            logging.getLogger(step.__module__).error("%s", exc)
            raise

    return run
