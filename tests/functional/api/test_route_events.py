"""Every API route and CLI command, exercised once, leaves exactly its audit events.

The tables below map each ``/api/v1`` route of ``create_app`` (method and
path template) and each command of the ``claimbridge`` Typer app to one
call and the events it must write (action, outcome, resource type, tenant,
whether a patient reference is set). A route or command missing from its
table fails the test, so a new one forces an entry. Where the issue asks
for an event the code does not write yet, the table says what the issue
asks: the test fails until the code does.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import typer
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from claimbridge.access.principal import Principal
from claimbridge.audit.record import unit_of_work
from claimbridge.cli.main import app as cli
from claimbridge.crypto.signing import SigningKey
from claimbridge.crypto.tls import self_signed_client_certificate
from claimbridge.demo.accounts import KEYSTONE
from claimbridge.demo.vendor_answers import synthetic_pdf
from claimbridge.exchange.clientkeys import client_key_path, read_client_key
from claimbridge.exchange.manifest import make_manifest
from claimbridge.formats.cms import MueEdit, write_mue
from claimbridge.formats.x12.synthetic import write_synthetic
from claimbridge.storage.audit import AuditCheckpoint, AuditEvent
from claimbridge.storage.db import make_engine, make_sessionmaker
from claimbridge.storage.integrity import FindingRow
from claimbridge.storage.orgs import Engagement
from claimbridge.storage.vendors import Assessment, AssessmentEvidence
from claimbridge.vendors.offboarding import confirm_receipt, terminate
from claimbridge.vendors.parties import local_admin
from tests.functional.api.worlds import LAKESIDE, RIVERSIDE, SUMMIT, World, running_world

REASON = "Payer deadline today for claims of the week; assessment renewal pending."
NEW_PASSWORD = "plum orchard sailing westward 77"


@dataclass(frozen=True)
class Ev:
    action: str
    outcome: str = "success"
    resource_type: str | None = None
    tenant: str | None = None  # an organisation's name
    patient: bool = False


def _user(action: str, tenant: str, outcome: str = "success") -> Ev:
    return Ev(action, outcome, "user", tenant)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    with running_world(request.param, request, tmp_path_factory, patients=4) as made:
        yield made


@dataclass
class Walk:
    world: World
    client: httpx.Client
    state: dict[str, Any] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def bearer(self, email: str) -> dict[str, str]:
        if email not in self.tokens:
            self.tokens[email] = self.world.sign_in(email)
        return {"Authorization": f"Bearer {self.tokens[email]}"}

    def events_after(self, seq: int) -> list[Ev]:
        names = {v: k for k, v in self.world.orgs.items()}
        engine = make_engine(self.world.url)
        try:
            with make_sessionmaker(engine)() as session:
                rows = session.scalars(
                    select(AuditEvent).where(AuditEvent.seq > seq).order_by(AuditEvent.seq)
                ).all()
        finally:
            engine.dispose()
        return [
            Ev(
                r.action,
                r.outcome,
                r.resource_type,
                names.get(r.tenant_id or "", r.tenant_id),
                r.patient_ref is not None,
            )
            for r in rows
        ]


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # the route's template
    who: str | None
    status: int
    events: tuple[Ev, ...]
    params: Callable[[Walk], dict[str, str]] = lambda w: {}
    body: Callable[[Walk], Any] | None = None
    query_from: Callable[[Walk], dict[str, Any]] = lambda w: {}
    prepare: Callable[[Walk], None] | None = None
    keep: Callable[[Walk, httpx.Response], None] | None = None
    label: str = "once"
    raw: Callable[[Walk], tuple[bytes, dict[str, str]]] | None = None
    """A raw body and its headers (batch uploads), instead of ``body``'s JSON."""


def _challenge(walk: Walk, email: str) -> str:
    walk.world.clock.advance(timedelta(seconds=30))
    password = walk.world.logins[email]["password"]
    answer = walk.client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["challenge"])


def _fresh_code(walk: Walk, email: str) -> str:
    walk.world.clock.advance(timedelta(seconds=30))
    return walk.world.code(email)


def _pem(walk: Walk) -> str:
    pair = self_signed_client_certificate(now=datetime.now(UTC), common_name="ehr-export")
    return pair.cert_pem.decode()


def _checkpoint_size_now(walk: Walk) -> int:
    """The size of the newest stored checkpoint."""
    engine = make_engine(walk.world.url)
    try:
        with make_sessionmaker(engine)() as session:
            return int(session.scalar(select(func.max(AuditCheckpoint.tree_size))) or 0)
    finally:
        engine.dispose()


def _riverside_event(walk: Walk) -> str:
    riverside = walk.world.orgs[RIVERSIDE]
    engine = make_engine(walk.world.url)
    try:
        with make_sessionmaker(engine)() as session:
            seq = session.scalar(
                select(AuditEvent.seq)
                .where(AuditEvent.tenant_id == riverside)
                .order_by(AuditEvent.seq)
                .limit(1)
            )
    finally:
        engine.dispose()
    return str(seq)


STAFF, ADMIN, PRIVACY = (
    "staff@riverside.example",
    "admin@riverside.example",
    "privacy@riverside.example",
)
LAKE_STAFF, BILLER = "billing@lakeside.example", "biller@summit-billing.example"
PATIENT = Ev("phi:patient:read", "success", "patient", RIVERSIDE, patient=True)
CLAIM = Ev("phi:claim:read", "success", "claim", RIVERSIDE, patient=True)
AUDIT = "audit_log"
BATCH = "batch"
FINDING = "finding"
KEYSTONE_ADMIN, KEYSTONE_BILLER = "admin@keystone-claims.example", "biller@keystone-claims.example"
LAKE_ADMIN = "admin@lakeside.example"
ENGAGEMENT, ASSESSMENT, ITEM = "engagement", "assessment", "assessment_item"
PASSPHRASE = "the practice keeps this passphrase"


def _day(walk: Walk, days: int) -> str:
    """The server's today plus ``days``, as an ISO date."""
    return (walk.world.clock.now().date() + timedelta(days=days)).isoformat()


def _assessed(walk: Walk) -> dict[str, str]:
    return {"assessment_id": walk.state["assessment"]}


def _item(walk: Walk) -> dict[str, str]:
    return {**_assessed(walk), "question_id": "ACC-01"}


def _engaged(walk: Walk) -> dict[str, str]:
    return {"engagement_id": walk.state["engagement"]}


def _baa_terms(walk: Walk) -> dict[str, str]:
    return {
        "version": "RFM-KCS-1",
        "practice_signatory": "Rita Alvarez, Practice Administrator",
        "vendor_signatory": "Kenji Watanabe, Managing Director",
        "signed_on": _day(walk, 0),
        "effective_on": _day(walk, 0),
        "breach_notice_days": "30",
        "subcontractor_flow_down": "true",
        "on_termination": "return_or_destroy",
    }


def _termination() -> dict[str, str]:
    return {"reason": "Billing stays with Summit.", "passphrase": PASSPHRASE}


def _keystone_break_glass(walk: Walk) -> None:
    """Keystone's biller opens a break-glass grant on Riverside: the termination revokes it."""
    answer = walk.client.post(
        "/api/v1/break-glass",
        headers=walk.bearer(KEYSTONE_BILLER),
        json={
            "practice_id": walk.world.orgs[RIVERSIDE],
            "reason": REASON,
            "code": _fresh_code(walk, KEYSTONE_BILLER),
        },
    )
    assert answer.status_code == 201, answer.text


