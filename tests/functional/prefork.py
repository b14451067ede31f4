"""A process that imports claimbridge once, then forks ``claimbridge`` commands on demand.

Starting ``python -m claimbridge`` costs about three seconds of imports
before the command does anything; a test that restarts a server dozens of
times would spend most of its time there. ``Prefork`` starts one
interpreter that imports ``claimbridge.cli.main``, every command's module
and the web stack that ``serve`` imports when it runs (and nothing else:
no threads, no connections, no keys) and forks it for each command. Each child
runs the command exactly as ``claimbridge ARGS...`` would, in a process of
its own, with its own environment, stdin from ``/dev/null``, stdout and
stderr written to files. A test signals a child by its pid; the forking
process reaps it and reports how it ended. Nothing forked outlives the
test: when the test's end of the pipe closes, the forking process kills
its children, and a child whose forking process dies is killed by the
kernel (Linux's parent-death signal).

A child may instead run a function of a test helper module with the
arguments as strings (``function="tests.functional.cli.rotation_load:main"``),
for a load that a test runs beside the commands; the module is imported in
the child, on top of what the forking process has imported already.

Run as ``python -m tests.functional.prefork``: it reads one JSON command a
line on stdin (``{"argv": [...], "env": {...}, "stdout": path, "stderr":
path, "function": "module:name" or null}``) and answers on stdout with
``{"started": pid}`` at once and ``{"ended": pid, "status": wait status,
"cpu": seconds}`` when the child is gone.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import json
import os
import select
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

__all__ = ["Ended", "Prefork"]

_POLL_SECONDS = 0.005
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True, slots=True)
class Ended:
    pid: int
    status: int
    cpu_seconds: float

    @property
    def killed_by(self) -> int | None:
        return os.WTERMSIG(self.status) if os.WIFSIGNALED(self.status) else None


class Prefork:
    """The test's side: start commands, learn when they end."""

    def __init__(self, *, stderr: Path) -> None:
        with stderr.open("wb") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "tests.functional.prefork"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                cwd=Path(__file__).resolve().parents[2],
            )
        self._ended: dict[int, Ended] = {}
        self._running: set[int] = set()
        self._buffer = b""

    def start(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str | None],
        stdout: Path,
        stderr: Path,
        function: str | None = None,
    ) -> int:
        """Fork ``claimbridge *argv`` with ``env`` over this environment (``None`` unsets).

        With ``function`` ("module:name"), the child calls that function with
        ``argv`` as its arguments instead; returning is exit status 0.
        """
        command = {
            "argv": list(argv),
            "env": dict(env),
            "stdout": str(stdout),
            "stderr": str(stderr),
            "function": function,
        }
        stdin = self._stdin()
        stdin.write(json.dumps(command).encode() + b"\n")
        stdin.flush()
        while True:
            answer = self._answer(timeout=30)
            if "started" in answer:
                pid = int(answer["started"])
                self._running.add(pid)
                return pid

    def wait(self, pid: int, *, timeout: float) -> Ended:
        """Block until ``pid`` has ended (and been reaped)."""
        deadline = time.monotonic() + timeout
        while pid not in self._ended:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"process {pid} still running after {timeout} s")
            self._answer(timeout=left)
        return self._ended.pop(pid)

    def poll(self, pid: int) -> Ended | None:
        """How ``pid`` ended, if it has; never blocks."""
        while pid not in self._ended and self._readable(0):
            self._answer(timeout=0)
        return self._ended.pop(pid, None)

    def close(self) -> None:
        """Kill whatever is still running, then end the forking process."""
        while self._readable(0):
            self._answer(timeout=0)
        for pid in self._running:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            self._stdin().close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()

    # -- the pipe ---------------------------------------------------------------------

    def _stdin(self) -> IO[bytes]:
        assert self._process.stdin is not None
        return self._process.stdin

    def _readable(self, timeout: float) -> bool:
        if b"\n" in self._buffer:
            return True
        assert self._process.stdout is not None
        ready, _, _ = select.select([self._process.stdout], [], [], timeout)
        return bool(ready)

    def _answer(self, *, timeout: float) -> dict[str, Any]:
        assert self._process.stdout is not None
        while b"\n" not in self._buffer:
            if not self._readable(timeout):
                return {}
            chunk = os.read(self._process.stdout.fileno(), 65536)
            if not chunk:
                raise RuntimeError(f"the prefork process ended ({self._process.poll()})")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        answer: dict[str, Any] = json.loads(line)
        if "ended" in answer:
            pid = int(answer["ended"])
            self._ended[pid] = Ended(pid, int(answer["status"]), float(answer["cpu"]))
            self._running.discard(pid)
        return answer


# -- the forking side --------------------------------------------------------------------


def _child(command: dict[str, Any], main: Callable[[], object]) -> None:
    """Become ``claimbridge ARGV`` (or call the function asked for) in this forked process.

    Never returns: the process exits with the command's status.
    """
    code = 70
    try:
        _die_with_parent()
        devnull = os.open(os.devnull, os.O_RDONLY)
        out = os.open(command["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        err = os.open(command["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        for fd, target in ((devnull, 0), (out, 1), (err, 2)):
            os.dup2(fd, target)
            os.close(fd)
        for name, value in command["env"].items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        sys.argv = ["claimbridge", *command["argv"]]
        try:
            _entry(command, main)()
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        except BaseException:  # noqa: BLE001 - told by the status (70) and stderr
            traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _entry(command: dict[str, Any], main: Callable[[], object]) -> Callable[[], object]:
    if not command.get("function"):
        return main
    module, name = str(command["function"]).split(":")
    function = getattr(importlib.import_module(module), name)
    return lambda: function(*command["argv"])


def _die_with_parent() -> None:
    """Linux: have the kernel SIGKILL this process if the forking process dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _reap(children: set[int], *, block: bool = False) -> None:
    while children:
        try:
            pid, status, usage = os.wait4(-1, 0 if block else os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)
        _say({"ended": pid, "status": status, "cpu": usage.ru_utime + usage.ru_stime})


def serve_forks() -> None:
    from claimbridge.cli.main import COMMANDS, main  # noqa: PLC0415 - what this process is for

    # The command imports each command's module, and ``serve`` the web
    # stack, only when they run; the children get them all from here.
    for target in COMMANDS.values():
        importlib.import_module(target.partition(":")[0])
    importlib.import_module("claimbridge.api.app")

    children: set[int] = set()
    pending = b""
    while True:
        ready, _, _ = select.select([0], [], [], _POLL_SECONDS)
        _reap(children)
        if not ready:
            continue
        chunk = os.read(0, 65536)
        if not chunk:
            # The test is gone (or done): nothing it started may outlive it.
            for pid in children:
                os.kill(pid, signal.SIGKILL)
            _reap(children, block=True)
            return
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            sys.stdout.flush()
            pid = os.fork()
            if pid == 0:
                _child(json.loads(line), main)
            children.add(pid)
            _say({"started": pid})


if __name__ == "__main__":
    serve_forks()
