"""Least privilege across two organisations, over real TLS, on both databases.

The demo world: Riverside (engaged Summit Billing), Lakeside (in-house),
an operator and an auditor, a user for every role. Every test signs in as
a person would: password, then a TOTP code.
"""

from __future__ import annotations

import itertools
import json
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pyotp
import pytest
from sqlalchemy import select, update

from claimbridge.access.roles import view_of
from claimbridge.crypto.tls import self_signed_client_certificate
from claimbridge.demo.accounts import KEYSTONE
from claimbridge.storage.audit import AuditEvent
from claimbridge.storage.db import make_engine, make_sessionmaker
from claimbridge.storage.orgs import Engagement, Role
from tests.functional.api.worlds import LAKESIDE, RIVERSIDE, SUMMIT, World, running_world

MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    with running_world(request.param, request, tmp_path_factory) as made:
        yield made


ORG_OF_EMAIL = {
    "riverside.example": RIVERSIDE,
    "lakeside.example": LAKESIDE,
    "summit-billing.example": SUMMIT,
    "keystone-claims.example": KEYSTONE,
}
READERS = {"practice_staff", "privacy_officer", "biller", "coder"}
CLAIM_READERS = {"practice_staff", "biller", "coder"}


def _expected(world: World, email: str, route: str, target: str) -> int:
    """What the policy says: 200, 403 (role may never, or a shut engagement of one's own)
    or 404 (not yours, or no such id)."""
    login = world.logins[email]
    roles = set(login["roles"])
    needed = READERS if route.startswith("patient") else CLAIM_READERS
    if not roles & needed:
        return 403
    if target == "missing":
        return 404
    own = ORG_OF_EMAIL.get(email.split("@")[1])
    if own == KEYSTONE and target == RIVERSIDE:
        return 403  # its assessment was rejected: it is told so, nothing more
    reachable = {own, RIVERSIDE} if own == SUMMIT else {own}
    return 200 if target in reachable else 404


def test_generated_access_matrix_has_no_leaks(world: World) -> None:
    cases = leaks = 0
    foreign_ids = {world.patient_of[LAKESIDE], world.claim_of[LAKESIDE]}
    for email in sorted(world.logins):
        token = world.sign_in(email)
        headers = {"Authorization": f"Bearer {token}"}
        with world.client() as client:
            for route, target in itertools.product(
                ("patient", "claim"), (RIVERSIDE, LAKESIDE, "missing")
            ):
                ids = world.patient_of if route == "patient" else world.claim_of
                rid = MISSING if target == "missing" else ids[target]
                response = client.get(f"/api/v1/{route}s/{rid}", headers=headers)
                expected = _expected(world, email, route, target)
                cases += 1
                assert response.status_code == expected, (email, route, target, response.text)
                if expected != 200:
                    body = response.json()
                    assert set(body) == {"error"}
                    leaks += rid in response.text and target != "missing"
            for route in ("patients", "claims"):
                response = client.get(f"/api/v1/{route}", headers=headers)
                cases += 1
                if response.status_code == 200:
                    practices = {item["practice_id"] for item in response.json()["items"]}
                    own = ORG_OF_EMAIL.get(email.split("@")[1])
                    allowed = (
                        {world.orgs[RIVERSIDE]}
                        if own in (SUMMIT, RIVERSIDE)
                        else set()
                        if own == KEYSTONE
                        else {world.orgs[LAKESIDE]}
                    )
                    leaks += not practices <= allowed
                    leaks += any(fid in response.text for fid in foreign_ids) and own != LAKESIDE
    print(f"access matrix: {cases} cases, {leaks} leaks")
    assert cases >= 11 * 8
    assert leaks == 0


