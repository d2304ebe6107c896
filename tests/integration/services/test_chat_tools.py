"""Tool calling against the real emulator: the model calls a built-in tool, bluesdesk runs it
locally, sends the result back and streams the final answer, in each API style."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bluesdesk.core.models import ApiStyle
from bluesdesk.emulator import EmulatorServer
from bluesdesk.services.chat import (
    ChatService,
    MessageStats,
    ReplyToolCall,
    ReplyUpdate,
    tool_calls_of,
)
from tests.integration.services.test_chat_service import MODELS, run_with_service

PROMPTS = [
    ("calculate 2+3*4", "calculator", lambda r: r["result"] == 14),
    ("What time is it?", "date_time", lambda r: len(r["date"]) == 10),
    ("convert 5 km to miles", "convert_units", lambda r: abs(r["result"] - 3.106856) < 1e-6),
]


@pytest.mark.parametrize("style", list(ApiStyle), ids=str)
def test_tool_round_trip(tmp_path: Any, emulator: EmulatorServer, style: ApiStyle) -> None:
    updates: list[ReplyUpdate] = []

    async def body(service: ChatService) -> Any:
        out = []
        for prompt, _, _ in PROMPTS:
            conv = await service.new_conversation(
                model=MODELS[style], api_style=str(style), params={"tools": True}
            )
            final = await service.send(conv.id, prompt, on_update=updates.append)
            out.append((final, await service.store.get_messages(conv.id)))
        return out

    results = run_with_service(tmp_path, emulator, body)
    for (final, stored), (_, name, check) in zip(results, PROMPTS, strict=True):
        assert [m.role for m in stored] == ["user", "assistant"]
        assert final.state == "complete", final.error
        calls = tool_calls_of(final.meta_json)
        assert [c["name"] for c in calls] == [name]
        assert calls[0]["ok"] and check(json.loads(calls[0]["result"]))
        # The final answer quotes what the tool returned, so the result reached the model.
        assert json.loads(calls[0]["result"])["result" if name != "date_time" else "date"]
        quoted = str(json.loads(calls[0]["result"]).get("result", ""))
        assert quoted in final.text and "result is" in final.text
        stats = MessageStats.from_meta(final.meta_json)
        assert stats is not None and stats.finish_reason == "stop"
    assert len([u for u in updates if isinstance(u, ReplyToolCall)]) == len(PROMPTS)


def test_tools_off_sends_no_tools(tmp_path: Any, emulator: EmulatorServer) -> None:
    async def body(service: ChatService) -> Any:
        conv = await service.new_conversation(model="gpt-4o-mini")
        return await service.send(conv.id, "calculate 2+3*4")

    final = run_with_service(tmp_path, emulator, body)
    assert final.state == "complete" and final.text
    assert tool_calls_of(final.meta_json) == []


def test_billed_cost_is_kept_when_the_gateway_reports_it(tmp_path: Any) -> None:
    from bluesdesk.emulator import EmulatorConfig, Flavor

    server = EmulatorServer(EmulatorConfig(flavor=Flavor.BLUENEXUS, port=0, tokens_per_second=0))
    server.start()

    async def body(service: ChatService) -> Any:
        conv = await service.new_conversation(model="gpt-4o-mini", params={"tools": True})
        return await service.send(conv.id, "calculate 2+3*4")

    try:
        final = run_with_service(tmp_path, server, body)
    finally:
        server.stop()
    stats = MessageStats.from_meta(final.meta_json)
    assert final.state == "complete", final.error
    # Two requests (the tool call, then the answer), each billed by the gateway's header.
    assert stats is not None and stats.billed_usd is not None and stats.billed_usd > 0


def test_billed_cost_is_unknown_when_the_gateway_is_silent(
    tmp_path: Any, emulator: EmulatorServer
) -> None:
    async def body(service: ChatService) -> Any:
        conv = await service.new_conversation(model="gpt-4o-mini")
        return await service.send(conv.id, "echo: hi")

    stats = MessageStats.from_meta(run_with_service(tmp_path, emulator, body).meta_json)
    assert stats is not None and stats.billed_usd is None
