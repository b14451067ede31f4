"""Throttling failed sign-ins: lockout with exponential back-off.

Two records are kept for every attempt, one per account name and one per
source address, each a ``FailureRecord`` under its own ``LockoutPolicy``.
Before checking credentials the caller calls ``check_not_locked`` on both;
after, ``register_failure`` or ``register_success`` on both, and stores the
records it gets back. Nothing here reads a clock or a table.

The numbers (``ACCOUNT_POLICY``, ``ADDRESS_POLICY``):

- Per account, the 5th failure in a row locks for 1 minute and each
  further failure doubles the lock (2, 4, 8, ... minutes) up to 1 hour.
  NIST SP 800-63B section 5.2.2 requires that failed attempts on one
  account be effectively limited and names growing wait times as a way to
  do it; OWASP's Authentication Cheat Sheet recommends an exponential
  lockout rather than a permanent one, so that a lock cannot shut a user
  out for good. The cap of one hour bounds that denial of service.
- Failures are forgotten after 15 quiet minutes, counted from the last
  failure or from the end of its lock, whichever is later; otherwise every
  long lock would end with the count already forgotten and the back-off
  could never grow. The limit is therefore a rate, not an absolute count:
  at best an attacker gets five guesses every 16 minutes on one account
  (about 450 a day), against passwords the policy has already made hard to
  guess. NIST's "no more than 100 consecutive failures" would need a lock
  that only a reset can lift; that is a product decision, not made here.
- Per source address, the 20th failure locks (a practice's staff often
  share one address behind NAT), with the same back-off from there.
  Credential stuffing spreads guesses over many accounts, so only the
  address record sees it. A success does not reset the address record:
  otherwise an attacker with one valid account could sign in between
  guesses to wipe the count.

A refused attempt while locked is not a failure: no credential was checked.
Locking must not reveal whether an account exists: callers keep records for
every account *name* tried, existing or not, and ``LockedOut`` says the same
thing for both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from claimbridge.errors import Unauthenticated

_MICROSECOND = timedelta(microseconds=1)


class LockedOut(Unauthenticated):
    """Too many recent failures; ``retry_after`` is the wait in whole seconds."""

    code = "locked_out"
    public_message = "Too many failed sign-in attempts. Try again later."

    def __init__(self, *, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(detail=f"locked for {retry_after} more seconds")


@dataclass(frozen=True)
class LockoutPolicy:
    """When failures lock, for how long, and when they are forgotten."""

    threshold: int = 5
    first_lock: timedelta = timedelta(minutes=1)
    max_lock: timedelta = timedelta(hours=1)
    forget_after: timedelta = timedelta(minutes=15)
    reset_on_success: bool = True

    def __post_init__(self) -> None:
        if self.threshold < 1:
            raise ValueError("threshold must be at least 1")
        if not timedelta(0) < self.first_lock <= self.max_lock:
            raise ValueError("locks must be positive, and first_lock at most max_lock")
        if self.forget_after <= timedelta(0):
            raise ValueError("forget_after must be positive")

    def lock_for(self, count: int) -> timedelta:
        """How long ``count`` consecutive failures lock: zero below the threshold."""
        if count < self.threshold:
            return timedelta(0)
        # Integer microseconds, capped before converting back, and the
        # exponent bounded, so no failure count can overflow timedelta.
        first, cap = self.first_lock // _MICROSECOND, self.max_lock // _MICROSECOND
        doublings = min(count - self.threshold, (cap // first).bit_length())
        return min(first << doublings, cap) * _MICROSECOND


ACCOUNT_POLICY = LockoutPolicy()
ADDRESS_POLICY = LockoutPolicy(threshold=20, reset_on_success=False)


@dataclass(frozen=True)
class FailureRecord:
    """Recent failures of one account name or one source address."""

    count: int = 0
    last_failure_at: datetime | None = None
    locked_until: datetime | None = None


CLEAN = FailureRecord()


def check_not_locked(record: FailureRecord, *, now: datetime) -> None:
    """Raise ``LockedOut`` while ``record`` is locked; check before any credential."""
    _require_aware(now)
    if record.locked_until is not None and now < record.locked_until:
        wait = (record.locked_until - now).total_seconds()
        raise LockedOut(retry_after=max(1, math.ceil(wait)))


def register_failure(
    record: FailureRecord, *, now: datetime, policy: LockoutPolicy
) -> FailureRecord:
    """``record`` after one more failure at ``now``."""
    _require_aware(now)
    count = (0 if _forgotten(record, now=now, policy=policy) else record.count) + 1
    lock = policy.lock_for(count)
    locked_until = record.locked_until if _still_locked(record, now=now) else None
    if lock:
        # A failure never shortens a lock already running.
        locked_until = max(locked_until or now, now + lock)
    return FailureRecord(count=count, last_failure_at=now, locked_until=locked_until)


def register_success(record: FailureRecord, *, policy: LockoutPolicy) -> FailureRecord:
    """``record`` after a successful sign-in: cleared, unless the policy keeps it."""
    return CLEAN if policy.reset_on_success else record


def _forgotten(record: FailureRecord, *, now: datetime, policy: LockoutPolicy) -> bool:
    if record.last_failure_at is None:
        return True
    quiet_since = max(record.last_failure_at, record.locked_until or record.last_failure_at)
    return now - quiet_since >= policy.forget_after


def _still_locked(record: FailureRecord, *, now: datetime) -> bool:
    return record.locked_until is not None and now < record.locked_until


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
