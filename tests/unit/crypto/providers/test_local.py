"""The local key provider: key file refusals, wrap and unwrap."""

from __future__ import annotations

import base64
import copy
import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from claimbridge.crypto.errors import DecryptionFailed, KeyFileError
from claimbridge.crypto.providers import KeyProvider, local
from claimbridge.crypto.providers.local import LocalKeyProvider

PASSPHRASE = "correct horse battery staple"
FAST_N = local.MIN_SCRYPT_N  # tests only; the default is 2**17
CONTEXT = b"claimbridge/kek/v1\x00tenant-a\x00" + (1).to_bytes(4, "big")


@pytest.fixture(scope="module")
def made_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A key file as ``create`` writes it, made once: scrypt makes each one cost some 50 ms."""
    path = tmp_path_factory.mktemp("made") / "root.key"
    LocalKeyProvider.create(path, PASSPHRASE, scrypt_n=FAST_N)
    return path


@pytest.fixture
def key_file(tmp_path: Path, made_key_file: Path) -> Path:
    """The test's own copy of that key file, byte for byte and private like it, alone in its folder.

    What ``create`` itself writes, and leaves in the folder, is checked on a
    file made for the test (``test_key_file_is_written_private_...``).
    """
    path = tmp_path / "root.key"
    shutil.copy2(made_key_file, path)
    return path


def rewrite(path: Path, change: dict[str, object]) -> None:
    document = json.loads(path.read_text())
    for dotted, value in change.items():
        target = document
        *parents, leaf = dotted.split(".")
        for parent in parents:
            target = target[parent]
        target[leaf] = value
    path.write_text(json.dumps(document))
    path.chmod(0o600)


def test_create_then_open_unwraps_what_was_wrapped(key_file: Path) -> None:
    created = LocalKeyProvider.open(key_file, PASSPHRASE)
    kek = os.urandom(32)
    wrapped = created.wrap(kek, context=CONTEXT)
    reopened = LocalKeyProvider.open(key_file, PASSPHRASE)
    assert reopened.unwrap(wrapped, context=CONTEXT) == kek
    assert reopened.provider_id == created.provider_id


def test_create_returns_a_ready_provider(tmp_path: Path) -> None:
    provider = LocalKeyProvider.create(tmp_path / "k", PASSPHRASE, scrypt_n=FAST_N)
    wrapped = provider.wrap(b"k" * 32, context=CONTEXT)
    assert LocalKeyProvider.open(tmp_path / "k", PASSPHRASE).unwrap(wrapped, context=CONTEXT)


def test_provider_satisfies_the_protocol(key_file: Path) -> None:
    provider: KeyProvider = LocalKeyProvider.open(key_file, PASSPHRASE)
    assert isinstance(provider, KeyProvider)
    assert provider.provider_id.startswith("local:")


def test_key_file_is_written_private_and_in_the_documented_shape(tmp_path: Path) -> None:
    key_file = tmp_path / "root.key"
    LocalKeyProvider.create(key_file, PASSPHRASE, scrypt_n=FAST_N)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    document = json.loads(key_file.read_text())
    assert document["format"] == "claimbridge-key-file"
    assert document["version"] == 1
    assert document["kdf"] == {
        "name": "scrypt",
        "n": FAST_N,
        "r": 8,
        "p": 1,
        "salt": document["kdf"]["salt"],
    }
    assert len(base64.b64decode(document["kdf"]["salt"])) == 32
    assert len(base64.b64decode(document["cipher"]["nonce"])) == 12
    assert len(base64.b64decode(document["cipher"]["ciphertext"])) == 48
    assert sorted(p.name for p in key_file.parent.iterdir()) == ["root.key"]


def test_default_cost_is_scrypt_2_17() -> None:
    assert (local.DEFAULT_SCRYPT_N, local.DEFAULT_SCRYPT_R, local.DEFAULT_SCRYPT_P) == (2**17, 8, 1)


def test_create_refuses_to_overwrite(key_file: Path) -> None:
    before = key_file.read_bytes()
    with pytest.raises(KeyFileError, match="already exists"):
        LocalKeyProvider.create(key_file, "another passphrase", scrypt_n=FAST_N)
    assert key_file.read_bytes() == before


def test_create_refuses_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="folder"):
        LocalKeyProvider.create(tmp_path / "nope" / "root.key", PASSPHRASE, scrypt_n=FAST_N)


@pytest.mark.parametrize(
    ("n", "r", "p"), [(2**10, 8, 1), (3 * 2**14, 8, 1), (2**14, 0, 1), (2**14, 8, 0), (2**23, 8, 1)]
)
def test_create_refuses_weak_or_absurd_scrypt_costs(tmp_path: Path, n: int, r: int, p: int) -> None:
    with pytest.raises(ValueError, match="scrypt"):
        LocalKeyProvider.create(tmp_path / "k", PASSPHRASE, scrypt_n=n, scrypt_r=r, scrypt_p=p)
    assert not (tmp_path / "k").exists()


def test_create_refuses_an_empty_passphrase(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="non-empty passphrase"):
        LocalKeyProvider.create(tmp_path / "k", "", scrypt_n=FAST_N)
    assert not (tmp_path / "k").exists()


def test_open_refuses_an_empty_passphrase(key_file: Path) -> None:
    with pytest.raises(KeyFileError, match="non-empty passphrase"):
        LocalKeyProvider.open(key_file, "")


def test_open_refuses_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.key"
    with pytest.raises(KeyFileError, match="does not exist") as caught:
        LocalKeyProvider.open(path, PASSPHRASE)
    assert str(path) in str(caught.value)


def test_open_refuses_a_wrong_passphrase_without_echoing_it(key_file: Path) -> None:
    with pytest.raises(KeyFileError) as caught:
        LocalKeyProvider.open(key_file, "wrong horse")
    message = str(caught.value)
    assert str(key_file) in message
    assert "passphrase is wrong" in message
    assert "wrong horse" not in message + repr(caught.value) + str(caught.value.detail)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620, 0o602, 0o660, 0o606])
def test_open_refuses_a_file_others_may_read_or_write(key_file: Path, mode: int) -> None:
    key_file.chmod(mode)
    with pytest.raises(KeyFileError, match="other users") as caught:
        LocalKeyProvider.open(key_file, PASSPHRASE)
    assert str(key_file) in str(caught.value)
    assert f"{mode:04o}" in str(caught.value)


def test_open_accepts_an_owner_read_only_file(key_file: Path) -> None:
    key_file.chmod(0o400)
    LocalKeyProvider.open(key_file, PASSPHRASE)


def test_open_refuses_a_directory(tmp_path: Path) -> None:
    folder = tmp_path / "root.key"
    folder.mkdir(mode=0o700)
    with pytest.raises(KeyFileError, match="not a regular file"):
        LocalKeyProvider.open(folder, PASSPHRASE)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not json",
        b"\xff\xfe",
        b"[]",
        b'"text"',
        b"{}",
        b'{"format": "claimbridge-key-file", "version": 2}',
        b"{" + b" " * (64 * 1024) + b"}",
    ],
    ids=["empty", "not-json", "not-utf8", "list", "string", "empty-object", "v2", "huge"],
)
def test_open_refuses_a_corrupted_file(key_file: Path, content: bytes) -> None:
    key_file.write_bytes(content)
    with pytest.raises(KeyFileError, match="damaged") as caught:
        LocalKeyProvider.open(key_file, PASSPHRASE)
    assert str(key_file) in str(caught.value)


@pytest.mark.parametrize(
    "change",
    [
        {"kdf.name": "pbkdf2"},
        {"cipher.name": "aes-128-gcm"},
        {"kdf.n": "16384"},
        {"kdf.n": True},
        {"kdf.n": 2**14 + 1},
        {"kdf.n": 2**30},
        {"kdf.r": 4096},
        {"kdf.salt": "***"},
        {"kdf.salt": 5},
        {"kdf.salt": base64.b64encode(bytes(16)).decode()},
        {"cipher.nonce": base64.b64encode(bytes(8)).decode()},
        {"cipher.ciphertext": base64.b64encode(bytes(47)).decode()},
        {"key_id": "zz"},
        {"key_id": "00" * 8},
    ],
)
def test_open_refuses_malformed_fields(key_file: Path, change: dict[str, object]) -> None:
    rewrite(key_file, change)
    with pytest.raises(KeyFileError, match="damaged"):
        LocalKeyProvider.open(key_file, PASSPHRASE)


@pytest.mark.parametrize(
    "change",
    [
        {"kdf.n": 2**15},  # a different cost, in range: the AAD binds the original
        {"kdf.p": 2},
        {"kdf.salt": base64.b64encode(bytes(32)).decode()},
        {"key_id": "11" * 16},
        {"cipher.nonce": base64.b64encode(bytes(12)).decode()},
        {"cipher.ciphertext": base64.b64encode(bytes(48)).decode()},
    ],
)
def test_open_refuses_altered_authenticated_fields(
    key_file: Path, change: dict[str, object]
) -> None:
    rewrite(key_file, change)
    with pytest.raises(KeyFileError, match="could not be unlocked"):
        LocalKeyProvider.open(key_file, PASSPHRASE)


def test_unwrap_refuses_another_context(key_file: Path) -> None:
    provider = LocalKeyProvider.open(key_file, PASSPHRASE)
    wrapped = provider.wrap(os.urandom(32), context=CONTEXT)
    with pytest.raises(DecryptionFailed):
        provider.unwrap(wrapped, context=CONTEXT.replace(b"tenant-a", b"tenant-b"))


def test_unwrap_refuses_another_root_key(key_file: Path, tmp_path: Path) -> None:
    ours = LocalKeyProvider.open(key_file, PASSPHRASE)
    theirs = LocalKeyProvider.create(tmp_path / "other.key", PASSPHRASE, scrypt_n=FAST_N)
    with pytest.raises(DecryptionFailed):
        theirs.unwrap(ours.wrap(os.urandom(32), context=CONTEXT), context=CONTEXT)


def test_unwrap_refuses_any_flipped_bit(key_file: Path) -> None:
    provider = LocalKeyProvider.open(key_file, PASSPHRASE)
    wrapped = provider.wrap(os.urandom(32), context=CONTEXT)
    for bit in range(len(wrapped) * 8):
        tampered = bytearray(wrapped)
        tampered[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(DecryptionFailed):
            provider.unwrap(bytes(tampered), context=CONTEXT)


@pytest.mark.parametrize("length", [0, 1, 28])
def test_unwrap_refuses_short_input(key_file: Path, length: int) -> None:
    provider = LocalKeyProvider.open(key_file, PASSPHRASE)
    with pytest.raises(DecryptionFailed):
        provider.unwrap(b"\x01" * length, context=CONTEXT)


def test_wrap_format_is_version_nonce_ciphertext(key_file: Path) -> None:
    provider = LocalKeyProvider.open(key_file, PASSPHRASE)
    wrapped = provider.wrap(bytes(32), context=CONTEXT)
    assert wrapped[0] == 0x01
    assert len(wrapped) == 1 + 12 + 32 + 16
    assert provider.wrap(bytes(32), context=CONTEXT) != wrapped


@pytest.mark.parametrize("length", [0, 15, 65])
def test_wrap_takes_only_key_sized_input(key_file: Path, length: int) -> None:
    provider = LocalKeyProvider.open(key_file, PASSPHRASE)
    with pytest.raises(ValueError, match="16 to 64"):
        provider.wrap(bytes(length), context=CONTEXT)


def test_describe_and_repr_carry_no_key_material(key_file: Path) -> None:
    provider = LocalKeyProvider.open(key_file, PASSPHRASE)
    description = provider.describe()
    assert description == {
        "provider": "local",
        "provider_id": provider.provider_id,
        "path": str(key_file),
        "kdf": "scrypt",
        "scrypt_n": FAST_N,
        "scrypt_r": 8,
        "scrypt_p": 1,
        "cipher": "aes-256-gcm",
    }
    document = json.loads(key_file.read_text())
    secrets = (document["kdf"]["salt"], document["cipher"]["ciphertext"], PASSPHRASE)
    text = json.dumps(description) + repr(provider)
    assert not any(secret in text for secret in secrets)
    assert repr(provider) == (
        f"LocalKeyProvider(provider_id={provider.provider_id!r}, path={str(key_file)!r})"
    )


def test_provider_cannot_be_pickled_or_copied(key_file: Path) -> None:
    provider = LocalKeyProvider.open(key_file, PASSPHRASE)
    with pytest.raises(TypeError):
        copy.copy(provider)


def test_passphrase_is_compared_in_nfc_form(tmp_path: Path) -> None:
    path = tmp_path / "k"
    LocalKeyProvider.create(path, "Jos\u00e9 secret", scrypt_n=FAST_N)
    LocalKeyProvider.open(path, "Jose\u0301 secret")


def test_open_refuses_an_unreadable_path(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"")
    with pytest.raises(KeyFileError, match="cannot be read"):
        LocalKeyProvider.open(blocker / "root.key", PASSPHRASE)


def test_open_does_not_hang_on_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "root.key"
    os.mkfifo(fifo, 0o600)
    with pytest.raises(KeyFileError, match="not a regular file"):
        LocalKeyProvider.open(fifo, PASSPHRASE)


def test_create_loses_a_race_without_replacing_the_winner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another process creates the key file between our check and our link.
    path = tmp_path / "root.key"
    real_link = os.link

    def racing_link(source: str, target: Path) -> None:
        target.write_bytes(b"the winner's key file")
        real_link(source, target)

    monkeypatch.setattr(os, "link", racing_link)
    with pytest.raises(KeyFileError, match="already exists"):
        LocalKeyProvider.create(path, PASSPHRASE, scrypt_n=FAST_N)
    assert path.read_bytes() == b"the winner's key file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["root.key"]


def test_create_reports_a_failed_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(source: str, target: Path) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    with pytest.raises(KeyFileError, match="could not be written"):
        LocalKeyProvider.create(tmp_path / "root.key", PASSPHRASE, scrypt_n=FAST_N)
    assert list(tmp_path.iterdir()) == []


def test_default_cost_creates_and_opens(tmp_path: Path) -> None:
    path = tmp_path / "root.key"
    LocalKeyProvider.create(path, PASSPHRASE)
    provider = LocalKeyProvider.open(path, PASSPHRASE)
    assert provider.describe()["scrypt_n"] == 2**17
