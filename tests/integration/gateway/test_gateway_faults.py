"""Every emulator fault reaches the caller as the right typed error, with the right number of
attempts as counted by the emulator itself."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Iterator
from typing import Any, TypeVar

import pytest

from bluesdesk.core.models import ApiStyle, ChatMessage, ChatParams, Delta, GatewayProfile
from bluesdesk.core.retry import RetryPolicy
from bluesdesk.emulator import EmulatorServer, Flavor
from bluesdesk.emulator.accounts import DEMO
from bluesdesk.errors import (
    AuthFailed,
    BadResponse,
    ConsoleRejected,
    NotFound,
    RateLimited,
    ServerError,
    StreamErrorEvent,
    StreamInterrupted,
    TimedOut,
)
from bluesdesk.gateway import GatewayClient, complete_chat, list_models, stream_chat
from tests.integration.conftest import EmulatorFleet, start_emulator

T = TypeVar("T")
FAST = RetryPolicy(max_retries=2, base_delay=0.0, max_delay=0.0, jitter=0.0)
CHAT = "/v1/chat/completions"
MESSAGES = [ChatMessage("user", "Tell me a story about a fault-tolerant client.")]
PARAMS = ChatParams(model="gpt-4o-mini", max_tokens=200)


def run(coro: Awaitable[T]) -> T:
    async def main() -> T:
        return await coro

    return asyncio.run(main())


@pytest.fixture
def server(emulators: EmulatorFleet) -> EmulatorServer:
    return emulators.get(Flavor.BLUESMINDS)


def client_for(
    server: EmulatorServer,
    *,
    timeout_s: float = 10.0,
    key: str = DEMO.api_key,
    policy: RetryPolicy = FAST,
) -> GatewayClient:
    profile = GatewayProfile(
        id="emu", name="Emulator", base_url=server.relay_url, timeout_s=timeout_s
    )
    return GatewayClient(profile, key, policy=policy)


async def stream_text(
    client: GatewayClient, style: ApiStyle = ApiStyle.OPENAI, model: str = "gpt-4o-mini"
) -> str:
    try:
        params = ChatParams(model=model, max_tokens=200)
        parts = [
            e.text
            async for e in stream_chat(client, MESSAGES, params, style=style)
            if isinstance(e, Delta) and e.kind == "text"
        ]
        return "".join(parts)
    finally:
        await client.aclose()


async def complete(client: GatewayClient) -> str:
    try:
        text, _, _ = await complete_chat(client, MESSAGES, PARAMS)
        return text
    finally:
        await client.aclose()


# ---- pre-response faults --------------------------------------------------------------------


def test_429_once_is_retried_and_succeeds(server: EmulatorServer) -> None:
    server.arm_fault("429", retry_after=0)
    assert run(complete(client_for(server)))
    assert server.request_count(CHAT) == 2


def test_429_every_time_gives_rate_limited_with_retry_after(server: EmulatorServer) -> None:
    server.arm_fault("429", count=5, retry_after=0)
    with pytest.raises(RateLimited) as info:
        run(complete(client_for(server)))
    assert info.value.retry_after == 0.0
    assert info.value.status == 429
    assert server.request_count(CHAT) == 3


def test_500_retried_then_server_error(server: EmulatorServer) -> None:
    server.arm_fault("500", count=5)
    with pytest.raises(ServerError) as info:
        run(complete(client_for(server)))
    assert info.value.status == 500
    assert info.value.user_message
    assert server.request_count(CHAT) == 3


def test_html_502_is_retried_and_explained(server: EmulatorServer) -> None:
    server.arm_fault("html502", count=1)
    assert run(complete(client_for(server)))
    server.arm_fault("html502", count=5)
    with pytest.raises(ServerError, match="web page") as info:
        run(complete(client_for(server)))
    assert info.value.status == 502
    assert server.request_count(CHAT) == 2 + 3


def test_stream_with_500_before_the_first_event_is_retried(server: EmulatorServer) -> None:
    server.arm_fault("500", count=2)
    assert run(stream_text(client_for(server)))
    assert server.request_count(CHAT) == 3


def test_success_false_is_console_rejected_and_not_retried(server: EmulatorServer) -> None:
    server.arm_fault("success_false")
    with pytest.raises(ConsoleRejected):
        run(complete(client_for(server)))
    assert server.request_count(CHAT) == 1


def test_401_fault_is_not_retried(server: EmulatorServer) -> None:
    server.arm_fault("401", count=5)
    with pytest.raises(AuthFailed):
        run(stream_text(client_for(server)))
    assert server.request_count(CHAT) == 1


def test_wrong_key_is_auth_failed_once(server: EmulatorServer) -> None:
    with pytest.raises(AuthFailed) as info:
        run(complete(client_for(server, key="sk-" + "w" * 48)))
    assert info.value.request_id
    assert "sk-www" not in info.value.describe()
    assert server.request_count(CHAT) == 1


def test_unknown_model_is_not_found_and_not_retried(server: EmulatorServer) -> None:
    async def go() -> None:
        client = client_for(server)
        try:
            await complete_chat(client, MESSAGES, ChatParams(model="no-such-model"))
        finally:
            await client.aclose()

    with pytest.raises(NotFound) as info:
        run(go())
    assert info.value.code == "model_not_found"
    assert "no-such-model" in info.value.user_message
    assert server.request_count(CHAT) == 1


def test_slow_headers_time_out_and_are_retried(server: EmulatorServer) -> None:
    server.arm_fault("slow_headers", count=5, seconds=2)
    with pytest.raises(TimedOut):
        run(
            complete(
                client_for(server, timeout_s=0.3, policy=RetryPolicy(max_retries=1, base_delay=0.0))
            )
        )
    assert server.request_count(CHAT) == 2


# ---- faults inside a 200 stream ------------------------------------------------------------


@pytest.mark.parametrize(
    ("style", "path", "model"),
    [
        (ApiStyle.OPENAI, CHAT, "gpt-4o-mini"),
        (ApiStyle.CLAUDE, "/v1/messages", "claude-haiku-4-5"),
        (
            ApiStyle.GEMINI,
            "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
            "gemini-2.5-flash",
        ),
    ],
    ids=str,
)
def test_drop_keeps_partial_text_and_is_not_retried(
    server: EmulatorServer, style: ApiStyle, path: str, model: str
) -> None:
    full = run(stream_text(client_for(server), style, model))
    server.arm_fault("drop", after=4)
    with pytest.raises(StreamInterrupted) as info:
        run(stream_text(client_for(server), style, model))
    partial = info.value.partial_text
    assert partial and full.startswith(partial) and partial != full
    assert server.request_count(path) == 2  # one clean run, one dropped: no retry after text


def test_drop_before_the_first_event_is_retried(server: EmulatorServer) -> None:
    server.arm_fault("drop", after=0)
    assert run(stream_text(client_for(server)))
    assert server.request_count(CHAT) == 2


def test_stall_mid_stream_times_out_with_partial_text(server: EmulatorServer) -> None:
    server.arm_fault("stall", after=3, seconds=3)
    with pytest.raises(StreamInterrupted) as info:
        run(stream_text(client_for(server, timeout_s=0.4)))
    assert info.value.partial_text
    assert server.request_count(CHAT) == 1


def test_stream_error_event_keeps_partial_text(server: EmulatorServer) -> None:
    server.arm_fault("stream_error", after=3)
    with pytest.raises(StreamErrorEvent) as info:
        run(stream_text(client_for(server)))
    assert info.value.partial_text
    assert server.request_count(CHAT) == 1


@pytest.mark.parametrize("after", [0, 3])
def test_malformed_stream(server: EmulatorServer, after: int) -> None:
    server.arm_fault("malformed", after=after)
    with pytest.raises((BadResponse, StreamInterrupted)) as info:
        run(stream_text(client_for(server)))
    if after == 0:
        assert isinstance(info.value, BadResponse)
    else:
        assert isinstance(info.value, StreamInterrupted) and info.value.partial_text


def test_claude_stream_error_event(server: EmulatorServer) -> None:
    server.arm_fault("stream_error", after=3)
    with pytest.raises(StreamErrorEvent, match="Overloaded"):
        run(stream_text(client_for(server), ApiStyle.CLAUDE, "claude-haiku-4-5"))


# ---- the gateway's own rate limit -------------------------------------------------------------


@pytest.fixture(scope="module")
def strict_server() -> Iterator[EmulatorServer]:
    server = start_emulator(Flavor.BLUESMINDS, rpm=2)
    try:
        yield server
    finally:
        server.stop()


def test_gateway_rpm_limit_gives_rate_limited_with_retry_after(
    strict_server: EmulatorServer,
) -> None:
    async def go() -> list[Any]:
        client = client_for(strict_server, policy=RetryPolicy(max_retries=0))
        try:
            return [await list_models(client) for _ in range(3)]
        finally:
            await client.aclose()

    with pytest.raises(RateLimited) as info:
        run(go())
    assert info.value.retry_after is not None and 0 < info.value.retry_after <= 60
    assert strict_server.request_count("/v1/models") == 3


# ---- waiting, stopping and cancelling -------------------------------------------------------


def test_retry_after_from_the_gateway_is_waited_out(server: EmulatorServer) -> None:
    server.arm_fault("429", retry_after=1)
    started = time.monotonic()
    assert run(complete(client_for(server)))
    assert time.monotonic() - started >= 1.0
    assert server.request_count(CHAT) == 2


def test_stopping_early_closes_the_stream_cleanly(server: EmulatorServer) -> None:
    async def go() -> str:
        client = client_for(server)
        stream = stream_chat(client, MESSAGES, PARAMS)
        first = ""
        async for event in stream:
            if isinstance(event, Delta):
                first = event.text
                break
        await stream.aclose()
        # The client stays usable after an abandoned stream.
        again = await list_models(client)
        await client.aclose()
        return first if again else ""

    assert run(go())


def test_cancelling_a_stalled_stream(server: EmulatorServer) -> None:
    server.arm_fault("stall", after=3, seconds=5)

    async def go() -> bool:
        client = client_for(server)
        first_text = asyncio.Event()

        async def consume() -> None:
            async for event in stream_chat(client, MESSAGES, PARAMS):
                if isinstance(event, Delta):
                    first_text.set()

        task = asyncio.create_task(consume())
        await first_text.wait()
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            cancelled = True
        else:
            cancelled = False
        await client.aclose()
        return cancelled

    started = time.monotonic()
    assert run(go())
    assert time.monotonic() - started < 4  # did not sit out the stall
