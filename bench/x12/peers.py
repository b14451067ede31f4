"""The contestants of ``bench/bench_x12.py`` and the virtual environments they run in.

Each peer library gets its own virtual environment under ``bench/.venvs/``,
made on demand with ``uv venv`` and ``uv pip install`` at a pinned version
(LinuxForHealth x12 needs pydantic 1, which the project cannot share).
claimbridge and the plain-Python baselines run with the Python that runs the
bench. Every round is one subprocess: ``run_peer.py`` prints a JSON line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1]
VENVS = BENCH / ".venvs"
RUNNER = Path(__file__).resolve().with_name("run_peer.py")


@dataclass(frozen=True, slots=True)
class Contestant:
    key: str
    label: str
    requirements: tuple[str, ...] = ()  # empty: runs in the bench's own Python
    extra: bool = False  # shown, but not one of the peers the goal is measured against

    @property
    def is_peer(self) -> bool:
        return bool(self.requirements)


BASELINES = (
    Contestant("split", "plain Python: split into segments"),
    Contestant("group", "plain Python: one record per claim"),
)
CLAIMBRIDGE = Contestant("claimbridge", "claimbridge read_837p")
PEERS = (
    Contestant(
        "linuxforhealth",
        "LinuxForHealth x12 0.57.0",
        ("linuxforhealth-x12==0.57.0", "pydantic>=1.10,<2"),
    ),
    Contestant("x12sdk", "x12sdk 2.2.0", ("x12sdk==2.2.0",)),
    Contestant("pyx12", "pyx12 4.0.0 (validating)", ("pyx12==4.0.0",)),
    Contestant("badx12", "badx12 0.2.2 (no 837 model)", ("badx12==0.2.2",), extra=True),
)


@dataclass(frozen=True, slots=True)
class Round:
    claims: int
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    note: str


class ContestantFailed(Exception):
    """A peer could not be installed or did not parse the file; ``str()`` says which."""


def _uv() -> list[str]:
    found = os.environ.get("UV") or shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def _clean_env() -> dict[str, str]:
    """The environment without the project's virtual environment, for a peer's own Python."""
    env = dict(os.environ)
    for name in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "UV_PROJECT_ENVIRONMENT"):
        env.pop(name, None)
    return env


def _tail(text: str, lines: int = 3) -> str:
    return " | ".join(text.strip().splitlines()[-lines:]) or "(no output)"


def python_for(contestant: Contestant) -> str:
    """The interpreter to run ``contestant`` with, installing its environment if needed."""
    if not contestant.is_peer:
        return sys.executable
    venv = VENVS / contestant.key
    python = venv / "bin" / "python"
    stamp = venv / "bench-requirements.txt"
    wanted = "\n".join(contestant.requirements)
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return str(python)
    steps = (
        [*_uv(), "venv", "--quiet", "--clear", "--python", sys.executable, str(venv)],
        [*_uv(), "pip", "install", "--quiet", "--python", str(python), *contestant.requirements],
    )
    for step in steps:
        done = subprocess.run(  # noqa: S603 (our own uv, our own arguments)
            step, capture_output=True, text=True, env=_clean_env(), check=False
        )
        if done.returncode != 0:
            raise ContestantFailed(f"install failed: {_tail(done.stderr)}")
    stamp.write_text(wanted)
    return str(python)


def run_round(contestant: Contestant, python: str, path: Path, *, timeout: float) -> Round:
    """One timed parse of ``path`` in a fresh process."""
    env = _clean_env() if contestant.is_peer else dict(os.environ)
    try:
        done = subprocess.run(  # noqa: S603 (our own runner script)
            [python, str(RUNNER), contestant.key, str(path)],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ContestantFailed(f"did not finish within {timeout:.0f} s") from exc
    if done.returncode != 0:
        raise ContestantFailed(f"parse failed: {_tail(done.stderr)}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return Round(**result)
