"""The client-side RPM limiter, driven by a fake clock."""

from __future__ import annotations

import pytest

from bluesdesk.core.ratelimit import RpmLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_no_limit_never_waits() -> None:
    clock = Clock()
    limiter = RpmLimiter(0, clock)
    assert [limiter.reserve() for _ in range(100)] == [0.0] * 100


def test_first_rpm_requests_go_now_then_wait_for_the_window() -> None:
    clock = Clock()
    limiter = RpmLimiter(3, clock)
    assert [limiter.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.reserve() == pytest.approx(60.0)


def test_waiters_queue_in_order() -> None:
    clock = Clock()
    limiter = RpmLimiter(2, clock)
    limiter.reserve()
    clock.now += 10
    limiter.reserve()
    # Third and fourth must each wait for one of the first two to leave the window.
    assert limiter.reserve() == pytest.approx(50.0)
    assert limiter.reserve() == pytest.approx(60.0)
    assert limiter.reserve() == pytest.approx(110.0)


def test_window_slides() -> None:
    clock = Clock()
    limiter = RpmLimiter(2, clock)
    limiter.reserve()
    limiter.reserve()
    clock.now += 60.0
    assert limiter.reserve() == 0.0
    assert limiter.reserve() == 0.0
    assert limiter.reserve() == pytest.approx(60.0)


def test_any_window_holds_at_most_rpm_sends() -> None:
    clock = Clock()
    limiter = RpmLimiter(5, clock, window=10.0)
    sends = []
    for step in range(40):
        clock.now = 1000.0 + step * 0.7
        sends.append(clock.now + limiter.reserve())
    sends.sort()
    for i in range(len(sends) - 5):
        assert sends[i + 5] - sends[i] >= 10.0 - 1e-9
