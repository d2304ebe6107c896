"""Sliding-window rate limits: per-key RPM on the relay, the reference's IP/user limits on /api."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the oldest counted request leaves the window

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_seconds),
        }


class SlidingWindow:
    """At most `limit` hits per `window` seconds for each key."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, now: float | None = None) -> Verdict:
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                reset = int(hits[0] + self.window - now) + 1
                return Verdict(False, self.limit, 0, reset)
            hits.append(now)
            reset = int(hits[0] + self.window - now) + 1
            return Verdict(True, self.limit, self.limit - len(hits), reset)

    def clear(self) -> None:
        with self._lock:
            self._hits.clear()


class Limits:
    """Every limiter the emulator enforces, so tests can clear them all at once."""

    def __init__(self, rpm: int) -> None:
        self.rpm = SlidingWindow(rpm, 60.0) if rpm > 0 else None
        self.api = SlidingWindow(360, 180.0)
        self.critical = SlidingWindow(20, 1200.0)
        self.search = SlidingWindow(10, 60.0)

    def clear(self) -> None:
        for limiter in (self.rpm, self.api, self.critical, self.search):
            if limiter is not None:
                limiter.clear()
