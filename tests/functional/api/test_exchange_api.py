"""Batches end to end over real TLS: ``claimbridge send``, receipts, who sees what.

The demo world on SQLite and PostgreSQL: Riverside (engaged Summit
Billing) sends a conformance 837P with ``claimbridge send``, its key found
in the data directory the demo set up; the receipt verifies offline; the
Summit biller sees the claim in its minimum-necessary view and can fetch
the original bytes; Lakeside (not engaged with Summit) can send nothing
to Summit and sees none of it.
"""

from __future__ import annotations

import base64
import io
import json
import socket
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from claimbridge.access.roles import view_of
from claimbridge.cli.main import app as cli
from claimbridge.crypto.signing import SigningKey
from claimbridge.crypto.tls import self_signed_client_certificate
from claimbridge.exchange.clientkeys import client_key_path, read_client_key
from claimbridge.exchange.manifest import make_manifest
from claimbridge.storage.orgs import Role
from tests.functional.api.worlds import RIVERSIDE, SUMMIT, World, running_world
from tests.functional.exchange.samples import conformance_837p, generated_837p

STAFF = "staff@riverside.example"
BILLER = "biller@summit-billing.example"
LAKESIDE_STAFF = "billing@lakeside.example"
QUEUE_FROM = 64 * 1024
"""Uploads this large are queued for the world's ingest worker (the default is 1 MiB)."""


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    with running_world(
        request.param, request, tmp_path_factory, patients=4, queue_from=QUEUE_FROM
    ) as made:
        yield made


def _send(world: World, file: Path, token: str | None, *extra: str) -> tuple[int, str]:
    """``claimbridge send`` with ``token``, or (``None``) the credentials in ``extra``."""
    credentials = ["--token", token] if token is not None else []
    result = CliRunner().invoke(
        cli,
        [
            "send",
            str(file),
            "--server",
            world.base_url,
            *credentials,
            "--ca",
            str(world.cert),
            "--data-dir",
            str(world.data_dir),
            *extra,
        ],
        env={"CLAIMBRIDGE_TOKEN": None},
    )
    return result.exit_code, result.output


def _bearer(world: World, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.sign_in(email)}"}


def test_send_verify_and_the_engaged_billers_view(world: World, tmp_path: Path) -> None:
    file = tmp_path / "claims.837"
    file.write_bytes(conformance_837p("demo.example2.837"))
    receipt_file = tmp_path / "receipt.json"
    with world.client() as client:
        before = client.get("/api/v1/claims", headers=_bearer(world, BILLER)).json()["total"]

    code, output = _send(world, file, world.sign_in(STAFF), "--receipt-out", str(receipt_file))

    assert code == 0, output
    assert "accepted" in output
    with world.client() as client:
        public_key = client.get("/api/v1/audit/public-key").json()["public_key"]
    verified = CliRunner().invoke(
        cli, ["receipt", "verify", str(receipt_file), "--public-key", public_key, "--json"]
    )
    assert verified.exit_code == 0, verified.output
    document = json.loads(verified.output)["receipt"]
    assert document["recipient"] == world.orgs[SUMMIT]
    assert document["claims"]["stored"] == 1
    batch_id = document["batch_id"]

    biller = _bearer(world, BILLER)
    with world.client() as client:
        batches = client.get("/api/v1/batches", headers=biller).json()
        assert batch_id in {item["id"] for item in batches["items"]}
        content = client.get(f"/api/v1/batches/{batch_id}/content", headers=biller)
        assert content.status_code == 200
        assert content.content == file.read_bytes()
        claims = client.get("/api/v1/claims", headers=biller, params={"limit": 200}).json()
    assert claims["total"] == before + 1
    view = view_of({Role.BILLER}, "claim")
    allowed = {f for f in view if "." not in f} | {"lines", "practice_id"}
    line_fields = {f.split(".", 1)[1] for f in view if f.startswith("lines.")}
    for claim in claims["items"]:
        assert set(claim) <= allowed, set(claim) - allowed
        for line in claim.get("lines", []):
            assert set(line) <= line_fields | {"line_number"}, set(line) - line_fields

    # Someone outside the engagement sees nothing of it.
    lakeside = _bearer(world, LAKESIDE_STAFF)
    with world.client() as client:
        assert client.get(f"/api/v1/batches/{batch_id}", headers=lakeside).status_code == 404
        assert (
            client.get(f"/api/v1/batches/{batch_id}/content", headers=lakeside).status_code == 404
        )
        listed = client.get("/api/v1/batches", headers=lakeside).json()
        assert batch_id not in {item["id"] for item in listed["items"]}


def test_sending_again_gives_the_original_receipt(world: World, tmp_path: Path) -> None:
    file = tmp_path / "claims.837"
    file.write_bytes(generated_837p(20, seed=8801))
    token = world.sign_in(STAFF)
    first_code, first = _send(world, file, token, "--json")
    again_code, again = _send(world, file, token, "--json")
    assert first_code == again_code == 0, first + again
    assert json.loads(again)["duplicate"] is True
    assert json.loads(again)["receipt"] == json.loads(first)["receipt"]


