"""Fuzzing the stream layer: the SSE parser and the OpenAI, Claude and Gemini decoders (pure),
then the whole `stream_chat` path over an httpx MockTransport answering arbitrary bytes.

Contract under test: the SSE parser never raises and does not care where chunks are split; a
decoder raises nothing but `StreamDecodeError`; `stream_chat` raises nothing but `GatewayError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given

from bluesdesk.core.models import (
    ApiStyle,
    ChatMessage,
    ChatParams,
    Delta,
    Finish,
    GatewayProfile,
    StreamError,
    StreamStart,
    ToolCallDelta,
    Usage,
)
from bluesdesk.core.retry import RetryPolicy
from bluesdesk.core.stream import (
    ClaudeDecoder,
    GeminiDecoder,
    OpenAIChatDecoder,
    SSEParser,
    StreamDecodeError,
)
from bluesdesk.errors import GatewayError
from bluesdesk.gateway import GatewayClient
from bluesdesk.gateway.relay import stream_chat
from tests.hardening.fuzzing import (
    dumps,
    fuzz,
    fuzz_half,
    fuzz_share,
    mutate,
    mutate_bytes,
    random_json,
    random_text,
    seeds,
)

EVENT_TYPES = (StreamStart, Delta, ToolCallDelta, Finish, Usage, StreamError)

OPENAI_CHUNK: dict[str, Any] = {
    "id": "chatcmpl-1",
    "object": "chat.completion.chunk",
    "model": "gpt-4o-mini",
    "choices": [
        {
            "index": 0,
            "delta": {
                "role": "assistant",
                "content": "Hi",
                "reasoning_content": "hm",
                "tool_calls": [
                    {"index": 0, "id": "call_1", "function": {"name": "f", "arguments": "{}"}}
                ],
            },
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 3,
        "completion_tokens": 1,
        "prompt_tokens_details": {"cached_tokens": 1},
        "completion_tokens_details": {"reasoning_tokens": 1},
    },
}
OPENAI_KEYS = ["id", "model", "choices", "delta", "content", "usage", "error", "finish_reason"]

CLAUDE_EVENTS: list[tuple[str, dict[str, Any]]] = [
    (
        "message_start",
        {
            "type": "message_start",
            "message": {"id": "msg_1", "model": "claude", "usage": {"input_tokens": 3}},
        },
    ),
    (
        "content_block_start",
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ),
    (
        "content_block_start",
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}},
        },
    ),
    (
        "content_block_delta",
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}},
    ),
    (
        "content_block_delta",
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": "{}"},
        },
    ),
    (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": 2},
        },
    ),
    ("message_stop", {"type": "message_stop"}),
    ("error", {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}),
]
CLAUDE_KEYS = ["type", "message", "index", "delta", "content_block", "usage", "error"]

GEMINI_CHUNK: dict[str, Any] = {
    "responseId": "r1",
    "modelVersion": "gemini-2.5-flash",
    "candidates": [
        {
            "index": 0,
            "content": {
                "parts": [
                    {"text": "Hi"},
                    {"text": "think", "thought": True},
                    {"functionCall": {"name": "f", "args": {"a": 1}}},
                ]
            },
            "finishReason": "STOP",
        }
    ],
    "promptFeedback": {"blockReason": "SAFETY"},
    "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 1, "thoughtsTokenCount": 1},
}
GEMINI_KEYS = ["candidates", "content", "parts", "finishReason", "usageMetadata", "error"]

SSE_FIELDS = ["data", "event", "id", "retry", "", ":", "dat", "data ", "DATA"]
SSE_SEPARATORS = [":", ": ", "", "::"]
LINE_ENDS = ["\n", "\r\n", "\r", "\n\n", ""]


def sse_case(r: random.Random) -> tuple[str, list[int]]:
    """SSE-ish text (field lines, values, every kind of line ending) or any text, and the
    positions where the network splits it into chunks."""
    if r.random() < 0.3:
        text = random_text(r, 80)
    else:
        text = "".join(
            r.choice(SSE_FIELDS) + r.choice(SSE_SEPARATORS) + random_text(r, 20)
            + r.choice(LINE_ENDS)
            for _ in range(r.randint(0, 20))
        )  # fmt: skip
    return text, [r.randint(0, len(text)) for _ in range(r.randint(0, 8))]


def _chunks(text: str, cuts: list[int]) -> list[str]:
    points = sorted(set(cuts))
    out, start = [], 0
    for point in points:
        out.append(text[start:point])
        start = point
    out.append(text[start:])
    return out


@fuzz
@given(seeds.map(sse_case))
def test_sse_parser_never_raises_and_ignores_chunk_boundaries(case: tuple[str, list[int]]) -> None:
    text, cuts = case
    whole = SSEParser()
    expected = whole.feed(text) + whole.close()
    split = SSEParser()
    got: list[tuple[str, str]] = []
    for piece in _chunks(text, cuts):
        got.extend(split.feed(piece))
    got.extend(split.close())
    assert got == expected


def _check(events: list[Any]) -> None:
    assert all(isinstance(e, EVENT_TYPES) for e in events)


def _feed_openai(payloads: list[str]) -> None:
    decoder = OpenAIChatDecoder()
    for payload in payloads:
        with contextlib.suppress(StreamDecodeError):
            _check(decoder.feed(payload))
    assert isinstance(decoder.complete, bool)


def _feed_claude(pairs: list[tuple[str, str]]) -> None:
    decoder = ClaudeDecoder()
    for event, payload in pairs:
        with contextlib.suppress(StreamDecodeError):
            _check(decoder.feed(event, payload))
    assert isinstance(decoder.complete, bool)


def _feed_gemini(payloads: list[str]) -> None:
    decoder = GeminiDecoder()
    for payload in payloads:
        with contextlib.suppress(StreamDecodeError):
            _check(decoder.feed(payload))
    assert isinstance(decoder.complete, bool)


def payload(r: random.Random, keys: list[str]) -> str:
    """One `data:` payload: any text, or any JSON (objects keyed like the real ones)."""
    if r.random() < 0.3:
        return random_text(r, 60)
    return dumps(random_json(r, keys))


CLAUDE_EVENT_NAMES = sorted({e for e, _ in CLAUDE_EVENTS} | {"ping", "", "content_block_stop"})


@fuzz_half
@given(seeds.map(lambda r: [payload(r, OPENAI_KEYS) for _ in range(r.randint(0, 6))]))
def test_openai_decoder_on_arbitrary_payloads(payloads: list[str]) -> None:
    _feed_openai(payloads)


@fuzz_half
@given(
    seeds.map(
        lambda r: [dumps(mutate(OPENAI_CHUNK, r, OPENAI_KEYS)) for _ in range(r.randint(1, 4))]
    )
)
def test_openai_decoder_on_mutated_chunks(payloads: list[str]) -> None:
    _feed_openai(payloads)


def claude_pairs(r: random.Random) -> list[tuple[str, str]]:
    return [
        (r.choice(CLAUDE_EVENT_NAMES) if r.random() < 0.7 else random_text(r, 25),
         payload(r, CLAUDE_KEYS))
        for _ in range(r.randint(0, 6))
    ]  # fmt: skip


@fuzz_half
@given(seeds.map(claude_pairs))
def test_claude_decoder_on_arbitrary_payloads(pairs: list[tuple[str, str]]) -> None:
    _feed_claude(pairs)


def mutated_claude_stream(r: random.Random) -> list[tuple[str, str]]:
    out = []
    for event, body in CLAUDE_EVENTS:
        name = event if r.random() < 0.9 else r.choice(["", "ping", event + "x"])
        out.append((name, dumps(mutate(body, r, CLAUDE_KEYS))))
    return out


@fuzz_half
@given(seeds.map(mutated_claude_stream))
def test_claude_decoder_on_mutated_streams(pairs: list[tuple[str, str]]) -> None:
    _feed_claude(pairs)


@fuzz_half
@given(seeds.map(lambda r: [payload(r, GEMINI_KEYS) for _ in range(r.randint(0, 6))]))
def test_gemini_decoder_on_arbitrary_payloads(payloads: list[str]) -> None:
    _feed_gemini(payloads)


def mutated_gemini(r: random.Random) -> list[str]:
    chunks = []
    for _ in range(r.randint(1, 4)):
        if r.random() < 0.25:  # a JSON-array stream sends lists of responses
            chunks.append(dumps([mutate(GEMINI_CHUNK, r, GEMINI_KEYS) for _ in range(3)]))
        else:
            chunks.append(dumps(mutate(GEMINI_CHUNK, r, GEMINI_KEYS)))
    return chunks


@fuzz_half
@given(seeds.map(mutated_gemini))
def test_gemini_decoder_on_mutated_chunks(payloads: list[str]) -> None:
    _feed_gemini(payloads)


@pytest.mark.parametrize("depth", [50, 5_000, 200_000])
def test_decoders_survive_deeply_nested_json(depth: int) -> None:
    """json.loads raises RecursionError (not ValueError) on deep nesting: still a decode error."""
    nested = "[" * depth + "]" * depth
    feeds = [
        lambda: OpenAIChatDecoder().feed('{"choices": ' + nested + "}"),
        lambda: GeminiDecoder().feed('{"candidates": [{"content": {"parts": ' + nested + "}}]}"),
        lambda: ClaudeDecoder().feed("message_start", '{"message": ' + nested + "}"),
    ]
    for feed in feeds:
        try:
            _check(feed())
        except StreamDecodeError:
            assert depth > 50  # only a nesting too deep to read may be refused


@pytest.mark.parametrize("number", ["1e400", "-1e400", "Infinity", "NaN", '"1e400"', '"nan"'])
def test_decoders_survive_non_finite_numbers(number: str) -> None:
    """Python's json reads NaN/Infinity/1e400 as floats that int() refuses."""
    _check(
        OpenAIChatDecoder().feed(
            f'{{"id": "x", "choices": [{{"index": {number}, "delta": {{"content": "a"}}}}],'
            f' "usage": {{"prompt_tokens": {number}}}}}'
        )
    )
    _check(
        ClaudeDecoder().feed(
            "content_block_delta",
            f'{{"index": {number}, "delta": {{"type": "text_delta", "text": "a"}}}}',
        )
    )
    _check(
        GeminiDecoder().feed(
            f'{{"candidates": [{{"index": {number}}}],'
            f' "usageMetadata": {{"promptTokenCount": {number}}}}}'
        )
    )


