"""The gateway: the only code that loads PHI for a principal.

Every call (1) asks the policy, (2) writes the audit event in the same
transaction, failing closed, and (3) decrypts and projects the record to
the principal's minimum-necessary view (``access/roles.py``). A denial is
audited too, and then reported as "not found" when it concerns another
tenant's data, so ids in URLs reveal nothing.

A denial's audit event must survive the denial: the gateway raises
``AuditedDenial`` (``audit/record.py``), which ``unit_of_work`` commits
before raising the public error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from claimbridge.access.engagements import refusal
from claimbridge.access.permissions import Permission
from claimbridge.access.policy import Allowed, Decision, Denied, decide, enforce, tenants_of
from claimbridge.access.principal import Principal, actor_of
from claimbridge.access.roles import view_of
from claimbridge.audit.record import AuditedDenial, Event, record
from claimbridge.crypto.keyring import Keyring
from claimbridge.crypto.sealing import FieldSealer
from claimbridge.errors import ClaimbridgeError, NotFound
from claimbridge.phi.records import read_coverage, read_patient, read_patient_account
from claimbridge.storage.auth import BreakGlassGrant
from claimbridge.storage.claims import Claim
from claimbridge.storage.clinical import Coverage, Encounter, Patient
from claimbridge.storage.orgs import OrgKind, engaged_practices

MAX_PAGE = 200
R = TypeVar("R", Patient, Claim)


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int


class Gateway:
    def __init__(
        self,
        session: Session,
        keyring: Keyring,
        principal: Principal,
        *,
        now: datetime,
        request_id: str | None = None,
    ) -> None:
        self.session = session
        self.keyring = keyring
        self.principal = principal
        self.now = now
        self.request_id = request_id
        self._reachable: frozenset[str] | None = None
        self._glass: dict[str, str] | None = None

    # -- scope -------------------------------------------------------------

    def reachable(self) -> frozenset[str]:
        """Tenants this principal may reach now (engagements checked on every request)."""
        if self._reachable is None:
            found: frozenset[str] = frozenset()
            if self.principal.organisation_kind is OrgKind.BILLING_COMPANY:
                found = frozenset(
                    engaged_practices(self.session, self.principal.organisation_id, now=self.now)
                )
            self._reachable = tenants_of(self.principal, found)
        return self._reachable

    def _break_glass(self) -> dict[str, str]:
        """Tenant → grant id, for this user's unexpired break-glass grants."""
        if self._glass is None:
            rows = (
                self.session.scalars(
                    select(BreakGlassGrant).where(
                        BreakGlassGrant.user_id == self.principal.user_id,
                        BreakGlassGrant.expires_at > self.now,
                    )
                ).all()
                if self.principal.user_id
                else []
            )
            self._glass = {row.tenant_id: row.id for row in rows}
        return self._glass

    def _decide(self, permission: Permission, tenant: str | None) -> Decision:
        return decide(
            self.principal,
            permission,
            tenant=tenant,
            reachable=self.reachable(),
            break_glass_tenants=frozenset(self._break_glass()),
        )

    # -- audit ----------------------------------------------------------------

    def _audit(
        self,
        action: str,
        *,
        decision: Decision,
        resource_type: str,
        resource_id: str | None,
        tenant: str | None,
        patient_id: str | None = None,
    ) -> None:
        glass = isinstance(decision, Allowed) and decision.via_break_glass
        record(
            self.session,
            Event(
                action=action,
                outcome="success" if isinstance(decision, Allowed) else "denied",
                resource_type=resource_type,
                resource_id=resource_id,
                tenant_id=tenant,
                patient_ref=self._patient_ref(tenant, patient_id),
                purpose="break-glass" if glass else self._purpose(),
                request_id=self.request_id,
                actor=actor_of(self.principal),
            ),
            now=self.now,
        )

    def _purpose(self) -> str:
        kind = self.principal.organisation_kind
        return "payment" if kind is OrgKind.BILLING_COMPANY else "operations"

    def _patient_ref(self, tenant: str | None, patient_id: str | None) -> str | None:
        # A keyed reference: the privacy officer can find a patient's events,
        # the log alone does not say who the patient is.
        if tenant is None or patient_id is None:
            return None
        return FieldSealer(self.keyring, self.session, tenant).index("audit.patient", patient_id)

    def _deny(self, action: str, decision: Denied, **where: Any) -> AuditedDenial:
        self._audit(action, decision=decision, **where)
        lapsed = self._lapsed(where.get("tenant"))
        if lapsed is not None:
            return AuditedDenial(lapsed)
        try:
            enforce(decision)
        except ClaimbridgeError as error:
            return AuditedDenial(error)
        raise AssertionError("enforce allowed a denial")  # pragma: no cover

    def _lapsed(self, tenant: str | None) -> ClaimbridgeError | None:
        """For a billing company's own engagement, which gate condition failed (invariant 6)."""
        if tenant is None or self.principal.organisation_kind is not OrgKind.BILLING_COMPANY:
            return None
        return refusal(self.session, self.principal.organisation_id, tenant, now=self.now)

    def require(self, permission: Permission, action: str, *, resource_type: str) -> None:
        """Refuse, audited, a principal who lacks ``permission`` altogether."""
        decision = self._decide(permission, None)
        if isinstance(decision, Denied):
            raise self._deny(
                action, decision, resource_type=resource_type, resource_id=None, tenant=None
            )

    def _count(self, query: Select[Any]) -> int:
        return int(self.session.scalar(select(func.count()).select_from(query.subquery())) or 0)

    def _list(
        self,
        model: type[R],
        kind: str,
        permission: Permission,
        order: tuple[Any, ...],
        project: Callable[[R], dict[str, Any]],
        *,
        limit: int,
        offset: int,
        practice: str | None = None,
    ) -> Page:
        """A page of ``kind`` records from every tenant this principal may reach, or one."""
        action = f"phi:{kind}:list"
        self.require(permission, action, resource_type=kind)
        tenants = sorted(self.reachable() | set(self._break_glass()))
        if practice is not None:
            decision = self._decide(permission, practice)
            if isinstance(decision, Denied):
                raise self._deny(
                    action, decision, resource_type=kind, resource_id=None, tenant=practice
                )
            tenants = [practice]
        limit = max(1, min(limit, MAX_PAGE))
        scoped = select(model).where(model.practice_id.in_(tenants))
        rows = self.session.scalars(
            scoped.order_by(*order).limit(limit).offset(max(offset, 0))
        ).all()
        total = self._count(select(model.id).where(model.practice_id.in_(tenants)))
        # One event per practice whose records were listed, so each practice's
        # privacy officer finds the listing in its own trail.
        practices: set[str] = set()
        for row in rows:
            practices.add(row.practice_id)
        listed: list[str | None] = [*sorted(practices)] or [None]
        for tenant in listed:
            self._audit(
                action, decision=Allowed(), resource_type=kind, resource_id=None, tenant=tenant
            )
        return Page([project(row) for row in rows], total, limit, offset)

    def _get(
        self,
        model: type[R],
        kind: str,
        permission: Permission,
        record_id: str,
        *,
        patient_of: Callable[[R], str],
        action: str | None = None,
    ) -> R:
        """One ``kind`` record, if this principal may see its tenant; else "not found"."""
        action = action or f"phi:{kind}:read"
        self.require(permission, action, resource_type=kind)
        row = self.session.get(model, record_id)
        tenant = row.practice_id if row is not None else None
        decision = (
            self._decide(permission, tenant)
            if row is not None
            else Denied(f"no such {kind}", hide_existence=True)
        )
        if isinstance(decision, Denied) or row is None:
            raise self._deny(
                action, _denied(decision), resource_type=kind, resource_id=record_id, tenant=tenant
            )
        self._audit(
            action,
            decision=decision,
            resource_type=kind,
            resource_id=row.id,
            tenant=tenant,
            patient_id=patient_of(row),
        )
        return row

    # -- patients ---------------------------------------------------------------

    def list_patients(
        self, *, limit: int = 50, offset: int = 0, practice: str | None = None
    ) -> Page:
        return self._list(
            Patient,
            "patient",
            Permission.PATIENT_LIST,
            (Patient.id,),
            self._project_patient,
            limit=limit,
            offset=offset,
            practice=practice,
        )

    def get_patient(self, patient_id: str) -> dict[str, Any]:
        row = self._get(
            Patient, "patient", Permission.PATIENT_READ, patient_id, patient_of=lambda p: p.id
        )
        return self._project_patient(row)

    def patient_audit_ref(self, patient_id: str, *, permission: Permission, action: str) -> str:
        """The keyed reference naming ``patient_id`` in the audit log, for a principal
        allowed ``permission`` on the patient's practice; the access is audited as ``action``."""
        row = self._get(
            Patient, "patient", permission, patient_id, patient_of=lambda p: p.id, action=action
        )
        ref = self._patient_ref(row.practice_id, row.id)
        if ref is None:  # pragma: no cover - a stored patient has both ids
            raise NotFound(detail="patient without a reference")
        return ref

    def _project_patient(self, row: Patient) -> dict[str, Any]:
        view = view_of(self.principal.roles, "patient")
        sealer = FieldSealer(self.keyring, self.session, row.practice_id)
        record_ = read_patient(sealer, row)
        values: dict[str, Any] = {
            "id": row.id,
            "practice_id": row.practice_id,
            "mrn": record_.mrn,
            "given_name": record_.given_name,
            "family_name": record_.family_name,
            "birth_date": record_.birth_date,
            "sex": record_.sex,
            "address": _address(record_.address),
            "phone": record_.phone,
            "ssn": record_.ssn,
            "deceased_on": record_.deceased_on,
        }
        projected = {k: v for k, v in values.items() if k in view or k == "practice_id"}
        if "coverages" in view:
            coverage_view = view_of(self.principal.roles, "coverage")
            coverages = self.session.scalars(
                select(Coverage).where(Coverage.patient_id == row.id).order_by(Coverage.priority)
            ).all()
            projected["coverages"] = [
                _only(_coverage_values(read_coverage(sealer, c)), coverage_view) for c in coverages
            ]
        return _jsonable(projected)

    # -- claims ---------------------------------------------------------------------

    def list_claims(self, *, limit: int = 50, offset: int = 0, practice: str | None = None) -> Page:
        return self._list(
            Claim,
            "claim",
            Permission.CLAIM_LIST,
            (Claim.service_from.desc(), Claim.id),
            self._project_claim,
            limit=limit,
            offset=offset,
            practice=practice,
        )

    def get_claim(self, claim_id: str) -> dict[str, Any]:
        row = self._get(
            Claim, "claim", Permission.CLAIM_READ, claim_id, patient_of=lambda c: c.patient_id
        )
        return self._project_claim(row)

    def _project_claim(self, row: Claim) -> dict[str, Any]:
        view = view_of(self.principal.roles, "claim")
        values: dict[str, Any] = {
            "id": row.id,
            "patient_id": row.patient_id,
            "status": row.status,
            "service_from": row.service_from,
            "service_through": row.service_through,
            "place_of_service": row.place_of_service,
            "diagnoses": list(row.diagnoses),
            "rendering_npi": row.rendering_npi,
            "billing_npi": row.billing_npi,
            "total_charge_cents": row.total_charge_cents,
        }
        projected = {k: v for k, v in values.items() if k in view}
        projected["practice_id"] = row.practice_id
        sealer = FieldSealer(self.keyring, self.session, row.practice_id)
        if "patient_account" in view:
            projected["patient_account"] = read_patient_account(sealer, row)
        if "documentation" in view and row.encounter_id:
            encounter = self.session.get(Encounter, row.encounter_id)
            if encounter is not None:
                projected["documentation"] = sealer.unseal(
                    "encounters", "documentation", encounter.id, encounter.documentation
                )
        line_fields = {f.split(".", 1)[1] for f in view if f.startswith("lines.")}
        if line_fields:
            projected["lines"] = [
                _only(
                    {
                        "line_number": line.line_number,
                        "procedure_code": line.procedure_code,
                        "modifiers": list(line.modifiers),
                        "units": str(line.units),
                        "charge_cents": line.charge_cents,
                        "service_date": line.service_date,
                        "diagnosis_pointers": list(line.diagnosis_pointers),
                    },
                    line_fields | {"line_number"},
                )
                for line in row.lines
            ]
        return _jsonable(projected)


def _denied(decision: Decision) -> Denied:
    return decision if isinstance(decision, Denied) else Denied("denied", hide_existence=True)


def _only(values: dict[str, Any], fields: frozenset[str] | set[str]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k in fields}


def _address(address: Any) -> dict[str, str] | None:
    if address is None:
        return None
    return {
        "line": address.line,
        "city": address.city,
        "state": address.state,
        "postal_code": address.postal_code,
    }


def _coverage_values(coverage: Any) -> dict[str, Any]:
    return {
        "payer_name": coverage.payer_name,
        "payer_id": coverage.payer_id,
        "member_id": coverage.member_id,
        "group_number": coverage.group_number,
        "relationship": coverage.relationship,
        "priority": coverage.priority,
    }


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items()}
