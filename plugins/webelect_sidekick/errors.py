"""Failures a person can act on.

Every failure that a person can cause (a wrong param, a missing connection, a bad
token, an unreachable service) is raised as one of these, with a single sentence that
says what to fix. Subclasses of ``AirflowFailException`` fail the task without
retrying: retrying cannot fix a missing query or a revoked token.
"""

from __future__ import annotations

from airflow.sdk.exceptions import AirflowException, AirflowFailException


class UserFacingError(AirflowFailException):
    """A problem only a person can fix: fail now, do not retry."""


class TransientError(AirflowException):
    """A problem that may go away by itself: Airflow's task retries apply."""