# ---- the whole path: bytes on the wire -> stream_chat --------------------------------------

MODELS = {ApiStyle.OPENAI: "gpt-4o-mini", ApiStyle.CLAUDE: "claude", ApiStyle.GEMINI: "gemini"}


def _valid_body(style: ApiStyle) -> bytes:
    if style is ApiStyle.CLAUDE:
        return "".join(f"event: {e}\ndata: {dumps(b)}\n\n" for e, b in CLAUDE_EVENTS[:-1]).encode()
    if style is ApiStyle.GEMINI:
        return f"data: {dumps(GEMINI_CHUNK)}\n\n".encode()
    return (f"data: {dumps(OPENAI_CHUNK)}\n\ndata: [DONE]\n\n").encode()


class _Wire:
    """A MockTransport whose next answer the test sets; one client and loop for every example."""

    def __init__(self) -> None:
        self.body = b""
        self.content_type = "text/event-stream"
        self.status = 200

    def handler(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            self.status, content=self.body, headers={"content-type": self.content_type}
        )


@pytest.fixture(scope="module")
def wire() -> Iterator[tuple[_Wire, asyncio.Runner, GatewayClient]]:
    state = _Wire()
    runner = asyncio.Runner()
    profile = GatewayProfile(id="fuzz", name="Fuzz", base_url="http://127.0.0.1:9/v1")
    client = GatewayClient(
        profile,
        "sk-fuzzfuzzfuzzfuzzfuzzfuzz",
        policy=RetryPolicy(max_retries=0, base_delay=0.0, max_delay=0.0, jitter=0.0),
        transport=httpx.MockTransport(state.handler),
    )
    try:
        yield state, runner, client
    finally:
        runner.run(client.aclose())
        runner.close()


