"""When a stream consumer should hand the event loop back, and when it should let data gather.

Two costs shape a streamed answer on a GUI event loop:

- A gateway that trickles one token per network packet wakes the reader once per token. Each
  wake-up costs far more than the token (under qasync every asyncio callback is a Qt timer), so
  at a few hundred tokens a second the wake-ups alone take a large share of the GUI thread.
  When a chunk had to be waited for (the reader was woken for it), came soon after the reader
  was ready for it (the stream is fast) and is small, the reader hands it on and then waits
  `gather_s` before asking for more: what arrives meanwhile is then handed on in one turn.
  Chunks already buffered (the HTTP layer splits one socket read into one chunk per server
  write) arrive at once and never cause a wait, so throughput is kept; a slow stream and a
  large read never wait; the first chunk is handed on before any wait (time to first token
  is not delayed). The screen shows new text every ~40 ms anyway, so 15 ms is invisible.
- The opposite case, a read holding hundreds of events, must not be handed on in one go: the
  consumer yields to the loop once it has spent `budget_s` (or `max_events` events) on one turn,
  so timers and painting run in between.

Pure logic with an injectable clock, so the policy is unit-tested without a loop or a socket.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

GATHER_S = 0.015  # wait after a woken-for chunk, so the next turn collects what arrived meanwhile
WOKEN_S = 0.0003  # a chunk that took longer than this to arrive was waited for (not buffered)
SMALL_READ = 16 * 1024  # bytes: a chunk this big is not a trickle of tokens
BUDGET_S = 0.004  # longest stretch of handing on events before the loop gets a turn
MAX_EVENTS = 200  # and at most this many events per turn, whatever the clock says


@dataclass(slots=True)
class ReadPacer:
    """Per-stream pacing state. Call `arrived` when a chunk arrives, `should_yield` after each
    event handed on, `pause` when the chunk's events are all handed on, and `asking` (after
    that wait, if any) just before asking for the next chunk."""

    gather_s: float = GATHER_S
    woken_s: float = WOKEN_S
    small_read: int = SMALL_READ
    budget_s: float = BUDGET_S
    max_events: int = MAX_EVENTS
    clock: Callable[[], float] = time.perf_counter
    pauses: int = 0  # how many waits this stream had (tests and benchmarks read it)
    _asked_at: float | None = field(default=None, init=False)
    _waited: float = field(default=0.0, init=False)
    _size: int = field(default=0, init=False)
    _turn_start: float = field(default=0.0, init=False)
    _turn_events: int = field(default=0, init=False)
    _slept: bool = field(default=False, init=False)
    _chunks: int = field(default=0, init=False)

    def arrived(self, size: int) -> None:
        """A chunk of `size` bytes arrived; its events are about to be handed on. A chunk that
        came at once was buffered: it belongs to the same turn of the loop as the one before."""
        now = self.clock()
        self._waited = 0.0 if self._asked_at is None else now - self._asked_at
        self._size = size
        if not self._chunks or self._slept or self._waited >= self.woken_s:
            self.turn_started()
        self._slept = False
        self._chunks += 1

    def turn_started(self) -> None:
        self._turn_start = self.clock()
        self._turn_events = 0

    def should_yield(self) -> bool:
        """True when this turn has used its budget: yield to the loop, then `turn_started`."""
        self._turn_events += 1
        return (
            self._turn_events >= self.max_events
            or self.clock() - self._turn_start >= self.budget_s
        )

    def pause(self, events: int) -> float:
        """Seconds to wait before asking for the next chunk (0: ask at once), once the `events`
        the chunk completed are handed on."""
        woken_fast = self._chunks > 1 and self.woken_s <= self._waited < self.gather_s
        wait = self.gather_s if woken_fast and events and self._size < self.small_read else 0.0
        self.pauses += wait > 0
        self._slept = wait > 0
        return wait

    def asking(self) -> None:
        """The next chunk is asked for now (timers overshoot: this is not `pause`'s time)."""
        self._asked_at = self.clock()
