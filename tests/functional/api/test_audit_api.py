"""The audit trail over HTTPS and from the practice's command line.

A practice's privacy officer fetches checkpoints and proofs from the
server, keeps them, and checks them offline with only the audit public
key; the accounting of disclosures is hers, not the billing company's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from claimbridge.audit.checkpoints import parse_checkpoint
from claimbridge.audit.proofs import (
    InclusionProof,
    load_proof,
    verify_consistency_proof,
    verify_inclusion_proof,
)
from claimbridge.cli.main import app as cli
from tests.functional.api.worlds import LAKESIDE, RIVERSIDE, World, running_world

PRIVACY = "privacy@riverside.example"
LAKESIDE_PRIVACY = "privacy@lakeside.example"
STAFF = "staff@riverside.example"
BILLER = "biller@summit-billing.example"
AUDITOR = "auditor@compliance-auditors.example"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    if request.param == "postgresql":
        request.getfixturevalue("postgres_server")
    with running_world(request.param, request, tmp_path_factory) as built:
        yield built


def call(world: World, email: str, method: str, path: str, **params: Any) -> Any:
    token = world.sign_in(email)
    with world.client() as client:
        return client.request(
            method, f"/api/v1{path}", params=params, headers={"Authorization": f"Bearer {token}"}
        )


def public_key(world: World) -> bytes:
    with world.client() as client:
        return bytes.fromhex(client.get("/api/v1/audit/public-key").json()["public_key"])


def test_a_practice_proves_an_access_into_a_checkpoint_it_keeps(world: World) -> None:
    key = public_key(world)
    first = call(world, PRIVACY, "POST", "/audit/checkpoints")
    assert first.status_code == 201, first.text
    saved = parse_checkpoint(first.json()["checkpoint"])
    patient = world.patient_of[RIVERSIDE]
    assert call(world, BILLER, "GET", f"/patients/{patient}").status_code == 200
    read_seq = world.last_seq()
    second = call(world, PRIVACY, "POST", "/audit/checkpoints").json()
    newer = parse_checkpoint(second["checkpoint"])
    assert newer.checkpoint.tree_size > saved.checkpoint.tree_size

    bundle = call(world, PRIVACY, "GET", f"/audit/events/{read_seq}/proof")
    assert bundle.status_code == 200, bundle.text
    proof = load_proof(bundle.text)
    assert isinstance(proof, InclusionProof)
    proved = verify_inclusion_proof(proof, key, saved=newer)
    assert proved.event["action"] == "phi:patient:read"
    assert proved.event["tenant_id"] == world.orgs[RIVERSIDE]
    assert "given_name" not in bundle.text

    consistency = call(
        world, PRIVACY, "GET", "/audit/proofs/consistency", old_size=saved.checkpoint.tree_size
    )
    assert consistency.status_code == 200, consistency.text
    verified = verify_consistency_proof(load_proof(consistency.text), key, saved=saved)  # type: ignore[arg-type]
    assert verified.tree_size >= newer.checkpoint.tree_size


def test_events_of_another_practice_stay_hidden(world: World) -> None:
    call(world, PRIVACY, "POST", "/audit/checkpoints")
    assert call(world, STAFF, "GET", f"/patients/{world.patient_of[RIVERSIDE]}").status_code == 200
    riverside_seq = world.last_seq()
    call(world, PRIVACY, "POST", "/audit/checkpoints")
    hidden = call(world, LAKESIDE_PRIVACY, "GET", f"/audit/events/{riverside_seq}/proof")
    assert hidden.status_code == 404
    assert call(world, AUDITOR, "GET", f"/audit/events/{riverside_seq}/proof").status_code == 200
    listed = call(world, LAKESIDE_PRIVACY, "GET", "/audit/events", limit=500)
    assert listed.status_code == 200
    assert {e["tenant_id"] for e in listed.json()["items"]} <= {world.orgs[LAKESIDE]}


def test_roles_without_audit_access_are_refused_and_recorded(world: World) -> None:
    before = world.last_seq()
    for path in ("/audit/checkpoint", "/audit/events"):
        assert call(world, BILLER, "GET", path).status_code == 403
    patient = world.patient_of[RIVERSIDE]
    assert call(world, BILLER, "GET", f"/audit/disclosures/{patient}").status_code == 403
    assert call(world, AUDITOR, "GET", f"/audit/disclosures/{patient}").status_code == 403
    assert world.last_seq() > before  # the refusals are in the log too


def test_the_accounting_of_disclosures_lists_who_saw_the_patient(world: World) -> None:
    patient = world.patient_of[RIVERSIDE]
    assert call(world, STAFF, "GET", f"/patients/{patient}").status_code == 200
    assert call(world, BILLER, "GET", f"/patients/{patient}").status_code == 200
    response = call(world, PRIVACY, "GET", f"/audit/disclosures/{patient}")
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    seen = {(i["organisation"], i["purpose"], i["action"]) for i in items}
    assert ("Summit Billing Partners", "payment", "phi:patient:read") in seen
    assert (RIVERSIDE, "operations", "phi:patient:read") in seen
    assert all(i["user"] and "@" in i["user"] for i in items)
    other = call(world, LAKESIDE_PRIVACY, "GET", f"/audit/disclosures/{patient}")
    assert other.status_code == 404


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def test_the_practice_command_line_fetches_and_checks_proofs(world: World, tmp_path: Path) -> None:
    token = world.sign_in(PRIVACY)
    remote = ["--server", world.base_url, "--token", token, "--ca", str(world.cert)]
    saved = tmp_path / "saved.checkpoint"
    fetched = invoke("audit", "proof", "checkpoint", *remote, "--sign-now", "-o", str(saved))
    assert fetched.exit_code == 0, fetched.output
    assert call(world, BILLER, "GET", f"/patients/{world.patient_of[RIVERSIDE]}").status_code == 200
    seq = world.last_seq()
    call(world, PRIVACY, "POST", "/audit/checkpoints")
    proof_file = tmp_path / "event.proof"
    got = invoke("audit", "proof", "event", str(seq), *remote, "-o", str(proof_file))
    assert got.exit_code == 0, got.output
    key = public_key(world).hex()
    ok = invoke("audit", "verify-proof", str(proof_file), "--public-key", key, "--json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["event"]["seq"] == seq

    size = parse_checkpoint(saved.read_text()).checkpoint.tree_size
    consistency = tmp_path / "consistency.proof"
    got = invoke(
        "audit", "proof", "consistency", *remote, "--old", str(size), "-o", str(consistency)
    )
    assert got.exit_code == 0, got.output
    ok = invoke(
        "audit", "verify-proof", str(consistency), "--public-key", key, "--saved", str(saved)
    )
    assert ok.exit_code == 0, ok.output

    bundle = json.loads(proof_file.read_text())
    first = bundle["path"][0]
    bundle["path"][0] = f"{int(first[0], 16) ^ 1:x}{first[1:]}"
    proof_file.write_text(json.dumps(bundle))
    bad = invoke("audit", "verify-proof", str(proof_file), "--public-key", key, "--json")
    assert bad.exit_code != 0
    assert json.loads(bad.output)["error"]["where"] == f"event {seq}"


def test_the_command_line_refuses_an_untrusted_server_certificate(world: World) -> None:
    token = world.sign_in(PRIVACY)
    result = invoke(
        "audit", "proof", "checkpoint", "--server", world.base_url, "--token", token, "--json"
    )
    assert result.exit_code != 0
    assert json.loads(result.output)["error"]["code"] == "server_unreachable"
