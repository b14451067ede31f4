"""The principal: who is acting, for which organisation, with which roles, how proven."""

from __future__ import annotations

from dataclasses import dataclass, field

from claimbridge.access.permissions import Permission
from claimbridge.access.roles import permissions_of
from claimbridge.audit.record import Actor
from claimbridge.storage.orgs import OrgKind, Role


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str | None
    organisation_id: str
    organisation_kind: OrgKind
    roles: frozenset[Role]
    auth_method: str
    """``password+totp``, ``password+recovery``, ``api-token``, ``mtls``…"""
    mfa: bool
    source_address: str | None = None
    token_permissions: frozenset[Permission] | None = None
    """For an API token: the permissions it was scoped to (within its roles')."""
    break_glass: tuple[str, ...] = field(default=())
    """Ids of unexpired break-glass grants this principal holds."""

    @property
    def permissions(self) -> frozenset[Permission]:
        granted = permissions_of(self.roles)
        if self.token_permissions is not None:
            granted &= self.token_permissions
        return granted


def actor_of(principal: Principal) -> Actor:
    """The audit log's view of a principal: who, for which organisation, how proven."""
    return Actor(
        user_id=principal.user_id,
        organisation_id=principal.organisation_id,
        roles=tuple(sorted(r.value for r in principal.roles)),
        auth_method=principal.auth_method,
        source_address=principal.source_address,
    )