def test_a_password_alone_never_reaches_phi(world: World) -> None:
    email = "biller@summit-billing.example"
    with world.client() as client:
        first = client.post(
            "/api/v1/auth/login", json={"email": email, "password": world.logins[email]["password"]}
        )
        challenge = first.json()["challenge"]
        assert set(first.json()) >= {"challenge", "expires_at"} and "token" not in first.json()
        for credential in (challenge, first.cookies.get("__Host-claimbridge_session")):
            response = client.get(
                "/api/v1/patients", headers={"Authorization": f"Bearer {credential}"}
            )
            assert response.status_code == 401


def test_wrong_password_and_unknown_user_get_the_same_answer(world: World) -> None:
    with world.client() as client:
        wrong = client.post(
            "/api/v1/auth/login",
            json={"email": "coder@summit-billing.example", "password": "not-the-password-1"},
        )
        unknown = client.post(
            "/api/v1/auth/login",
            json={"email": "nobody@summit-billing.example", "password": "not-the-password-1"},
        )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_a_replayed_totp_code_is_refused(world: World) -> None:
    email = "coder@summit-billing.example"
    world.clock.advance(timedelta(seconds=30))
    code = world.code(email)
    with world.client() as client:
        for expected in (200, 401):
            first = client.post(
                "/api/v1/auth/login",
                json={"email": email, "password": world.logins[email]["password"]},
            )
            second = client.post(
                "/api/v1/auth/mfa", json={"challenge": first.json()["challenge"], "code": code}
            )
            assert second.status_code == expected


def test_repeated_failures_lock_the_account(world: World) -> None:
    email = "privacy@lakeside.example"
    with world.client() as client:
        statuses = [
            client.post(
                "/api/v1/auth/login", json={"email": email, "password": f"wrong-password-{i}"}
            ).status_code
            for i in range(6)
        ]
        right = client.post(
            "/api/v1/auth/login", json={"email": email, "password": world.logins[email]["password"]}
        )
    assert statuses[:5] == [401] * 5
    assert right.status_code in (401, 429), "locked: even the right password is refused"
    world.clock.advance(timedelta(hours=2))
    assert world.sign_in(email)


def test_idle_and_absolute_timeouts_end_sessions(world: World) -> None:
    email = "staff@riverside.example"
    token = world.sign_in(email)
    headers = {"Authorization": f"Bearer {token}"}
    with world.client() as client:
        assert client.get("/api/v1/me", headers=headers).status_code == 200
        world.clock.advance(timedelta(minutes=16))
        assert client.get("/api/v1/me", headers=headers).status_code == 401
        token = world.sign_in(email)
        headers = {"Authorization": f"Bearer {token}"}
        for _ in range(60):  # active every 14 minutes, for 14 hours
            world.clock.advance(timedelta(minutes=14))
            if client.get("/api/v1/me", headers=headers).status_code == 401:
                break
        else:
            pytest.fail("the session outlived its absolute lifetime")


def test_revoking_the_engagement_denies_the_next_request(world: World) -> None:
    token = world.sign_in("biller@summit-billing.example")
    headers = {"Authorization": f"Bearer {token}"}
    patient = world.patient_of[RIVERSIDE]
    engine = make_engine(world.url)
    try:
        with world.client() as client:
            assert client.get(f"/api/v1/patients/{patient}", headers=headers).status_code == 200
            with make_sessionmaker(engine).begin() as session:
                session.execute(update(Engagement).values(status="suspended"))
            refused = client.get(f"/api/v1/patients/{patient}", headers=headers)
            # The billing company knows its own engagement: it is told why, not "not found".
            assert refused.status_code == 403
            assert refused.json()["error"]["code"] == "engagement_inactive"
            listed = client.get("/api/v1/patients", headers=headers).json()
            assert listed["items"] == [] and listed["total"] == 0
    finally:
        with make_sessionmaker(engine).begin() as session:
            session.execute(update(Engagement).values(status="active"))
        engine.dispose()