def _run_stream(wire: tuple[_Wire, asyncio.Runner, GatewayClient], style: ApiStyle) -> None:
    _, runner, client = wire

    async def consume() -> None:
        params = ChatParams(model=MODELS[style])
        async for event in stream_chat(client, [ChatMessage("user", "hi")], params, style=style):
            assert isinstance(event, EVENT_TYPES)

    with contextlib.suppress(GatewayError):
        runner.run(consume())


STYLES = list(ApiStyle)


@fuzz_share(0.1)
@given(seeds.map(lambda r: (r.choice(STYLES), r.randbytes(r.randint(0, 400)))))
def test_stream_chat_on_arbitrary_bytes(
    wire: tuple[_Wire, asyncio.Runner, GatewayClient], case: tuple[ApiStyle, bytes]
) -> None:
    style, body = case
    wire[0].body, wire[0].content_type, wire[0].status = body, "text/event-stream", 200
    _run_stream(wire, style)


def mutated_wire(r: random.Random) -> tuple[ApiStyle, bytes, str, int]:
    style = r.choice(STYLES)
    body = mutate_bytes(_valid_body(style), r)
    ctype = r.choice(["text/event-stream", "application/json", "text/html", ""])
    status = r.choice([200, 200, 200, 400, 401, 404, 429, 500, 502])
    return style, body, ctype, status


@fuzz_share(0.1)
@given(seeds.map(mutated_wire))
def test_stream_chat_on_mutated_streams(
    wire: tuple[_Wire, asyncio.Runner, GatewayClient], case: tuple[ApiStyle, bytes, str, int]
) -> None:
    style, body, ctype, status = case
    wire[0].body, wire[0].content_type, wire[0].status = body, ctype, status
    _run_stream(wire, style)
