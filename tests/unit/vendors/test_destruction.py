"""Certificates of destruction: canonical bytes only, signed, and nothing else verifies."""

from __future__ import annotations

import base64
import json

import pytest

from claimbridge.crypto.signing import SigningKey
from claimbridge.errors import InputError
from claimbridge.vendors.destruction import (
    KIND,
    CertificateInvalid,
    canonical,
    issue_certificate,
    read_certificate,
    verify_certificate,
)

KEY = SigningKey.from_seed(bytes(range(32)))
DOCUMENT = {
    "engagement": {"id": "e-1"},
    "practice": {"id": "p-1", "name": "Riverside Ærzte"},
    "destroyed": {"records": {"patients": 3, "claims": 5}, "keks": [{"version": 1}]},
    "evidence": {"probes": [{"outcome": "decryption_failed"}], "all_failed": True},
}


def envelope(raw: bytes) -> dict[str, object]:
    found: dict[str, object] = json.loads(raw)
    return found


def test_an_issued_certificate_is_canonical_and_verifies() -> None:
    raw = issue_certificate(DOCUMENT, KEY)

    assert raw == canonical(envelope(raw))
    assert not raw.endswith(b"\n")
    assert verify_certificate(raw, KEY.public_key_bytes()) == DOCUMENT
    assert read_certificate(raw)["kind"] == KIND


def test_re_serialised_copies_do_not_verify() -> None:
    raw = issue_certificate(DOCUMENT, KEY)
    data = envelope(raw)
    copies = [
        json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False).encode(),
        json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode(),
        json.dumps(dict(reversed(list(data.items()))), separators=(",", ":")).encode(),
        raw.replace(b'{"document":', b'{"document":{"x":1},"document":', 1),  # duplicate key
        raw + b"\n",
        raw.replace(b'"patients":3', b'"patients":3.0', 1),
    ]
    for copy in copies:
        assert copy != raw
        with pytest.raises(CertificateInvalid):
            verify_certificate(copy, KEY.public_key_bytes())


def test_a_second_base64_spelling_of_the_signature_does_not_verify() -> None:
    raw = issue_certificate(DOCUMENT, KEY)
    text = str(envelope(raw)["signature"])
    # 64 bytes end in "==", and the digit before spends only 2 of its 6 bits:
    # its neighbour decodes to the same signature.
    last = text[-3]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    twin = text[:-3] + alphabet[alphabet.index(last) ^ 1] + "=="
    assert base64.b64decode(twin) == base64.b64decode(text)

    with pytest.raises(CertificateInvalid, match="canonical base64"):
        verify_certificate(raw.replace(text.encode(), twin.encode()), KEY.public_key_bytes())


def test_a_changed_value_fails_the_signature() -> None:
    raw = issue_certificate(DOCUMENT, KEY)

    with pytest.raises(CertificateInvalid, match="signature"):
        verify_certificate(raw.replace(b'"claims":5', b'"claims":4'), KEY.public_key_bytes())


def test_not_a_certificate() -> None:
    other = canonical(
        {"kind": "claimbridge/receipt/v1", "document": {}, "key_id": "", "signature": ""}
    )
    for raw in (b"", b"\xff\xfe", b"[]", b'{"kind":"x"}', other):
        with pytest.raises(CertificateInvalid):
            verify_certificate(raw, KEY.public_key_bytes())


def test_floats_cannot_be_signed() -> None:
    with pytest.raises(InputError):
        issue_certificate({"ratio": 0.5}, KEY)