def test_tenant_smuggling_moves_and_reveals_nothing(world: World) -> None:
    token = world.sign_in("staff@riverside.example")
    lakeside = world.orgs[LAKESIDE]
    with world.client() as client:
        response = client.get(
            "/api/v1/patients",
            params={"practice_id": lakeside, "tenant": lakeside},
            headers={"Authorization": f"Bearer {token}", "X-Tenant-ID": lakeside},
        )
        assert {i["practice_id"] for i in response.json()["items"]} == {world.orgs[RIVERSIDE]}
        response = client.get(
            f"/api/v1/patients/{world.patient_of[LAKESIDE]}",
            params={"practice_id": lakeside},
            headers={"Authorization": f"Bearer {token}", "X-Tenant-ID": lakeside},
        )
        assert response.status_code == 404


def test_projections_follow_the_policy_table(world: World) -> None:
    patient = world.patient_of[RIVERSIDE]
    claim = world.claim_of[RIVERSIDE]
    seen = {}
    for email in (
        "biller@summit-billing.example",
        "coder@summit-billing.example",
        "staff@riverside.example",
        "privacy@riverside.example",
    ):
        headers = {"Authorization": f"Bearer {world.sign_in(email)}"}
        with world.client() as client:
            seen[email] = (
                client.get(f"/api/v1/patients/{patient}", headers=headers).json(),
                client.get(f"/api/v1/claims/{claim}", headers=headers),
            )
    biller_patient, biller_claim = seen["biller@summit-billing.example"]
    assert "ssn" not in biller_patient and "coverages" in biller_patient
    assert (
        "documentation" not in biller_claim.json() and "total_charge_cents" in biller_claim.json()
    )
    coder_patient, coder_claim = seen["coder@summit-billing.example"]
    assert "address" not in coder_patient and "coverages" not in coder_patient
    assert "documentation" in coder_claim.json()
    assert "total_charge_cents" not in coder_claim.json()
    assert all("charge_cents" not in line for line in coder_claim.json()["lines"])
    privacy_patient, privacy_claim = seen["privacy@riverside.example"]
    assert set(privacy_patient) <= {
        "id",
        "practice_id",
        "mrn",
        "given_name",
        "family_name",
        "birth_date",
        "sex",
    }
    assert privacy_claim.status_code == 403
    for patient_view, _ in seen.values():
        assert "ssn" not in patient_view


def test_every_phi_read_leaves_an_audit_event_and_denials_too(world: World) -> None:
    token = world.sign_in("biller@summit-billing.example")
    engine = make_engine(world.url)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        before = session.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1))
    with world.client() as client:
        headers = {"Authorization": f"Bearer {token}"}
        client.get(f"/api/v1/patients/{world.patient_of[RIVERSIDE]}", headers=headers)
        client.get(f"/api/v1/patients/{world.patient_of[LAKESIDE]}", headers=headers)
    with sessions() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.seq > before).order_by(AuditEvent.seq)
        ).all()
    engine.dispose()
    reads = [(e.action, e.outcome) for e in events if e.action == "phi:patient:read"]
    assert reads == [("phi:patient:read", "success"), ("phi:patient:read", "denied")]
    success = next(e for e in events if e.outcome == "success" and e.action == "phi:patient:read")
    assert success.patient_ref and world.patient_of[RIVERSIDE] not in success.patient_ref
    assert success.purpose == "payment"


