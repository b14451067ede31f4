"""The assessment workflow over HTTPS: ``/api/v1/vendors`` and ``/api/v1/assessments``.

The app runs on the vendor world's database (each backend), keyring and
fixed clock, served over TLS in a thread; each person calls with an API
token of their own (written straight into its table: issuing tokens is
tested elsewhere).
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from claimbridge.access.authn import new_token, token_hash
from claimbridge.access.roles import permissions_of
from claimbridge.api.app import create_app
from claimbridge.api.server import build_server, listen
from claimbridge.config import Settings, load_settings
from claimbridge.storage.auth import ApiToken
from claimbridge.storage.orgs import Role
from claimbridge.vendors.questionnaires import latest
from tests.functional.vendors.conftest import VendorWorld
from tests.functional.vendors.flows import engagement_of, events, good_answers, sign_baa


@dataclass
class Api:
    w: VendorWorld
    client: httpx.Client
    tokens: dict[tuple[str, Role], str] = field(default_factory=dict)

    def auth(self, org: str, role: Role) -> dict[str, str]:
        if (org, role) not in self.tokens:
            token = new_token("cbt")
            now = self.w.clock.now()
            with self.w.sessions.begin() as session:
                session.add(
                    ApiToken(
                        token_hash=token_hash(token),
                        prefix=token[:10],
                        name="test",
                        organisation_id=org,
                        created_by=self.w.users[(org, role)],
                        permissions=sorted(p.value for p in permissions_of({role})),
                        created_at=now,
                        expires_at=now + timedelta(days=30),
                    )
                )
            self.tokens[(org, role)] = token
        return {"Authorization": f"Bearer {self.tokens[(org, role)]}"}

    def call(self, method: str, path: str, org: str, role: Role, **kw: Any) -> httpx.Response:
        headers = {**self.auth(org, role), **kw.pop("headers", {})}
        return self.client.request(method, f"/api/v1{path}", headers=headers, **kw)


@pytest.fixture
def api(vendor_world: VendorWorld, server_data_dir: Settings, tmp_path: Path) -> Iterator[Api]:
    w = vendor_world
    # The world's blob folder is tmp_path/blobs: the server's data directory is tmp_path.
    settings = load_settings(
        tmp_path,
        tls_cert_file=server_data_dir.tls_cert,
        tls_key_file=server_data_dir.paths.tls_key,
    )
    engine = w.sessions.kw["bind"]
    app = create_app(settings, engine=engine, keyring=w.keyring, clock=w.clock)
    server = build_server(
        app,
        certfile=str(server_data_dir.tls_cert),
        keyfile=str(server_data_dir.paths.tls_key),
        log_level="warning",
    )
    sock = listen("127.0.0.1", 0)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.02)
    context = ssl.create_default_context(cafile=str(server_data_dir.tls_cert))
    try:
        with httpx.Client(
            base_url=f"https://localhost:{sock.getsockname()[1]}", verify=context, timeout=30
        ) as client:
            yield Api(w, client)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def error(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


def invite(api: Api) -> str:
    w = api.w
    invited = api.call("POST", f"/vendors/{w.summit}/invitations", w.riverside, Role.PRACTICE_ADMIN)
    assert invited.status_code == 201, invited.text
    return str(invited.json()["assessment_id"])


def upload(
    api: Api, assessment_id: str, question: str, *, role: Role = Role.VENDOR_ADMIN, **params: Any
) -> httpx.Response:
    w = api.w
    today = w.clock.now().date()
    content = params.pop("content", b"%PDF-1.7 " + question.encode())
    query = {
        "question": question,
        "title": f"{question} document",
        "issued_on": (today - timedelta(days=10)).isoformat(),
        **params,
    }
    return api.call(
        "POST",
        f"/assessments/{assessment_id}/evidence",
        w.summit,
        role,
        params=query,
        content=content,
        headers={"Content-Type": "application/pdf"},
    )


def test_a_practice_invites_a_vendor_answers_and_the_practice_approves_over_https(
    api: Api,
) -> None:
    w = api.w
    today = w.clock.now().date()
    listed = api.call("GET", "/vendors", w.riverside, Role.PRACTICE_ADMIN).json()["items"]
    assert {item["id"]: item["engagement"] for item in listed}[w.summit] is None

    assessment_id = invite(api)
    saved = api.call(
        "PUT",
        f"/assessments/{assessment_id}/answers",
        w.summit,
        Role.VENDOR_ADMIN,
        json={"answers": good_answers(today), "comments": {"ENC-01": "TLS 1.3 everywhere"}},
    )
    assert saved.status_code == 200, saved.text
    for question in latest().questions():
        rule = question.evidence
        if rule is not None and rule.required:
            expires = (today + timedelta(days=300)).isoformat() if rule.expires else None
            stored = upload(
                api, assessment_id, question.id, **({"expires_on": expires} if expires else {})
            )
            assert stored.status_code == 201, stored.text
    submitted = api.call(
        "POST", f"/assessments/{assessment_id}/submission", w.summit, Role.VENDOR_ADMIN
    )
    assert submitted.json()["status"] == "submitted"
    reviewed = api.call(
        "PUT",
        f"/assessments/{assessment_id}/reviews/ADM-02",
        w.riverside,
        Role.PRACTICE_ADMIN,
        json={"decision": "remediation", "due_on": (today + timedelta(days=30)).isoformat()},
    )
    assert reviewed.status_code == 200 and reviewed.json()["critical"] is False
    sign_baa(w, engagement_of(w, assessment_id).id)
    decided = api.call(
        "POST",
        f"/assessments/{assessment_id}/decision",
        w.riverside,
        Role.PRACTICE_ADMIN,
        json={"decision": "approved", "note": "Strong controls; ADM-02 to follow."},
    )

    assert decided.status_code == 200, decided.text
    assert decided.json()["engagement"]["status"] == "active"
    shown = api.call("GET", f"/assessments/{assessment_id}", w.summit, Role.VENDOR_ADMIN).json()
    assert shown["status"] == "approved" and shown["score"]["rating"] == "low"
    by_id = {q["id"]: q for s in shown["sections"] for q in s["questions"]}
    assert by_id["ENC-01"]["answer"]["comment"] == "TLS 1.3 everywhere"
    assert by_id["ADM-02"]["review"]["decision"] == "remediation"
    compared = api.call(
        "GET",
        "/vendors/comparison",
        w.riverside,
        Role.PRACTICE_ADMIN,
        params={"ids": f"{w.summit},{w.northwind}"},
    ).json()
    assert [c["company"]["id"] for c in compared["candidates"]] == [w.summit, w.northwind]
    assert compared["candidates"][0]["remediation"]["open"] == 1
    actions = [e.action for e in events(w)]
    assert actions[0] == "vendors:engagement:invited" and actions[-1] == "vendors:vendor:compared"
    assert {
        "vendors:assessment:answered",
        "vendors:evidence:uploaded",
        "vendors:assessment:submitted",
        "vendors:assessment:reviewed",
        "vendors:assessment:approved",
        "vendors:engagement:activated",
    } <= set(actions)


def test_evidence_downloads_for_both_sides_only_as_an_attachment(api: Api) -> None:
    w = api.w
    assessment_id = invite(api)
    stored = upload(api, assessment_id, "DOC-01", content=b"<html>policy</html>")
    assert stored.status_code == 201, stored.text
    path = f"/assessments/{assessment_id}/evidence/{stored.json()['id']}/content"

    got = api.call("GET", path, w.riverside, Role.PRIVACY_OFFICER)

    assert got.status_code == 200 and got.content == b"<html>policy</html>"
    assert got.headers["content-disposition"].startswith("attachment")
    assert got.headers["content-type"] == "application/pdf"
    assert api.call("GET", path, w.summit, Role.VENDOR_ADMIN).status_code == 200
    assert api.call("GET", path, w.lakeside, Role.PRACTICE_ADMIN).status_code == 404
    assert api.call("GET", path, w.summit, Role.BILLER).status_code == 403
    assert [e.outcome for e in events(w) if e.action == "vendors:evidence:downloaded"] == [
        "success",
        "success",
        "denied",
        "denied",
    ]


def test_refusals_come_in_the_one_error_shape(api: Api) -> None:
    w = api.w
    assessment_id = invite(api)
    today = w.clock.now().date()

    bad = api.call(
        "PUT",
        f"/assessments/{assessment_id}/answers",
        w.summit,
        Role.VENDOR_ADMIN,
        json={"answers": {"TECH-01": "sure"}},
    )
    biller = api.call(
        "PUT",
        f"/assessments/{assessment_id}/answers",
        w.summit,
        Role.BILLER,
        json={"answers": {"TECH-01": True}},
    )
    other = api.call("GET", f"/assessments/{assessment_id}", w.northwind, Role.VENDOR_ADMIN)
    early = api.call(
        "POST",
        f"/assessments/{assessment_id}/decision",
        w.riverside,
        Role.PRACTICE_ADMIN,
        json={"decision": "approved", "note": "fine"},
    )
    vendor_decides = api.call(
        "POST",
        f"/assessments/{assessment_id}/decision",
        w.summit,
        Role.VENDOR_ADMIN,
        json={"decision": "approved", "note": "fine"},
    )
    backwards = upload(
        api,
        assessment_id,
        "CERT-01",
        issued_on=today.isoformat(),
        expires_on=(today - timedelta(days=1)).isoformat(),
    )
    biller_uploads = upload(api, assessment_id, "DOC-01", role=Role.BILLER)
    again = api.call("POST", f"/vendors/{w.summit}/invitations", w.riverside, Role.PRACTICE_ADMIN)
    practice = api.call(
        "POST", f"/vendors/{w.lakeside}/invitations", w.riverside, Role.PRACTICE_ADMIN
    )
    anonymous = api.client.get(f"/api/v1/assessments/{assessment_id}")

    assert (bad.status_code, error(bad)["where"]) == (400, "answers.TECH-01")
    assert (biller.status_code, error(biller)["code"]) == (403, "forbidden")
    assert (other.status_code, error(other)["code"]) == (404, "not_found")
    assert (early.status_code, error(early)["where"]) == (409, "assessment.status")
    assert vendor_decides.status_code == 403
    assert (backwards.status_code, error(backwards)["where"]) == (400, "expires_on")
    assert biller_uploads.status_code == 403
    refused_uploads = [e for e in events(w) if e.action == "vendors:evidence:uploaded"]
    assert [e.outcome for e in refused_uploads] == ["denied"]  # the biller; a bad date is no event
    assert again.status_code == 409
    assert (practice.status_code, error(practice)["where"]) == (400, "billing_company")
    assert anonymous.status_code == 401


def test_an_oversized_document_is_refused_before_it_is_stored(api: Api) -> None:
    w = api.w
    assessment_id = invite(api)

    refused = upload(api, assessment_id, "DOC-01", content=b"x" * (20 * 1024 * 1024 + 1))

    assert refused.status_code == 413
    assert [p for p in w.blobs.rglob("*") if p.is_file()] == []


def test_remediation_is_reported_by_the_vendor_and_closed_by_the_practice(api: Api) -> None:
    w = api.w
    today = w.clock.now().date()
    assessment_id = invite(api)
    api.call(
        "PUT",
        f"/assessments/{assessment_id}/answers",
        w.summit,
        Role.VENDOR_ADMIN,
        json={"answers": good_answers(today)},
    )
    api.call("POST", f"/assessments/{assessment_id}/submission", w.summit, Role.VENDOR_ADMIN)
    item = f"/assessments/{assessment_id}/reviews/TECH-01"
    api.call(
        "PUT",
        item,
        w.riverside,
        Role.PRACTICE_ADMIN,
        json={"decision": "remediation", "due_on": today.isoformat(), "critical": True},
    )

    early = api.call("POST", f"{item}/closure", w.riverside, Role.PRACTICE_ADMIN)
    reported = api.call(
        "POST",
        f"{item}/resolution",
        w.summit,
        Role.VENDOR_ADMIN,
        json={"resolution": "Shared logins removed; every biller has an account."},
    )
    practice_reports = api.call(
        "POST", f"{item}/resolution", w.riverside, Role.PRACTICE_ADMIN, json={"resolution": "x"}
    )
    closed = api.call("POST", f"{item}/closure", w.riverside, Role.PRACTICE_ADMIN)

    assert early.status_code == 409
    assert reported.status_code == 200 and reported.json()["open"] is True
    assert practice_reports.status_code == 403
    assert closed.status_code == 200 and closed.json()["open"] is False
    assert api.call("POST", f"{item}/closure", w.riverside, Role.PRACTICE_ADMIN).status_code == 409


def test_the_questionnaire_and_the_lists_are_read_by_both_sides(api: Api) -> None:
    w = api.w
    assessment_id = invite(api)

    latest_version = api.call("GET", "/questionnaires/latest", w.summit, Role.VENDOR_ADMIN).json()
    mine = api.call("GET", "/assessments", w.summit, Role.VENDOR_ADMIN).json()["items"]
    theirs = api.call("GET", "/assessments", w.northwind, Role.VENDOR_ADMIN).json()["items"]
    vendors_for_vendor = api.call("GET", "/vendors", w.summit, Role.VENDOR_ADMIN)

    assert latest_version["version"] == latest().version
    assert [a["id"] for a in mine] == [assessment_id]
    assert theirs == []
    assert vendors_for_vendor.status_code == 403
