"""The watcher: every engagement's gate checked on a schedule, reminders, and notices sent.

The gate stops access the moment a condition lapses, whether or not
anyone is asking (``engagements.active_until``); what nothing does by
itself is *tell* anyone. ``sweep`` runs the gate's ``refresh`` on every
engagement not terminated, so a lapse that happened overnight is recorded
(``vendors:engagement:lapsed``, and a notice for both sides) on the next
sweep, and leaves a reminder ahead of each deadline the gate knows
(a BAA or certificate expiring, a reassessment or a critical remediation
falling due) at each configured lead time (``reminder_days``, by default
30, 7 and 1 days), audited as ``vendors:engagement:reminded``.

A reminder is made once per deadline and lead time, however often and on
however many servers the watcher runs: the notice table's unique
constraint decides, and a sweep that loses the race on PostgreSQL rolls
back only its savepoint. When a first sweep finds a deadline already
near, it leaves only the most urgent reminder due, not every one missed.

``deliver_pending`` then hands each undelivered notice to the notifier
(``notify.py``) outside any transaction, so a slow webhook holds no
database lock; a failure is kept in ``delivery_error`` and the notice
tried again on the next sweep. ``Watcher`` runs both every
``watch_interval_seconds`` in a thread beside ``claimbridge serve``;
``claimbridge engagements check`` runs them once.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, aliased, sessionmaker

from claimbridge.access.engagements import Condition, Deadline, refresh
from claimbridge.audit.record import Actor, Event, record
from claimbridge.clock import Clock
from claimbridge.config import Settings
from claimbridge.errors import ClaimbridgeError
from claimbridge.storage.db import lock_for_append
from claimbridge.storage.orgs import (
    Engagement,
    EngagementStatus,
    Organisation,
    Role,
    User,
    UserRole,
)
from claimbridge.storage.vendors import EngagementNotice, NoticeKind
from claimbridge.vendors.notify import (
    MAX_ERROR,
    Notice,
    NotificationFailed,
    Notifier,
    StoreOnlyNotifier,
)
from claimbridge.vendors.shredding import shred, shred_due
from claimbridge.vendors.terminations import Offboarding

__all__ = [
    "REMINDED",
    "WATCHER",
    "Change",
    "Reminder",
    "Sweep",
    "Watcher",
    "deliver_pending",
    "sweep",
]

log = logging.getLogger("claimbridge.vendors")

REMINDED = "vendors:engagement:reminded"
WATCHER = Actor(
    user_id=None,
    organisation_id=None,
    roles=("operator",),
    auth_method="engagement-watcher",
    source_address=None,
)
"""How the audit log names the watcher: the server itself, on its schedule."""

DELIVER_BATCH = 200
_READERS = {
    "practice": (Role.PRACTICE_ADMIN.value, Role.PRIVACY_OFFICER.value),
    "vendor": (Role.VENDOR_ADMIN.value,),
}
_REMEDY = {
    Condition.BAA_EXPIRED: "a renewed business associate agreement is recorded",
    Condition.ASSESSMENT_EXPIRED: "a new risk assessment is approved",
    Condition.REMEDIATION_PAST_DUE: "the critical remediation is resolved",
    Condition.CERTIFICATE_EXPIRED: "a renewed certificate is uploaded",
}


@dataclass(frozen=True, slots=True)
class Change:
    """An engagement that opened, lapsed or was restored in this sweep."""

    engagement_id: str
    became: str
    condition: str | None
    reason: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "engagement_id": self.engagement_id,
            "became": self.became,
            "condition": self.condition,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Reminder:
    engagement_id: str
    condition: str
    lead_days: int
    due_at: datetime
    message: str

    def to_json(self) -> dict[str, Any]:
        return {
            "engagement_id": self.engagement_id,
            "condition": self.condition,
            "lead_days": self.lead_days,
            "due_at": self.due_at.isoformat(),
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class Sweep:
    checked: int
    changes: tuple[Change, ...] = ()
    reminders: tuple[Reminder, ...] = ()
    delivered: int = 0
    failed: int = 0
    shredded: tuple[str, ...] = ()
    """Engagements whose practice's data the watcher crypto-shredded in this run."""

    @property
    def lapsed(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.became == EngagementStatus.SUSPENDED.value)

    def to_json(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "shredded": list(self.shredded),
            "changes": [c.to_json() for c in self.changes],
            "reminders": [r.to_json() for r in self.reminders],
            "notices_delivered": self.delivered,
            "notices_failed": self.failed,
        }


