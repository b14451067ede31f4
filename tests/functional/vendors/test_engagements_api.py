"""``/api/v1/engagements`` over real TLS: both parties see their own engagements, the BAA
goes in as a raw body and comes back out, and a lapsed gate answers 403 with its reason.

The app runs on the vendor world's database (each backend) and clock; callers use API
tokens of the world's users, written the way ``access/tokens.py`` stores them.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from claimbridge.access.authn import new_token, token_hash
from claimbridge.access.roles import permissions_of
from claimbridge.api.app import create_app
from claimbridge.api.server import build_server, listen
from claimbridge.config import Settings
from claimbridge.storage.auth import ApiToken
from claimbridge.storage.orgs import Role
from tests.functional.vendors.conftest import VendorWorld
from tests.functional.vendors.gatekit import PDF, engagement_without_baa, events, write_patient


@dataclass
class Api:
    world: VendorWorld
    base_url: str
    verify: ssl.SSLContext
    tokens: dict[tuple[str, Role], str]

    def as_(self, org: str, role: Role) -> httpx.Client:
        if (org, role) not in self.tokens:
            self.tokens[(org, role)] = _token(self.world, org, role)
        return httpx.Client(
            base_url=f"{self.base_url}/api/v1",
            verify=self.verify,
            headers={"Authorization": f"Bearer {self.tokens[(org, role)]}"},
        )


def _token(w: VendorWorld, org: str, role: Role) -> str:
    token = new_token("cbt")
    now = w.clock.now()
    with w.sessions.begin() as session:
        session.add(
            ApiToken(
                token_hash=token_hash(token),
                prefix=token[:10],
                name=f"{role.value} test",
                organisation_id=org,
                created_by=w.users[(org, role)],
                permissions=sorted(p.value for p in permissions_of({role})),
                created_at=now,
                expires_at=now + timedelta(days=30),
            )
        )
    return token


@pytest.fixture
def api(vendor_world: VendorWorld, engine: Engine, server_data_dir: Settings) -> Iterator[Api]:
    w = vendor_world
    settings = server_data_dir
    app = create_app(settings, engine=engine, keyring=w.keyring, clock=w.clock)
    server = build_server(
        app, certfile=str(settings.tls_cert), keyfile=str(settings.tls_key), log_level="warning"
    )
    sock = listen("127.0.0.1", 0)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield Api(
            world=w,
            base_url=f"https://localhost:{sock.getsockname()[1]}",
            verify=ssl.create_default_context(cafile=str(settings.tls_cert)),
            tokens={},
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _terms(w: VendorWorld, **changes: Any) -> dict[str, Any]:
    today = w.clock.now().date()
    query: dict[str, Any] = {
        "version": "2026-1",
        "practice_signatory": "Dana Whitfield",
        "vendor_signatory": "Sam Ortega",
        "signed_on": today.isoformat(),
        "effective_on": today.isoformat(),
        "expires_on": (today + timedelta(days=365)).isoformat(),
        "breach_notice_days": 20,
        "subcontractor_flow_down": "true",
        "on_termination": "destroy",
    }
    query.update(changes)
    return query


def test_each_party_sees_its_own_engagements_and_no_one_else_s(api: Api) -> None:
    w = api.world
    engaged = w.open_engagement(w.riverside, w.summit)
    for org, role in (
        (w.riverside, Role.PRACTICE_ADMIN),
        (w.riverside, Role.PRIVACY_OFFICER),
        (w.summit, Role.VENDOR_ADMIN),
    ):
        with api.as_(org, role) as client:
            listed = client.get("/engagements")
            shown = client.get(f"/engagements/{engaged}")
        assert listed.status_code == 200, listed.text
        assert [item["id"] for item in listed.json()["items"]] == [engaged]
        assert shown.status_code == 200, shown.text
        body = shown.json()
        assert (body["active"], body["standing"]["ok"]) == (True, True)
        assert body["billing_company"]["id"] == w.summit
        assert body["baa"]["version"] == "2026-1"

    with api.as_(w.lakeside, Role.PRACTICE_ADMIN) as client:
        assert client.get("/engagements").json() == {"items": []}
        hidden = client.get(f"/engagements/{engaged}")
        assert (hidden.status_code, hidden.json()["error"]["code"]) == (404, "not_found")
        assert client.get(f"/engagements/{engaged}/notices").status_code == 404
    with api.as_(w.summit, Role.BILLER) as client:
        refused = client.get("/engagements")
        assert (refused.status_code, refused.json()["error"]["where"]) == (403, "permission")
    denied = [e for e in events(w, "vendors:engagement:list") if e.actor_org_id == w.summit]
    assert [e.outcome for e in denied] == ["denied"]


def test_the_practice_records_the_baa_as_a_raw_body_and_both_read_it(api: Api) -> None:
    w = api.world
    engaged = engagement_without_baa(w, w.riverside, w.summit)
    with api.as_(w.riverside, Role.PRACTICE_ADMIN) as client:
        made = client.post(
            f"/engagements/{engaged}/baa",
            params=_terms(w),
            content=PDF,
            headers={"Content-Type": "application/pdf"},
        )
        assert made.status_code == 201, made.text
        recorded = made.json()
        assert recorded["terms"]["on_termination"] == "destroy"
        shown = client.get(f"/engagements/{engaged}").json()
        assert (shown["status"], shown["active"]) == ("active", True)

    with api.as_(w.summit, Role.VENDOR_ADMIN) as client:
        terms = client.get(f"/engagements/{engaged}/baa")
        content = client.get(f"/engagements/{engaged}/baa/content")
        notices = client.get(f"/engagements/{engaged}/notices")
        refused = client.post(f"/engagements/{engaged}/baa", params=_terms(w), content=PDF)
    assert terms.json()["current"]["id"] == recorded["id"]
    assert content.status_code == 200
    assert content.content == PDF
    assert content.headers["content-type"] == "application/pdf"
    assert content.headers["content-disposition"] == 'attachment; filename="baa-2026-1.pdf"'
    assert content.headers["x-content-sha256"] == recorded["document"]["sha256"]
    assert [n["kind"] for n in notices.json()["items"]] == ["restored"]
    assert (refused.status_code, refused.json()["error"]["where"]) == (403, "permission")
    actions = [
        (e.action, e.outcome)
        for e in events(w, "vendors:baa:downloaded", resource_id=recorded["id"])
    ]
    assert actions == [("vendors:baa:downloaded", "success")]


def test_wrong_terms_and_wrong_documents_are_400_naming_the_field(api: Api) -> None:
    w = api.world
    engaged = engagement_without_baa(w, w.riverside, w.summit)
    yesterday = (w.clock.now().date() - timedelta(days=1)).isoformat()
    cases = [
        (_terms(w, effective_on=yesterday), PDF, "application/pdf", "effective_on"),
        (_terms(w, breach_notice_days=61), PDF, "application/pdf", None),
        (_terms(w), b"<html></html>", "text/html", "document"),
        (_terms(w), PDF, "image/png", "media_type"),
    ]
    with api.as_(w.riverside, Role.PRACTICE_ADMIN) as client:
        for query, body, kind, where in cases:
            answer = client.post(
                f"/engagements/{engaged}/baa",
                params=query,
                content=body,
                headers={"Content-Type": kind},
            )
            assert answer.status_code in {400, 422}, answer.text
            if where is not None:
                assert answer.json()["error"]["where"] == where
        assert client.get(f"/engagements/{engaged}/baa").json()["current"] is None


def test_a_lapsed_gate_answers_403_naming_the_condition(api: Api) -> None:
    w = api.world
    today = w.clock.now().date()
    w.open_engagement(w.riverside, w.summit, baa_expires=today + timedelta(days=3))
    patient = write_patient(w, w.riverside)
    with api.as_(w.summit, Role.BILLER) as client:
        assert client.get(f"/patients/{patient}").status_code == 200
        w.clock.advance(timedelta(days=4))
        refused = client.get(f"/patients/{patient}")
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert (error["code"], error["where"]) == ("engagement_inactive", "baa_expired")
    assert "expired on" in error["message"]
    with api.as_(w.northwind, Role.BILLER) as client:
        assert client.get(f"/patients/{patient}").status_code == 404


def test_the_openapi_document_describes_the_baa_upload(api: Api) -> None:
    with httpx.Client(verify=api.verify) as client:
        document = client.get(f"{api.base_url}/api/v1/openapi.json").json()
    upload = document["paths"]["/api/v1/engagements/{engagement_id}/baa"]["post"]
    assert upload["x-claimbridge-permission"] == "vendors:engagement:manage"
    assert "application/pdf" in upload["requestBody"]["content"]
    names = {p["name"] for p in upload["parameters"]}
    assert {"version", "signed_on", "breach_notice_days", "on_termination"} <= names
    reading = document["paths"]["/api/v1/engagements/{engagement_id}"]["get"]
    assert reading["x-claimbridge-permission"] == "vendors:engagement:read"
