"""A client-side requests-per-minute limiter, so free plans (10–30 RPM) do not hit 429.

Pure and clock-injected: `reserve()` books a send slot and says how long to wait for it. The
caller does the waiting, so the limiter itself never sleeps and is tested with a fake clock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

# What a gateway client should pass as `margin`. A request booked for time t is counted by the
# gateway when it arrives and is handled, a varying moment later (connection set-up, a busy
# server). Reusing a slot exactly one window later can then land while the gateway still counts
# the old request: measured on loopback, 20 concurrent requests reached the emulator over
# ~0.1 s and 10 of the next 10 were refused (tests/hardening/test_rate_limits.py). One second
# costs under 2 % of a 60 s window.
GATEWAY_MARGIN_S = 1.0


class RpmLimiter:
    """Sliding window: at most `rpm` sends in any `window` seconds. rpm <= 0 means no limit.

    `margin` widens the spacing between a send and the one `rpm` places after it to
    `window + margin`, for the transit-time jitter described at `GATEWAY_MARGIN_S`.
    """

    def __init__(
        self,
        rpm: int,
        clock: Callable[[], float],
        *,
        window: float = 60.0,
        margin: float = 0.0,
    ) -> None:
        self.rpm = rpm
        self._clock = clock
        self._window = window
        self.margin = max(0.0, margin)
        self._slots: deque[float] = deque()  # booked send times, non-decreasing

    @property
    def window(self) -> float:
        return self._window

    def reserve(self) -> float:
        """Book the next send slot; return seconds to wait before sending (0 = go now)."""
        if self.rpm <= 0:
            return 0.0
        span = self._window + self.margin
        now = self._clock()
        while self._slots and self._slots[0] <= now - span:
            self._slots.popleft()
        slot = now
        if self._slots:
            # Slots are handed out in order, so a caller never overtakes an earlier waiter.
            slot = max(slot, self._slots[-1])
        if len(self._slots) >= self.rpm:
            slot = max(slot, self._slots[-self.rpm] + span)
        self._slots.append(slot)
        return slot - now