def test_phi_reads_fail_closed_when_the_audit_log_cannot_be_written(world: World) -> None:
    token = world.sign_in("staff@riverside.example")
    headers = {"Authorization": f"Bearer {token}"}
    patient = world.patient_of[RIVERSIDE]
    engine = make_engine(world.url)
    sqlite = world.url.startswith("sqlite")
    refuse = (
        [
            "CREATE TRIGGER audit_refuses BEFORE INSERT ON audit_events "
            "BEGIN SELECT RAISE(ABORT, 'audit store down'); END"
        ]
        if sqlite
        else [
            "CREATE OR REPLACE FUNCTION audit_refuses() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit store down'; END $$",
            "CREATE TRIGGER audit_refuses BEFORE INSERT ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_refuses()",
        ]
    )
    try:
        with engine.begin() as connection:
            for statement in refuse:
                connection.exec_driver_sql(statement)
        with world.client() as client:
            down = client.get(f"/api/v1/patients/{patient}", headers=headers)
            listed = client.get("/api/v1/patients", headers=headers)
        assert down.status_code == listed.status_code == 503
        assert down.json()["error"]["code"] == "storage_unavailable"
        assert patient not in down.text and "given_name" not in listed.text
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "DROP TRIGGER IF EXISTS audit_refuses" + ("" if sqlite else " ON audit_events")
            )
        engine.dispose()
    with world.client() as client:
        assert client.get(f"/api/v1/patients/{patient}", headers=headers).status_code == 200


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_an_admin_adds_a_user_who_enrols_a_second_factor_at_first_sign_in(world: World) -> None:
    admin = _bearer(world.sign_in("admin@lakeside.example"))
    email = f"new-{world.clock.now().timestamp():.0f}@lakeside.example"
    password = "tangerine lighthouse quietly 42"
    with world.client() as client:
        weak = client.post(
            "/api/v1/users",
            headers=admin,
            json={
                "email": email,
                "display_name": "New Person",
                "roles": ["practice_staff"],
                "password": "password12345",
            },
        )
        assert weak.status_code == 400 and weak.json()["error"]["code"] == "weak_password"
        wrong_role = client.post(
            "/api/v1/users",
            headers=admin,
            json={
                "email": email,
                "display_name": "New Person",
                "roles": ["biller"],
                "password": password,
            },
        )
        assert wrong_role.status_code == 400 and wrong_role.json()["error"]["where"] == "roles"
        created = client.post(
            "/api/v1/users",
            headers=admin,
            json={
                "email": email,
                "display_name": "New Person",
                "roles": ["practice_staff"],
                "password": password,
            },
        )
        assert created.status_code == 201, created.text
        assert created.json()["mfa_enrolled"] is False
        world.clock.advance(timedelta(seconds=30))
        first = client.post("/api/v1/auth/login", json={"email": email, "password": password})
        enrolment = first.json()["mfa_enrolment"]
        assert enrolment and enrolment["otpauth_uri"].startswith("otpauth://totp/")
        code = pyotp.TOTP(enrolment["secret"]).at(world.clock.now())
        second = client.post(
            "/api/v1/auth/mfa", json={"challenge": first.json()["challenge"], "code": code}
        )
        assert second.status_code == 200
        assert len(second.json()["recovery_codes"]) == 10
        me = client.get("/api/v1/me", headers=_bearer(second.json()["token"])).json()
        assert me["roles"] == ["practice_staff"] and me["auth_method"] == "password+totp"
        listed = client.get("/api/v1/users", headers=admin).json()
        assert {u["email"] for u in listed} >= {email, "admin@lakeside.example"}
        assert all(u["email"].endswith("@lakeside.example") for u in listed)


def test_disabling_or_changing_roles_ends_sessions_at_once(world: World) -> None:
    admin = _bearer(world.sign_in("admin@riverside.example"))
    staff_token = world.sign_in("staff@riverside.example")
    with world.client() as client:
        me = client.get("/api/v1/me", headers=_bearer(staff_token)).json()
        changed = client.patch(
            f"/api/v1/users/{me['user_id']}", headers=admin, json={"roles": ["practice_staff"]}
        )
        assert changed.status_code == 200
        assert client.get("/api/v1/me", headers=_bearer(staff_token)).status_code == 401
        staff_token = world.sign_in("staff@riverside.example")
        client.patch(f"/api/v1/users/{me['user_id']}", headers=admin, json={"status": "disabled"})
        assert client.get("/api/v1/me", headers=_bearer(staff_token)).status_code == 401
        client.patch(f"/api/v1/users/{me['user_id']}", headers=admin, json={"status": "active"})
    assert world.sign_in("staff@riverside.example")


