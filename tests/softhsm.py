"""A throwaway SoftHSM2 token for tests of the PKCS#11 key provider.

``softhsm_token(directory)`` writes a SoftHSM2 configuration that keeps
tokens under ``directory``, points ``SOFTHSM2_CONF`` at it (restoring the
old value on exit), initialises one token with random PINs and yields a
``SoftHSMToken`` (module path, token label, user PIN).

SoftHSM2 reads ``SOFTHSM2_CONF`` and scans its token folder once, in
``C_Initialize``, and python-pkcs11 initialises a module once per process.
So a process sees the configuration in force when the module was first
loaded, and no token created after that: enter ``softhsm_token`` once per
test run (a session-scoped fixture) before anything loads the module, and
give each test its own key label rather than its own token.

Where SoftHSM2 is not installed, ``softhsm_token`` skips the test with
the reason; under ``CI=true`` it fails instead, so CI cannot pass without
exercising the provider. ``CLAIMBRIDGE_TEST_SOFTHSM2_MODULE`` names the
module where it is not in a standard place.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
MODULE_PATHS = (
    "/usr/lib/softhsm/libsofthsm2.so",  # Debian, Ubuntu
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",  # Fedora, RHEL
    "/usr/local/lib/softhsm/libsofthsm2.so",  # built from source
    "/opt/homebrew/lib/softhsm/libsofthsm2.so",  # Homebrew
)


class SoftHSMToken(NamedTuple):
    module_path: str
    token_label: str
    pin: str


def find_softhsm() -> tuple[str, str] | str:
    """(module path, softhsm2-util path), or why SoftHSM2 is not usable here."""
    override = os.environ.get("CLAIMBRIDGE_TEST_SOFTHSM2_MODULE")
    candidates = (override,) if override else MODULE_PATHS
    module = next((path for path in candidates if os.path.isfile(path)), None)
    util = shutil.which("softhsm2-util")
    if module is None:
        return f"SoftHSM2 module not found (looked at {', '.join(candidates)})"
    if util is None:
        return "softhsm2-util is not on PATH"
    return module, util


def require_softhsm() -> tuple[str, str]:
    """(module path, softhsm2-util path); skip the test, or fail it under CI=true."""
    found = find_softhsm()
    if isinstance(found, str):
        if IN_CI:
            pytest.fail(f"CI=true requires SoftHSM2: {found}")
        pytest.skip(f"{found}; install softhsm2 to run the PKCS#11 tests")
    return found


@contextmanager
def softhsm_token(directory: Path, *, label: str = "claimbridge-test") -> Iterator[SoftHSMToken]:
    """A fresh SoftHSM2 token labelled ``label`` kept in ``directory``."""
    module, util = require_softhsm()
    (directory / "tokens").mkdir(mode=0o700)
    conf = directory / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {directory / 'tokens'}\n"
        "objectstore.backend = file\n"
        "log.level = ERROR\n"
    )
    pin, so_pin = secrets.token_hex(8), secrets.token_hex(8)
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    try:
        command = [util, "--init-token", "--free", "--label", label]
        result = subprocess.run(
            [*command, "--so-pin", so_pin, "--pin", pin],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(f"{' '.join(command)} failed: {result.stderr.strip()}")
        yield SoftHSMToken(module_path=module, token_label=label, pin=pin)
    finally:
        if previous is None:
            del os.environ["SOFTHSM2_CONF"]
        else:
            os.environ["SOFTHSM2_CONF"] = previous
