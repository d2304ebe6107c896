"""A client-side requests-per-minute limiter, so free plans (10–30 RPM) do not hit 429.

Pure and clock-injected: `reserve()` books a send slot and says how long to wait for it. The
caller does the waiting, so the limiter itself never sleeps and is tested with a fake clock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable


class RpmLimiter:
    """Sliding window: at most `rpm` sends in any `window` seconds. rpm <= 0 means no limit."""

    def __init__(self, rpm: int, clock: Callable[[], float], *, window: float = 60.0) -> None:
        self.rpm = rpm
        self._clock = clock
        self._window = window
        self._slots: deque[float] = deque()  # booked send times, non-decreasing

    def reserve(self) -> float:
        """Book the next send slot; return seconds to wait before sending (0 = go now)."""
        if self.rpm <= 0:
            return 0.0
        now = self._clock()
        while self._slots and self._slots[0] <= now - self._window:
            self._slots.popleft()
        slot = now
        if self._slots:
            # Slots are handed out in order, so a caller never overtakes an earlier waiter.
            slot = max(slot, self._slots[-1])
        if len(self._slots) >= self.rpm:
            slot = max(slot, self._slots[-self.rpm] + self._window)
        self._slots.append(slot)
        return slot - now
