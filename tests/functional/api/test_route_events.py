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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import typer
from sqlalchemy import func, select
from typer.testing import CliRunner

from claimbridge.cli.main import app as cli
from claimbridge.crypto.signing import SigningKey
from claimbridge.crypto.tls import self_signed_client_certificate
from claimbridge.exchange.clientkeys import client_key_path, read_client_key
from claimbridge.exchange.manifest import make_manifest
from claimbridge.formats.cms import MueEdit, write_mue
from claimbridge.formats.x12.synthetic import write_synthetic
from claimbridge.storage.audit import AuditCheckpoint, AuditEvent
from claimbridge.storage.db import make_engine, make_sessionmaker
from claimbridge.storage.integrity import FindingRow
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
        for name, command in group.commands.items():
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