ROUTE_CASES: tuple[Case, ...] = (
    Case("GET", "/api/v1/health", None, 200, ()),
    Case("GET", "/api/v1/openapi.json", None, 200, ()),
    # -- sign-in and sessions
    Case(
        "POST",
        "/api/v1/auth/login",
        None,
        200,
        (),  # a password alone is not a sign-in; the second factor's step records it
        body=lambda w: {"email": LAKE_STAFF, "password": w.world.logins[LAKE_STAFF]["password"]},
        prepare=lambda w: w.world.clock.advance(timedelta(seconds=30)),
    ),
    Case(
        "POST",
        "/api/v1/auth/login",
        None,
        401,
        (_user("access:login:failed", LAKESIDE, "denied"),),
        body=lambda w: {"email": LAKE_STAFF, "password": "not the password at all"},
        label="wrong password",
    ),
    Case(
        "POST",
        "/api/v1/auth/mfa",
        None,
        200,
        (_user("access:login:succeeded", LAKESIDE),),
        prepare=lambda w: w.state.update(challenge=_challenge(w, LAKE_STAFF)),
        body=lambda w: {"challenge": w.state["challenge"], "code": _fresh_code(w, LAKE_STAFF)},
        keep=lambda w, r: w.state.update(session=r.json()["token"]),
    ),
    Case(
        "POST",
        "/api/v1/auth/mfa",
        None,
        401,
        (_user("access:login:failed", LAKESIDE, "denied"),),
        prepare=lambda w: w.state.update(challenge=_challenge(w, LAKE_STAFF)),
        body=lambda w: {"challenge": w.state["challenge"], "code": "000000"},
        label="wrong code",
    ),
    # The session the mfa case opened (before a password change ends it).
    Case(
        "POST",
        "/api/v1/auth/logout",
        None,
        204,
        (_user("access:session:ended", LAKESIDE),),
        prepare=lambda w: w.state.update(logout={"Authorization": f"Bearer {w.state['session']}"}),
    ),
    Case("GET", "/api/v1/me", STAFF, 200, ()),
    # -- PHI
    Case(
        "GET",
        "/api/v1/patients",
        STAFF,
        200,
        (Ev("phi:patient:list", "success", "patient", RIVERSIDE),),
    ),
    Case(
        "GET",
        "/api/v1/patients",
        ADMIN,
        403,
        (Ev("phi:patient:list", "denied", "patient"),),
        label="role may not",
    ),
    Case(
        "GET",
        "/api/v1/patients/{patient_id}",
        STAFF,
        200,
        (PATIENT,),
        params=lambda w: {"patient_id": w.world.patient_of[RIVERSIDE]},
    ),
    Case(
        "GET",
        "/api/v1/patients/{patient_id}",
        LAKE_STAFF,
        404,
        (Ev("phi:patient:read", "denied", "patient", RIVERSIDE),),
        params=lambda w: {"patient_id": w.world.patient_of[RIVERSIDE]},
        label="another practice's",
    ),
    Case(
        "GET", "/api/v1/claims", STAFF, 200, (Ev("phi:claim:list", "success", "claim", RIVERSIDE),)
    ),
    Case(
        "GET",
        "/api/v1/claims/{claim_id}",
        STAFF,
        200,
        (CLAIM,),
        params=lambda w: {"claim_id": w.world.claim_of[RIVERSIDE]},
    ),
    # -- machine credentials
    Case(
        "POST",
        "/api/v1/tokens",
        ADMIN,
        200,
        (Ev("access:token:created", "success", "api_token", RIVERSIDE),),
        body=lambda w: {"name": "robot", "permissions": ["access:token:manage"]},
        keep=lambda w, r: w.state.update(token_id=r.json()["id"]),
    ),
    Case("GET", "/api/v1/tokens", ADMIN, 200, ()),
    Case(
        "DELETE",
        "/api/v1/tokens/{token_id}",
        ADMIN,
        204,
        (Ev("access:token:revoked", "success", "api_token", RIVERSIDE),),
        params=lambda w: {"token_id": w.state["token_id"]},
    ),
    Case(
        "POST",
        "/api/v1/client-certificates",
        ADMIN,
        201,
        (Ev("access:client-certificate:registered", "success", "client_certificate", RIVERSIDE),),
        body=lambda w: {
            "name": "ehr",
            "certificate_pem": _pem(w),
            "permissions": ["access:token:manage"],
        },
        keep=lambda w, r: w.state.update(fingerprint=r.json()["fingerprint_sha256"]),
    ),
    Case("GET", "/api/v1/client-certificates", ADMIN, 200, ()),
    Case(
        "DELETE",
        "/api/v1/client-certificates/{fingerprint}",
        ADMIN,
        204,
        (Ev("access:client-certificate:revoked", "success", "client_certificate", RIVERSIDE),),
        params=lambda w: {"fingerprint": w.state["fingerprint"]},
    ),
    # -- people
    Case("GET", "/api/v1/users", ADMIN, 200, ()),
    Case(
        "POST",
        "/api/v1/users",
        ADMIN,
        201,
        (_user("access:user:created", RIVERSIDE),),
        body=lambda w: {
            "email": "new.person@riverside.example",
            "display_name": "New Person",
            "roles": ["practice_staff"],
            "password": "tangerine lighthouse quietly 42",
        },
        keep=lambda w, r: w.state.update(user_id=r.json()["id"]),
    ),
    Case(
        "POST",
        "/api/v1/users",
        STAFF,
        403,
        (_user("access:user:created", RIVERSIDE, "denied"),),
        body=lambda w: {
            "email": "another@riverside.example",
            "display_name": "Another",
            "roles": ["practice_staff"],
            "password": "tangerine lighthouse quietly 43",
        },
        label="not an administrator",
    ),
    Case(
        "PATCH",
        "/api/v1/users/{user_id}",
        ADMIN,
        200,
        (_user("access:user:roles-changed", RIVERSIDE),),
        params=lambda w: {"user_id": w.state["user_id"]},
        body=lambda w: {"roles": ["practice_staff"]},
    ),
    Case(
        "POST",
        "/api/v1/me/password",
        LAKE_STAFF,
        204,
        (_user("access:password:changed", LAKESIDE),),
        body=lambda w: {
            "current_password": w.world.logins[LAKE_STAFF]["password"],
            "new_password": NEW_PASSWORD,
        },
        keep=lambda w, r: w.world.logins[LAKE_STAFF].update(password=NEW_PASSWORD),
    ),
    # -- break-glass
    Case(
        "POST",
        "/api/v1/break-glass",
        BILLER,
        201,
        (Ev("access:break-glass:granted", "success", "break_glass_grant", RIVERSIDE),),
        body=lambda w: {
            "practice_id": w.world.orgs[RIVERSIDE],
            "reason": REASON,
            "code": _fresh_code(w, BILLER),
        },
        keep=lambda w, r: w.state.update(grant_id=r.json()["id"]),
    ),
    Case(
        "POST",
        "/api/v1/break-glass",
        BILLER,
        404,
        (Ev("access:break-glass:refused", "denied", "break_glass_grant", LAKESIDE),),
        body=lambda w: {
            "practice_id": w.world.orgs[LAKESIDE],
            "reason": REASON,
            "code": _fresh_code(w, BILLER),
        },
        label="no agreement",
    ),
    Case("GET", "/api/v1/break-glass", PRIVACY, 200, ()),
    Case(
        "POST",
        "/api/v1/break-glass/{grant_id}/review",
        PRIVACY,
        200,
        (Ev("access:break-glass:reviewed", "success", "break_glass_grant", RIVERSIDE),),
        params=lambda w: {"grant_id": w.state["grant_id"]},
    ),
    # -- the audit trail itself
    Case("GET", "/api/v1/audit/public-key", None, 200, ()),
    Case(
        "POST",
        "/api/v1/audit/checkpoints",
        PRIVACY,
        201,
        (Ev("audit:checkpoint:issued", "success", AUDIT, RIVERSIDE),),
    ),
    Case(
        "GET",
        "/api/v1/audit/checkpoint",
        PRIVACY,
        200,
        (Ev("audit:checkpoint:read", "success", AUDIT, RIVERSIDE),),
    ),
    Case(
        "GET",
        "/api/v1/audit/proofs/consistency",
        PRIVACY,
        200,
        (Ev("audit:proof:consistency", "success", AUDIT, RIVERSIDE),),
        query_from=lambda w: {"old_size": _checkpoint_size_now(w)},
    ),
    Case(
        "GET",
        "/api/v1/audit/events/{seq}/proof",
        PRIVACY,
        200,
        (Ev("audit:proof:inclusion", "success", AUDIT, RIVERSIDE),),
        params=lambda w: {"seq": _riverside_event(w)},
    ),
    Case(
        "GET",
        "/api/v1/audit/events",
        PRIVACY,
        200,
        (Ev("audit:log:read", "success", AUDIT, RIVERSIDE),),
    ),
    Case(
        "GET",
        "/api/v1/audit/disclosures/{patient_id}",
        PRIVACY,
        200,
        (Ev("audit:disclosures:read", "success", "patient", RIVERSIDE, patient=True),),
        params=lambda w: {"patient_id": w.world.patient_of[RIVERSIDE]},
    ),
    # -- the exchange
    Case("GET", "/api/v1/exchange/recipients", STAFF, 200, ()),
    Case(
        "POST",
        "/api/v1/batches",
        STAFF,
        201,
        (Ev("phi:batch:ingest", "success", BATCH, RIVERSIDE),),
        raw=lambda w: _upload(w, seed=71),
        keep=lambda w, r: w.state.update(batch=r.json()["receipt"]["document"]["batch_id"]),
    ),
    Case("GET", "/api/v1/batches", BILLER, 200, (Ev("exchange:batch:list", "success", BATCH),)),
    Case(
        "GET",
        "/api/v1/batches/{batch_id}",
        BILLER,
        200,
        (Ev("exchange:batch:read", "success", BATCH, RIVERSIDE),),
        params=lambda w: {"batch_id": w.state["batch"]},
    ),
    Case(
        "GET",
        "/api/v1/batches/{batch_id}/receipt",
        BILLER,
        200,
        (Ev("exchange:batch:receipt", "success", BATCH, RIVERSIDE),),
        params=lambda w: {"batch_id": w.state["batch"]},
    ),
    Case(
        "GET",
        "/api/v1/batches/{batch_id}/content",
        BILLER,
        200,
        (Ev("phi:batch:download", "success", BATCH, RIVERSIDE),),
        params=lambda w: {"batch_id": w.state["batch"]},
    ),
    Case(
        "GET",
        "/api/v1/batches/{batch_id}/content",
        LAKE_STAFF,
        404,
        (Ev("phi:batch:download", "denied", BATCH),),
        params=lambda w: {"batch_id": w.state["batch"]},
        prepare=lambda w: w.tokens.pop(LAKE_STAFF, None),  # signed out by a case above
        label="another practice",
    ),
    # -- billing: the biller sends Riverside's ready claims (the demo's scrubbed batch)
    # in an 837P, fetched again as an outbound batch; others are refused.
    Case(
        "POST",
        "/api/v1/practices/{practice_id}/claims/submissions",
        BILLER,
        201,
        (Ev("phi:claims:submitted", "success", BATCH, RIVERSIDE),),
        params=lambda w: {"practice_id": w.world.orgs[RIVERSIDE]},
        keep=lambda w, r: w.state.update(outbound=r.json()["batch_id"]),
    ),
    Case(
        "GET",
        "/api/v1/batches/{batch_id}/content",
        BILLER,
        200,
        (Ev("phi:batch:download", "success", BATCH, RIVERSIDE),),
        params=lambda w: {"batch_id": w.state["outbound"]},
        label="the outbound 837P",
    ),
    Case(
        "POST",
        "/api/v1/practices/{practice_id}/claims/submissions",
        STAFF,
        403,
        (Ev("phi:claims:submitted", "denied", BATCH, RIVERSIDE),),
        params=lambda w: {"practice_id": w.world.orgs[RIVERSIDE]},
        label="practice staff",
    ),
    Case(
        "POST",
        "/api/v1/practices/{practice_id}/claims/submissions",
        BILLER,
        404,
        (Ev("phi:claims:submitted", "denied", BATCH, LAKESIDE),),
        params=lambda w: {"practice_id": w.world.orgs[LAKESIDE]},
        label="no engagement",
    ),
    # -- integrity: the practice attests one old visit, so its next batch's claims,
    # with no attested encounter, are held; then the findings are read and decided.
    Case(
        "POST",
        "/api/v1/encounters",
        STAFF,
        201,
        (Ev("phi:encounter:attest", "success", "attestation", RIVERSIDE),),
        body=lambda w: {"encounters": [_visit(w)]},
    ),
    Case(
        "POST",
        "/api/v1/batches",
        STAFF,
        201,
        (Ev("phi:batch:ingest", "success", BATCH, RIVERSIDE),),
        raw=lambda w: _upload(w, seed=74),
        label="after an attestation",
    ),
    Case(
        "GET",
        "/api/v1/findings",
        BILLER,
        200,
        (Ev("integrity:finding:list", "success", FINDING),),
        query_from=lambda w: {"status": "open"},
        keep=lambda w, r: w.state.update(finding=r.json()["items"][0]["id"]),
    ),
    Case(
        "GET",
        "/api/v1/findings/{finding_id}",
        STAFF,
        200,
        (Ev("integrity:finding:read", "success", FINDING, RIVERSIDE),),
        params=lambda w: {"finding_id": w.state["finding"]},
    ),
    Case(
        "POST",
        "/api/v1/findings/{finding_id}/decision",
        BILLER,
        403,
        (Ev("integrity:finding:override", "denied", FINDING),),
        params=lambda w: {"finding_id": w.state["finding"]},
        body=lambda w: {"status": "overridden", "reason": "documented at the visit"},
        label="a biller",
    ),
    Case(
        "POST",
        "/api/v1/findings/{finding_id}/decision",
        ADMIN,
        200,
        (Ev("integrity:finding:override", "success", FINDING, RIVERSIDE),),
        params=lambda w: {"finding_id": w.state["finding"]},
        body=lambda w: {"status": "overridden", "reason": "Visit documented on paper chart"},
    ),
    Case("GET", "/api/v1/reference-tables", STAFF, 200, ()),
    Case(
        "GET",
        "/api/v1/organisations/{organisation_id}/signing-keys",
        STAFF,
        200,
        (),
        params=lambda w: {"organisation_id": w.world.orgs[RIVERSIDE]},
    ),
    Case(
        "POST",
        "/api/v1/signing-keys",
        ADMIN,
        201,
        (Ev("exchange:signing-key:registered", "success", "signing_key", RIVERSIDE),),
        body=lambda w: {"public_key": SigningKey.generate().public_key_bytes().hex()},
    ),
    # -- vendor risk. Riverside reassesses Keystone (rejected in the demo): Keystone
    # answers, offers its SOC 2 report and fixes what the review asks; approved, the BAA
    # opens the engagement. Then Riverside ends it, with the break-glass grant Keystone's
    # biller opened meanwhile. Summit's engagement stays open for the commands below, so
    # the shred is held: there is no certificate here (the commands shred Lakeside's).
    Case("GET", "/api/v1/vendors", ADMIN, 200, ()),
    Case(
        "GET",
        "/api/v1/vendors/comparison",
        ADMIN,
        200,
        (Ev("vendors:vendor:compared", "success", "organisation", RIVERSIDE),),
    ),
    Case(
        "GET",
        "/api/v1/vendors/comparison",
        BILLER,
        403,
        (Ev("vendors:vendor:compared", "denied", "organisation"),),
        label="a biller",
    ),
    Case(
        "GET",
        "/api/v1/questionnaires/{version}",
        KEYSTONE_ADMIN,
        200,
        (),
        params=lambda w: {"version": "latest"},
    ),
    Case(
        "POST",
        "/api/v1/vendors/{company_id}/assessments",
        ADMIN,
        201,
        (Ev("vendors:assessment:opened", "success", ASSESSMENT, RIVERSIDE),),
        params=lambda w: {"company_id": w.world.orgs[KEYSTONE]},
        keep=lambda w, r: w.state.update(
            assessment=r.json()["assessment_id"], engagement=r.json()["engagement_id"]
        ),
    ),
    Case("GET", "/api/v1/assessments", KEYSTONE_ADMIN, 200, ()),
    Case(
        "PUT",
        "/api/v1/assessments/{assessment_id}/answers",
        KEYSTONE_ADMIN,
        200,
        (Ev("vendors:assessment:answered", "success", ASSESSMENT, RIVERSIDE),),
        params=_assessed,
        body=lambda w: {
            "answers": {"ENC-01": "tls1.3", "ENC-03": "aes256-gcm", "ACC-01": True},
            "comments": {"ACC-01": "MFA for every account since the last assessment."},
        },
    ),
    Case(
        "POST",
        "/api/v1/assessments/{assessment_id}/evidence",
        KEYSTONE_ADMIN,
        201,
        (Ev("vendors:evidence:uploaded", "success", "evidence", RIVERSIDE),),
        params=_assessed,
        query_from=lambda w: {
            "question": "CERT-01",
            "title": "SOC 2 Type II report",
            "issued_on": _day(w, -30),
            "expires_on": _day(w, 335),
        },
        raw=lambda w: (synthetic_pdf("SOC 2 Type II report"), {"Content-Type": "application/pdf"}),
        keep=lambda w, r: w.state.update(evidence=r.json()["id"]),
    ),
    Case(
        "GET",
        "/api/v1/assessments/{assessment_id}/evidence/{evidence_id}/content",
        ADMIN,
        200,
        (Ev("vendors:evidence:downloaded", "success", "evidence", RIVERSIDE),),
        params=lambda w: {**_assessed(w), "evidence_id": w.state["evidence"]},
    ),
    Case(
        "GET",
        "/api/v1/assessments/{assessment_id}/evidence/{evidence_id}/content",
        LAKE_ADMIN,
        404,
        (Ev("vendors:evidence:downloaded", "denied", ASSESSMENT),),
        params=lambda w: {**_assessed(w), "evidence_id": w.state["evidence"]},
        label="another practice",
    ),
    Case(
        "POST",
        "/api/v1/assessments/{assessment_id}/submission",
        KEYSTONE_ADMIN,
        200,
        (Ev("vendors:assessment:submitted", "success", ASSESSMENT, RIVERSIDE),),
        params=_assessed,
    ),
    Case(
        "GET",
        "/api/v1/assessments/{assessment_id}",
        ADMIN,
        200,
        (),
        params=_assessed,
    ),
    Case(
        "PUT",
        "/api/v1/assessments/{assessment_id}/reviews/{question_id}",
        ADMIN,
        200,
        (Ev("vendors:assessment:reviewed", "success", ITEM, RIVERSIDE),),
        params=_item,
        body=lambda w: {
            "decision": "remediation",
            "due_on": _day(w, 30),
            "critical": True,
            "note": "Show MFA enforced for the billing staff too.",
        },
    ),
    Case(
        "POST",
        "/api/v1/assessments/{assessment_id}/reviews/{question_id}/resolution",
        KEYSTONE_ADMIN,
        200,
        (Ev("vendors:remediation:reported", "success", ITEM, RIVERSIDE),),
        params=_item,
        body=lambda w: {"resolution": "Hardware keys issued to every biller."},
    ),
    Case(
        "POST",
        "/api/v1/assessments/{assessment_id}/reviews/{question_id}/closure",
        ADMIN,
        200,
        (Ev("vendors:remediation:resolved", "success", ITEM, RIVERSIDE),),
        params=_item,
    ),
    # No BAA yet: the approval alone opens nothing.
    Case(
        "POST",
        "/api/v1/assessments/{assessment_id}/decision",
        ADMIN,
        200,
        (Ev("vendors:assessment:approved", "success", ASSESSMENT, RIVERSIDE),),
        params=_assessed,
        body=lambda w: {"decision": "approved", "note": "MFA and encryption fixed."},
    ),
    Case(
        "POST",
        "/api/v1/engagements/{engagement_id}/baa",
        ADMIN,
        201,
        (
            Ev("vendors:baa:signed", "success", "baa", RIVERSIDE),
            Ev("vendors:engagement:activated", "success", ENGAGEMENT, RIVERSIDE),
        ),
        params=_engaged,
        query_from=_baa_terms,
        raw=lambda w: (synthetic_pdf("BAA RFM-KCS-1"), {"Content-Type": "application/pdf"}),
    ),
    Case("GET", "/api/v1/engagements", ADMIN, 200, ()),
    Case(
        "GET",
        "/api/v1/engagements",
        STAFF,
        403,
        (Ev("vendors:engagement:list", "denied", ENGAGEMENT),),
        label="practice staff",
    ),
    Case(
        "GET",
        "/api/v1/engagements/{engagement_id}",
        KEYSTONE_ADMIN,
        200,
        (),
        params=_engaged,
    ),
    Case(
        "GET",
        "/api/v1/engagements/{engagement_id}/notices",
        ADMIN,
        200,
        (),
        params=_engaged,
    ),
    Case(
        "GET",
        "/api/v1/engagements/{engagement_id}/baa",
        KEYSTONE_ADMIN,
        200,
        (),
        params=_engaged,
    ),
    Case(
        "GET",
        "/api/v1/engagements/{engagement_id}/baa/content",
        KEYSTONE_ADMIN,
        200,
        (Ev("vendors:baa:downloaded", "success", "baa", RIVERSIDE),),
        params=_engaged,
    ),
    # -- offboarding (Riverside and Keystone)
    Case(
        "POST",
        "/api/v1/engagements/{engagement_id}/termination",
        KEYSTONE_ADMIN,
        403,
        (Ev("vendors:engagement:terminated", "denied", ENGAGEMENT),),
        params=_engaged,
        body=lambda w: _termination(),
        label="the billing company",
    ),
    Case(
        "POST",
        "/api/v1/engagements/{engagement_id}/termination",
        ADMIN,
        201,
        (
            Ev("access:break-glass:revoked", "success", "break_glass_grant", RIVERSIDE),
            Ev("vendors:engagement:terminated", "success", ENGAGEMENT, RIVERSIDE),
            Ev("vendors:package:exported", "success", ENGAGEMENT, RIVERSIDE),
        ),
        params=_engaged,
        prepare=_keystone_break_glass,
        body=lambda w: _termination(),
    ),
    Case(
        "GET",
        "/api/v1/engagements/{engagement_id}/termination",
        KEYSTONE_ADMIN,
        200,
        (Ev("vendors:termination:read", "success", ENGAGEMENT, RIVERSIDE),),
        params=_engaged,
    ),
    # Its only success is after an export cut off (the commands below make one).
    Case(
        "POST",
        "/api/v1/engagements/{engagement_id}/return-package",
        ADMIN,
        409,
        (),
        params=_engaged,
        body=lambda w: {"passphrase": PASSPHRASE},
        label="made at the termination",
    ),
    Case(
        "GET",
        "/api/v1/engagements/{engagement_id}/return-package",
        ADMIN,
        200,
        (Ev("vendors:package:downloaded", "success", ENGAGEMENT, RIVERSIDE),),
        params=_engaged,
    ),
    # Summit's engagement needs the same keys: the shred is held.
    Case(
        "POST",
        "/api/v1/engagements/{engagement_id}/termination/receipt",
        ADMIN,
        200,
        (Ev("vendors:package:receipt-confirmed", "success", ENGAGEMENT, RIVERSIDE),),
        params=_engaged,
    ),
    Case(
        "GET",
        "/api/v1/engagements/{engagement_id}/certificate",
        ADMIN,
        404,
        (),
        params=_engaged,
        label="nothing destroyed yet",
    ),
    # Ended, Keystone may be invited again.
    Case(
        "POST",
        "/api/v1/vendors/{company_id}/invitations",
        ADMIN,
        201,
        (Ev("vendors:engagement:invited", "success", ENGAGEMENT, RIVERSIDE),),
        params=lambda w: {"company_id": w.world.orgs[KEYSTONE]},
    ),
)


