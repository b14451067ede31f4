from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from claimbridge.clock import FixedClock, SystemClock


def test_fixed_clock_moves_only_when_told() -> None:
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    assert clock.now() == clock.now() == datetime(2026, 1, 1, tzinfo=UTC)
    clock.advance(timedelta(minutes=15))
    assert clock.now() == datetime(2026, 1, 1, 0, 15, tzinfo=UTC)


def test_fixed_clock_normalises_to_utc_and_refuses_naive_times() -> None:
    clock = FixedClock(datetime(2026, 1, 1, 5, tzinfo=timezone(timedelta(hours=5))))
    assert clock.now() == datetime(2026, 1, 1, tzinfo=UTC)
    assert clock.now().tzinfo is UTC
    with pytest.raises(ValueError, match="timezone-aware"):
        FixedClock(datetime(2026, 1, 1))  # noqa: DTZ001
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.set(datetime(2026, 1, 1))  # noqa: DTZ001


def test_system_clock_is_aware_utc() -> None:
    assert SystemClock().now().utcoffset() == timedelta(0)
