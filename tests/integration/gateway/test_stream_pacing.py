"""How a streamed answer is handed to the event loop (`core/pacing.py`), over real sockets.

A burst of thousands of events must not be handed on in one turn of the loop (timers and
painting wait behind it); a fast trickle of tokens must be taken a few at a time rather than one
wake-up per token, without slowing the stream down.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from itertools import pairwise

import pytest

from bluesdesk.core.models import ApiStyle, GatewayProfile
from bluesdesk.core.pacing import MAX_EVENTS
from bluesdesk.emulator import EmulatorConfig, EmulatorServer, Flavor
from bluesdesk.emulator.accounts import DEMO
from bluesdesk.gateway import GatewayClient
from tests.integration.conftest import TEST_RPM, start_emulator

PACE = 400.0  # tokens per second of the trickling emulator


@pytest.fixture(scope="module")
def trickle() -> Iterator[EmulatorServer]:
    config = EmulatorConfig(flavor=Flavor.BLUESMINDS, port=0, tokens_per_second=PACE, rpm=TEST_RPM)
    server = EmulatorServer(config)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def body(prompt: str) -> dict[str, object]:
    return {
        "model": "gpt-4o-mini",
        "stream": True,
        "messages": [{"role": "user", "content": prompt}],
    }


async def arrivals(
    server: EmulatorServer, prompt: str, *, count_turns: bool
) -> list[tuple[float, int]]:
    """(time, turns the loop gave a ticker task so far) for every event of the answer. The
    ticker runs on every turn of the loop, so it also keeps the GIL busy: only the test about
    turns starts it."""
    turns = 0

    async def ticker() -> None:
        nonlocal turns
        while True:
            await asyncio.sleep(0)
            turns += 1

    profile = GatewayProfile(id="emu", name="Emulator", base_url=server.relay_url, timeout_s=30)
    client = GatewayClient(profile, DEMO.api_key)
    ticking = asyncio.ensure_future(ticker() if count_turns else asyncio.sleep(0))
    seen: list[tuple[float, int]] = []
    try:
        events = client.stream_events("/chat/completions", body(prompt), style=ApiStyle.OPENAI)
        async for _event, _data in events:
            seen.append((time.perf_counter(), turns))
    finally:
        ticking.cancel()
        await client.aclose()
    return seen


def test_a_burst_of_events_gives_the_loop_turns_in_between() -> None:
    server = start_emulator(Flavor.BLUESMINDS)  # as fast as it can: big reads
    try:
        words = " ".join(f"w{i}" for i in range(6_000))
        seen = asyncio.run(arrivals(server, "echo: " + words, count_turns=True))
    finally:
        server.stop()
    assert len(seen) > 6_000
    # Events handed on within one turn of the loop (the ticker did not run in between).
    runs: list[int] = []
    for (_, before), (_, after) in pairwise(seen):
        if after == before and runs:
            runs[-1] += 1
        else:
            runs.append(1)
    assert max(runs) <= MAX_EVENTS
    assert seen[-1][1] - seen[0][1] >= len(seen) // MAX_EVENTS  # the ticker kept running


def test_a_fast_trickle_is_taken_a_few_tokens_at_a_time_at_full_speed(
    trickle: EmulatorServer,
) -> None:
    seen = asyncio.run(arrivals(trickle, "Write 250 words", count_turns=False))
    assert len(seen) > 300
    # Events that reached the consumer together (within a millisecond) came in one wake-up.
    wake_ups = 1 + sum(b - a > 0.001 for (a, _), (b, _) in pairwise(seen))
    assert len(seen) / wake_ups >= 2.5  # one wake-up per token makes this 1.0 (measured)
    # Gathering never slows the stream: it ends about when the emulator's pace says.
    assert seen[-1][0] - seen[0][0] < 2 * len(seen) / PACE + 0.5