def _visit(walk: Walk) -> dict[str, str]:
    """An encounter long before any generated claim: the log then covers every later date."""
    served = (walk.world.clock.now() - timedelta(days=3000)).date().isoformat()
    return {
        "family_name": "Attested",
        "given_name": "Visit",
        "birth_date": "1970-01-01",
        "rendering_npi": "1234567893",
        "date_of_service": served,
        "place_of_service": "11",
    }


def _upload(walk: Walk, *, seed: int) -> tuple[bytes, dict[str, str]]:
    """A generated 837P and its manifest, signed with the key the demo left for Riverside."""
    out = io.BytesIO()
    write_synthetic("837p", 3, seed=seed, out=out, now=walk.world.clock.now())
    content = out.getvalue()
    riverside = walk.world.orgs[RIVERSIDE]
    key = read_client_key(client_key_path(walk.world.data_dir, riverside)).key
    _, signed = make_manifest(
        io.BytesIO(content),
        format="x12-837p",
        sender=riverside,
        recipient=walk.world.orgs[SUMMIT],
        key=key,
        now=walk.world.clock.now(),
    )
    header = base64.urlsafe_b64encode(signed.dumps().encode()).decode().rstrip("=")
    return content, {"Claimbridge-Manifest": header}


def api_routes(world: World) -> set[tuple[str, str]]:
    """(method, template) of every ``/api/v1`` route, through included routers."""

    def walk(routes: list[Any], prefix: str) -> Iterator[tuple[str, Any]]:
        for route in routes:
            context = getattr(route, "include_context", None)
            if context is not None:
                yield from walk(context.included_router.routes, prefix + context.prefix)
            else:
                yield prefix + getattr(route, "path", ""), route

    return {
        (method, path)
        for path, route in walk(world.app.routes, "")
        if path.startswith("/api/v1/")
        for method in getattr(route, "methods", None) or ()
        if method != "HEAD"
    }


