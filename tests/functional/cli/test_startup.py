"""The command starts without loading what only one of its commands needs."""

from __future__ import annotations

import subprocess
import sys


def test_commands_other_than_serve_start_without_the_web_stack() -> None:
    # FastAPI builds its OpenAPI models at import: a third of a second that
    # ``claimbridge x12 validate`` or ``claimbridge keys status`` has no use for.
    probe = (
        "import sys, claimbridge.cli.main; "
        "print(sorted(m for m in ('fastapi', 'uvicorn', 'starlette') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )

    assert done.stdout.strip() == "[]", done.stdout
