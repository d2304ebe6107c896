"""Issue 9: rate limits across panes, counted on the gateway's side.

The emulator enforces a per-key requests-per-minute window and logs every decision
(`SlidingWindow.decisions()`: when, allowed or refused, the Retry-After it sent). bluesdesk's
services are wired as `bluesdesk.app` wires them (`rig.py`): one `GatewayPool` client per
profile, shared by chat (streamed answers), images, speech and the model lists, each pane's
action issued concurrently.

- Limiter on (the profile's RPM equal to the gateway's): not one 429 leaves the emulator and
  every action succeeds. The real scenario (20 RPM, 60 s window, 60 actions) takes minutes and
  is marked slow; the default run is the same with both windows shrunk to 3 s (30 actions).
- Limiter off: the emulator answers 429 with Retry-After; every 429 is retried no earlier than
  Retry-After, within the retry policy (2 retries); those left refused after the last retry
  reach the caller as `RateLimited` carrying `retry_after` (the pane's countdown).
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bluesdesk.core.models import GatewayProfile
from bluesdesk.core.ratelimit import GATEWAY_MARGIN_S, RpmLimiter
from bluesdesk.core.retry import RetryPolicy
from bluesdesk.emulator import EmulatorConfig, EmulatorServer, Flavor
from bluesdesk.emulator.accounts import DEMO
from bluesdesk.emulator.ratelimit import Decision, SlidingWindow
from bluesdesk.errors import BluesdeskError, RateLimited
from bluesdesk.services.chat import ReplyFinished, ReplyUpdate, classify_error
from bluesdesk.services.images import ImageRequest
from bluesdesk.services.speech import SpeechRequest
from tests.hardening.rig import Rig, open_rig

POLICY = RetryPolicy()  # the app's own policy: 2 retries, Retry-After obeyed up to 60 s
SEED = 20261124


@pytest.fixture(autouse=True)
def _keyring(memory_keyring: Any) -> Any:
    return memory_keyring


def start_emulator(rpm: int, window: float) -> EmulatorServer:
    server = EmulatorServer(
        EmulatorConfig(
            flavor=Flavor.BLUESMINDS, port=0, tokens_per_second=0, rpm=rpm, rpm_window_s=window
        )
    )
    server.start()
    return server


@pytest.fixture(scope="module")
def fast_gateway() -> Iterator[EmulatorServer]:
    """20 requests per 3 s per key: the 20-RPM scenario, twenty times faster."""
    server = start_emulator(20, 3.0)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def tight_gateway() -> Iterator[EmulatorServer]:
    """10 requests per 3 s: 40 concurrent actions exhaust 2 retries for some of them."""
    server = start_emulator(10, 3.0)
    try:
        yield server
    finally:
        server.stop()


# ---- each pane's action, on one shared profile ------------------------------------------------


class ChatFailed(Exception):
    def __init__(self, error: BluesdeskError) -> None:
        super().__init__(error.user_message)
        self.error = error


Action = Callable[[Rig, GatewayProfile], Awaitable[Any]]


async def chat(rig: Rig, profile: GatewayProfile) -> Any:
    conv = await rig.chat.new_conversation(
        profile_id=profile.id, model="gpt-4o-mini", api_style="openai"
    )
    finished: list[ReplyFinished] = []

    def listen(update: ReplyUpdate) -> None:
        if isinstance(update, ReplyFinished):
            finished.append(update)

    message = await rig.chat.send(conv.id, "echo: a short answer", on_update=listen)
    if finished and finished[-1].error is not None:
        raise ChatFailed(finished[-1].error)
    return message


async def image(rig: Rig, profile: GatewayProfile) -> Any:
    client = await rig.profiles.client(profile)
    request = ImageRequest(model="dall-e-2", prompt="A lighthouse", size="256x256")
    return await rig.images.generate(client, request)


async def speech(rig: Rig, profile: GatewayProfile) -> Any:
    client = await rig.profiles.client(profile)
    request = SpeechRequest(model="tts-1", voice="nova", text="Hello.", format="wav")
    return await rig.speech.synthesize(client, request)


async def model_list(rig: Rig, profile: GatewayProfile) -> Any:
    """The chat picker's model list (one /v1/models request)."""
    return await rig.chat.model_ids(profile.id)


async def models_pane(rig: Rig, profile: GatewayProfile) -> Any:
    """The Models pane's refresh: /v1/models, /v1beta/models, /api/status, /api/pricing."""
    return await rig.catalog.refresh(profile)


