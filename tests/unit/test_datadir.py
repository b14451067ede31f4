"""The data directory refuses to be shared."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from claimbridge.datadir import make_private_dir, require_private, write_private_file
from claimbridge.errors import InsecureDataDir


def test_private_directory_passes(tmp_path: Path) -> None:
    root = tmp_path / "d"
    make_private_dir(root)
    write_private_file(root / "f", b"x")
    require_private(root)


@pytest.mark.parametrize("mode", [0o750, 0o705, 0o770, 0o701])
def test_any_group_or_other_access_on_the_directory_is_refused(tmp_path: Path, mode: int) -> None:
    root = tmp_path / "d"
    make_private_dir(root)
    root.chmod(mode)
    with pytest.raises(InsecureDataDir, match=f"{mode:04o}"):
        require_private(root)


def test_a_readable_file_deep_inside_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "d"
    make_private_dir(root)
    make_private_dir(root / "tls")
    write_private_file(root / "tls" / "key.pem", b"k")
    (root / "tls" / "key.pem").chmod(0o640)
    with pytest.raises(InsecureDataDir) as raised:
        require_private(root)
    assert raised.value.where == str(root / "tls" / "key.pem")


def test_a_symlink_inside_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "d"
    make_private_dir(root)
    (root / "claimbridge.db").symlink_to(tmp_path / "elsewhere.db")
    with pytest.raises(InsecureDataDir, match="symbolic link"):
        require_private(root)


def test_private_files_are_0600_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        write_private_file(tmp_path / "f", b"secret")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f").stat().st_mode) == 0o600
    assert (tmp_path / "f").read_bytes() == b"secret"


def test_write_private_file_replaces_atomically_and_leaves_no_temp(tmp_path: Path) -> None:
    write_private_file(tmp_path / "f", b"one")
    write_private_file(tmp_path / "f", b"two")
    assert (tmp_path / "f").read_bytes() == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["f"]


def test_an_entry_gone_since_the_walk_is_no_leak(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite removes its -shm file as the last connection closes, mid-check."""
    root = tmp_path / "data"
    make_private_dir(root)
    gone = root / "claimbridge.db-shm"
    monkeypatch.setattr("claimbridge.datadir._walk", lambda path: [path, gone])
    require_private(root)
    loose = root / "loose.txt"
    loose.write_text("x")
    loose.chmod(0o644)
    monkeypatch.setattr("claimbridge.datadir._walk", lambda path: [path, gone, loose])
    with pytest.raises(InsecureDataDir):
        require_private(root)
