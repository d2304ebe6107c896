"""An answer that used tools is sent back in later requests exactly as its tool round trip sent
it (assistant tool calls, then the tool results, then the final text), in every API style, and
stays valid when the conversation switches to another style. Asserted on the request bodies the
emulator received (GET /emulator/requests)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from bluesdesk.core.models import ApiStyle, ChatMessage, ChatParams
from bluesdesk.emulator import EmulatorServer
from bluesdesk.gateway.bodies import claude_messages, gemini_body
from bluesdesk.services.chat import ChatService, tool_calls_of, tool_exchange
from tests.integration.services.test_chat_service import MODELS, run_with_service


def chat_path(style: ApiStyle) -> str:
    if style is ApiStyle.CLAUDE:
        return "/v1/messages"
    if style is ApiStyle.GEMINI:
        return f"/v1beta/models/{MODELS[style]}:streamGenerateContent"
    return "/v1/chat/completions"


def turns(style: ApiStyle, body: dict[str, Any]) -> list[Any]:
    return list(body["contents" if style is ApiStyle.GEMINI else "messages"])


@pytest.mark.parametrize("style", list(ApiStyle), ids=str)
def test_tool_exchange_is_replayed_as_sent(
    tmp_path: Path, emulator: EmulatorServer, style: ApiStyle
) -> None:
    async def body(service: ChatService) -> Any:
        conv = await service.new_conversation(
            model=MODELS[style], api_style=str(style), params={"tools": True}
        )
        first = await service.send(conv.id, "calculate 2+3*4")
        second = await service.send(conv.id, "echo: thanks")
        return first, second

    first, second = run_with_service(tmp_path, emulator, body)
    assert first.state == "complete" and second.state == "complete", second.error
    assert second.text == "thanks"
    sent = emulator.requests(chat_path(style))
    assert len(sent) == 3  # the tool call, the answer after the result, the next message
    round_trip, later = turns(style, sent[1]), turns(style, sent[2])
    # The next request starts with exactly what the tool round trip sent...
    assert later[: len(round_trip)] == round_trip
    # ...then the final answer and the new message.
    tail = later[len(round_trip) :]
    if style is ApiStyle.GEMINI:
        assert tail == [
            {"role": "model", "parts": [{"text": first.text}]},
            {"role": "user", "parts": [{"text": "echo: thanks"}]},
        ]
    else:
        assert tail == [
            {"role": "assistant", "content": first.text},
            {"role": "user", "content": "echo: thanks"},
        ]
    # And the round trip did carry the call and its result.
    call = tool_calls_of(first.meta_json)[0]
    text = json.dumps(round_trip)
    assert call["name"] in text and json.dumps(call["result"])[1:-1] in text
    if style is not ApiStyle.GEMINI:
        assert call["id"] and text.count(call["id"]) == 2  # the call and the result name it


def test_the_recorder_answers_over_http(emulator: EmulatorServer) -> None:
    url = f"{emulator.base_url}/emulator/requests"
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "echo: hi"}]}
    headers = {"Authorization": "Bearer " + emulator_key()}
    httpx.post(f"{emulator.relay_url}/chat/completions", json=body, headers=headers, timeout=10)
    got = httpx.get(url, params={"path": "/v1/chat/completions"}, timeout=10).json()
    assert got["success"] and got["data"][-1] == body
    assert httpx.get(url, params={"path": "/nowhere"}, timeout=10).json()["data"] == []


def emulator_key() -> str:
    from bluesdesk.emulator.accounts import DEMO

    return DEMO.api_key


PAIRS = [p for p in itertools.product(ApiStyle, ApiStyle) if p[0] is not p[1]]


@pytest.mark.parametrize(("before", "after"), PAIRS, ids=lambda s: str(s))
def test_history_stays_valid_after_a_style_switch(
    tmp_path: Path, emulator: EmulatorServer, before: ApiStyle, after: ApiStyle
) -> None:
    async def body(service: ChatService) -> Any:
        conv = await service.new_conversation(
            model=MODELS[before], api_style=str(before), params={"tools": True}
        )
        first = await service.send(conv.id, "calculate 2+3*4")
        # The user switches style and model, and turns tools off.
        await service.store.update_conversation(
            conv.id, model=MODELS[after], api_style=str(after), params_json="{}"
        )
        second = await service.send(conv.id, "echo: still here")
        return first, second

    first, second = run_with_service(tmp_path, emulator, body)
    assert tool_calls_of(first.meta_json), "the first answer used the tool"
    assert second.state == "complete", second.error
    assert second.text == "still here"
    sent = emulator.requests(chat_path(after))[-1]
    call = tool_calls_of(first.meta_json)[0]
    if after is ApiStyle.OPENAI:
        assert_openai_valid(sent["messages"], call)
        assert "tools" not in sent
    elif after is ApiStyle.CLAUDE:
        assert_claude_valid(sent["messages"], call)
        # Claude refuses tool blocks without tools declared; none may be called now.
        assert sent["tools"] and sent["tool_choice"] == {"type": "none"}
    else:
        assert_gemini_valid(sent["contents"], call)
        assert sent["toolConfig"] == {"functionCallingConfig": {"mode": "NONE"}}


def assert_openai_valid(messages: list[dict[str, Any]], call: dict[str, Any]) -> None:
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "assistant", "user"]
    assistant, result = messages[1], messages[2]
    wire = assistant["tool_calls"][0]
    assert wire["id"] == call["id"] == result["tool_call_id"]
    assert wire["function"]["name"] == call["name"]
    assert result["content"] == call["result"]


def assert_claude_valid(messages: list[dict[str, Any]], call: dict[str, Any]) -> None:
    roles = [m["role"] for m in messages]
    assert roles == ["user", "assistant", "user", "assistant", "user"]  # strictly alternating
    use = [b for b in messages[1]["content"] if b["type"] == "tool_use"]
    assert [(b["id"], b["name"]) for b in use] == [(call["id"], call["name"])]
    results = [b for b in messages[2]["content"] if b["type"] == "tool_result"]
    assert [b["tool_use_id"] for b in results] == [call["id"]]
    assert results[0]["content"] == call["result"]


def assert_gemini_valid(contents: list[dict[str, Any]], call: dict[str, Any]) -> None:
    roles = [c["role"] for c in contents]
    assert roles == ["user", "model", "user", "model", "user"]
    calls = [p["functionCall"] for p in contents[1]["parts"] if "functionCall" in p]
    responses = [p["functionResponse"] for p in contents[2]["parts"] if "functionResponse" in p]
    assert [c["name"] for c in calls] == [r["name"] for r in responses] == [call["name"]]
    assert responses[0]["response"] == {"content": call["result"]}


def test_answers_stored_before_rounds_were_recorded_still_replay_validly() -> None:
    """Older answers kept their calls without a round: one round, no text before the calls."""
    calls: list[dict[str, Any]] = [
        {"id": "call_a", "name": "calculator", "arguments": '{"expression":"1+1"}', "result": "2"},
        {"id": "call_b", "name": "date_time", "arguments": "", "result": "{}", "ok": True},
    ]
    out = tool_exchange("The sum is 2.", calls, [])
    assert [m.role for m in out] == ["assistant", "tool", "tool", "assistant"]
    assert out[0].content == "" and [c["id"] for c in out[0].tool_calls] == ["call_a", "call_b"]
    assert out[0].tool_calls[1]["function"]["arguments"] == "{}"
    assert [m.tool_call_id for m in out[1:3]] == ["call_a", "call_b"]
    assert out[3].content == "The sum is 2."
    # Both results of the round go back in one Claude user turn, one Gemini turn.
    _, claude = claude_messages([ChatMessage("user", "hi"), *out, ChatMessage("user", "and?")])
    assert [m["role"] for m in claude] == ["user", "assistant", "user", "assistant", "user"]
    assert [b["tool_use_id"] for b in claude[2]["content"]] == ["call_a", "call_b"]
    gemini = gemini_body([ChatMessage("user", "hi"), *out], ChatParams("g"))["contents"]
    assert [c["role"] for c in gemini] == ["user", "model", "user", "model"]
    assert len(gemini[2]["parts"]) == 2


def test_rounds_split_the_text_where_each_round_ended() -> None:
    calls = [
        {"id": "c1", "name": "calculator", "arguments": "{}", "result": "1", "round": 0},
        {"id": "c2", "name": "calculator", "arguments": "{}", "result": "2", "round": 1},
    ]
    out = tool_exchange("Let me see. Again. Done.", calls, [12, 19])
    assert [(m.role, m.content) for m in out] == [
        ("assistant", "Let me see. "),
        ("tool", "1"),
        ("assistant", "Again. "),
        ("tool", "2"),
        ("assistant", "Done."),
    ]
