"""Sliding-window rate limits: per-key RPM on the relay, the reference's IP/user limits on /api.

Every decision is also kept in a short log (`SlidingWindow.decisions`) with the count of refusals,
so tests can check from the gateway's side how a client paced itself and when it retried.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

DECISION_LOG = 2000  # decisions kept per window (all keys), oldest dropped first


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


@dataclass(frozen=True, slots=True)
class Decision:
    """One request as the limiter judged it: when (monotonic), for which key, and the verdict."""

    at: float
    key: str
    allowed: bool
    retry_after: int  # what a refusal's Retry-After says (reset_seconds); 0 when allowed


class SlidingWindow:
    """At most `limit` hits per `window` seconds for each key."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._decisions: deque[Decision] = deque(maxlen=DECISION_LOG)
        self._refused = 0

    def hit(self, key: str, now: float | None = None) -> Verdict:
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                # Rounded up, and never below the true wait: a client that obeys it fits.
                reset = int(hits[0] + self.window - now) + 1
                self._refused += 1
                self._decisions.append(Decision(now, key, False, reset))
                return Verdict(False, self.limit, 0, reset)
            hits.append(now)
            reset = int(hits[0] + self.window - now) + 1
            self._decisions.append(Decision(now, key, True, 0))
            return Verdict(True, self.limit, self.limit - len(hits), reset)

    @property
    def refused(self) -> int:
        """How many requests this window has refused (answered 429) since the last clear."""
        with self._lock:
            return self._refused

    def decisions(self) -> list[Decision]:
        """The latest decisions, oldest first (at most `DECISION_LOG`)."""
        with self._lock:
            return list(self._decisions)

    def clear(self) -> None:
        with self._lock:
            self._hits.clear()
            self._decisions.clear()
            self._refused = 0


class Limits:
    """Every limiter the emulator enforces, so tests can clear them all at once.

    `rpm_window` is 60 s as on a real gateway; tests shrink it to run "20 per 3 s" scenarios.
    """

    def __init__(self, rpm: int, rpm_window: float = 60.0) -> None:
        self.rpm = SlidingWindow(rpm, rpm_window) if rpm > 0 else None
        self.api = SlidingWindow(360, 180.0)
        self.critical = SlidingWindow(20, 1200.0)
        self.search = SlidingWindow(10, 60.0)

    def refused(self) -> int:
        """429s sent by every limiter together since the last clear."""
        return sum(w.refused for w in (self.rpm, self.api, self.critical, self.search) if w)

    def clear(self) -> None:
        for limiter in (self.rpm, self.api, self.critical, self.search):
            if limiter is not None:
                limiter.clear()