def mix(total: int) -> list[tuple[str, Action]]:
    """A seeded shuffle of the panes' actions: 40 % chat, 20 % images, 20 % speech, 20 % model
    lists (a fifth of those the Models pane's full refresh)."""
    kinds: list[tuple[str, Action]] = []
    for i in range(total):
        slot = i % 10
        if slot < 4:
            kinds.append(("chat", chat))
        elif slot < 6:
            kinds.append(("image", image))
        elif slot < 8:
            kinds.append(("speech", speech))
        elif slot == 8 and i % 20 == 8:
            kinds.append(("models pane", models_pane))
        else:
            kinds.append(("model list", model_list))
    random.Random(SEED).shuffle(kinds)
    return kinds


@dataclass
class Outcome:
    results: list[tuple[str, Any]]  # (action kind, result or the exception it raised)
    decisions: list[Decision]  # the emulator's per-key RPM decisions, oldest first
    refused: int  # 429s the emulator's limiters sent
    seconds: float

    def errors(self) -> list[tuple[str, BaseException]]:
        return [(k, r) for k, r in self.results if isinstance(r, BaseException)]


async def run_scenario(
    tmp_path: Path,
    server: EmulatorServer,
    actions: list[tuple[str, Action]],
    *,
    rpm_limit: int,
    client_window: float,
    margin: float | None = None,
) -> Outcome:
    server.reset_faults()  # clears the emulator's windows, decision log and counters
    rig = await open_rig(tmp_path / "home", server.relay_url, policy=POLICY)
    try:
        profile = dataclasses.replace(rig.profile, rpm_limit=rpm_limit)
        await rig.profiles.save(profile, DEMO.api_key)
        client = await rig.profiles.client(profile)
        assert client.limiter.rpm == rpm_limit
        if client_window != 60.0 or margin is not None:
            # The same limiter with the window the shrunk emulator uses (60 s in the app) and
            # the margin a client should leave (see `GATEWAY_MARGIN_S`).
            client.limiter = RpmLimiter(
                rpm_limit,
                time.monotonic,
                window=client_window,
                margin=client.limiter.margin if margin is None else margin,
            )
        started = time.monotonic()
        results = await asyncio.gather(
            *(run(rig, profile) for _, run in actions), return_exceptions=True
        )
        seconds = time.monotonic() - started
        # Every pane shared the pool's one client for the profile.
        assert await rig.profiles.client(profile) is client
    finally:
        await rig.close()
    state = server.state
    assert state is not None and state.limits.rpm is not None
    return Outcome(
        results=[(kind, r) for (kind, _), r in zip(actions, results, strict=True)],
        decisions=state.limits.rpm.decisions(),
        refused=state.limits.refused(),
        seconds=seconds,
    )


