"""Text relay routes over real sockets: chat completions, Claude messages, Gemini, responses, model
lists and embeddings, read as raw HTTP so every frame and field is checked as a client sees it."""

from __future__ import annotations

import base64
import io
import json
import struct
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from bluesdesk.emulator import EmulatorConfig, EmulatorServer, Flavor
from bluesdesk.emulator.accounts import DEMO, ROOT
from bluesdesk.emulator.catalog import MODELS

WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    config = EmulatorConfig(flavor=Flavor.BLUESMINDS, port=0, rpm=100_000, api_rate_limit=False)
    server = EmulatorServer(config)
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture
def http(base: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {DEMO.api_key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as c:
        yield c


def sse_data(response: httpx.Response) -> list[str]:
    """The `data:` payloads of an SSE body, in order."""
    assert response.headers["content-type"].startswith("text/event-stream")
    return [
        line[len("data: ") :] for line in response.text.split("\n") if line.startswith("data: ")
    ]


def sse_events(response: httpx.Response) -> list[tuple[str, dict[str, Any]]]:
    """(event name, data) pairs of an `event:`/`data:` SSE body."""
    out = []
    for block in response.text.split("\n\n"):
        if not block.strip():
            continue
        lines = dict(line.split(": ", 1) for line in block.split("\n"))
        out.append((lines["event"], json.loads(lines["data"])))
    return out


def png_data_url(width: int, height: int) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (220, 40, 40)).save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def chat(http: httpx.Client, **body: Any) -> httpx.Response:
    body.setdefault("model", "gpt-4o")
    body.setdefault("messages", [{"role": "user", "content": "Explain binary search"}])
    return http.post("/v1/chat/completions", json=body)


# --------------------------------------------------------------------------- chat completions


def test_chat_non_stream_shape_usage_and_determinism(http: httpx.Client) -> None:
    first = chat(http)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["object"] == "chat.completion" and body["model"] == "gpt-4o"
    assert body["id"].startswith("chatcmpl-") and body["system_fingerprint"].startswith("fp_")
    [choice] = body["choices"]
    assert choice["finish_reason"] == "stop" and choice["message"]["role"] == "assistant"
    content = choice["message"]["content"]
    assert "## " in content and "```" in content and "|---|" in content
    usage = body["usage"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 50
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    again = chat(http).json()
    assert again["choices"][0]["message"]["content"] == content
    assert again["id"] != body["id"]


def test_chat_stream_frames_match_the_whole_reply(http: httpx.Client) -> None:
    whole = chat(http).json()
    response = chat(http, stream=True, stream_options={"include_usage": True})
    assert response.status_code == 200
    data = sse_data(response)
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    for c in chunks:
        assert c["object"] == "chat.completion.chunk" and c["model"] == "gpt-4o"
        assert c["id"] == chunks[0]["id"] and c["created"] and c["system_fingerprint"]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == whole["choices"][0]["message"]["content"]
    assert len(chunks) > 20
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == whole["usage"]


def test_chat_stream_without_include_usage_has_no_usage_chunk(http: httpx.Client) -> None:
    chunks = [json.loads(d) for d in sse_data(chat(http, stream=True))[:-1]]
    assert all(c["choices"] for c in chunks)


def test_chat_max_tokens_stop_and_n(http: httpx.Client) -> None:
    cut = chat(http, max_tokens=12).json()
    assert cut["choices"][0]["finish_reason"] == "length"
    assert cut["usage"]["completion_tokens"] <= 12
    full = chat(http).json()["choices"][0]["message"]["content"]
    stopped = chat(http, stop="### Key points").json()["choices"][0]
    assert stopped["finish_reason"] == "stop"
    assert stopped["message"]["content"] == full[: full.index("### Key points")]
    several = chat(http, n=3).json()
    texts = [c["message"]["content"] for c in several["choices"]]
    assert [c["index"] for c in several["choices"]] == [0, 1, 2]
    assert len(set(texts)) == 3
    seeded = chat(http, seed=5).json()["choices"][0]["message"]["content"]
    assert (
        seeded != full and seeded == chat(http, seed=5).json()["choices"][0]["message"]["content"]
    )


def test_chat_json_modes(http: httpx.Client) -> None:
    obj = chat(http, response_format={"type": "json_object"}).json()
    assert isinstance(json.loads(obj["choices"][0]["message"]["content"]), dict)
    schema = {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "year": {"type": "integer"},
            "genres": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["title", "year", "genres"],
        "additionalProperties": False,
    }
    fmt = {
        "type": "json_schema",
        "json_schema": {"name": "movie", "schema": schema, "strict": True},
    }
    value = json.loads(chat(http, response_format=fmt).json()["choices"][0]["message"]["content"])
    assert isinstance(value["title"], str) and isinstance(value["year"], int)
    assert isinstance(value["genres"], list)


def test_chat_tool_call_and_follow_up(http: httpx.Client) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "What's the weather in Lisbon?"}]
    body = chat(http, messages=messages, tools=[WEATHER_TOOL]).json()
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] is None
    [call] = choice["message"]["tool_calls"]
    assert call["type"] == "function" and call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"city": "Lisbon", "unit": "celsius"}
    messages += [
        choice["message"],
        {"role": "tool", "tool_call_id": call["id"], "content": '{"temp_c": 24, "sky": "clear"}'},
    ]
    final = chat(http, messages=messages, tools=[WEATHER_TOOL]).json()["choices"][0]
    assert final["finish_reason"] == "stop"
    assert '{"temp_c": 24, "sky": "clear"}' in final["message"]["content"]
    assert "get_weather" in final["message"]["content"]


