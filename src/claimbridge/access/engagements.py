"""The engagement gate: whether a billing company may reach a practice's PHI now.

An engagement is open only while every condition holds (DESIGN.md
invariant 6):

1. a BAA is signed and in force (effective, not expired);
2. the latest decided assessment is approved,
3. and younger than the reassessment period (12 months unless the
   engagement says otherwise);
4. no critical remediation item of that assessment is past due;
5. no certificate the questionnaire requires has expired.

Every one of these fails at a moment known in advance, so ``standing``
also answers *until when* everything holds. ``refresh`` stores that
instant as ``engagements.active_until``, and every request checks it
(``storage.orgs.engaged_practices``): a lapse stops access on the first
request after it, even before anything has noticed. Noticing is
``refresh``'s other job: it moves the engagement between active and
suspended, writes the audit event and leaves a notice for both sides.

Dates are whole days in UTC: a document that expires on a date is good
through that date, and a remediation due on a date is past due the day
after.
"""

from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from claimbridge.audit.record import LOCAL_OPERATOR, Actor, Event, record
from claimbridge.errors import AccessDenied
from claimbridge.storage.orgs import Engagement, EngagementStatus
from claimbridge.storage.vendors import (
    Assessment,
    AssessmentEvidence,
    AssessmentReview,
    AssessmentStatus,
    BusinessAssociateAgreement,
    EngagementNotice,
    NoticeKind,
    ReviewDecision,
)

__all__ = [
    "Condition",
    "Deadline",
    "EngagementInactive",
    "Failure",
    "Standing",
    "add_months",
    "day_end",
    "refresh",
    "refusal",
    "standing",
]


class Condition(enum.StrEnum):
    NO_BAA = "no_baa"
    BAA_NOT_IN_FORCE = "baa_not_in_force"
    BAA_EXPIRED = "baa_expired"
    ASSESSMENT_NOT_APPROVED = "assessment_not_approved"
    ASSESSMENT_EXPIRED = "assessment_expired"
    REMEDIATION_PAST_DUE = "remediation_past_due"
    CERTIFICATE_EXPIRED = "certificate_expired"
    TERMINATED = "terminated"


class EngagementInactive(AccessDenied):
    """A billing company asked for a practice it is engaged with, while the gate is shut.

    Unlike other tenants' data, the engagement's existence is no secret to
    its own billing company, so the refusal says which condition failed.
    """

    code = "engagement_inactive"
    public_message = "The engagement with this practice is not active."

    def __init__(self, reason: str, *, condition: str) -> None:
        super().__init__(
            f"The engagement with this practice is not active: {reason}.", where=condition
        )
        self.reason = reason
        """Every failed condition, as a sentence both sides may read."""


@dataclass(frozen=True, slots=True)
class Deadline:
    """A moment at which one condition will stop holding."""

    condition: Condition
    at: datetime
    message: str


@dataclass(frozen=True, slots=True)
class Failure:
    condition: Condition
    reason: str


@dataclass(frozen=True, slots=True)
class Standing:
    failures: tuple[Failure, ...] = ()
    """Every condition that does not hold, the weightiest first."""
    deadlines: tuple[Deadline, ...] = field(default=())
    """Every future moment a condition lapses, soonest first (for reminders)."""

    @property
    def failure(self) -> Failure | None:
        """The condition named first when access is refused."""
        return self.failures[0] if self.failures else None

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def reason(self) -> str | None:
        return "; ".join(f.reason for f in self.failures) or None

    @property
    def until(self) -> datetime | None:
        return self.deadlines[0].at if self.ok and self.deadlines else None


