"""The command starts without loading what only other commands need."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claimbridge.cli.main import COMMANDS, app, command

HEAVY = ("fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic", "fhir", "faker", "httpx")


def _loaded_by(code: str) -> list[str]:
    probe = f"import sys; {code}; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return list(eval(done.stdout))  # noqa: S307 - our own probe's printed list of names


def test_the_command_itself_loads_no_commands_stack() -> None:
    # Each command's module is imported when it runs: ``claimbridge`` alone
    # (help, a typo) needs none of the database, web or FHIR stacks.
    assert _loaded_by("import claimbridge.cli.main") == []


def test_the_x12_commands_start_without_the_database_or_web_stack() -> None:
    # ``claimbridge x12 validate FILE`` reads a file: it has no use for
    # SQLAlchemy, FastAPI or the FHIR models, whose imports took a second.
    assert _loaded_by("from claimbridge.cli.main import command; command('x12')") == []


def test_opening_a_data_directory_checks_the_schema_without_alembic(tmp_path: Path) -> None:
    # Every command that opens a data directory checks the schema head;
    # Alembic is loaded only by the commands that change the schema.
    url = f"sqlite:///{tmp_path / 'check.db'}"
    code = (
        "from claimbridge.storage import migrate; from claimbridge.storage.db import make_engine;"
        f"engine = make_engine({url!r}); migrate.upgrade(engine); engine.dispose()"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)

    loaded = _loaded_by(
        "from claimbridge.instance.open import open_database; from claimbridge.config import "
        f"Settings; open_database(Settings(database_url={url!r}), upgrade=False).dispose()"
    )
    assert "sqlalchemy" in loaded
    assert "alembic" not in loaded


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_is_found_where_the_table_says(name: str) -> None:
    built = command(name)

    assert built.name == name
    assert built.get_short_help_str(200)


def test_a_mistyped_command_is_told_the_command_it_resembles() -> None:
    result = CliRunner().invoke(app, ["kes", "status"])

    assert result.exit_code == 2
    assert "No such command 'kes'. Did you mean 'keys'?" in result.output