def test_a_large_batch_is_answered_processing_and_send_waits_for_the_final_receipt(
    world: World, tmp_path: Path
) -> None:
    file = tmp_path / "large.837"
    file.write_bytes(generated_837p(400, seed=8804))
    assert file.stat().st_size > QUEUE_FROM
    token = world.sign_in(STAFF)

    code, output = _send(world, file, token, "--no-wait", "--json")
    assert code == 0, output
    queued = json.loads(output)["receipt"]["document"]
    assert queued["status"] == "processing"

    code, output = _send(world, file, token, "--json")
    assert code == 0, output
    final = json.loads(output)
    assert final["duplicate"] is True
    assert final["receipt"]["document"]["batch_id"] == queued["batch_id"]
    assert final["receipt"]["document"]["status"] == "accepted"
    assert final["receipt"]["document"]["claims"]["stored"] == 400


def test_a_practice_without_an_engagement_cannot_send_to_the_billing_company(
    world: World, tmp_path: Path
) -> None:
    file = tmp_path / "claims.837"
    file.write_bytes(generated_837p(3, seed=8802))
    code, output = _send(world, file, world.sign_in(LAKESIDE_STAFF), "--to", SUMMIT)
    assert code != 0
    assert "active engagement" in output


def _post(world: World, token: str, content: bytes, manifest: str) -> httpx.Response:
    header = base64.urlsafe_b64encode(manifest.encode()).decode().rstrip("=")
    with world.client() as client:
        return client.post(
            "/api/v1/batches",
            content=content,
            headers={"Authorization": f"Bearer {token}", "Claimbridge-Manifest": header},
        )


def _riverside_key(world: World) -> SigningKey:
    return read_client_key(client_key_path(world.data_dir, world.orgs[RIVERSIDE])).key


def _manifest(world: World, content: bytes, key: SigningKey, **kw: object) -> str:
    _, signed = make_manifest(
        io.BytesIO(content),
        format="x12-837p",
        sender=str(kw.get("sender", world.orgs[RIVERSIDE])),
        recipient=world.orgs[SUMMIT],
        key=key,
        now=world.clock.now(),
    )
    return signed.dumps()


def test_tampered_foreign_and_malformed_uploads_are_refused(world: World) -> None:
    token = world.sign_in(STAFF)
    content = generated_837p(3, seed=8803)
    good = _manifest(world, content, _riverside_key(world))

    tampered = bytearray(content)
    tampered[200] ^= 0x20
    answer = _post(world, token, bytes(tampered), good)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "content_mismatch"

    foreign = _manifest(world, content, SigningKey.generate())
    answer = _post(world, token, content, foreign)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "manifest_invalid"
    assert answer.json()["error"]["where"] == "manifest.key_id"

    with world.client() as client:
        missing = client.post(
            "/api/v1/batches", content=content, headers={"Authorization": f"Bearer {token}"}
        )
    assert missing.status_code == 400
    assert missing.json()["error"]["where"] == "manifest"

    # A biller may not bring a practice's data in at all.
    answer = _post(world, world.sign_in(BILLER), content, good)
    assert answer.status_code == 400
    assert answer.json()["error"]["where"] == "manifest.sender"


def test_an_upload_over_the_limit_is_refused_before_it_is_read(world: World) -> None:
    token = world.sign_in(STAFF)
    port = int(world.base_url.rsplit(":", 1)[1])
    declared = world.settings.max_batch_bytes + 1
    request = (
        f"POST /api/v1/batches HTTP/1.1\r\nHost: localhost\r\n"
        f"Authorization: Bearer {token}\r\nClaimbridge-Manifest: e30\r\n"
        f"Content-Length: {declared}\r\n\r\nISA"
    ).encode()
    context = ssl.create_default_context(cafile=str(world.cert))
    with (
        socket.create_connection(("localhost", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        tls.sendall(request)
        status_line = tls.recv(4096).split(b"\r\n", 1)[0]
    # Answered from the declared length alone: the body was never read.
    assert status_line.split()[1] == b"413", status_line


def test_a_machine_sends_with_its_registered_client_certificate(
    world: World, tmp_path: Path
) -> None:
    # The practice admin registers the EHR's export machine, allowed to upload only.
    real_now = datetime.now(UTC)  # OpenSSL checks validity against the real time
    pair = self_signed_client_certificate(now=real_now, common_name="riverside-ehr-export")
    cert, key = tmp_path / "ehr.pem", tmp_path / "ehr.key"
    cert.write_bytes(pair.cert_pem)
    key.write_bytes(pair.key_pem)
    with world.client() as client:
        made = client.post(
            "/api/v1/client-certificates",
            headers=_bearer(world, "admin@riverside.example"),
            json={
                "name": "ehr-export",
                "certificate_pem": pair.cert_pem.decode(),
                "permissions": ["exchange:batch:upload"],
            },
        )
    assert made.status_code == 201, made.text
    file = tmp_path / "claims.837"
    file.write_bytes(generated_837p(5, seed=8805))

    code, output = _send(world, file, None, "--cert", str(cert), "--key", str(key), "--json")

    assert code == 0, output
    assert json.loads(output)["receipt"]["document"]["claims"]["stored"] == 5
