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

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from claimbridge.access.permissions import Permission
from claimbridge.access.policy import Allowed, Decision, Denied, decide, enforce, tenants_of
from claimbridge.access.principal import Principal
from claimbridge.access.roles import view_of
from claimbridge.audit.record import Actor, AuditedDenial, Event, record
from claimbridge.crypto.keyring import Keyring
from claimbridge.crypto.sealing import FieldSealer
from claimbridge.errors import ClaimbridgeError
from claimbridge.phi.records import read_coverage, read_patient, read_patient_account
from claimbridge.storage.auth import BreakGlassGrant
from claimbridge.storage.claims import Claim
from claimbridge.storage.clinical import Coverage, Encounter, Patient
from claimbridge.storage.orgs import OrgKind, engaged_practices

MAX_PAGE = 200


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
                actor=Actor(
                    user_id=self.principal.user_id,
                    organisation_id=self.principal.organisation_id,
                    roles=tuple(sorted(r.value for r in self.principal.roles)),
                    auth_method=self.principal.auth_method,
                    source_address=self.principal.source_address,
                ),
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
        try:
            enforce(decision)
        except ClaimbridgeError as error:
            return AuditedDenial(error)
        raise AssertionError("enforce allowed a denial")  # pragma: no cover

    def _require(self, permission: Permission, action: str, *, resource_type: str) -> None:
        decision = self._decide(permission, None)
        if isinstance(decision, Denied):
            raise self._deny(
                action, decision, resource_type=resource_type, resource_id=None, tenant=None
            )

    def _count(self, query: Select[tuple[str]]) -> int:
        return int(self.session.scalar(select(func.count()).select_from(query.subquery())) or 0)

    # -- patients ---------------------------------------------------------------

    def list_patients(self, *, limit: int = 50, offset: int = 0) -> Page:
        action = "phi:patient:list"
        self._require(Permission.PATIENT_LIST, action, resource_type="patient")
        tenants = sorted(self.reachable() | set(self._break_glass()))
        limit = max(1, min(limit, MAX_PAGE))
        query = select(Patient).where(Patient.practice_id.in_(tenants)).order_by(Patient.id)
        rows = self.session.scalars(query.limit(limit).offset(max(offset, 0))).all()
        total = len(
            self.session.scalars(select(Patient.id).where(Patient.practice_id.in_(tenants))).all()
        )
        self._audit(
            action,
            decision=Allowed(),
            resource_type="patient",
            resource_id=None,
            tenant=",".join(tenants) or None,
        )
        return Page([self._project_patient(row) for row in rows], total, limit, offset)

    def get_patient(self, patient_id: str) -> dict[str, Any]:
        action = "phi:patient:read"
        self._require(Permission.PATIENT_READ, action, resource_type="patient")
        row = self.session.get(Patient, patient_id)
        tenant = row.practice_id if row else None
        decision = (
            self._decide(Permission.PATIENT_READ, tenant)
            if row
            else Denied("no such patient", hide_existence=True)
        )
        if isinstance(decision, Denied) or row is None:
            raise self._deny(
                action,
                _denied(decision),
                resource_type="patient",
                resource_id=patient_id,
                tenant=tenant,
                patient_id=None,
            )
        self._audit(
            action,
            decision=decision,
            resource_type="patient",
            resource_id=row.id,
            tenant=tenant,
            patient_id=row.id,
        )
        return self._project_patient(row)

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

    def list_claims(self, *, limit: int = 50, offset: int = 0) -> Page:
        action = "phi:claim:list"
        self._require(Permission.CLAIM_LIST, action, resource_type="claim")
        tenants = sorted(self.reachable() | set(self._break_glass()))
        limit = max(1, min(limit, MAX_PAGE))
        query = (
            select(Claim)
            .where(Claim.practice_id.in_(tenants))
            .order_by(Claim.service_from.desc(), Claim.id)
        )
        rows = self.session.scalars(query.limit(limit).offset(max(offset, 0))).all()
        total = len(
            self.session.scalars(select(Claim.id).where(Claim.practice_id.in_(tenants))).all()
        )
        self._audit(
            action,
            decision=Allowed(),
            resource_type="claim",
            resource_id=None,
            tenant=",".join(tenants) or None,
        )
        return Page([self._project_claim(row) for row in rows], total, limit, offset)

    def get_claim(self, claim_id: str) -> dict[str, Any]:
        action = "phi:claim:read"
        self._require(Permission.CLAIM_READ, action, resource_type="claim")
        row = self.session.get(Claim, claim_id)
        tenant = row.practice_id if row else None
        decision = (
            self._decide(Permission.CLAIM_READ, tenant)
            if row
            else Denied("no such claim", hide_existence=True)
        )
        if isinstance(decision, Denied) or row is None:
            raise self._deny(
                action,
                _denied(decision),
                resource_type="claim",
                resource_id=claim_id,
                tenant=tenant,
            )
        self._audit(
            action,
            decision=decision,
            resource_type="claim",
            resource_id=row.id,
            tenant=tenant,
            patient_id=row.patient_id,
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
