"""Decisions as values, enforcement that raises.

``decide`` answers whether a principal may use a permission on a tenant's
data; ``enforce`` turns a denial into an error. Denials about a tenant's
data are raised as ``NotFound``, so a caller learns nothing about what
exists in an organisation it may not see (DESIGN.md invariant 5).
"""

from __future__ import annotations

from dataclasses import dataclass

from claimbridge.access.permissions import PHI_PERMISSIONS, Permission
from claimbridge.access.principal import Principal
from claimbridge.access.roles import needs_mfa
from claimbridge.errors import AccessDenied, NotFound
from claimbridge.storage.orgs import OrgKind


@dataclass(frozen=True, slots=True)
class Allowed:
    via_break_glass: bool = False


@dataclass(frozen=True, slots=True)
class Denied:
    reason: str
    hide_existence: bool = False
    """True when the denial is about a tenant's data: report it as not found."""


Decision = Allowed | Denied


def decide(
    principal: Principal,
    permission: Permission,
    *,
    tenant: str | None = None,
    reachable: frozenset[str] = frozenset(),
    break_glass_tenants: frozenset[str] = frozenset(),
) -> Decision:
    """May ``principal`` use ``permission`` (on ``tenant``'s data, if given)?

    ``reachable`` are the practices a billing company is actively engaged
    by; ``break_glass_tenants`` those the principal holds an unexpired
    break-glass grant for.
    """
    if permission not in principal.permissions:
        return Denied(f"{permission} is not among the principal's permissions")
    if permission in PHI_PERMISSIONS and needs_mfa(principal.roles) and not principal.mfa:
        return Denied("a second factor is required to reach PHI")
    if tenant is None:
        return Allowed()
    if tenant in tenants_of(principal, reachable):
        return Allowed()
    if tenant in break_glass_tenants:
        return Allowed(via_break_glass=True)
    return Denied("the principal may not act for this tenant", hide_existence=True)


def tenants_of(principal: Principal, reachable: frozenset[str]) -> frozenset[str]:
    """Whose PHI this principal may reach: its own practice, or engaged practices."""
    if principal.organisation_kind is OrgKind.PRACTICE:
        return frozenset({principal.organisation_id})
    if principal.organisation_kind is OrgKind.BILLING_COMPANY:
        return reachable
    return frozenset()


def enforce(decision: Decision) -> Allowed:
    if isinstance(decision, Allowed):
        return decision
    if decision.hide_existence:
        raise NotFound(detail=decision.reason)
    raise AccessDenied(detail=decision.reason)
