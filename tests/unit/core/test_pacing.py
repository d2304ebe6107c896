"""The stream pacing policy, on a clock the test moves by hand."""

from __future__ import annotations

from bluesdesk.core.pacing import ReadPacer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def pacer(clock: Clock, **kw: float) -> ReadPacer:
    return ReadPacer(clock=clock, gather_s=0.015, woken_s=0.0003, budget_s=0.004, **kw)  # type: ignore[arg-type]


def chunk(p: ReadPacer, clock: Clock, *, waited: float, events: int = 1, size: int = 200) -> float:
    """One chunk that took `waited` seconds to come; returns the wait the pacer asks for."""
    p.asking()
    clock.now += waited
    p.arrived(size)
    return p.pause(events)


def test_the_first_chunk_is_handed_on_without_a_wait() -> None:
    clock = Clock()
    p = pacer(clock)
    p.asking()
    clock.now += 0.005  # a fast first token
    p.arrived(300)
    assert p.pause(1) == 0.0


def test_chunks_woken_for_in_quick_succession_are_gathered() -> None:
    clock = Clock()
    p = pacer(clock)
    assert chunk(p, clock, waited=0.5) == 0.0  # first
    assert chunk(p, clock, waited=0.002) == 0.015  # a token 2 ms later: let more gather
    assert p.pauses == 1


def test_buffered_chunks_never_wait_so_throughput_is_kept() -> None:
    clock = Clock()
    p = pacer(clock)
    chunk(p, clock, waited=0.5)
    assert chunk(p, clock, waited=0.002) == 0.015
    # After the wait, what arrived meanwhile comes at once, chunk after chunk: no more waits.
    assert [chunk(p, clock, waited=0.00002) for _ in range(7)] == [0.0] * 7


def test_a_slow_stream_is_never_delayed() -> None:
    clock = Clock()
    p = pacer(clock)
    assert [chunk(p, clock, waited=0.05) for _ in range(5)] == [0.0] * 5
    assert p.pauses == 0


def test_large_chunks_and_chunks_without_an_event_do_not_wait() -> None:
    clock = Clock()
    p = pacer(clock)
    chunk(p, clock, waited=0.5)
    assert chunk(p, clock, waited=0.002, size=64 * 1024) == 0.0  # the gateway is ahead of us
    assert chunk(p, clock, waited=0.002, events=0) == 0.0  # half an event: read the rest now


def test_a_turn_yields_after_its_event_budget() -> None:
    clock = Clock()
    p = pacer(clock, max_events=3)
    p.asking()
    p.arrived(10_000)
    assert [p.should_yield() for _ in range(3)] == [False, False, True]
    p.turn_started()
    assert not p.should_yield()


def test_a_turn_yields_after_its_time_budget() -> None:
    clock = Clock()
    p = pacer(clock)
    p.asking()
    p.arrived(10_000)
    assert not p.should_yield()
    clock.now += 0.005
    assert p.should_yield()


def test_buffered_chunks_share_one_turn_and_its_budget() -> None:
    clock = Clock()
    p = pacer(clock, max_events=4)
    chunk(p, clock, waited=0.5)  # the first chunk
    p.asking()
    clock.now += 0.05
    p.arrived(200)  # woken for (a slow stream, so no wait after it): a new turn
    results = [p.should_yield()]
    for _ in range(3):  # then three chunks that were already buffered
        p.pause(1)
        p.asking()
        p.arrived(200)
        results.append(p.should_yield())
    assert results == [False, False, False, True]
