"""Demo instances loaded once per run, and a private copy of one for each test.

Loading the demo takes seconds (an argon2id hash for every demo user,
scrypt for the root key, the migrations, the patients), and most tests that
need a loaded instance only act on it. ``DemoInstances.copy`` runs the
commands a test asks for (``claimbridge demo`` with its arguments, then any
further commands) the first time that exact list is asked for on a
backend, into a template that no test touches; every test then gets its own
copy of the result: the data directory copied with its file modes, and on
PostgreSQL a new database made by ``CREATE DATABASE ... TEMPLATE``. A copy
holds what the commands left, byte for byte (same keys, same logins, same
rows), so what a test changes in its copy reaches no other test.

The secrets are made cheap to use, unless a test asks otherwise
(``cheap_secrets=False``). Before the demo runs, the template gets its
root key file made with the smallest scrypt cost the key file format
accepts, and the generated passphrase beside it, as ``init`` writes them in
development (``init`` then finds both and goes on). Every command a test
runs on its copy opens that key file, which at the default cost takes about
half a second and 128 MiB each time; what these tests are about happens
after the key is open. And while the demo loads, the demo users' passwords
are hashed with argon2id at its smallest cost (``CHEAP_PASSWORDS``), not
the 64 MiB and three passes of the default, which take about 0.3 s a hash:
a dozen of them in every load, and one more at every sign-in, since a
stored hash names its own parameters and is checked at them. The sign-in
itself is the same code either way. ``init`` making the key at the default
cost, and the demo hashing at the default parameters, are tested where the
demo runs on a fresh directory (``test_init.py``, ``test_demo.py``), and
the default scrypt cost itself in the key provider's unit tests.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from claimbridge.access import passwords
from claimbridge.cli.main import app
from claimbridge.crypto.providers.local import MIN_SCRYPT_N, LocalKeyProvider
from claimbridge.datadir import DataDir, make_private_dir, write_private_file

DATABASE_URL = "CLAIMBRIDGE_DATABASE_URL"
CHEAP_PASSWORDS = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
"""argon2id at the least cost argon2 allows (1 pass over 8 KiB), for the demo users."""


@dataclass(frozen=True, slots=True)
class DemoCopy:
    data_dir: Path
    database_url: str | None
    """The PostgreSQL database of this copy; ``None`` for SQLite, in the data directory."""
    output: str
    """What ``claimbridge demo`` printed when the template was loaded."""


_Key = tuple[str, tuple[str, ...], tuple[tuple[str, ...], ...], bool]
"""(backend, the demo's arguments, the commands after it, whether the secrets are cheap)."""


@dataclass(frozen=True, slots=True)
class _Template:
    data_dir: Path
    database_url: str | None
    output: str


class DemoInstances:
    """Templates by (backend, demo arguments, further commands); copies on demand."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._templates: dict[_Key, _Template] = {}

    def copy(
        self,
        backend: str,
        target: Path,
        request: pytest.FixtureRequest,
        *,
        demo: Sequence[str],
        then: Sequence[Sequence[str]] = (),
        cheap_secrets: bool = True,
    ) -> DemoCopy:
        """A private copy at ``target`` of the instance that these commands leave.

        ``demo`` are the arguments of ``claimbridge demo`` after the data
        directory; each of ``then`` is a command run next, to which
        ``--data-dir`` is added. Each must succeed. With ``cheap_secrets``
        off, the demo runs on a directory that does not exist yet, exactly
        as a person would run it, so ``init`` makes everything, and hashes
        the passwords at the default cost. On
        PostgreSQL the databases come from ``make_postgres_database``, so
        they are dropped at the end of the run.
        """
        databases = (
            request.getfixturevalue("make_postgres_database") if backend == "postgresql" else None
        )
        key = (backend, tuple(demo), tuple(tuple(c) for c in then), cheap_secrets)
        template = self._templates.get(key)
        if template is None:
            template = self._templates[key] = self._load(key, databases)
        shutil.copytree(template.data_dir, target, symlinks=True)
        url = None
        if databases is not None:
            url = databases(template=make_url(template.database_url).database)
        return DemoCopy(data_dir=target, database_url=url, output=template.output)

    def _load(self, key: _Key, databases: Callable[..., str] | None) -> _Template:
        _backend, demo, then, cheap_secrets = key
        data_dir = self._root / f"template-{len(self._templates)}" / "data"
        data_dir.parent.mkdir(parents=True)
        if cheap_secrets:
            _make_cheap_root_key(DataDir(data_dir))
        url = databases() if databases is not None else None
        env = {DATABASE_URL: url}
        runner = CliRunner()
        with _cheap_password_hashes() if cheap_secrets else nullcontext():
            loaded = runner.invoke(app, ["demo", "--data-dir", str(data_dir), *demo], env=env)
        assert loaded.exit_code == 0, loaded.output
        for command in then:
            result = runner.invoke(app, [*command, "--data-dir", str(data_dir)], env=env)
            assert result.exit_code == 0, result.output
        # Every command disposed of its engine, so no connection holds the
        # template: SQLite has folded its WAL in, PostgreSQL can copy it.
        return _Template(data_dir=data_dir, database_url=url, output=loaded.output)


@contextmanager
def _cheap_password_hashes() -> Iterator[None]:
    """Passwords hashed with ``CHEAP_PASSWORDS`` in this process, until the block ends."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_hasher", CHEAP_PASSWORDS)
        yield


def _make_cheap_root_key(paths: DataDir) -> None:
    """The root key file and demo passphrase ``init`` would make, at the lowest scrypt cost."""
    make_private_dir(paths.root)
    make_private_dir(paths.keys)
    passphrase = secrets.token_urlsafe(32)
    write_private_file(paths.demo_passphrase, passphrase.encode())
    LocalKeyProvider.create(paths.root_key, passphrase, scrypt_n=MIN_SCRYPT_N)