def max_in_any_window(decisions: list[Decision], window: float) -> int:
    times = [d.at for d in decisions if d.allowed]
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def check_limiter_on(outcome: Outcome, total: int, rpm: int, window: float) -> None:
    assert outcome.errors() == []
    assert outcome.refused == 0, [d for d in outcome.decisions if not d.allowed]
    assert all(d.allowed for d in outcome.decisions)
    relay = len(outcome.decisions)
    assert relay >= total  # model-pane refreshes make more than one relay request
    assert max_in_any_window(outcome.decisions, window) <= rpm
    # Paced, not serialised: the whole run takes about (requests / rpm) windows.
    assert outcome.seconds >= (relay // rpm - 1) * window


# ---- limiter on ---------------------------------------------------------------------------


def test_limiter_on_no_429_leaves_the_gateway(tmp_path: Path, fast_gateway: EmulatorServer) -> None:
    actions = mix(30)
    outcome = asyncio.run(
        run_scenario(
            tmp_path,
            fast_gateway,
            actions,
            rpm_limit=20,
            client_window=3.0,
            margin=GATEWAY_MARGIN_S,
        )
    )
    check_limiter_on(outcome, 30, 20, 3.0)
    print(
        f"\nlimiter on, 20 per 3 s: {len(outcome.results)} actions, "
        f"{len(outcome.decisions)} relay requests, 0 × 429, {outcome.seconds:.1f} s"
    )


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_limiter_on_at_20_rpm_60_actions(tmp_path: Path) -> None:
    server = start_emulator(20, 60.0)
    try:
        actions = mix(60)
        outcome = asyncio.run(
            run_scenario(tmp_path, server, actions, rpm_limit=20, client_window=60.0)
        )
    finally:
        server.stop()
    print(
        f"\nlimiter on, 20 RPM: {len(outcome.results)} actions, "
        f"{len(outcome.decisions)} relay requests, {outcome.refused} × 429, "
        f"{outcome.seconds:.1f} s"
    )
    check_limiter_on(outcome, 60, 20, 60.0)


def app_client_margin() -> float:
    """The margin `GatewayClient` gives its limiter for a profile with an RPM limit."""
    from bluesdesk.gateway.http import GatewayClient

    profile = GatewayProfile(id="m", name="m", base_url="http://127.0.0.1:9/v1", rpm_limit=20)
    return GatewayClient(profile, None).limiter.margin


def test_the_app_client_leaves_a_margin() -> None:
    assert app_client_margin() >= GATEWAY_MARGIN_S


class FakeClock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def test_margin_spaces_a_reused_slot_window_plus_margin_later() -> None:
    clock = FakeClock()
    limiter = RpmLimiter(2, clock, window=3.0, margin=0.5)
    assert [limiter.reserve(), limiter.reserve()] == [0.0, 0.0]
    assert limiter.reserve() == pytest.approx(3.5)
    assert limiter.reserve() == pytest.approx(3.5)
    clock.now += 3.5  # the first two leave the window only after window + margin
    assert limiter.reserve() == pytest.approx(3.5)
    clock.now += 3.6
    assert limiter.reserve() == pytest.approx(0.0)
    assert RpmLimiter(2, clock, margin=-1.0).margin == 0.0


# ---- limiter off --------------------------------------------------------------------------


def first_attempts(decisions: list[Decision], total: int) -> tuple[list[Decision], list[Decision]]:
    """Split the log into the actions' first requests and the retries that followed.

    All actions start together and no retry can come sooner than 1 s (Retry-After is a whole
    number of seconds, at least 1), so the first `total` decisions are the first attempts.
    """
    first, later = decisions[:total], decisions[total:]
    if later:
        assert later[0].at - first[-1].at >= 0.5, "first attempts and retries overlap"
    return first, later


def test_limiter_off_every_429_is_retried_after_retry_after(
    tmp_path: Path, tight_gateway: EmulatorServer
) -> None:
    total = 40
    actions = [(k, a) for k, a in mix(total * 2) if a is not models_pane][:total]
    outcome = asyncio.run(
        run_scenario(tmp_path, tight_gateway, actions, rpm_limit=0, client_window=60.0)
    )
    decisions = outcome.decisions
    refusals = [d for d in decisions if not d.allowed]
    failures = outcome.errors()
    # Each action is one relay request; every 429 but the last one of an action is retried.
    assert len(decisions) == total + len(refusals) - len(failures)
    assert outcome.refused == len(refusals) > 0
    assert sum(d.allowed for d in decisions) == total - len(failures)
    assert max_in_any_window(decisions, 3.0) <= 10

    # Retries come no sooner than Retry-After: match the retries, in time order, against the
    # refusals in order of the moment their Retry-After ran out.
    _, retries = first_attempts(decisions, total)
    due = sorted(d.at + d.retry_after for d in refusals)
    assert all(d.retry_after >= 1 for d in refusals)
    for retry, deadline in zip(sorted(d.at for d in retries), due, strict=False):
        assert retry >= deadline - 0.005, (retry, deadline)

    # Within the budget: no action made more than 1 + 2 requests, so with 40 actions against
    # 10 per 3 s (at most ~30 through in three windows) some end refused.
    assert len(decisions) <= total * (1 + POLICY.max_retries)
    assert failures, "expected some actions to run out of retries"
    for kind, error in failures:
        raised = error.error if isinstance(error, ChatFailed) else error
        assert isinstance(raised, RateLimited), (kind, raised)
        assert raised.retry_after is not None and raised.retry_after >= 1
        assert raised.describe()
        if kind == "chat":  # the pane's countdown reads this
            info = classify_error(raised)
            assert info["kind"] == "rate_limit" and info["retry_after"] >= 1
    print(
        f"\nlimiter off, 10 per 3 s: {total} actions, {len(decisions)} relay requests, "
        f"{len(refusals)} × 429, {len(retries)} retries, {len(failures)} RateLimited, "
        f"{outcome.seconds:.1f} s"
    )


def test_a_single_request_waits_exactly_its_retry_after(
    tmp_path: Path, tight_gateway: EmulatorServer
) -> None:
    """One action against a full window: the emulator sees refusal → retry ≥ Retry-After → ok,
    an exact pairing (nothing else is in flight)."""

    async def scenario() -> list[Decision]:
        tight_gateway.reset_faults()
        window = tight_gateway.state.limits.rpm if tight_gateway.state else None
        assert isinstance(window, SlidingWindow)
        rig = await open_rig(tmp_path / "home", tight_gateway.relay_url, policy=POLICY)
        try:
            for _ in range(10):  # fill the key's window from the same client
                await model_list(rig, rig.profile)
            await speech(rig, rig.profile)
        finally:
            await rig.close()
        return window.decisions()

    decisions = asyncio.run(scenario())
    tail = decisions[10:]
    assert [d.allowed for d in tail][-1] is True
    assert 2 <= len(tail) <= 1 + POLICY.max_retries
    for refusal, retry in itertools.pairwise(tail):
        assert not refusal.allowed
        assert retry.at - refusal.at >= refusal.retry_after - 0.005
