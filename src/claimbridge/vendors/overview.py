"""Engagements as their two parties see them: standing, deadlines, BAA terms, notices.

``list_engagements`` and ``show_engagement`` answer "may this billing
company reach our PHI now, and if not, why; and what lapses next?" for
either party (``vendors:engagement:read``: practice admins, privacy
officers, vendor admins; a biller does not hold it). The standing shown is
the gate's own (``access/engagements.standing``), evaluated at ``now``:
reading changes nothing. ``notices`` are the lapses, restorations and
reminders left for both sides.

Nothing here is PHI; a successful read is not audited, a refusal is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from claimbridge.access.engagements import Standing, standing
from claimbridge.access.permissions import Permission
from claimbridge.access.principal import Principal
from claimbridge.storage.orgs import Engagement, EngagementStatus, Organisation
from claimbridge.storage.vendors import Assessment, EngagementNotice
from claimbridge.vendors.agreements import baa_json, baa_versions
from claimbridge.vendors.offboarding import termination_json
from claimbridge.vendors.parties import EngagementScope, visible

__all__ = [
    "MAX_NOTICES",
    "all_engagements",
    "engagement_json",
    "list_engagements",
    "list_notices",
    "notice_json",
    "show_engagement",
    "standing_json",
]

MAX_NOTICES = 500
LIST = "vendors:engagement:list"
READ = "vendors:engagement:read"
_Practice = aliased(Organisation)
_Vendor = aliased(Organisation)


def list_engagements(
    session: Session, principal: Principal, *, now: datetime, request_id: str | None = None
) -> list[dict[str, Any]]:
    """The principal's organisation's engagements, newest first, with their status now."""
    scope = EngagementScope(session, principal, now=now, request_id=request_id)
    scope.require(Permission.ENGAGEMENT_READ, LIST, "engagement")
    return _rows(session, visible(principal), now)


def all_engagements(session: Session, *, now: datetime) -> list[dict[str, Any]]:
    """Every engagement on this server (for whoever holds the data directory)."""
    return _rows(session, None, now)


def _rows(session: Session, where: Any, now: datetime) -> list[dict[str, Any]]:
    query = (
        select(Engagement, _Practice.name, _Vendor.name)
        .join(_Practice, _Practice.id == Engagement.practice_id)
        .join(_Vendor, _Vendor.id == Engagement.billing_company_id)
        .order_by(Engagement.created_at.desc(), Engagement.id)
    )
    if where is not None:
        query = query.where(where)
    return [
        engagement_json(engagement, practice, vendor, now=now)
        for engagement, practice, vendor in session.execute(query).all()
    ]


def show_engagement(
    session: Session,
    principal: Principal,
    engagement_id: str,
    *,
    now: datetime,
    request_id: str | None = None,
    notices: int = 20,
) -> dict[str, Any]:
    """One engagement: its standing now, what lapses next, its BAA, assessment and notices."""
    scope = EngagementScope(session, principal, now=now, request_id=request_id)
    engagement = scope.find(
        engagement_id, Permission.ENGAGEMENT_READ, READ, resource_type="engagement"
    )
    practice = session.get(Organisation, engagement.practice_id)
    vendor = session.get(Organisation, engagement.billing_company_id)
    shown = engagement_json(
        engagement,
        practice.name if practice else "",
        vendor.name if vendor else "",
        now=now,
    )
    found = standing(session, engagement, now=now)
    versions = baa_versions(session, engagement.id)
    current = next((v for v in versions if v.superseded_at is None), None)
    return {
        **shown,
        "standing": standing_json(found),
        "baa": baa_json(current) if current else None,
        "assessment": _latest_assessment(session, engagement.id),
        "termination": termination_json(session, engagement, now=now),
        "notices": [notice_json(row) for row in _notices(session, engagement.id, notices)],
    }


def list_notices(
    session: Session,
    principal: Principal,
    engagement_id: str,
    *,
    now: datetime,
    request_id: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The notices of one engagement, newest first."""
    scope = EngagementScope(session, principal, now=now, request_id=request_id)
    engagement = scope.find(
        engagement_id, Permission.ENGAGEMENT_READ, READ, resource_type="engagement"
    )
    return [
        notice_json(row)
        for row in _notices(session, engagement.id, max(1, min(limit, MAX_NOTICES)))
    ]