def test_chat_tool_call_stream_deltas(http: httpx.Client) -> None:
    messages = [{"role": "user", "content": "weather in Oslo please"}]
    response = chat(http, messages=messages, tools=[WEATHER_TOOL], stream=True)
    chunks = [json.loads(d) for d in sse_data(response)[:-1]]
    deltas = [c["choices"][0]["delta"] for c in chunks]
    calls = [d["tool_calls"][0] for d in deltas if "tool_calls" in d]
    assert calls[0]["id"].startswith("call_") and calls[0]["function"]["name"] == "get_weather"
    assert all("id" not in c and c["index"] == 0 for c in calls[1:]) and len(calls) > 2
    arguments = "".join(c["function"]["arguments"] for c in calls)
    assert json.loads(arguments)["city"] == "Oslo"
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_chat_forced_tool_choice(http: httpx.Client) -> None:
    choice = {"type": "function", "function": {"name": "get_weather"}}
    messages = [{"role": "user", "content": "tell me a joke"}]
    body = chat(http, messages=messages, tools=[WEATHER_TOOL], tool_choice=choice).json()
    assert body["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "get_weather"
    plain = chat(http, messages=messages, tools=[WEATHER_TOOL]).json()["choices"][0]
    assert plain["finish_reason"] == "stop" and plain["message"]["content"]


def test_chat_vision_sizes_and_non_vision_400(http: httpx.Client) -> None:
    content = [
        {"type": "text", "text": "Describe these"},
        {"type": "image_url", "image_url": {"url": png_data_url(320, 200)}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
    ]
    messages = [{"role": "user", "content": content}]
    body = chat(http, messages=messages).json()
    text = body["choices"][0]["message"]["content"]
    assert "2 images" in text and "320x200 pixels" in text and "unknown" in text
    refused = chat(http, model="gpt-3.5-turbo", messages=messages)
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert "image" in error["message"] and "request id" in error["message"]
    broken = [
        {
            "role": "user",
            "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}],
        }
    ]
    assert chat(http, messages=broken).status_code == 400


def test_chat_reasoning_model_streams_reasoning_content(http: httpx.Client) -> None:
    response = chat(http, model="deepseek-reasoner", stream=True)
    deltas = [json.loads(d)["choices"][0]["delta"] for d in sse_data(response)[:-1]]
    reasoning = "".join(d.get("reasoning_content", "") for d in deltas)
    content = "".join(d.get("content") or "" for d in deltas)
    assert reasoning and content
    first_reasoning = next(i for i, d in enumerate(deltas) if d.get("reasoning_content"))
    first_content = next(i for i, d in enumerate(deltas) if d.get("content"))
    assert first_reasoning < first_content
    whole = chat(http, model="deepseek-reasoner").json()
    assert whole["choices"][0]["message"]["reasoning_content"] == reasoning
    assert whole["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0


@pytest.mark.parametrize(
    "body",
    [
        {"model": "gpt-4o"},
        {"model": "gpt-4o", "messages": []},
        {"model": "gpt-4o", "messages": [{"role": "wizard", "content": "x"}]},
        {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "max_tokens": 0},
        {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "n": 99},
        {"messages": [{"role": "user", "content": "x"}]},
        {"model": "dall-e-3", "messages": [{"role": "user", "content": "x"}]},
    ],
)
def test_chat_bad_requests_are_openai_400s(http: httpx.Client, body: dict[str, Any]) -> None:
    response = http.post("/v1/chat/completions", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_unknown_model_is_404_on_bluesminds(http: httpx.Client) -> None:
    assert chat(http, model="no-such-model").status_code == 404


def consume_log(http: httpx.Client, request_id: str) -> dict[str, Any]:
    """The consume log row of one call. Streams are billed just after their last event, so a
    client may read [DONE] a moment before the row exists: wait for it, within a deadline."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        rows = http.get("/api/log/token").json()["data"]
        for row in rows:
            if row.get("request_id") == request_id:
                return dict(row)
    raise AssertionError(f"no consume log for {request_id}")


def test_usage_reaches_the_consume_log(http: httpx.Client) -> None:
    whole = chat(http)
    row = consume_log(http, whole.headers["x-oneapi-request-id"])
    usage = whole.json()["usage"]
    assert (row["prompt_tokens"], row["completion_tokens"]) == (
        usage["prompt_tokens"],
        usage["completion_tokens"],
    )
    assert row["model_name"] == "gpt-4o" and not row["is_stream"] and row["quota"] > 0
    streamed = chat(http, stream=True)
    row = consume_log(http, streamed.headers["x-oneapi-request-id"])
    assert row["is_stream"] and row["completion_tokens"] == usage["completion_tokens"]
    assert "frt" in json.loads(row["other"])


# --------------------------------------------------------------------------- Claude messages


def claude(http: httpx.Client, base: str, **body: Any) -> httpx.Response:
    body.setdefault("model", "claude-sonnet-4-5")
    body.setdefault("max_tokens", 1024)
    body.setdefault("messages", [{"role": "user", "content": "Explain recursion"}])
    headers = {"x-api-key": DEMO.api_key, "anthropic-version": "2023-06-01"}
    return httpx.post(base + "/v1/messages", json=body, headers=headers, timeout=30)


def test_claude_message_non_stream(http: httpx.Client, base: str) -> None:
    response = claude(http, base)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "message" and body["role"] == "assistant"
    assert body["id"].startswith("msg_") and body["stop_reason"] == "end_turn"
    assert body["content"][0]["type"] == "text" and "## " in body["content"][0]["text"]
    assert body["usage"]["input_tokens"] > 0 and body["usage"]["output_tokens"] > 0


def test_claude_stream_event_sequence(http: httpx.Client, base: str) -> None:
    whole = claude(http, base).json()
    events = sse_events(claude(http, base, stream=True))
    names = [name for name, _ in events]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(names[3:-3]) == {"content_block_delta"}
    assert all(name == data["type"] for name, data in events)
    start = events[0][1]["message"]
    assert start["content"] == [] and start["stop_reason"] is None
    assert start["usage"]["input_tokens"] == whole["usage"]["input_tokens"]
    text = "".join(d["delta"]["text"] for n, d in events if n == "content_block_delta")
    assert text == whole["content"][0]["text"]
    delta = events[-2][1]
    assert delta["delta"]["stop_reason"] == "end_turn"
    assert delta["usage"]["output_tokens"] == whole["usage"]["output_tokens"]


def test_claude_thinking_blocks(http: httpx.Client, base: str) -> None:
    thinking = {"type": "enabled", "budget_tokens": 512}
    body = claude(http, base, model="claude-sonnet-4-5-thinking", thinking=thinking).json()
    kinds = [b["type"] for b in body["content"]]
    assert kinds == ["thinking", "text"] and body["content"][0]["signature"]
    events = sse_events(
        claude(http, base, model="claude-sonnet-4-5-thinking", thinking=thinking, stream=True)
    )
    deltas = [d["delta"]["type"] for n, d in events if n == "content_block_delta"]
    assert deltas[0] == "thinking_delta" and "signature_delta" in deltas
    assert deltas.index("signature_delta") < deltas.index("text_delta")
    # A model without thinking ignores the request, as upstream does.
    plain = claude(http, base, model="claude-haiku-4-5", thinking=thinking).json()
    assert [b["type"] for b in plain["content"]] == ["text"]


def test_claude_tool_use_stream_and_result(http: httpx.Client, base: str) -> None:
    tool = {
        "name": "get_weather",
        "description": "Current weather for a city",
        "input_schema": WEATHER_TOOL["function"]["parameters"],
    }
    messages: list[dict[str, Any]] = [{"role": "user", "content": "weather in Madrid?"}]
    events = sse_events(claude(http, base, messages=messages, tools=[tool], stream=True))
    starts = [d["content_block"] for n, d in events if n == "content_block_start"]
    assert starts == [
        {"type": "tool_use", "id": starts[0]["id"], "name": "get_weather", "input": {}}
    ]
    assert starts[0]["id"].startswith("toolu_")
    partial = "".join(d["delta"]["partial_json"] for n, d in events if n == "content_block_delta")
    assert json.loads(partial)["city"] == "Madrid"
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"
    messages += [
        {
            "role": "assistant",
            "content": [
                {
                    "type": "tool_use",
                    "id": starts[0]["id"],
                    "name": "get_weather",
                    "input": json.loads(partial),
                }
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": starts[0]["id"], "content": "sunny, 30C"}
            ],
        },
    ]
    final = claude(http, base, messages=messages, tools=[tool]).json()
    assert final["stop_reason"] == "end_turn" and "sunny, 30C" in final["content"][0]["text"]


def test_claude_limits_and_errors(http: httpx.Client, base: str) -> None:
    cut = claude(http, base, max_tokens=5).json()
    assert cut["stop_reason"] == "max_tokens" and cut["usage"]["output_tokens"] <= 5
    full = claude(http, base).json()["content"][0]["text"]
    stopped = claude(http, base, stop_sequences=["### Steps"]).json()
    assert stopped["stop_reason"] == "stop_sequence" and stopped["stop_sequence"] == "### Steps"
    assert stopped["content"][0]["text"] == full[: full.index("### Steps")]
    missing = claude(http, base, max_tokens=None)
    assert missing.status_code == 400
    assert missing.json() == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": missing.json()["error"]["message"]},
    }
    image = {
        "type": "image",
        "source": {
            "type": "base64",
            "media_type": "image/png",
            "data": png_data_url(10, 20).split(",", 1)[1],
        },
    }
    seen = claude(
        http,
        base,
        messages=[{"role": "user", "content": [image, {"type": "text", "text": "what is this?"}]}],
    ).json()
    assert "10x20 pixels" in seen["content"][0]["text"]
    refused = claude(
        http, base, model="claude-3-5-haiku", messages=[{"role": "user", "content": [image]}]
    )
    assert refused.status_code == 400 and refused.json()["type"] == "error"


def test_claude_count_tokens_with_bearer(http: httpx.Client) -> None:
    body = {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "Hello there"}]}
    small = http.post("/v1/messages/count_tokens", json=body)
    assert small.status_code == 200 and small.json()["input_tokens"] > 0
    body["system"] = "You are a very careful assistant who explains everything at length."
    assert (
        http.post("/v1/messages/count_tokens", json=body).json()["input_tokens"]
        > (small.json()["input_tokens"])
    )


# --------------------------------------------------------------------------- Gemini


def gemini_url(base: str, model: str, action: str, **query: str) -> str:
    params = "&".join(f"{k}={v}" for k, v in {"key": DEMO.api_key, **query}.items())
    return f"{base}/v1beta/models/{model}:{action}?{params}"


def test_gemini_generate_content(base: str) -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": "Explain TCP"}]}]}
    response = httpx.post(gemini_url(base, "gemini-2.0-flash", "generateContent"), json=body)
    assert response.status_code == 200, response.text
    data = response.json()
    [candidate] = data["candidates"]
    assert candidate["content"]["role"] == "model" and candidate["finishReason"] == "STOP"
    assert "## " in candidate["content"]["parts"][0]["text"]
    assert data["modelVersion"] == "gemini-2.0-flash"
    meta = data["usageMetadata"]
    assert meta["totalTokenCount"] == meta["promptTokenCount"] + meta["candidatesTokenCount"]


def test_gemini_stream_sse_and_array(base: str) -> None:
    body = {
        "contents": [{"role": "user", "parts": [{"text": "Explain TCP"}]}],
        "generationConfig": {"maxOutputTokens": 40},
    }
    whole = httpx.post(gemini_url(base, "gemini-2.0-flash", "generateContent"), json=body).json()
    sse = httpx.post(
        gemini_url(base, "gemini-2.0-flash", "streamGenerateContent", alt="sse"), json=body
    )
    events = [json.loads(d) for d in sse_data(sse)]
    assert len(events) > 2
    text = "".join(e["candidates"][0]["content"]["parts"][0]["text"] for e in events)
    assert text == whole["candidates"][0]["content"]["parts"][0]["text"]
    assert events[-1]["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert all("finishReason" not in e["candidates"][0] for e in events[:-1])
    array = httpx.post(gemini_url(base, "gemini-2.0-flash", "streamGenerateContent"), json=body)
    assert array.headers["content-type"].startswith("application/json")
    assert array.json() == [{**e, "responseId": array.json()[0]["responseId"]} for e in events]


def test_gemini_function_call_json_and_errors(base: str) -> None:
    decl = {
        "name": "get_weather",
        "description": "weather for a city",
        "parameters": {
            "type": "OBJECT",
            "properties": {"city": {"type": "STRING"}},
            "required": ["city"],
        },
    }
    body = {
        "contents": [{"role": "user", "parts": [{"text": "weather in Kyoto"}]}],
        "tools": [{"functionDeclarations": [decl]}],
    }
    url = gemini_url(base, "gemini-2.0-flash", "generateContent")
    parts = httpx.post(url, json=body).json()["candidates"][0]["content"]["parts"]
    assert parts == [{"functionCall": {"name": "get_weather", "args": {"city": "Kyoto"}}}]
    as_json = {
        "contents": body["contents"],
        "generationConfig": {"responseMimeType": "application/json"},
    }
    text = httpx.post(url, json=as_json).json()["candidates"][0]["content"]["parts"][0]["text"]
    assert isinstance(json.loads(text), dict)
    bad = httpx.post(gemini_url(base, "gemini-2.0-flash", "explode"), json=body)
    assert bad.status_code == 404 and bad.json()["error"]["status"] == "NOT_FOUND"
    empty = httpx.post(url, json={"contents": []})
    assert empty.status_code == 400 and empty.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_gemini_thoughts_and_header_key(base: str) -> None:
    body = {
        "contents": [{"parts": [{"text": "why is the sky blue"}]}],
        "generationConfig": {"thinkingConfig": {"includeThoughts": True}},
    }
    response = httpx.post(
        f"{base}/v1beta/models/gemini-2.5-flash:generateContent",
        json=body,
        headers={"x-goog-api-key": DEMO.api_key},
    )
    parts = response.json()["candidates"][0]["content"]["parts"]
    assert parts[0]["thought"] is True and "thought" not in parts[1]
    assert response.json()["usageMetadata"]["thoughtsTokenCount"] > 0


# --------------------------------------------------------------------------- responses


def test_responses_non_stream(http: httpx.Client) -> None:
    response = http.post("/v1/responses", json={"model": "gpt-4o", "input": "Explain DNS"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "response" and body["status"] == "completed"
    [message] = body["output"]
    assert message["type"] == "message" and message["content"][0]["type"] == "output_text"
    assert "## " in message["content"][0]["text"]
    usage = body["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


def test_responses_stream_events(http: httpx.Client) -> None:
    whole = http.post("/v1/responses", json={"model": "gpt-4o", "input": "Explain DNS"}).json()
    response = http.post(
        "/v1/responses", json={"model": "gpt-4o", "input": "Explain DNS", "stream": True}
    )
    events = sse_events(response)
    names = [n for n, _ in events]
    assert names[0] == "response.created" and names[-1] == "response.completed"
    assert [d["sequence_number"] for _, d in events] == list(range(len(events)))
    text = "".join(d["delta"] for n, d in events if n == "response.output_text.delta")
    expected = whole["output"][0]["content"][0]["text"]
    assert text == expected
    done = next(d for n, d in events if n == "response.output_text.done")
    assert done["text"] == expected
    assert events[-1][1]["response"]["usage"] == whole["usage"]


def test_responses_tool_call_and_limit(http: httpx.Client) -> None:
    tool = {"type": "function", **WEATHER_TOOL["function"]}
    body = http.post(
        "/v1/responses", json={"model": "gpt-4o", "input": "weather in Cairo", "tools": [tool]}
    ).json()
    [item] = body["output"]
    assert item["type"] == "function_call" and json.loads(item["arguments"])["city"] == "Cairo"
    follow = http.post(
        "/v1/responses",
        json={
            "model": "gpt-4o",
            "tools": [tool],
            "input": [
                {"role": "user", "content": "weather in Cairo"},
                item,
                {"type": "function_call_output", "call_id": item["call_id"], "output": "hot, 38C"},
            ],
        },
    ).json()
    assert "hot, 38C" in follow["output"][0]["content"][0]["text"]
    cut = http.post(
        "/v1/responses", json={"model": "gpt-4o", "input": "Explain DNS", "max_output_tokens": 16}
    ).json()
    assert cut["status"] == "incomplete"
    assert cut["incomplete_details"] == {"reason": "max_output_tokens"}


# --------------------------------------------------------------------------- models, embeddings


def test_models_openai_shape_filtered_by_group(base: str) -> None:
    def ids(key: str) -> set[str]:
        response = httpx.get(base + "/v1/models", headers={"Authorization": f"Bearer {key}"})
        body = response.json()
        assert body["success"] is True and body["object"] == "list"
        for m in body["data"]:
            assert m["object"] == "model" and m["supported_endpoint_types"]
        return {m["id"] for m in body["data"]}

    demo, root = ids(DEMO.api_key), ids(ROOT.api_key)
    vip_only = {m.name for m in MODELS.values() if "default" not in m.enable_groups}
    assert vip_only and not demo & vip_only and vip_only <= root
    assert len(root) >= 60 and {"gpt-4o", "claude-sonnet-4-5"} <= demo


def test_models_anthropic_and_gemini_shapes(base: str) -> None:
    headers = {"x-api-key": DEMO.api_key, "anthropic-version": "2023-06-01"}
    body = httpx.get(base + "/v1/models", headers=headers).json()
    assert set(body) == {"data", "first_id", "has_more", "last_id"}
    assert body["data"][0]["type"] == "model" and body["data"][0]["created_at"].endswith("Z")
    assert body["first_id"] == body["data"][0]["id"]
    gemini = httpx.get(base + "/v1beta/models", params={"key": DEMO.api_key}).json()
    names = [m["name"] for m in gemini["models"]]
    assert "gemini-2.0-flash" in names and not any(n.startswith("models/") for n in names)
    assert gemini["nextPageToken"] is None


def test_embeddings_404_on_bluesminds(http: httpx.Client) -> None:
    response = http.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": "x"})
    assert response.status_code == 404
    assert "Invalid URL" in response.json()["error"]["message"]


def test_embeddings_on_newapi_flavor() -> None:
    with EmulatorServer(EmulatorConfig(flavor=Flavor.NEWAPI, port=0)) as server:
        headers = {"Authorization": f"Bearer {DEMO.api_key}"}
        url = server.relay_url + "/embeddings"
        body = {"model": "text-embedding-3-small", "input": ["alpha", "beta", "alpha"]}
        data = httpx.post(url, json=body, headers=headers).json()
        vectors = [d["embedding"] for d in data["data"]]
        assert [len(v) for v in vectors] == [1536] * 3
        assert vectors[0] == vectors[2] and vectors[0] != vectors[1]
        assert abs(sum(x * x for x in vectors[0]) - 1) < 1e-6
        assert data["usage"]["prompt_tokens"] > 0
        packed = httpx.post(
            url,
            headers=headers,
            json={
                "model": "text-embedding-3-small",
                "input": "alpha",
                "dimensions": 8,
                "encoding_format": "base64",
            },
        ).json()["data"][0]["embedding"]
        floats = struct.unpack("<8f", base64.b64decode(packed))
        assert abs(sum(x * x for x in floats) - 1) < 1e-5
        chat_model = httpx.post(url, headers=headers, json={"model": "gpt-4o", "input": "x"})
        assert chat_model.status_code == 400
