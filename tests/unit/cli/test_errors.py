"""How a command reports what stopped it: the message, the shape and the exit code."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.exc import OperationalError

from claimbridge.cli.errors import EX_SOFTWARE, EX_TEMPFAIL, reported


def _run(failure: Exception, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, str]]:
    codes: list[int] = []
    with reported(as_json=True, leave=codes.append):
        raise failure
    (code,) = codes
    return code, json.loads(capsys.readouterr().out)["error"]


def test_a_busy_database_says_run_again_with_the_temporary_failure_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, error = _run(OperationalError("UPDATE keys", {}, Exception("database is locked")), capsys)

    assert code == EX_TEMPFAIL
    assert error["code"] == "storage_unavailable"
    assert "run the command again" in error["message"]


def test_an_unexpected_error_shows_no_traceback_and_no_detail(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, error = _run(ValueError("patient 123-45-6789 not parsed"), capsys)

    assert code == EX_SOFTWARE
    assert error["code"] == "internal_error"
    assert "123-45-6789" not in json.dumps(error)
