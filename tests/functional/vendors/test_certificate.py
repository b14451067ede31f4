"""The certificate of destruction: what it names, that it verifies offline, that nothing bends it.

A practice with real data (``ended.build``) ends its engagement, gets its
package, confirms receipt; the shred's certificate is then checked with
nothing but the server's public key, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, select

from claimbridge.audit.record import unit_of_work
from claimbridge.crypto.signing import SigningKey
from claimbridge.errors import NotFound
from claimbridge.phi.exports import PracticeRecords
from claimbridge.storage.keys import DataKeyRow, TenantKek
from claimbridge.storage.orgs import Role
from claimbridge.storage.vendors import Termination
from claimbridge.vendors.destruction import CertificateInvalid, canonical, verify_certificate
from claimbridge.vendors.offboarding import (
    certificate_of,
    confirm_and_shred,
    export_return_package,
    terminate,
)
from tests.functional.vendors.conftest import VendorWorld, open_vendor_world
from tests.functional.vendors.ended import FAST, PASSPHRASE, PracticeData, build


@dataclass
class Shredded:
    d: PracticeData
    certificate: bytes
    records_before: dict[str, int]
    data_keys_before: set[str]


@pytest.fixture(scope="module")
def shredded(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shredded]:
    """One shredded practice per backend, shared: the tests below only read it.

    (Reading the certificate adds audit events, which each test counts from
    its own starting point.)
    """
    with open_vendor_world(engine, tmp_path_factory.mktemp("certificate")) as world:
        yield _shred(build(world))


def _shred(d: PracticeData) -> Shredded:
    w = d.w
    now = w.clock.now()
    unit_of_work(
        w.sessions,
        lambda session: terminate(session, d.admin, d.engagement, reason="Ending.", now=now),
    )
    export_return_package(
        w.sessions, d.parts, d.admin, d.engagement, passphrase=PASSPHRASE, now=now, scrypt_n=FAST
    )
    with w.sessions() as session:
        records = PracticeRecords(session, w.keyring, w.files, w.riverside).counts()
        data_keys = set(
            session.scalars(
                select(DataKeyRow.key_id).where(DataKeyRow.organisation_id == w.riverside)
            )
        )
    confirm_and_shred(w.sessions, d.parts, d.admin, d.engagement, now=now)
    raw = unit_of_work(
        w.sessions,
        lambda session: certificate_of(session, d.admin, d.engagement, now=now),
    )
    return Shredded(d, raw, records, data_keys)


def public_key(s: Shredded) -> bytes:
    return s.d.server_key.public_key_bytes()


def test_the_certificate_verifies_offline_and_names_what_was_destroyed(s: Shredded) -> None:
    d, w = s.d, s.d.w

    document = verify_certificate(s.certificate, public_key(s))

    assert document["engagement"]["id"] == d.engagement
    assert document["practice"]["id"] == w.riverside
    assert document["billing_company"]["id"] == w.summit
    assert document["issued_at"] == w.clock.now().isoformat().replace("+00:00", "Z")
    assert document["trigger"] == "receipt_confirmed"
    destroyed = document["destroyed"]
    assert destroyed["records"] == s.records_before
    assert {key["key_id"] for key in destroyed["data_keys"]} == s.data_keys_before
    with w.sessions() as session:
        keks = session.scalars(select(TenantKek).where(TenantKek.organisation_id == w.riverside))
        assert [(k["id"], k["version"]) for k in destroyed["keks"]] == [
            (k.id, k.version) for k in keks
        ]
        termination = session.get(Termination, d.engagement)
        assert termination is not None and termination.certificate == s.certificate
    assert {k["state"] for k in destroyed["keks"]} == {"destroyed"}
    assert destroyed["kek_versions_destroyed_now"] == len(destroyed["keks"])
    assert destroyed["files"]["count"] >= len(d.originals) + 1  # batches, 999s, 837P, package
    probes = document["evidence"]["probes"]
    assert {p["outcome"] for p in probes} == {"decryption_failed"}
    assert {(p["kind"], p["table"]) for p in probes} >= {
        ("field", "patients"),
        ("field", "coverages"),
        ("field", "claims"),
        ("field", "findings"),
        ("file", "batches"),
        ("index_key", "data_keys"),
    }
    assert document["signer"]["public_key"] == public_key(s).hex()
    # No PHI in it: the names the practice sent are nowhere in the certificate.
    for name in ("Alma", "Example", "Bea", "Sample", "XEX900800701"):
        assert name.encode() not in s.certificate


def _pieces(value: Any, path: str) -> Iterator[tuple[tuple[str, str], bytes]]:
    """The canonical bytes of ``value`` piece by piece, each with its class.

    A class is what the piece is (a structural byte ``{ } [ ] : ,``, a key,
    a value) and where: the path of the field, with every list index written
    ``[]``, so the elements of a list share their classes.
    """
    if isinstance(value, dict):
        yield ("{", path), b"{"
        for index, key in enumerate(sorted(value)):
            field = f"{path}.{key}"
            if index:
                yield (",", field), b","
            yield ("key", field), canonical(key)
            yield (":", field), b":"
            yield from _pieces(value[key], field)
        yield ("}", path), b"}"
    elif isinstance(value, list):
        yield ("[", path), b"["
        for index, item in enumerate(value):
            if index:
                yield (",", f"{path}[]"), b","
            yield from _pieces(item, f"{path}[]")
        yield ("]", path), b"]"
    else:
        yield ("value", path), canonical(value)


ENVELOPE_VALUES = {("value", ".key_id"), ("value", ".kind"), ("value", ".signature")}
"""Every byte of these is flipped: they are what names and proves the signer."""


def flipped_bytes(raw: bytes) -> list[int]:
    """Offsets to flip in ``raw``: a sample that reaches every field and every kind of byte.

    Flipping every one of a certificate's ~4,800 bytes twice took seconds and
    shows no more than this sample (~900 bytes). The certificate is cut into
    its JSON pieces (checked to join back into exactly ``raw``) and classed by
    ``_pieces``. Of every class, the first and the last piece (so the first and
    last element of each list) is flipped at its first two and last two bytes
    and in its middle: each key and each value at its opening and closing
    quote, first and last character and middle, each number and ``true``, and
    every kind of structural byte of every object and list (its brackets, the
    colon after each key, the comma before each key and between elements).
    The envelope's ``key_id``, ``kind`` and ``signature`` are flipped at every
    byte (base64 has spare bits in the signature's last digits). The file's
    first and last byte are pieces of their own.
    """
    pieces = list(_pieces(json.loads(raw), ""))
    assert b"".join(piece for _, piece in pieces) == raw
    spans: dict[tuple[str, str], list[tuple[int, int]]] = {}
    at = 0
    for kind, piece in pieces:
        spans.setdefault(kind, []).append((at, at + len(piece)))
        at += len(piece)
    chosen: set[int] = set()
    for kind, found in spans.items():
        for start, end in {found[0], found[-1]}:
            if kind in ENVELOPE_VALUES:
                chosen.update(range(start, end))
            else:
                middle = (start + end) // 2
                chosen.update(
                    i for i in (start, start + 1, middle, end - 2, end - 1) if start <= i < end
                )
    return sorted(chosen)


def test_any_changed_byte_fails_verification(s: Shredded) -> None:
    key = public_key(s)
    raw = s.certificate
    refused_at: set[str | None] = set()
    sample = flipped_bytes(raw)
    for at in sample:
        for flip in (0x01, 0x20):
            changed = raw[:at] + bytes([raw[at] ^ flip]) + raw[at + 1 :]
            with pytest.raises(CertificateInvalid) as refused:
                verify_certificate(changed, key)
            refused_at.add(refused.value.where)
    for changed in (raw + b"\n", b" " + raw, raw[:-1], raw.replace(b":", b": ", 1)):
        with pytest.raises(CertificateInvalid):
            verify_certificate(changed, key)
    # The sample reaches every check: the form, the kind, the key and the signature.
    assert refused_at >= {
        "certificate",
        "certificate.kind",
        "certificate.key_id",
        "certificate.signature",
    }


def test_a_pretty_printed_or_reordered_copy_does_not_verify(s: Shredded) -> None:
    key = public_key(s)
    envelope: dict[str, Any] = json.loads(s.certificate)
    reordered = dict(reversed(list(envelope.items())))
    for copy in (
        json.dumps(envelope, indent=2, sort_keys=True),
        json.dumps(reordered, separators=(",", ":"), ensure_ascii=False),
        json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=True).replace(
            '"document"', '"\\u0064ocument"'
        ),
    ):
        with pytest.raises(CertificateInvalid):
            verify_certificate(copy.encode(), key)


def test_another_key_does_not_verify(s: Shredded) -> None:
    with pytest.raises(CertificateInvalid):
        verify_certificate(s.certificate, SigningKey.generate().public_key_bytes())


def test_either_side_reads_the_certificate_other_tenants_do_not(s: Shredded) -> None:
    d, w = s.d, s.d.w
    since = d.last_seq()
    vendor_admin = w.principal(w.summit, Role.VENDOR_ADMIN)

    theirs = unit_of_work(
        w.sessions,
        lambda session: certificate_of(session, vendor_admin, d.engagement, now=w.clock.now()),
    )

    assert theirs == s.certificate
    with pytest.raises(NotFound):
        unit_of_work(
            w.sessions,
            lambda session: certificate_of(
                session,
                w.principal(w.lakeside, Role.PRACTICE_ADMIN),
                d.engagement,
                now=w.clock.now(),
            ),
        )
    assert [e.outcome for e in d.events("vendors:certificate:read", since=since)] == [
        "success",
        "denied",
    ]


def test_no_certificate_before_the_shred(vendor_world: VendorWorld) -> None:
    d = build(vendor_world)
    w = d.w
    unit_of_work(
        w.sessions,
        lambda session: terminate(
            session, d.admin, d.engagement, reason="Ending.", now=w.clock.now()
        ),
    )

    with pytest.raises(NotFound):
        unit_of_work(
            w.sessions,
            lambda session: certificate_of(session, d.admin, d.engagement, now=w.clock.now()),
        )


@pytest.fixture
def s(shredded: Shredded) -> Shredded:
    return shredded
