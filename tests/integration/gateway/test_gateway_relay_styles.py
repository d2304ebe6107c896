"""The gateway client against the real emulator, on every flavor: models, chat in three styles,
and the metadata each flavor sends in its headers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

import pytest

from bluesdesk.core.models import (
    ApiStyle,
    ChatMessage,
    ChatParams,
    Delta,
    Finish,
    GatewayProfile,
    ResponseMeta,
    StreamStart,
    Usage,
)
from bluesdesk.core.retry import RetryPolicy
from bluesdesk.emulator import EmulatorServer, Flavor
from bluesdesk.emulator.accounts import DEMO
from bluesdesk.gateway import GatewayClient, complete_chat, list_models, stream_chat
from tests.integration.conftest import EmulatorFleet

T = TypeVar("T")
FAST = RetryPolicy(max_retries=2, base_delay=0.0, max_delay=0.0, jitter=0.0)
MODELS = {
    ApiStyle.OPENAI: "gpt-4o-mini",
    ApiStyle.CLAUDE: "claude-haiku-4-5",
    ApiStyle.GEMINI: "gemini-2.5-flash",
}
MESSAGES = [ChatMessage("system", "Be brief."), ChatMessage("user", "Say hello to the tests.")]


def run(coro: Awaitable[T]) -> T:
    async def main() -> T:
        return await coro

    return asyncio.run(main())


def client_for(server: EmulatorServer, key: str | None = DEMO.api_key) -> GatewayClient:
    profile = GatewayProfile(id="emu", name="Emulator", base_url=server.relay_url, timeout_s=10)
    return GatewayClient(profile, key, policy=FAST)


async def stream_all(client: GatewayClient, style: ApiStyle, model: str | None = None) -> list[Any]:
    try:
        params = ChatParams(model=model or MODELS[style], max_tokens=64)
        return [event async for event in stream_chat(client, MESSAGES, params, style=style)]
    finally:
        await client.aclose()


@pytest.fixture(params=list(Flavor), ids=str)
def server(request: pytest.FixtureRequest, emulators: EmulatorFleet) -> EmulatorServer:
    return emulators.get(request.param)


def test_list_models(server: EmulatorServer) -> None:
    async def go() -> list[Any]:
        client = client_for(server)
        try:
            return await list_models(client)
        finally:
            await client.aclose()

    models = run(go())
    ids = {m.id for m in models}
    assert {"gpt-4o-mini", "claude-haiku-4-5", "gemini-2.5-flash"} <= ids
    assert all(m.owned_by for m in models)
    assert server.request_count(server.config.relay_prefix + "/models") == 1


@pytest.mark.parametrize("style", list(ApiStyle), ids=str)
def test_stream_chat_in_each_style(server: EmulatorServer, style: ApiStyle) -> None:
    client = client_for(server)
    events = run(stream_all(client, style))
    text = "".join(e.text for e in events if isinstance(e, Delta) and e.kind == "text")
    assert text.strip()
    assert isinstance(events[0], StreamStart)
    finishes = [e for e in events if isinstance(e, Finish)]
    assert finishes and finishes[-1].reason in ("stop", "length")
    usage = [e for e in events if isinstance(e, Usage)]
    assert usage and usage[-1].prompt_tokens > 0 and usage[-1].completion_tokens > 0
    assert client.last_meta.status == 200


@pytest.mark.parametrize("style", list(ApiStyle), ids=str)
def test_complete_chat_in_each_style(server: EmulatorServer, style: ApiStyle) -> None:
    async def go() -> tuple[str, Usage, ResponseMeta]:
        client = client_for(server)
        try:
            return await complete_chat(
                client, MESSAGES, ChatParams(model=MODELS[style], max_tokens=64), style=style
            )
        finally:
            await client.aclose()

    text, usage, meta = run(go())
    assert text.strip()
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert meta.status == 200


def test_flavor_metadata(server: EmulatorServer) -> None:
    seen: list[ResponseMeta] = []

    async def go() -> None:
        client = client_for(server)
        client.meta_listeners.append(seen.append)
        try:
            await complete_chat(client, MESSAGES, ChatParams(model="gpt-4o-mini", max_tokens=16))
        finally:
            await client.aclose()

    run(go())
    assert len(seen) == 1
    meta = seen[0]
    assert meta.request_id
    assert meta.elapsed_ms > 0
    flavor = server.config.flavor
    if flavor is Flavor.BLUENEXUS:
        assert meta.credits_remaining is not None and meta.credits_consumed is not None
    if flavor is Flavor.MINDPROXY:
        assert meta.hold_id.startswith("hold_")
    if flavor is not Flavor.NEWAPI:
        assert meta.ratelimit_limit is not None and meta.ratelimit_remaining is not None