class _Findings:
    """Failures and deadlines, gathered as the conditions are checked at ``now``."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.failures: list[Failure] = []
        self.deadlines: list[Deadline] = []

    def fail(self, condition: Condition, reason: str) -> None:
        self.failures.append(Failure(condition, reason))

    def lapses(self, condition: Condition, at: datetime, message: str) -> None:
        """The condition holds until ``at``: failed now, or a deadline ahead."""
        if self.now >= at:
            self.fail(condition, message)
        else:
            self.deadlines.append(Deadline(condition, at, message))


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def day_end(day: date) -> datetime:
    """The first instant after ``day``: when something good through ``day`` lapses."""
    return day_start(day + timedelta(days=1))


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus calendar months, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    total = moment.month - 1 + months
    year, month = moment.year + total // 12, total % 12 + 1
    return moment.replace(
        year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1])
    )


def standing(session: Session, engagement: Engagement, *, now: datetime) -> Standing:
    """Whether every condition of the gate holds at ``now``; if not, each that fails.

    The assessment's conditions come first: a rejected or stale assessment
    is the weightier reason, and names what the billing company must fix.
    """
    if engagement.status == EngagementStatus.TERMINATED.value:
        return Standing(failures=(Failure(Condition.TERMINATED, "the engagement was terminated"),))
    found = _Findings(now)
    _assessment(session, engagement, found)
    _baa(session, engagement, found)
    return Standing(
        failures=tuple(found.failures),
        deadlines=tuple(sorted(found.deadlines, key=lambda d: d.at)),
    )


def _baa(session: Session, engagement: Engagement, found: _Findings) -> None:
    baa = session.scalars(
        select(BusinessAssociateAgreement)
        .where(
            BusinessAssociateAgreement.engagement_id == engagement.id,
            BusinessAssociateAgreement.superseded_at.is_(None),
        )
        .order_by(BusinessAssociateAgreement.signed_at.desc())
        .limit(1)
    ).first()
    if baa is None:
        found.fail(Condition.NO_BAA, "no signed business associate agreement is on record")
        return
    if found.now < day_start(baa.effective_on):
        found.fail(
            Condition.BAA_NOT_IN_FORCE,
            f"the business associate agreement {baa.version} takes effect on {baa.effective_on}",
        )
    if baa.expires_on is not None:
        found.lapses(
            Condition.BAA_EXPIRED,
            day_end(baa.expires_on),
            f"the business associate agreement {baa.version} expired on {baa.expires_on}",
        )


def _assessment(session: Session, engagement: Engagement, found: _Findings) -> None:
    decided = session.scalars(
        select(Assessment)
        .where(
            Assessment.engagement_id == engagement.id,
            Assessment.decided_at.is_not(None),
            Assessment.status.in_(
                [AssessmentStatus.APPROVED.value, AssessmentStatus.REJECTED.value]
            ),
        )
        .order_by(Assessment.decided_at.desc())
        .limit(1)
    ).first()
    if decided is None or decided.decided_at is None:
        found.fail(Condition.ASSESSMENT_NOT_APPROVED, "no risk assessment has been approved")
        return
    if decided.status != AssessmentStatus.APPROVED.value:
        found.fail(
            Condition.ASSESSMENT_NOT_APPROVED,
            f"the latest risk assessment was rejected on {decided.decided_at.date()}",
        )
        return
    ends = add_months(decided.decided_at, engagement.reassessment_months)
    found.lapses(
        Condition.ASSESSMENT_EXPIRED,
        ends,
        f"the risk assessment approved on {decided.decided_at.date()} is older than "
        f"{engagement.reassessment_months} months (due for reassessment on {ends.date()})",
    )
    _remediation(session, decided, found)
    _certificates(session, decided, found)


def _remediation(session: Session, assessment: Assessment, found: _Findings) -> None:
    open_items = session.scalars(
        select(AssessmentReview)
        .where(
            AssessmentReview.assessment_id == assessment.id,
            AssessmentReview.decision == ReviewDecision.REMEDIATION.value,
            AssessmentReview.critical.is_(True),
            AssessmentReview.resolved_at.is_(None),
        )
        .order_by(AssessmentReview.due_on, AssessmentReview.question_id)
    ).all()
    for item in open_items:
        if item.due_on is None:  # the table's check forbids it: remediation has a due date
            continue
        found.lapses(
            Condition.REMEDIATION_PAST_DUE,
            day_end(item.due_on),
            f"critical remediation of {item.question_id} was due on {item.due_on}",
        )


def _certificates(session: Session, assessment: Assessment, found: _Findings) -> None:
    """Required certificates: each question is good until its latest document expires."""
    rows = session.execute(
        select(
            AssessmentEvidence.question_id, AssessmentEvidence.title, AssessmentEvidence.expires_on
        ).where(
            AssessmentEvidence.assessment_id == assessment.id,
            AssessmentEvidence.certificate.is_(True),
        )
    ).all()
    latest: dict[str, tuple[date, str]] = {}
    for question, title, expires in rows:
        if expires is not None and (question not in latest or expires > latest[question][0]):
            latest[question] = (expires, title)
    for question in sorted(latest, key=lambda q: (latest[q][0], q)):
        expires, title = latest[question]
        found.lapses(
            Condition.CERTIFICATE_EXPIRED,
            day_end(expires),
            f"the required certificate for {question} ({title}) expired on {expires}",
        )


def refresh(
    session: Session, engagement: Engagement, *, now: datetime, actor: Actor = LOCAL_OPERATOR
) -> Standing:
    """Bring ``engagement`` in line with its standing: open, lapse or restore it, audited."""
    found = standing(session, engagement, now=now)
    if engagement.status == EngagementStatus.TERMINATED.value:
        return found
    failure = found.failure
    if failure is None:
        engagement.active_until = found.until
        if engagement.status != EngagementStatus.ACTIVE.value:
            was = engagement.status
            engagement.status = EngagementStatus.ACTIVE.value
            engagement.lapse_condition = engagement.lapse_reason = None
            engagement.lapsed_at = None
            action = "restored" if was == EngagementStatus.SUSPENDED.value else "activated"
            session.add(_notice(engagement, found, now, opened=action == "activated"))
            _audit(session, engagement, f"vendors:engagement:{action}", now, actor)
        session.flush()
        return found
    engagement.active_until = None
    changed = engagement.lapse_reason != found.reason
    engagement.lapse_condition, engagement.lapse_reason = failure.condition.value, found.reason
    if engagement.status == EngagementStatus.ACTIVE.value:
        engagement.status = EngagementStatus.SUSPENDED.value
        engagement.lapsed_at = now
        session.add(_notice(engagement, found, now))
        _audit(session, engagement, "vendors:engagement:lapsed", now, actor, outcome="denied")
    elif changed and engagement.status == EngagementStatus.SUSPENDED.value:
        session.add(_notice(engagement, found, now))
    session.flush()
    return found


def _notice(
    engagement: Engagement, found: Standing, now: datetime, *, opened: bool = False
) -> EngagementNotice:
    """The lapse or restoration, told to both sides."""
    if found.failure is not None:
        kind, condition = NoticeKind.LAPSED, found.failure.condition.value
        message = f"Access stopped: {found.reason}."
    else:
        kind, condition = NoticeKind.RESTORED, "all"
        verb = "opened" if opened else "restored"
        message = f"Access {verb}: every condition of the engagement holds."
    return EngagementNotice(
        engagement_id=engagement.id,
        kind=kind.value,
        condition=condition,
        message=message,
        due_at=None,
        created_at=now,
    )


def _audit(
    session: Session,
    engagement: Engagement,
    action: str,
    now: datetime,
    actor: Actor,
    *,
    outcome: str = "success",
) -> None:
    record(
        session,
        Event(
            action=action,
            outcome=outcome,
            resource_type="engagement",
            resource_id=engagement.id,
            tenant_id=engagement.practice_id,
            actor=actor,
        ),
        now=now,
    )


def refusal(
    session: Session, billing_company_id: str, practice_id: str, *, now: datetime
) -> EngagementInactive | None:
    """Why ``billing_company_id`` may not reach ``practice_id`` now, if it has an engagement.

    ``None`` when there is no engagement between them at all: then the
    practice is none of the billing company's business and the caller
    reports "not found".
    """
    engagement = session.scalars(
        select(Engagement)
        .where(
            Engagement.billing_company_id == billing_company_id,
            Engagement.practice_id == practice_id,
        )
        .order_by(Engagement.created_at.desc())
        .limit(1)
    ).first()
    if engagement is None:
        return None
    found = standing(session, engagement, now=now)
    if found.failure is not None:
        reason, condition = found.reason or "", found.failure.condition.value
    elif engagement.status != EngagementStatus.ACTIVE.value:
        reason = f"the engagement is {engagement.status}, not yet active"
        condition = engagement.status
    else:
        return None
    return EngagementInactive(reason, condition=condition)