def _notices(session: Session, engagement_id: str, limit: int) -> Sequence[EngagementNotice]:
    return session.scalars(
        select(EngagementNotice)
        .where(EngagementNotice.engagement_id == engagement_id)
        .order_by(EngagementNotice.created_at.desc(), EngagementNotice.id)
        .limit(limit)
    ).all()


def _latest_assessment(session: Session, engagement_id: str) -> dict[str, Any] | None:
    """The newest assessment, and the newest decided one if that is another."""
    rows = session.scalars(
        select(Assessment)
        .where(Assessment.engagement_id == engagement_id)
        .order_by(Assessment.created_at.desc(), Assessment.id)
    ).all()
    if not rows:
        return None
    latest = rows[0]
    decided = max(
        (row for row in rows if row.decided_at is not None),
        key=lambda row: row.decided_at or row.created_at,
        default=None,
    )
    shown = _assessment_json(latest)
    shown["decided"] = _assessment_json(decided) if decided and decided is not latest else None
    return shown


def _assessment_json(row: Assessment) -> dict[str, Any]:
    return {
        "id": row.id,
        "status": row.status,
        "questionnaire_version": row.questionnaire_version,
        "rating": row.rating,
        "submitted_at": row.submitted_at.isoformat() if row.submitted_at else None,
        "decided_at": row.decided_at.isoformat() if row.decided_at else None,
    }


def engagement_json(
    engagement: Engagement, practice: str, vendor: str, *, now: datetime
) -> dict[str, Any]:
    until = engagement.active_until
    open_now = (
        engagement.status == EngagementStatus.ACTIVE.value and until is not None and until > now
    )
    lapse = (
        {
            "condition": engagement.lapse_condition,
            "reason": engagement.lapse_reason,
            "since": engagement.lapsed_at.isoformat() if engagement.lapsed_at else None,
        }
        if engagement.lapse_condition
        else None
    )
    return {
        "id": engagement.id,
        "practice": {"id": engagement.practice_id, "name": practice},
        "billing_company": {"id": engagement.billing_company_id, "name": vendor},
        "status": engagement.status,
        "active": open_now,
        "active_until": until.isoformat() if until else None,
        "lapse": lapse,
        "baa_signed_at": engagement.baa_signed_at.isoformat() if engagement.baa_signed_at else None,
        "reassessment_months": engagement.reassessment_months,
        "created_at": engagement.created_at.isoformat(),
        "terminated_at": engagement.terminated_at.isoformat() if engagement.terminated_at else None,
    }


def standing_json(found: Standing) -> dict[str, Any]:
    return {
        "ok": found.ok,
        "failure": (
            {"condition": found.failure.condition.value, "reason": found.failure.reason}
            if found.failure
            else None
        ),
        "until": found.until.isoformat() if found.until else None,
        "deadlines": [
            {"condition": d.condition.value, "at": d.at.isoformat(), "message": d.message}
            for d in found.deadlines
        ],
    }


def notice_json(row: EngagementNotice) -> dict[str, Any]:
    condition, lead = row.condition, row.lead_days
    return {
        "id": row.id,
        "engagement_id": row.engagement_id,
        "kind": row.kind,
        "condition": condition,
        "lead_days": lead,
        "message": row.message,
        "due_at": row.due_at.isoformat() if row.due_at else None,
        "created_at": row.created_at.isoformat(),
        "delivered_at": row.delivered_at.isoformat() if row.delivered_at else None,
        "delivery_error": row.delivery_error,
    }
