"""Lockout: free attempts, then locks that double up to a cap, forgotten after quiet time."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claimbridge.access.lockout import (
    ACCOUNT_POLICY,
    ADDRESS_POLICY,
    CLEAN,
    FailureRecord,
    LockedOut,
    LockoutPolicy,
    check_not_locked,
    register_failure,
    register_success,
)
from claimbridge.errors import Unauthenticated

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def fail_times(
    times: int,
    *,
    start: datetime = T0,
    every: timedelta = timedelta(seconds=1),
    record: FailureRecord = CLEAN,
    policy: LockoutPolicy = ACCOUNT_POLICY,
) -> FailureRecord:
    now = start
    for _ in range(times):
        record = register_failure(record, now=now, policy=policy)
        now += every
    return record


def lock_of(record: FailureRecord) -> timedelta:
    assert record.locked_until is not None
    assert record.last_failure_at is not None
    return record.locked_until - record.last_failure_at


def is_locked(record: FailureRecord, now: datetime) -> bool:
    try:
        check_not_locked(record, now=now)
    except LockedOut:
        return True
    return False


# -- the default numbers -----------------------------------------------------------


def test_default_numbers_are_the_documented_ones() -> None:
    documented = LockoutPolicy(
        threshold=5,
        first_lock=timedelta(minutes=1),
        max_lock=timedelta(hours=1),
        forget_after=timedelta(minutes=15),
        reset_on_success=True,
    )
    assert documented == ACCOUNT_POLICY
    assert ADDRESS_POLICY.threshold == 20
    assert ADDRESS_POLICY.first_lock == ACCOUNT_POLICY.first_lock
    assert ADDRESS_POLICY.max_lock == ACCOUNT_POLICY.max_lock
    assert ADDRESS_POLICY.forget_after == ACCOUNT_POLICY.forget_after
    assert ADDRESS_POLICY.reset_on_success is False


def test_a_clean_record_is_not_locked() -> None:
    check_not_locked(CLEAN, now=T0)
    assert FailureRecord() == CLEAN == FailureRecord(0, None, None)


# -- threshold -----------------------------------------------------------------


def test_four_failures_do_not_lock() -> None:
    record = fail_times(4)
    assert record.count == 4
    assert record.locked_until is None
    check_not_locked(record, now=T0 + timedelta(seconds=4))


def test_fifth_failure_locks_for_one_minute() -> None:
    record = fail_times(5)
    assert record.count == 5
    assert lock_of(record) == MINUTE
    last = record.last_failure_at
    assert last is not None
    assert is_locked(record, last)
    assert is_locked(record, last + MINUTE - timedelta(microseconds=1))
    assert not is_locked(record, last + MINUTE)


def test_locked_out_says_when_to_retry_and_nothing_about_the_account() -> None:
    record = fail_times(5)
    last = record.last_failure_at
    assert last is not None
    with pytest.raises(LockedOut) as caught:
        check_not_locked(record, now=last + timedelta(seconds=20.5))
    assert caught.value.retry_after == 40  # 39.5 seconds, rounded up
    assert isinstance(caught.value, Unauthenticated)
    assert caught.value.code == "locked_out"
    assert caught.value.message == "Too many failed sign-in attempts. Try again later."


def test_retry_after_is_at_least_one_second() -> None:
    record = fail_times(5)
    assert record.locked_until is not None
    with pytest.raises(LockedOut) as caught:
        check_not_locked(record, now=record.locked_until - timedelta(microseconds=1))
    assert caught.value.retry_after == 1


# -- back-off ------------------------------------------------------------------


def test_each_failure_after_a_lock_doubles_it_up_to_one_hour() -> None:
    record = fail_times(5)
    locks = [lock_of(record)]
    for _ in range(8):
        assert record.locked_until is not None
        record = register_failure(record, now=record.locked_until, policy=ACCOUNT_POLICY)
        locks.append(lock_of(record))
    minutes = [lock // MINUTE for lock in locks]
    assert minutes == [1, 2, 4, 8, 16, 32, 60, 60, 60]


@pytest.mark.parametrize(
    ("count", "minutes"),
    [(1, 0), (4, 0), (5, 1), (6, 2), (7, 4), (10, 32), (11, 60), (12, 60), (10**9, 60)],
)
def test_lock_for_a_failure_count(count: int, minutes: int) -> None:
    assert ACCOUNT_POLICY.lock_for(count) == minutes * MINUTE


def test_failure_while_locked_never_shortens_the_lock() -> None:
    policy = LockoutPolicy(threshold=1, first_lock=timedelta(hours=1), max_lock=timedelta(hours=1))
    record = register_failure(CLEAN, now=T0, policy=policy)
    assert record.locked_until == T0 + timedelta(hours=1)
    later = register_failure(record, now=T0 + MINUTE, policy=policy)
    assert later.locked_until == T0 + MINUTE + timedelta(hours=1)


# -- forgetting ----------------------------------------------------------------


def test_failures_fifteen_quiet_minutes_old_are_forgotten() -> None:
    record = fail_times(4)
    assert record.last_failure_at is not None
    after = register_failure(
        record, now=record.last_failure_at + timedelta(minutes=15), policy=ACCOUNT_POLICY
    )
    assert after.count == 1
    assert after.locked_until is None


def test_failures_under_fifteen_minutes_old_still_count() -> None:
    record = fail_times(4)
    assert record.last_failure_at is not None
    quiet = timedelta(minutes=15) - timedelta(seconds=1)
    after = register_failure(record, now=record.last_failure_at + quiet, policy=ACCOUNT_POLICY)
    assert after.count == 5
    assert lock_of(after) == MINUTE


def test_failures_spread_over_time_keep_counting_while_each_is_recent() -> None:
    record = fail_times(5, every=timedelta(minutes=14))
    assert record.count == 5
    assert lock_of(record) == MINUTE


def test_quiet_time_counts_from_the_end_of_the_lock() -> None:
    # Nine failures lock for 16 minutes; without this rule the count would be
    # forgotten when the lock ends and the back-off could never grow.
    record = fail_times(9)
    assert lock_of(record) == 16 * MINUTE
    assert record.locked_until is not None
    still = register_failure(record, now=record.locked_until + 14 * MINUTE, policy=ACCOUNT_POLICY)
    assert still.count == 10
    assert lock_of(still) == 32 * MINUTE
    forgotten = register_failure(
        record, now=record.locked_until + 15 * MINUTE, policy=ACCOUNT_POLICY
    )
    assert forgotten.count == 1
    assert forgotten.locked_until is None


# -- success -------------------------------------------------------------------


def test_success_resets_the_account_record() -> None:
    record = fail_times(7)
    assert register_success(record, policy=ACCOUNT_POLICY) == CLEAN


def test_success_does_not_reset_the_address_record() -> None:
    record = fail_times(19, policy=ADDRESS_POLICY)
    assert register_success(record, policy=ADDRESS_POLICY) == record


def test_after_a_reset_five_more_failures_are_needed() -> None:
    record = register_success(fail_times(4), policy=ACCOUNT_POLICY)
    record = fail_times(4, start=T0 + MINUTE, record=record)
    assert record.locked_until is None


# -- per address ---------------------------------------------------------------


def test_address_locks_only_after_twenty_failures() -> None:
    record = fail_times(19, policy=ADDRESS_POLICY)
    assert record.locked_until is None
    record = register_failure(record, now=T0 + MINUTE, policy=ADDRESS_POLICY)
    assert record.count == 20
    assert lock_of(record) == MINUTE
    assert is_locked(record, T0 + MINUTE)


def test_address_back_off_doubles_from_its_threshold() -> None:
    record = fail_times(21, policy=ADDRESS_POLICY, every=timedelta(minutes=1))
    assert lock_of(record) == 2 * MINUTE


# -- invariants ----------------------------------------------------------------


@given(
    gaps=st.lists(
        st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=3)),
        min_size=1,
        max_size=40,
    ),
    policy=st.sampled_from([ACCOUNT_POLICY, ADDRESS_POLICY]),
)
def test_any_failure_sequence_keeps_the_invariants(
    gaps: list[timedelta], policy: LockoutPolicy
) -> None:
    now, record = T0, CLEAN
    for gap in gaps:
        now += gap
        before = record
        record = register_failure(record, now=now, policy=policy)
        assert 1 <= record.count <= before.count + 1
        assert record.last_failure_at == now
        if record.count < policy.threshold:
            assert record.locked_until is None or record.locked_until == before.locked_until
        else:
            assert record.locked_until is not None
            assert now + policy.first_lock <= record.locked_until
            assert record.locked_until - now <= policy.max_lock
            assert is_locked(record, now)
        if before.locked_until is not None and before.locked_until > now:
            assert record.locked_until is not None
            assert record.locked_until >= before.locked_until


# -- misuse --------------------------------------------------------------------


def test_records_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        CLEAN.count = 3  # type: ignore[misc]


def test_naive_now_is_a_programming_error() -> None:
    naive = T0.replace(tzinfo=None)
    with pytest.raises(ValueError, match="timezone-aware"):
        register_failure(CLEAN, now=naive, policy=ACCOUNT_POLICY)
    with pytest.raises(ValueError, match="timezone-aware"):
        check_not_locked(CLEAN, now=naive)


@pytest.mark.parametrize(
    "options",
    [
        {"threshold": 0},
        {"first_lock": timedelta(0)},
        {"first_lock": timedelta(hours=2), "max_lock": timedelta(hours=1)},
        {"forget_after": timedelta(0)},
    ],
)
def test_nonsense_policies_are_refused(options: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each names its own field
        LockoutPolicy(**options)  # type: ignore[arg-type]