def sweep(session: Session, *, now: datetime, settings: Settings) -> Sweep:
    """Run the gate on every live engagement and leave the reminders due (not committed)."""
    # Lock order, so a sweep never deadlocks with a service: the audit log's
    # append lock first (what a sweep waits for), then only engagements no
    # one holds. A service changing one now runs the gate on it itself.
    lock_for_append(session, "audit")
    engagements = session.scalars(
        select(Engagement)
        .where(Engagement.status != EngagementStatus.TERMINATED.value)
        .order_by(Engagement.created_at, Engagement.id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).all()
    changes: list[Change] = []
    reminders: list[Reminder] = []
    for engagement in engagements:
        was = engagement.status
        found = refresh(session, engagement, now=now, actor=WATCHER)
        if engagement.status != was and engagement.status in {
            EngagementStatus.ACTIVE.value,
            EngagementStatus.SUSPENDED.value,
        }:
            changes.append(
                Change(
                    engagement.id,
                    engagement.status,
                    engagement.lapse_condition,
                    engagement.lapse_reason,
                )
            )
        if found.ok:
            for deadline in found.deadlines:
                made = _remind(session, engagement, deadline, settings.reminder_days, now)
                if made is not None:
                    reminders.append(made)
    return Sweep(checked=len(engagements), changes=tuple(changes), reminders=tuple(reminders))


def _lead(deadline: Deadline, now: datetime, leads: Sequence[int]) -> int | None:
    """The shortest lead time already reached before ``deadline``, if any."""
    left = deadline.at - now
    reached = [days for days in leads if left <= timedelta(days=days)]
    return min(reached) if reached and left > timedelta(0) else None


def _remind(
    session: Session,
    engagement: Engagement,
    deadline: Deadline,
    leads: Sequence[int],
    now: datetime,
) -> Reminder | None:
    lead = _lead(deadline, now, leads)
    if lead is None:
        return None
    exists = session.scalar(
        select(EngagementNotice.id).where(
            EngagementNotice.engagement_id == engagement.id,
            EngagementNotice.kind == NoticeKind.REMINDER.value,
            EngagementNotice.condition == deadline.condition.value,
            EngagementNotice.due_at == deadline.at,
            EngagementNotice.lead_days == lead,
        )
    )
    if exists is not None:
        return None
    message = _reminder_message(deadline, now)
    try:
        with session.begin_nested():
            session.add(
                EngagementNotice(
                    engagement_id=engagement.id,
                    kind=NoticeKind.REMINDER.value,
                    condition=deadline.condition.value,
                    message=message,
                    due_at=deadline.at,
                    lead_days=lead,
                    created_at=now,
                )
            )
    except IntegrityError:
        return None  # another sweep made this reminder first
    record(
        session,
        Event(
            action=REMINDED,
            resource_type="engagement",
            resource_id=engagement.id,
            tenant_id=engagement.practice_id,
            actor=WATCHER,
        ),
        now=now,
    )
    return Reminder(engagement.id, deadline.condition.value, lead, deadline.at, message)


def _reminder_message(deadline: Deadline, now: datetime) -> str:
    days = max(1, math.ceil((deadline.at - now) / timedelta(days=1)))
    remedy = _REMEDY.get(deadline.condition, "the condition is met again")
    return (
        f"Access stops in {days} day{'s' if days != 1 else ''} "
        f"(at {deadline.at:%Y-%m-%d %H:%M} UTC) unless {remedy}: {deadline.message}."
    )


# -- delivery ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Delivered:
    delivered: int
    failed: int


def deliver_pending(
    sessions: sessionmaker[Session],
    notifier: Notifier,
    *,
    clock: Clock,
    limit: int = DELIVER_BATCH,
) -> Delivered:
    """Hand undelivered notices, oldest first, to ``notifier``; record each outcome."""
    with sessions() as session:
        notices = _pending(session, limit)
    outcomes: dict[str, str | None] = {}
    for notice in notices:
        try:
            notifier.deliver(notice)
            outcomes[notice.id] = None
        except NotificationFailed as failed:
            log.warning("engagement notice %s not delivered: %s", notice.id, failed.message)
            outcomes[notice.id] = failed.message[:MAX_ERROR]
    if outcomes:
        with sessions.begin() as session:
            now = clock.now()
            for notice_id, error in outcomes.items():
                row = session.get(EngagementNotice, notice_id, with_for_update=True)
                if row is None or row.delivered_at is not None:
                    continue
                row.delivery_error = error
                row.delivered_at = now if error is None else None
    failures = sum(1 for error in outcomes.values() if error is not None)
    return Delivered(len(outcomes) - failures, failures)


def _pending(session: Session, limit: int) -> list[Notice]:
    practice, vendor = aliased(Organisation), aliased(Organisation)
    rows = session.execute(
        select(EngagementNotice, Engagement, practice.name, vendor.name)
        .join(Engagement, Engagement.id == EngagementNotice.engagement_id)
        .join(practice, practice.id == Engagement.practice_id)
        .join(vendor, vendor.id == Engagement.billing_company_id)
        .where(EngagementNotice.delivered_at.is_(None))
        .order_by(EngagementNotice.created_at, EngagementNotice.id)
        .limit(limit)
    ).all()
    readers: dict[str, tuple[str, ...]] = {}
    notices = []
    for row, engagement, practice_name, vendor_name in rows:
        if engagement.id not in readers:
            readers[engagement.id] = _readers(session, engagement)
        condition, lead = row.condition, row.lead_days
        notices.append(
            Notice(
                id=row.id,
                engagement_id=engagement.id,
                practice_id=engagement.practice_id,
                practice_name=practice_name,
                billing_company_id=engagement.billing_company_id,
                billing_company_name=vendor_name,
                kind=row.kind,
                condition=condition,
                lead_days=lead,
                message=row.message,
                due_at=row.due_at,
                created_at=row.created_at,
                recipients=readers[engagement.id],
            )
        )
    return notices


def _readers(session: Session, engagement: Engagement) -> tuple[str, ...]:
    """E-mail addresses of both parties' administrators (who hold ``engagement:read``)."""
    found: set[str] = set()
    for org, roles in (
        (engagement.practice_id, _READERS["practice"]),
        (engagement.billing_company_id, _READERS["vendor"]),
    ):
        found.update(
            session.scalars(
                select(User.email)
                .join(UserRole, UserRole.user_id == User.id)
                .where(
                    User.organisation_id == org, User.status == "active", UserRole.role.in_(roles)
                )
            )
        )
    return tuple(sorted(found))


# -- the thread ---------------------------------------------------------------------------


class Watcher:
    """``sweep`` and ``deliver_pending`` every ``interval`` seconds, in a thread."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        *,
        clock: Clock,
        notifier: Notifier | None = None,
        interval: float | None = None,
        offboarding: Offboarding | None = None,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.clock = clock
        self.notifier = notifier or StoreOnlyNotifier()
        self.offboarding = offboarding
        """With it, the watcher also crypto-shreds terminated engagements once due."""
        self.interval = interval if interval is not None else settings.watch_interval_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> Sweep:
        """One sweep, committed, then the pending notices delivered."""
        with self.sessions.begin() as session:
            found = sweep(session, now=self.clock.now(), settings=self.settings)
        shredded = self._shred_due()
        sent = deliver_pending(self.sessions, self.notifier, clock=self.clock)
        return replace(found, delivered=sent.delivered, failed=sent.failed, shredded=shredded)

    def _shred_due(self) -> tuple[str, ...]:
        """Terminations whose return was confirmed or whose period ran out, shredded."""
        if self.offboarding is None:
            return ()
        with self.sessions() as session:
            due = shred_due(session, self.clock.now())
        for engagement_id in due:
            shred(self.sessions, self.offboarding, engagement_id, now=self.clock.now())
        return tuple(due)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="engagement-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        # The first sweep at once: a server started in the morning records
        # the night's lapses before anyone asks.
        while True:
            self._run_logged()
            if self._stop.wait(self.interval):
                return

    def _run_logged(self) -> None:
        try:
            found = self.run_once()
        except (SQLAlchemyError, ClaimbridgeError) as error:
            # A busy or unreachable database only postpones the sweep; the
            # gate itself keeps working on every request meanwhile.
            log.warning("engagement sweep postponed: %s", type(error).__name__)
            return
        except Exception:  # the thread's edge: it must outlive any one sweep
            log.exception("engagement sweep failed")
            return
        for change in found.changes:
            log.info("engagement %s became %s", change.engagement_id, change.became)
        if found.reminders or found.delivered or found.failed:
            log.info(
                "engagement sweep: %d reminders, %d notices delivered, %d failed",
                len(found.reminders),
                found.delivered,
                found.failed,
            )
