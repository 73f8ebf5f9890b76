"""A person-fixable failure is logged as its own ERROR line, then raised unchanged."""

from __future__ import annotations

import logging

import pytest

from webelect_sidekick.errors import TransientError, UserFacingError, explained


def test_the_sentence_is_logged_once_and_the_error_still_fails_the_task(caplog):
    @explained
    def check_request():
        raise UserFacingError("Target query 9 does not exist in webElect: check the Query ID.")

    with caplog.at_level(logging.ERROR), pytest.raises(UserFacingError) as raised:
        check_request()
    assert [r.getMessage() for r in caplog.records] == ["Target query 9 does not exist in webElect: check the Query ID."]
    assert str(raised.value).startswith("Target query 9")


def test_transient_errors_are_explained_too_and_bugs_are_left_to_airflow(caplog):
    @explained
    def flaky():
        raise TransientError("Sidekick did not answer after 6 attempts: check that it is up.")

    @explained
    def buggy():
        raise KeyError("x")

    with caplog.at_level(logging.ERROR):
        with pytest.raises(TransientError):
            flaky()
        with pytest.raises(KeyError):
            buggy()
    assert [r.getMessage() for r in caplog.records] == ["Sidekick did not answer after 6 attempts: check that it is up."]
    assert flaky.__name__ == "flaky"