def test_staff_cannot_administer_users_or_reach_another_organisations(world: World) -> None:
    staff = _bearer(world.sign_in("staff@riverside.example"))
    admin = _bearer(world.sign_in("admin@lakeside.example"))
    with world.client() as client:
        assert client.get("/api/v1/users", headers=staff).status_code == 403
        riverside_staff = client.get("/api/v1/me", headers=staff).json()["user_id"]
        response = client.patch(
            f"/api/v1/users/{riverside_staff}", headers=admin, json={"status": "disabled"}
        )
        assert response.status_code == 404


def test_api_tokens_are_shown_once_scoped_and_revocable(world: World) -> None:
    admin = _bearer(world.sign_in("admin@summit-billing.example"))
    with world.client() as client:
        too_much = client.post(
            "/api/v1/tokens",
            headers=admin,
            json={"name": "robot", "permissions": ["patients:patient:read"]},
        )
        assert too_much.status_code == 403, "a token cannot exceed its creator"
        made = client.post(
            "/api/v1/tokens",
            headers=admin,
            json={"name": "robot", "permissions": ["vendors:questionnaire:answer"]},
        )
        assert made.status_code == 200
        token = made.json()["token"]
        listed = client.get("/api/v1/tokens", headers=admin).json()
        assert token not in json.dumps(listed)
        assert client.get("/api/v1/me", headers=_bearer(token)).json()["permissions"] == [
            "vendors:questionnaire:answer"
        ]
        assert client.get("/api/v1/patients", headers=_bearer(token)).status_code == 403
        client.delete(f"/api/v1/tokens/{made.json()['id']}", headers=admin)
        assert client.get("/api/v1/me", headers=_bearer(token)).status_code == 401


def test_cookie_sessions_need_the_csrf_token_to_change_anything(world: World) -> None:
    email = "admin@riverside.example"
    world.clock.advance(timedelta(seconds=30))
    with world.client() as client:
        first = client.post(
            "/api/v1/auth/login", json={"email": email, "password": world.logins[email]["password"]}
        )
        second = client.post(
            "/api/v1/auth/mfa",
            json={"challenge": first.json()["challenge"], "code": world.code(email)},
        )
        cookie = second.headers["set-cookie"]
        assert cookie.startswith("__Host-claimbridge_session=")
        assert all(
            flag in cookie.lower() for flag in ("secure", "httponly", "samesite=strict", "path=/")
        )
        assert client.get("/api/v1/me").status_code == 200, "the cookie alone reads"
        refused = client.post("/api/v1/auth/logout")
        assert refused.status_code == 403 and refused.json()["error"]["where"] == "X-CSRF-Token"
        done = client.post(
            "/api/v1/auth/logout", headers={"X-CSRF-Token": second.json()["csrf_token"]}
        )
        assert done.status_code == 204
        assert (
            client.get(
                "/api/v1/me", headers={"Authorization": f"Bearer {second.json()['token']}"}
            ).status_code
            == 401
        )


def test_projections_match_the_policy_table_for_every_role(world: World) -> None:
    patient, claim = world.patient_of[RIVERSIDE], world.claim_of[RIVERSIDE]
    checked = 0
    for email, login in world.logins.items():
        roles = frozenset(Role(r) for r in login["roles"])
        headers = _bearer(world.sign_in(email))
        with world.client() as client:
            for route, rid, kind in (("patients", patient, "patient"), ("claims", claim, "claim")):
                for response in (
                    client.get(f"/api/v1/{route}/{rid}", headers=headers),
                    client.get(f"/api/v1/{route}", headers=headers),
                ):
                    if response.status_code != 200:
                        continue
                    body = response.json()
                    items = body.get("items", [body])
                    allowed = {f.split(".")[0] for f in view_of(roles, kind)} | {"practice_id"}
                    for item in items:
                        assert set(item) <= allowed, (email, route, set(item) - allowed)
                        checked += 1
    assert checked > 20


