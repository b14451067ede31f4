"""The one place that turns errors into exit codes and messages.

Exit codes follow BSD ``sysexits.h`` so scripts can tell a bad file from a
bad configuration from a database that is down. Nothing here prints a
stack trace: a traceback can carry the values of local variables, PHI
among them.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from rich.console import Console
from rich.markup import escape

from claimbridge import errors
from claimbridge.crypto.errors import KeyFileError, TokenError

log = logging.getLogger("claimbridge.cli")

EX_FAILURE = 1
EX_DATAERR = 65  # the input was wrong
EX_NOINPUT = 66  # the thing asked for does not exist
EX_SOFTWARE = 70  # a bug: an error we did not expect
EX_TEMPFAIL = 75  # try again later (database or store unavailable)
EX_NOPERM = 77  # not allowed
EX_CONFIG = 78  # configuration or data directory is wrong

EXIT_CODE_OF: dict[type[errors.ClaimbridgeError], int] = {
    errors.InputError: EX_DATAERR,
    errors.NotFound: EX_NOINPUT,
    errors.Unauthenticated: EX_NOPERM,
    errors.AccessDenied: EX_NOPERM,
    errors.StorageError: EX_TEMPFAIL,
    errors.ConfigError: EX_CONFIG,
    KeyFileError: EX_CONFIG,
    TokenError: EX_CONFIG,
}


def exit_code_for(exc: errors.ClaimbridgeError) -> int:
    for cls in type(exc).__mro__:
        if cls in EXIT_CODE_OF:
            return EXIT_CODE_OF[cls]
    return EX_FAILURE


def _database_unavailable(exc: Exception) -> bool:
    # SQLAlchemy's OperationalError, without importing SQLAlchemy: a command
    # that reads files only (``x12``) never loads it, and then cannot raise it.
    exceptions = sys.modules.get("sqlalchemy.exc")
    return exceptions is not None and isinstance(exc, exceptions.OperationalError)


@contextmanager
def reported(*, as_json: bool, leave: Callable[[int], None] = sys.exit) -> Iterator[None]:
    """Run a command body; report any error in the chosen shape and exit."""
    try:
        yield
    except errors.ClaimbridgeError as exc:
        log.debug("command failed: %s (%s)", exc.code, exc.detail)
        _report(exc.to_dict(), as_json=as_json)
        leave(exit_code_for(exc))
    except click.exceptions.Exit:
        raise  # a command's own deliberate exit (typer.Exit), not an error
    except KeyboardInterrupt:
        _report({"code": "interrupted", "message": "Interrupted.", "where": None}, as_json=as_json)
        leave(130)
    except Exception as exc:  # the CLI's edge: never show a traceback
        if _database_unavailable(exc):
            # The database is busy (SQLite's lock) or unreachable: nothing half
            # done stays behind (the transaction rolled back); run it again.
            log.debug("database unavailable", exc_info=True)
            code = "storage_unavailable"
            message = "The database is busy or unavailable; run the command again."
            exit_code = EX_TEMPFAIL
        else:
            log.debug("unexpected error", exc_info=True)
            code = "internal_error"
            message = "The command stopped on an unexpected error."
            exit_code = EX_SOFTWARE
        _report({"code": code, "message": message, "where": None}, as_json=as_json)
        leave(exit_code)


def _report(error: dict[str, str | None], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"error": error}))
        return
    where = f" [dim](at {escape(str(error['where']))})[/dim]" if error.get("where") else ""
    message = escape(str(error["message"]))
    Console(stderr=True, soft_wrap=True).print(
        f"[bold red]error:[/bold red] {message}{where}", highlight=False
    )