def _run(walk: Walk, case: Case) -> tuple[int, list[Ev]]:
    if case.prepare is not None:
        case.prepare(walk)
    headers = walk.bearer(case.who) if case.who else walk.state.pop("logout", {})
    body = case.body(walk) if case.body is not None else None
    path = case.path.format(**case.params(walk))
    content, extra = case.raw(walk) if case.raw is not None else (None, {})
    before = walk.world.last_seq()
    response = walk.client.request(
        case.method,
        path,
        headers={**headers, **extra},
        json=body,
        content=content,
        params=case.query_from(walk),
    )
    events = walk.events_after(before)
    if case.keep is not None and response.status_code == case.status:
        case.keep(walk, response)
    return response.status_code, events


def test_every_route_leaves_exactly_its_events(world: World) -> None:
    covered = {(c.method, c.path) for c in ROUTE_CASES}
    assert api_routes(world) - covered == set(), "a route without an entry in ROUTE_CASES"
    assert covered - api_routes(world) == set(), "an entry for a route that no longer exists"
    wrong = []
    with world.client() as client:
        walk = Walk(world, client)
        for case in ROUTE_CASES:
            status, events = _run(walk, case)
            if (status, events) != (case.status, list(case.events)):
                wrong.append(f"{case.method} {case.path} ({case.label}): {status} {events}")
    assert not wrong, "\n".join(["routes whose events differ from the table:", *wrong])