def test_a_rejected_billing_company_is_kept_out_and_told_why(world: World) -> None:
    """The demo's Keystone failed its assessment: its biller reaches nothing of Riverside's."""
    riverside = world.orgs[RIVERSIDE]
    keystone = _bearer(world.sign_in("biller@keystone-claims.example"))
    summit = _bearer(world.sign_in("biller@summit-billing.example"))
    with world.client() as client:
        assert client.get(f"/api/v1/claims?practice={riverside}", headers=summit).status_code == 200
        refused = client.get(f"/api/v1/claims?practice={riverside}", headers=keystone)
        assert refused.status_code == 403, refused.text
        error = refused.json()["error"]
        assert error["code"] == "engagement_inactive"
        assert error["where"] == "assessment_not_approved"
        assert "rejected" in error["message"]
        claim = client.get(f"/api/v1/claims/{world.claim_of[RIVERSIDE]}", headers=keystone)
        assert claim.status_code == 403
        listed = client.get("/api/v1/claims", headers=keystone).json()
        assert listed["items"] == [] and listed["total"] == 0
        # A practice it has no engagement with stays "not found".
        lakeside = client.get(f"/api/v1/claims?practice={world.orgs[LAKESIDE]}", headers=keystone)
        assert lakeside.status_code == 404


def test_break_glass_is_bounded_marked_and_reviewed(world: World) -> None:
    email = "biller@summit-billing.example"
    biller = _bearer(world.sign_in(email))
    patient = world.patient_of[RIVERSIDE]
    riverside = world.orgs[RIVERSIDE]
    engine = make_engine(world.url)
    try:
        with make_sessionmaker(engine).begin() as session:
            session.execute(update(Engagement).values(status="suspended"))
        with world.client() as client:
            assert client.get(f"/api/v1/patients/{patient}", headers=biller).status_code == 403
            short = client.post(
                "/api/v1/break-glass",
                headers=biller,
                json={"practice_id": riverside, "reason": "urgent", "code": "000000"},
            )
            assert short.status_code == 400 and short.json()["error"]["where"] == "reason"
            reason = "Payer deadline today for claims of the week; assessment renewal pending."
            wrong = client.post(
                "/api/v1/break-glass",
                headers=biller,
                json={"practice_id": riverside, "reason": reason, "code": "000000"},
            )
            assert wrong.status_code == 401
            world.clock.advance(timedelta(seconds=30))
            no_baa = client.post(
                "/api/v1/break-glass",
                headers=biller,
                json={
                    "practice_id": world.orgs[LAKESIDE],
                    "reason": reason,
                    "code": world.code(email),
                },
            )
            assert no_baa.status_code == 404, "no signed BAA, no break-glass"
            world.clock.advance(timedelta(seconds=30))
            granted = client.post(
                "/api/v1/break-glass",
                headers=biller,
                json={"practice_id": riverside, "reason": reason, "code": world.code(email)},
            )
            assert granted.status_code == 201, granted.text
            opened = client.get(f"/api/v1/patients/{patient}", headers=biller)
            assert opened.status_code == 200 and "ssn" not in opened.json()
            privacy = _bearer(world.sign_in("privacy@riverside.example"))
            biller = _bearer(world.sign_in(email))
            pending = client.get("/api/v1/break-glass", headers=privacy).json()
            assert pending[0]["id"] == granted.json()["id"] and pending[0]["reviewed_at"] is None
            reviewed = client.post(
                f"/api/v1/break-glass/{pending[0]['id']}/review", headers=privacy
            )
            assert reviewed.json()["reviewed_at"] is not None
            world.clock.advance(timedelta(minutes=61))
            biller = _bearer(world.sign_in(email))
            assert client.get(f"/api/v1/patients/{patient}", headers=biller).status_code == 403
        with make_sessionmaker(engine)() as session:
            marked = session.scalars(
                select(AuditEvent).where(
                    AuditEvent.purpose == "break-glass", AuditEvent.action == "phi:patient:read"
                )
            ).all()
        assert marked and all(e.outcome == "success" for e in marked)
    finally:
        with make_sessionmaker(engine).begin() as session:
            session.execute(update(Engagement).values(status="active"))
        engine.dispose()


