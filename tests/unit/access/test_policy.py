"""The policy table and the decisions made from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from claimbridge.access.matrix import matrix_markdown
from claimbridge.access.permissions import PHI_PERMISSIONS, Permission
from claimbridge.access.policy import Allowed, Denied, decide, enforce
from claimbridge.access.principal import Principal
from claimbridge.access.roles import ROLE_PERMISSIONS, VIEWS, needs_mfa
from claimbridge.errors import AccessDenied, NotFound
from claimbridge.storage.orgs import OrgKind, Role

DOCS = Path(__file__).resolve().parents[3] / "docs" / "access-matrix.md"


def _principal(role: Role, kind: OrgKind, *, mfa: bool = True, org: str = "org-a") -> Principal:
    return Principal(
        user_id="u",
        organisation_id=org,
        organisation_kind=kind,
        roles=frozenset({role}),
        auth_method="password+totp" if mfa else "password",
        mfa=mfa,
    )


def test_the_docs_page_is_the_table_the_code_enforces() -> None:
    assert DOCS.read_text() == matrix_markdown(), (
        "run: claimbridge access matrix --markdown > docs/access-matrix.md"
    )


def test_every_role_that_reaches_phi_or_administers_needs_mfa() -> None:
    assert all(needs_mfa({role}) for role in Role)


def test_no_view_shows_ssn() -> None:
    assert all("ssn" not in fields for views in VIEWS.values() for fields in views.values())


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.AUDITOR, Role.VENDOR_ADMIN])
def test_roles_without_phi_hold_no_phi_permission(role: Role) -> None:
    assert not ROLE_PERMISSIONS[role] & PHI_PERMISSIONS
    assert not any(VIEWS[role].values())


def test_practice_staff_reach_their_own_practice_only() -> None:
    staff = _principal(Role.PRACTICE_STAFF, OrgKind.PRACTICE)
    assert decide(staff, Permission.PATIENT_READ, tenant="org-a") == Allowed()
    denied = decide(staff, Permission.PATIENT_READ, tenant="org-b")
    assert isinstance(denied, Denied) and denied.hide_existence
    with pytest.raises(NotFound):
        enforce(denied)


def test_a_biller_reaches_only_engaged_practices() -> None:
    biller = _principal(Role.BILLER, OrgKind.BILLING_COMPANY, org="vendor")
    assert (
        decide(biller, Permission.CLAIM_READ, tenant="p1", reachable=frozenset({"p1"})) == Allowed()
    )
    assert isinstance(
        decide(biller, Permission.CLAIM_READ, tenant="p2", reachable=frozenset({"p1"})), Denied
    )
    assert isinstance(decide(biller, Permission.CLAIM_READ, tenant="vendor"), Denied)


def test_a_password_alone_is_denied_phi() -> None:
    staff = _principal(Role.PRACTICE_STAFF, OrgKind.PRACTICE, mfa=False)
    decision = decide(staff, Permission.PATIENT_LIST)
    assert isinstance(decision, Denied) and "second factor" in decision.reason


def test_a_missing_permission_is_forbidden_not_hidden() -> None:
    operator = _principal(Role.OPERATOR, OrgKind.OPERATOR)
    with pytest.raises(AccessDenied):
        enforce(decide(operator, Permission.PATIENT_READ, tenant="org-a"))


def test_break_glass_opens_only_the_granted_tenant_and_says_so() -> None:
    coder = _principal(Role.CODER, OrgKind.BILLING_COMPANY, org="vendor")
    decision = decide(
        coder, Permission.PATIENT_READ, tenant="p9", break_glass_tenants=frozenset({"p9"})
    )
    assert decision == Allowed(via_break_glass=True)
    assert isinstance(
        decide(coder, Permission.PATIENT_READ, tenant="p8", break_glass_tenants=frozenset({"p9"})),
        Denied,
    )


def test_a_token_narrows_its_creators_permissions() -> None:
    staff = Principal(
        user_id="u",
        organisation_id="org-a",
        organisation_kind=OrgKind.PRACTICE,
        roles=frozenset({Role.PRACTICE_STAFF}),
        auth_method="api-token",
        mfa=True,
        token_permissions=frozenset({Permission.BATCH_UPLOAD}),
    )
    assert staff.permissions == {Permission.BATCH_UPLOAD}
    assert isinstance(decide(staff, Permission.PATIENT_READ, tenant="org-a"), Denied)