# -- the CLI ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    name: str  # "keys rotate"
    args: Callable[[Walk], list[str]] | None
    """``None``: not run here (said why in ``why``)."""
    events: tuple[Ev, ...] = ()
    why: str = ""


def _remote(walk: Walk) -> list[str]:
    return [
        "--server",
        walk.world.base_url,
        "--token",
        walk.bearer(PRIVACY)["Authorization"].split(" ", 1)[1],
        "--ca",
        str(walk.world.cert),
    ]


def _local(walk: Walk) -> list[str]:
    return ["--data-dir", str(walk.world.data_dir)]


def _proof_file(walk: Walk) -> list[str]:
    path = walk.world.data_dir.parent / "checkpoint.txt"
    fetched = CliRunner().invoke(
        cli, ["audit", "proof", "checkpoint", *_remote(walk), "-o", str(path)]
    )
    assert fetched.exit_code == 0, fetched.output
    key = CliRunner().invoke(cli, ["audit", "public-key", *_local(walk)], env=_env(walk))
    return [str(path), "--public-key", key.output.strip()]


def _env(walk: Walk) -> dict[str, str] | None:
    url = walk.world.url
    return None if url.startswith("sqlite") else {"CLAIMBRIDGE_DATABASE_URL": url}


def _x12_file(walk: Walk, *, seed: int = 1) -> list[str]:
    path = walk.world.data_dir.parent / f"claims-{seed}.837"
    with path.open("wb") as out:
        write_synthetic("837p", 3, seed=seed, out=out, now=walk.world.clock.now())
    return [str(path)]


def _sender(walk: Walk) -> list[str]:
    token = walk.bearer(STAFF)["Authorization"].split(" ", 1)[1]
    return [
        "--server",
        walk.world.base_url,
        "--token",
        token,
        "--ca",
        str(walk.world.cert),
        *_local(walk),
    ]