def test_a_machine_with_a_registered_client_certificate_signs_in_by_mutual_tls(
    world: World, tmp_path: Path
) -> None:
    admin = _bearer(world.sign_in("admin@riverside.example"))
    # OpenSSL checks validity against the real time, not the test's clock.
    real_now = datetime.now(UTC)
    pair = self_signed_client_certificate(now=real_now, common_name="riverside-ehr-export")
    other = self_signed_client_certificate(now=real_now, common_name="stranger")
    for name, p in (("client", pair), ("other", other)):
        (tmp_path / f"{name}.pem").write_bytes(p.cert_pem)
        (tmp_path / f"{name}.key").write_bytes(p.key_pem)

    def machine(name: str) -> httpx.Client:
        context = ssl.create_default_context(cafile=str(world.cert))
        context.load_cert_chain(str(tmp_path / f"{name}.pem"), str(tmp_path / f"{name}.key"))
        return httpx.Client(base_url=world.base_url, verify=context)

    with world.client() as client:
        too_much = client.post(
            "/api/v1/client-certificates",
            headers=admin,
            json={
                "name": "ehr",
                "certificate_pem": pair.cert_pem.decode(),
                "permissions": ["patients:patient:read"],
            },
        )
        assert too_much.status_code == 403
        made = client.post(
            "/api/v1/client-certificates",
            headers=admin,
            json={
                "name": "ehr",
                "certificate_pem": pair.cert_pem.decode(),
                "permissions": ["access:token:manage"],
            },
        )
        assert made.status_code == 201, made.text
    with machine("client") as robot:
        me = robot.get("/api/v1/me")
        assert me.status_code == 200, me.text
        assert me.json()["auth_method"] == "mtls"
        assert me.json()["permissions"] == ["access:token:manage"]
        assert me.json()["organisation_id"] == world.orgs[RIVERSIDE]
        assert robot.get("/api/v1/patients").status_code == 403
    # TLS 1.3 reports the refused certificate after the client thinks the
    # handshake is done: a dropped connection rather than a connect error.
    with (
        pytest.raises((httpx.ConnectError, httpx.RemoteProtocolError)),
        machine("other") as stranger,
    ):
        stranger.get("/api/v1/me")
    with world.client() as client:
        fingerprint = made.json()["fingerprint_sha256"]
        client.delete(f"/api/v1/client-certificates/{fingerprint}", headers=admin)
    with machine("client") as robot:
        assert robot.get("/api/v1/me").status_code == 401


def test_changing_ones_password_ends_every_session(world: World) -> None:
    email = "coder@summit-billing.example"
    old = world.logins[email]["password"]
    token = world.sign_in(email)
    other = world.sign_in(email)
    new = "plum orchard sailing westward 77"
    with world.client() as client:
        weak = client.post(
            "/api/v1/me/password",
            headers=_bearer(token),
            json={"current_password": old, "new_password": "coder123456789"},
        )
        assert weak.status_code == 400
        wrong = client.post(
            "/api/v1/me/password",
            headers=_bearer(token),
            json={"current_password": "not it at all", "new_password": new},
        )
        assert wrong.status_code == 401
        done = client.post(
            "/api/v1/me/password",
            headers=_bearer(token),
            json={"current_password": old, "new_password": new},
        )
        assert done.status_code == 204
        assert client.get("/api/v1/me", headers=_bearer(token)).status_code == 401
        assert client.get("/api/v1/me", headers=_bearer(other)).status_code == 401
    world.logins[email]["password"] = new
    assert world.sign_in(email)