def _mue_file(walk: Walk) -> str:
    path = walk.world.data_dir.parent / "MCR_MUE_PractitionerServices_Eff_01-01-2026.csv"
    with path.open("wb") as out:
        write_mue([MueEdit("99213", 1, 2, "Policy")], out)
    return str(path)


def _encounter_file(walk: Walk) -> str:
    visit = _visit(walk)
    path = walk.world.data_dir.parent / "encounters.csv"
    path.write_text(",".join(visit) + "\n" + ",".join(visit.values()) + "\n")
    return str(path)


def _open_finding(walk: Walk, index: int) -> str:
    """An open finding of Riverside's (the ingest above, after the attestation, left some)."""
    engine = make_engine(walk.world.url)
    try:
        with make_sessionmaker(engine)() as session:
            ids = session.scalars(
                select(FindingRow.id)
                .where(
                    FindingRow.practice_id == walk.world.orgs[RIVERSIDE],
                    FindingRow.status == "open",
                )
                .order_by(FindingRow.created_at, FindingRow.seq)
            ).all()
    finally:
        engine.dispose()
    return str(ids[index])


def _receipt_path(walk: Walk) -> str:
    return str(walk.world.data_dir.parent / "receipt.json")


def _server_key(walk: Walk) -> str:
    return str(walk.client.get("/api/v1/audit/public-key").json()["public_key"])


# -- vendor risk on Lakeside, from the server's console (the CLI's clock is the system's)


def _cli(walk: Walk, *args: str) -> None:
    """A step towards the command under test, run the same way (its events are not counted)."""
    result = CliRunner().invoke(cli, list(args), env=_env(walk))
    assert result.exit_code == 0, result.output


def _on(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


def _engagement_of(walk: Walk, practice: str, company: str) -> str:
    engine = make_engine(walk.world.url)
    try:
        with make_sessionmaker(engine)() as session:
            found = session.scalars(
                select(Engagement.id)
                .where(
                    Engagement.practice_id == walk.world.orgs[practice],
                    Engagement.billing_company_id == walk.world.orgs[company],
                )
                .order_by(Engagement.created_at.desc(), Engagement.id)
            ).first()
    finally:
        engine.dispose()
    assert found is not None
    return str(found)


def _keystone(walk: Walk) -> str:
    """Lakeside's engagement with Keystone."""
    return _engagement_of(walk, LAKESIDE, KEYSTONE)


def _newest_assessment(walk: Walk) -> str:
    """Of Lakeside's engagement with Keystone."""
    engagement = _keystone(walk)
    engine = make_engine(walk.world.url)
    try:
        with make_sessionmaker(engine)() as session:
            found = session.scalars(
                select(Assessment.id)
                .where(Assessment.engagement_id == engagement)
                .order_by(Assessment.created_at.desc(), Assessment.id)
            ).first()
    finally:
        engine.dispose()
    assert found is not None
    return str(found)


def _evidence_of(walk: Walk, assessment: str) -> str:
    engine = make_engine(walk.world.url)
    try:
        with make_sessionmaker(engine)() as session:
            found = session.scalars(
                select(AssessmentEvidence.id).where(AssessmentEvidence.assessment_id == assessment)
            ).first()
    finally:
        engine.dispose()
    assert found is not None
    return str(found)


def _in_data_parent(walk: Walk, name: str, content: bytes | None = None) -> str:
    path = walk.world.data_dir.parent / name
    if content is not None:
        path.write_bytes(content)
    return str(path)


def _answers_file(walk: Walk) -> str:
    answers = {"ENC-01": "tls1.3", "ENC-03": "aes256-gcm", "ACC-01": True, "TECH-01": True}
    return _in_data_parent(walk, "answers.json", json.dumps({"answers": answers}).encode())


def _passphrase_file(walk: Walk) -> str:
    return _in_data_parent(walk, "passphrase.txt", f"{PASSPHRASE}\n".encode())


def _package_file(walk: Walk) -> str:
    return _in_data_parent(walk, "lakeside.cbpw")


def _certificate_file(walk: Walk) -> str:
    return _in_data_parent(walk, "certificate.json")


def _baa_options(walk: Walk, version: str) -> list[str]:
    return [
        "--file",
        _in_data_parent(walk, f"{version}.pdf", synthetic_pdf(f"BAA {version}")),
        "--version",
        version,
        "--practice-signatory",
        "Laura Kim, Practice Administrator",
        "--vendor-signatory",
        "Kenji Watanabe, Managing Director",
        "--signed-on",
        _on(0),
        "--effective-on",
        _on(0),
        "--breach-notice-days",
        "30",
        "--on-termination",
        "return_or_destroy",
    ]


def _as_lakeside(walk: Walk, work: Callable[[Session, Principal], object]) -> None:
    """``work`` as Lakeside's admin, through the services (what no command does alone)."""
    engine = make_engine(walk.world.url)
    try:
        unit_of_work(make_sessionmaker(engine), lambda s: work(s, local_admin(s, LAKESIDE)))
    finally:
        engine.dispose()


def _submitted_reassessment(walk: Walk) -> list[str]:
    assessment = _newest_assessment(walk)
    _cli(walk, "vendors", "answer", assessment, "--file", _answers_file(walk), *_local(walk))
    _cli(walk, "vendors", "submit", assessment, *_local(walk))
    return [assessment, "--note", "Keystone dropped its SOC 2 audit.", *_local(walk)]


def _cut_off_termination(walk: Walk) -> list[str]:
    """Lakeside's engagement with Summit, terminated with no return package made yet.

    Its BAA is signed, so it has a package to make; the service's ``terminate`` ends it
    the way the command does before it exports, as if the command had been cut off there.
    """
    _cli(walk, "vendors", "invite", SUMMIT, "--org", LAKESIDE, *_local(walk))
    summit = _engagement_of(walk, LAKESIDE, SUMMIT)
    _cli(
        walk,
        "engagements",
        "baa",
        "record",
        summit,
        *_baa_options(walk, "LFP-SBP-1"),
        *_local(walk),
    )
    _as_lakeside(
        walk,
        lambda s, admin: terminate(
            s, admin, summit, reason="Summit was never needed.", now=datetime.now(UTC)
        ),
    )
    return [summit, "--passphrase-file", _passphrase_file(walk), *_local(walk)]


def _summit_returned(walk: Walk) -> list[str]:
    """Keystone's engagement, once receipt of Summit's package is confirmed too.

    Confirmed through the service, which does not shred: then nothing holds the shred.
    """
    summit = _engagement_of(walk, LAKESIDE, SUMMIT)
    _as_lakeside(walk, lambda s, admin: confirm_receipt(s, admin, summit, now=datetime.now(UTC)))
    return [_keystone(walk), *_local(walk)]


KEYS = "organisation_keys"
COMMANDS: tuple[Command, ...] = (
    Command("init", _local),
    Command("demo", lambda w: [*_local(w), "--patients", "4"]),
    Command("serve", None, why="a running server: the route walk above exercises it"),
    Command("access matrix", lambda w: []),
    Command("keys status", _local),
    Command(
        "keys rotate",
        lambda w: [*_local(w), "--org", RIVERSIDE],
        (Ev("crypto:kek:rotated", "success", KEYS, RIVERSIDE),),
    ),
    Command(
        "keys rewrap",
        lambda w: [*_local(w), "--org", RIVERSIDE],
        (Ev("crypto:data-keys:rewrapped", "success", KEYS, RIVERSIDE),),
    ),
    Command("audit verify", _local),
    Command("audit public-key", _local),
    Command("audit checkpoint", _local, (Ev("audit:checkpoint:issued", "success", AUDIT),)),
    Command(
        "audit export",
        lambda w: [*_local(w), "-o", str(w.world.data_dir.parent / "export.jsonl")],
        (Ev("audit:log:exported", "success", AUDIT),),
    ),
    Command(
        "audit proof checkpoint",
        _remote,
        (Ev("audit:checkpoint:read", "success", AUDIT, RIVERSIDE),),
    ),
    Command(
        "audit proof event",
        lambda w: [_riverside_event(w), *_remote(w)],
        (Ev("audit:proof:inclusion", "success", AUDIT, RIVERSIDE),),
    ),
    Command(
        "audit proof consistency",
        lambda w: [*_remote(w), "--old", str(_checkpoint_size_now(w))],
        (Ev("audit:proof:consistency", "success", AUDIT, RIVERSIDE),),
    ),
    Command(
        "audit disclosures",
        lambda w: ["--patient", w.world.patient_of[RIVERSIDE], *_remote(w)],
        (Ev("audit:disclosures:read", "success", "patient", RIVERSIDE, patient=True),),
    ),
    Command("audit verify-proof", _proof_file),
    # -- integrity. The scrub reads a file and writes nothing (dated so it files in time).
    Command("scrub", lambda w: [*_x12_file(w, seed=75), "--date", "2025-02-01"]),
    Command(
        "integrity tables load",
        lambda w: [*_local(w), "mue", _mue_file(w), "--effective", "2026-01-01"],
        (Ev("integrity:table:load", "success", "reference-table"),),
    ),
    Command("integrity tables list", _local),
    Command(
        "integrity encounters attest",
        lambda w: [_encounter_file(w), *_local(w), "--org", RIVERSIDE],
        (Ev("phi:encounter:attest", "success", "attestation", RIVERSIDE),),
    ),
    # -- the exchange: the demo left Riverside's signing key in the data directory.
    Command(
        "send",
        lambda w: [_x12_file(w, seed=72)[0], *_sender(w), "--receipt-out", _receipt_path(w)],
        (Ev("phi:batch:ingest", "success", BATCH, RIVERSIDE),),
    ),
    Command(
        "receipt verify",
        lambda w: [_receipt_path(w), "--public-key", _server_key(w)],
    ),
    Command(
        "ingest",
        lambda w: [_x12_file(w, seed=73)[0], *_local(w), "--org", RIVERSIDE],
        (Ev("phi:batch:ingest", "success", BATCH, RIVERSIDE),),
    ),
    # Whatever is ready then (perhaps nothing: later batches are held), the
    # submission is recorded, as the data directory's holder acting as Summit's biller.
    Command(
        "claims submit",
        lambda w: [
            *_local(w),
            "--org",
            RIVERSIDE,
            "--out",
            str(w.world.data_dir.parent / "outbound.837"),
        ],
        (Ev("phi:claims:submitted", "success", BATCH, RIVERSIDE),),
    ),
    Command(
        "signing-key create",
        lambda w: ["--org-id", "x", "--out", str(w.world.data_dir.parent / "new.key")],
    ),
    Command("signing-key list", lambda w: [*_local(w), "--org", RIVERSIDE]),
    Command(
        "signing-key create-held",
        lambda w: [*_local(w), "--org", LAKESIDE],
        (Ev("exchange:signing-key:registered", "success", "signing_key", LAKESIDE),),
    ),
    Command(
        "integrity findings list",
        lambda w: [*_local(w), "--org", RIVERSIDE],
        (Ev("integrity:finding:list", "success", FINDING),),
    ),
    Command(
        "integrity findings show",
        lambda w: [_open_finding(w, 0), *_local(w), "--org", RIVERSIDE],
        (Ev("integrity:finding:read", "success", FINDING, RIVERSIDE),),
    ),
    Command(
        "integrity findings override",
        lambda w: [_open_finding(w, 0), *_local(w), "--org", RIVERSIDE, "--reason", REASON],
        (Ev("integrity:finding:override", "success", FINDING, RIVERSIDE),),
    ),
    Command(
        "integrity findings resolve",
        lambda w: [_open_finding(w, 0), *_local(w), "--org", RIVERSIDE, "--reason", REASON],
        (Ev("integrity:finding:resolve", "success", FINDING, RIVERSIDE),),
    ),
    # Nothing is queued in this world (it ingests every upload at once): nothing to read.
    Command("worker", lambda w: [*_local(w), "--once"]),
    Command(
        "signing-key register",
        lambda w: [
            *_local(w),
            "--org",
            LAKESIDE,
            "--public-key",
            SigningKey.generate().public_key_bytes().hex(),
        ],
        (Ev("exchange:signing-key:registered", "success", "signing_key", LAKESIDE),),
    ),
    # The X12 tools read and write files only: no data, no events.
    Command("x12 parse", lambda w: [*_x12_file(w), "--json"]),
    Command("x12 validate", _x12_file),
    Command(
        "x12 generate",
        lambda w: ["--kind", "835", "--claims", "3", "--out", str(w.world.data_dir.parent / "r")],
    ),
    Command(
        "db grant-app-role",
        None,
        why="PostgreSQL roles: tests/functional/cli/test_database.py runs it as the owner",
    ),
    # -- vendor risk, on Lakeside (the route walk kept to Riverside's engagements): it
    # invites Keystone, which answers, offers a SOC 2 report that expires within the first
    # reminder's lead, and fixes what the review asks; approved, the BAA opens the
    # engagement, and the check leaves its reminder. A reassessment rejected shuts it.
    Command("vendors list", lambda w: ["--org", LAKESIDE, *_local(w)]),
    Command("vendors questionnaire", lambda w: []),
    Command(
        "vendors invite",
        lambda w: [KEYSTONE, "--org", LAKESIDE, *_local(w)],
        (Ev("vendors:engagement:invited", "success", ENGAGEMENT, LAKESIDE),),
    ),
    Command(
        "vendors compare",
        lambda w: ["--org", LAKESIDE, *_local(w)],
        (Ev("vendors:vendor:compared", "success", "organisation", LAKESIDE),),
    ),
    Command(
        "vendors answer",
        lambda w: [_newest_assessment(w), "--file", _answers_file(w), *_local(w)],
        (Ev("vendors:assessment:answered", "success", ASSESSMENT, LAKESIDE),),
    ),
    Command(
        "vendors evidence add",
        lambda w: [
            _newest_assessment(w),
            "CERT-01",
            _in_data_parent(w, "soc2.pdf", synthetic_pdf("SOC 2 Type II report")),
            "--issued",
            _on(-340),
            "--expires",
            _on(20),
            *_local(w),
        ],
        (Ev("vendors:evidence:uploaded", "success", "evidence", LAKESIDE),),
    ),
    Command(
        "vendors evidence get",
        lambda w: [
            (assessment := _newest_assessment(w)),
            _evidence_of(w, assessment),
            "--out",
            _in_data_parent(w, "soc2-read.pdf"),
            *_local(w),
        ],
        (Ev("vendors:evidence:downloaded", "success", "evidence", LAKESIDE),),
    ),
    Command(
        "vendors submit",
        lambda w: [_newest_assessment(w), *_local(w)],
        (Ev("vendors:assessment:submitted", "success", ASSESSMENT, LAKESIDE),),
    ),
    Command(
        "vendors review",
        lambda w: [
            _newest_assessment(w),
            "ACC-01",
            "--remediate",
            "--due",
            _on(14),
            "--critical",
            "--note",
            "Show MFA enforced for the billing staff too.",
            *_local(w),
        ],
        (Ev("vendors:assessment:reviewed", "success", ITEM, LAKESIDE),),
    ),
    Command(
        "vendors resolve",
        lambda w: [
            _newest_assessment(w),
            "ACC-01",
            "--resolution",
            "Hardware keys issued to every biller.",
            *_local(w),
        ],
        (Ev("vendors:remediation:reported", "success", ITEM, LAKESIDE),),
    ),
    Command(
        "vendors close",
        lambda w: [_newest_assessment(w), "ACC-01", *_local(w)],
        (Ev("vendors:remediation:resolved", "success", ITEM, LAKESIDE),),
    ),
    # No BAA yet: the approval alone opens nothing.
    Command(
        "vendors approve",
        lambda w: [_newest_assessment(w), "--note", "MFA and encryption in place.", *_local(w)],
        (Ev("vendors:assessment:approved", "success", ASSESSMENT, LAKESIDE),),
    ),
    Command("vendors show", lambda w: [_newest_assessment(w), *_local(w)]),
    Command("vendors assessments", lambda w: ["--org", LAKESIDE, *_local(w)]),
    Command(
        "engagements baa record",
        lambda w: [_keystone(w), *_baa_options(w, "LFP-KCS-1"), *_local(w)],
        (
            Ev("vendors:baa:signed", "success", "baa", LAKESIDE),
            Ev("vendors:engagement:activated", "success", ENGAGEMENT, LAKESIDE),
        ),
    ),
    Command("engagements baa show", lambda w: [_keystone(w), *_local(w)]),
    Command(
        "engagements baa download",
        lambda w: [_keystone(w), "--out", _in_data_parent(w, "baa-read.pdf"), *_local(w)],
        (Ev("vendors:baa:downloaded", "success", "baa", LAKESIDE),),
    ),
    Command("engagements list", _local),
    Command("engagements show", lambda w: [_keystone(w), *_local(w)]),
    Command("engagements notices", lambda w: [_keystone(w), *_local(w)]),
    Command(
        "engagements check",
        _local,
        (Ev("vendors:engagement:reminded", "success", ENGAGEMENT, LAKESIDE),),
    ),
    Command(
        "vendors reassess",
        lambda w: [KEYSTONE, "--org", LAKESIDE, *_local(w)],
        (Ev("vendors:assessment:opened", "success", ASSESSMENT, LAKESIDE),),
    ),
    Command(
        "vendors reject",
        _submitted_reassessment,
        (
            Ev("vendors:assessment:rejected", "success", ASSESSMENT, LAKESIDE),
            Ev("vendors:engagement:lapsed", "denied", ENGAGEMENT, LAKESIDE),
        ),
    ),
    # -- offboarding: Lakeside ends both its engagements and has its data shredded
    # (before `keys shred` below, which then finds no key left to destroy).
    Command(
        "engagements terminate",
        lambda w: [
            _keystone(w),
            "--org",
            LAKESIDE,
            "--reason",
            "The reassessment failed.",
            "--passphrase-file",
            _passphrase_file(w),
            "--json",
            *_local(w),
        ],
        (
            Ev("vendors:engagement:terminated", "success", ENGAGEMENT, LAKESIDE),
            Ev("vendors:package:exported", "success", ENGAGEMENT, LAKESIDE),
        ),
    ),
    Command(
        "engagements export",
        lambda w: [*_cut_off_termination(w), "--json"],
        (Ev("vendors:package:exported", "success", ENGAGEMENT, LAKESIDE),),
    ),
    Command(
        "engagements package",
        lambda w: [_keystone(w), "--out", _package_file(w), *_local(w)],
        (Ev("vendors:package:downloaded", "success", ENGAGEMENT, LAKESIDE),),
    ),
    # Offline: no data directory, no events.
    Command(
        "engagements unpack",
        lambda w: [
            _package_file(w),
            "--passphrase-file",
            _passphrase_file(w),
            "--out",
            _in_data_parent(w, "returned"),
        ],
    ),
    # Summit's package is not confirmed yet: the shred is held.
    Command(
        "engagements confirm-receipt",
        lambda w: [_keystone(w), *_local(w)],
        (Ev("vendors:package:receipt-confirmed", "success", ENGAGEMENT, LAKESIDE),),
    ),
    # One shred for the practice's keys; both terminations certified.
    Command(
        "engagements shred",
        _summit_returned,
        (
            Ev("crypto:kek:shredded", "success", KEYS, LAKESIDE),
            Ev("vendors:engagement:shredded", "success", ENGAGEMENT, LAKESIDE),
            Ev("vendors:engagement:shredded", "success", ENGAGEMENT, LAKESIDE),
        ),
    ),
    Command(
        "engagements certificate",
        lambda w: [_keystone(w), "--out", _certificate_file(w), *_local(w)],
        (Ev("vendors:certificate:read", "success", ENGAGEMENT, LAKESIDE),),
    ),
    Command(
        "engagements verify-certificate",
        lambda w: [_certificate_file(w), "--public-key", _server_key(w)],
    ),
    # Nothing in a fresh log is old enough to go: a purge of nothing leaves no event.
    Command("audit purge", lambda w: [*_local(w), "--older-than-days", "3650", "--yes"]),
    # Last: they change keys the running server holds.
    Command(
        "keys shred",
        lambda w: [*_local(w), "--org", LAKESIDE, "--yes"],
        (Ev("crypto:kek:shredded", "success", KEYS, LAKESIDE),),
    ),
    Command("keys rotate-root", _local, (Ev("crypto:root-key:rotated", "success", "root_key"),)),
)


def cli_commands() -> set[str]:
    def walk(group: Any, prefix: str) -> Iterator[str]:
        # Through list_commands and get_command: the top level builds its
        # commands only when asked (``claimbridge.cli.main``).
        context = group.context_class(group)
        for name in group.list_commands(context):
            command = group.get_command(context, name)
            full = f"{prefix}{name}"
            if hasattr(command, "commands"):
                yield from walk(command, f"{full} ")
            else:
                yield full

    return set(walk(typer.main.get_command(cli), ""))


def test_every_command_leaves_exactly_its_events(world: World) -> None:
    named = {c.name for c in COMMANDS}
    assert cli_commands() - named == set(), "a command without an entry in COMMANDS"
    assert named - cli_commands() == set(), "an entry for a command that no longer exists"
    runner = CliRunner()
    wrong = []
    with world.client() as client:
        walk = Walk(world, client)
        for command in COMMANDS:
            if command.args is None:
                assert command.why
                continue
            args = command.args(walk)  # may sign in or fetch first: not counted
            before = world.last_seq()
            result = runner.invoke(cli, [*command.name.split(), *args], env=_env(walk))
            events = walk.events_after(before)
            if result.exit_code != 0 or events != list(command.events):
                wrong.append(
                    f"{command.name}: exit {result.exit_code} {events} {result.output[-300:]!r}"
                )
    assert not wrong, "\n".join(["commands whose events differ from the table:", *wrong])
