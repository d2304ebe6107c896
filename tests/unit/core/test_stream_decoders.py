"""Table tests for the pure SSE parser and the three chat stream decoders."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bluesdesk.core.models import Delta, Finish, StreamError, StreamStart, ToolCallDelta, Usage
from bluesdesk.core.stream import (
    ClaudeDecoder,
    GeminiDecoder,
    OpenAIChatDecoder,
    SSEParser,
    StreamDecodeError,
    normalise_finish,
)

# ---- SSE framing ------------------------------------------------------------------------------

SSE_CASES: list[tuple[str, list[str], list[tuple[str, str]]]] = [
    ("one event", ["data: a\n\n"], [("", "a")]),
    ("two events one chunk", ["data: a\n\ndata: b\n\n"], [("", "a"), ("", "b")]),
    ("split inside the field name", ["da", "ta: a\n\n"], [("", "a")]),
    ("split inside the value", ['data: {"x":', "1}\n\n"], [("", '{"x":1}')]),
    ("split between the newlines", ["data: a\n", "\n"], [("", "a")]),
    ("CRLF line ends", ["data: a\r\n\r\n"], [("", "a")]),
    ("CRLF split across chunks", ["data: a\r", "\n\r", "\n"], [("", "a")]),
    ("lone CR line ends", ["data: a\r\rdata: b\r\r"], [("", "a"), ("", "b")]),
    ("event name", ["event: ping\ndata: {}\n\n"], [("ping", "{}")]),
    ("event name resets", ["event: x\ndata: 1\n\ndata: 2\n\n"], [("x", "1"), ("", "2")]),
    ("multi-line data", ["data: a\ndata: b\n\n"], [("", "a\nb")]),
    ("comment ignored", [": keep-alive\n\ndata: a\n\n"], [("", "a")]),
    ("no space after colon", ["data:a\n\n"], [("", "a")]),
    ("only one space stripped", ["data:  a\n\n"], [("", " a")]),
    ("id and retry ignored", ["id: 7\nretry: 10\ndata: a\n\n"], [("", "a")]),
    ("blank lines without data", ["\n\n\n"], []),
    ("event without data is not dispatched", ["event: x\n\n"], []),
    ("empty data is dispatched", ["data:\n\n"], [("", "")]),
    ("U+2028 inside JSON is not a line end", ['data: "a\u2028b"\n\n'], [("", '"a\u2028b"')]),
    ("one byte at a time", list("data: hi\n\n"), [("", "hi")]),
]


@pytest.mark.parametrize(("name", "chunks", "expected"), SSE_CASES, ids=[c[0] for c in SSE_CASES])
def test_sse_parser(name: str, chunks: list[str], expected: list[tuple[str, str]]) -> None:
    parser = SSEParser()
    got: list[tuple[str, str]] = []
    for chunk in chunks:
        got.extend(parser.feed(chunk))
    got.extend(parser.close())
    assert got == expected


def test_sse_close_drops_an_unterminated_event() -> None:
    parser = SSEParser()
    assert parser.feed('data: {"trunc') == []
    assert parser.close() == []


def test_sse_close_reads_final_line_but_keeps_event_pending_rules() -> None:
    parser = SSEParser()
    assert parser.feed("data: a\n\ndata: b") == [("", "a")]
    assert parser.close() == []  # "b" never got its blank line


# ---- OpenAI -----------------------------------------------------------------------------------


def chunk(**fields: Any) -> str:
    base: dict[str, Any] = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "m"}
    base.update(fields)
    return json.dumps(base)


def choice(delta: dict[str, Any] | None = None, finish: str | None = None, index: int = 0) -> Any:
    return {"index": index, "delta": delta or {}, "finish_reason": finish}


OPENAI_CASES: list[tuple[str, list[str], list[Any]]] = [
    (
        "role-only first delta gives only the start",
        [chunk(choices=[choice({"role": "assistant", "content": ""})])],
        [StreamStart("chatcmpl-1", "m")],
    ),
    (
        "text deltas",
        [chunk(choices=[choice({"content": "Hel"})]), chunk(choices=[choice({"content": "lo"})])],
        [StreamStart("chatcmpl-1", "m"), Delta("Hel"), Delta("lo")],
    ),
    (
        "reasoning_content before text",
        [
            chunk(choices=[choice({"reasoning_content": "think"})]),
            chunk(choices=[choice({"content": "A"})]),
        ],
        [StreamStart("chatcmpl-1", "m"), Delta("think", kind="reasoning"), Delta("A")],
    ),
    (
        "reasoning field (OpenRouter spelling)",
        [chunk(choices=[choice({"reasoning": "hmm"})])],
        [StreamStart("chatcmpl-1", "m"), Delta("hmm", kind="reasoning")],
    ),
    (
        "tool call pieces",
        [
            chunk(
                choices=[
                    choice(
                        {
                            "tool_calls": [
                                {
                                    "index": 0,
                                    "id": "call_1",
                                    "type": "function",
                                    "function": {"name": "get", "arguments": ""},
                                }
                            ]
                        }
                    )
                ]
            ),
            chunk(
                choices=[choice({"tool_calls": [{"index": 0, "function": {"arguments": '{"a":'}}]})]
            ),
            chunk(
                choices=[choice({"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]})]
            ),
            chunk(choices=[choice(finish="tool_calls")]),
        ],
        [
            StreamStart("chatcmpl-1", "m"),
            ToolCallDelta(0, "call_1", "get", ""),
            ToolCallDelta(0, arguments='{"a":'),
            ToolCallDelta(0, arguments="1}"),
            Finish("tool_calls", raw_reason="tool_calls"),
        ],
    ),
    (
        "two parallel tool calls",
        [
            chunk(
                choices=[
                    choice(
                        {
                            "tool_calls": [
                                {
                                    "index": 0,
                                    "id": "a",
                                    "function": {"name": "f", "arguments": "{}"},
                                },
                                {
                                    "index": 1,
                                    "id": "b",
                                    "function": {"name": "g", "arguments": "{}"},
                                },
                            ]
                        }
                    )
                ]
            )
        ],
        [
            StreamStart("chatcmpl-1", "m"),
            ToolCallDelta(0, "a", "f", "{}"),
            ToolCallDelta(1, "b", "g", "{}"),
        ],
    ),
    (
        "finish then usage chunk with empty choices",
        [
            chunk(choices=[choice({"content": "x"}, finish="stop")]),
            chunk(
                choices=[],
                usage={
                    "prompt_tokens": 5,
                    "completion_tokens": 7,
                    "total_tokens": 12,
                    "prompt_tokens_details": {"cached_tokens": 2},
                    "completion_tokens_details": {"reasoning_tokens": 3},
                },
            ),
        ],
        [
            StreamStart("chatcmpl-1", "m"),
            Delta("x"),
            Finish("stop", raw_reason="stop"),
            Usage(5, 7, 2, 3),
        ],
    ),
    (
        "usage null is ignored",
        [chunk(choices=[choice({"content": "x"})], usage=None)],
        [StreamStart("chatcmpl-1", "m"), Delta("x")],
    ),
    (
        "length finish",
        [chunk(choices=[choice(finish="length")])],
        [StreamStart("chatcmpl-1", "m"), Finish("length", raw_reason="length")],
    ),
    (
        "content_filter finish",
        [chunk(choices=[choice(finish="content_filter")])],
        [StreamStart("chatcmpl-1", "m"), Finish("content_filter", raw_reason="content_filter")],
    ),
    (
        "second choice keeps its index",
        [chunk(choices=[choice({"content": "b"}, index=1)])],
        [StreamStart("chatcmpl-1", "m"), Delta("b", choice=1)],
    ),
    (
        "error object in a 200 stream",
        [
            chunk(choices=[choice({"content": "par"})]),
            json.dumps(
                {
                    "error": {
                        "message": "upstream died",
                        "type": "upstream_error",
                        "code": "bad_response_status_code",
                    }
                }
            ),
        ],
        [
            StreamStart("chatcmpl-1", "m"),
            Delta("par"),
            StreamError("upstream died", "bad_response_status_code", "upstream_error"),
        ],
    ),
    ("error as a bare string", [json.dumps({"error": "boom"})], [StreamError("boom")]),
    (
        "chunk without id or model",
        [json.dumps({"choices": [choice({"content": "z"})]})],
        [Delta("z")],
    ),
    (
        "whole message in a chunk",
        [json.dumps({"choices": [{"index": 0, "message": {"content": "w"}}]})],
        [Delta("w")],
    ),
    ("legacy text field", [json.dumps({"choices": [{"index": 0, "text": "t"}]})], [Delta("t")]),
]


@pytest.mark.parametrize(
    ("name", "payloads", "expected"), OPENAI_CASES, ids=[c[0] for c in OPENAI_CASES]
)
def test_openai_decoder(name: str, payloads: list[str], expected: list[Any]) -> None:
    decoder = OpenAIChatDecoder()
    got = [event for payload in payloads for event in decoder.feed(payload)]
    assert got == expected


def test_openai_done_marks_done_and_complete() -> None:
    decoder = OpenAIChatDecoder()
    decoder.feed(chunk(choices=[choice({"content": "x"})]))
    assert not decoder.complete
    assert decoder.feed("[DONE]") == []
    assert decoder.done and decoder.complete


def test_openai_finish_alone_counts_as_complete() -> None:
    decoder = OpenAIChatDecoder()
    decoder.feed(chunk(choices=[choice(finish="stop")]))
    assert decoder.complete and not decoder.done


@pytest.mark.parametrize(
    "payload", ['{"choices": [', "not json", "[1, 2]", '"text"', '{"choices": 5}', ""]
)
def test_openai_malformed_raises(payload: str) -> None:
    with pytest.raises(StreamDecodeError):
        OpenAIChatDecoder().feed(payload)


# ---- Claude -----------------------------------------------------------------------------------


def ev(kind: str, **fields: Any) -> tuple[str, str]:
    return kind, json.dumps({"type": kind, **fields})


MESSAGE_START = ev(
    "message_start",
    message={
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "content": [],
        "model": "claude-x",
        "usage": {
            "input_tokens": 25,
            "output_tokens": 1,
            "cache_read_input_tokens": 5,
            "cache_creation_input_tokens": 0,
        },
    },
)

CLAUDE_CASES: list[tuple[str, list[tuple[str, str]], list[Any]]] = [
    (
        "text blocks and cumulative usage",
        [
            MESSAGE_START,
            ev("content_block_start", index=0, content_block={"type": "text", "text": ""}),
            ev("ping"),
            ev("content_block_delta", index=0, delta={"type": "text_delta", "text": "Hi"}),
            ev("content_block_delta", index=0, delta={"type": "text_delta", "text": " there"}),
            ev("content_block_stop", index=0),
            ev(
                "message_delta",
                delta={"stop_reason": "end_turn", "stop_sequence": None},
                usage={"output_tokens": 15},
            ),
            ev("message_stop"),
        ],
        [
            StreamStart("msg_1", "claude-x"),
            Usage(30, 1, 5),
            Delta("Hi"),
            Delta(" there"),
            Finish("stop", raw_reason="end_turn"),
            Usage(30, 15, 5),
        ],
    ),
    (
        "thinking then text",
        [
            ev("content_block_start", index=0, content_block={"type": "thinking", "thinking": ""}),
            ev("content_block_delta", index=0, delta={"type": "thinking_delta", "thinking": "hmm"}),
            ev(
                "content_block_delta",
                index=0,
                delta={"type": "signature_delta", "signature": "sig"},
            ),
            ev("content_block_stop", index=0),
            ev("content_block_start", index=1, content_block={"type": "text", "text": ""}),
            ev("content_block_delta", index=1, delta={"type": "text_delta", "text": "ok"}),
        ],
        [Delta("hmm", kind="reasoning"), Delta("ok")],
    ),
    (
        "tool_use with input_json_delta pieces, numbered from 0",
        [
            ev("content_block_start", index=0, content_block={"type": "text", "text": ""}),
            ev(
                "content_block_delta",
                index=0,
                delta={"type": "text_delta", "text": "Let me check."},
            ),
            ev(
                "content_block_start",
                index=1,
                content_block={"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {}},
            ),
            ev(
                "content_block_delta",
                index=1,
                delta={"type": "input_json_delta", "partial_json": '{"city"'},
            ),
            ev(
                "content_block_delta",
                index=1,
                delta={"type": "input_json_delta", "partial_json": ': "Oslo"}'},
            ),
            ev("content_block_stop", index=1),
            ev("message_delta", delta={"stop_reason": "tool_use"}, usage={"output_tokens": 40}),
        ],
        [
            Delta("Let me check."),
            ToolCallDelta(0, "toolu_1", "weather", ""),
            ToolCallDelta(0, arguments='{"city"'),
            ToolCallDelta(0, arguments=': "Oslo"}'),
            Finish("tool_calls", raw_reason="tool_use"),
            Usage(0, 40, 0),
        ],
    ),
    (
        "max_tokens",
        [ev("message_delta", delta={"stop_reason": "max_tokens"})],
        [Finish("length", raw_reason="max_tokens")],
    ),
    (
        "refusal",
        [ev("message_delta", delta={"stop_reason": "refusal"})],
        [Finish("content_filter", raw_reason="refusal")],
    ),
    ("unknown event ignored", [ev("future_thing", x=1)], []),
    (
        "unknown delta type ignored",
        [ev("content_block_delta", index=0, delta={"type": "citations_delta", "citation": {}})],
        [],
    ),
    ("ping only", [ev("ping")], []),
    (
        "error event",
        [ev("error", error={"type": "overloaded_error", "message": "Overloaded"})],
        [StreamError("Overloaded", "", "overloaded_error")],
    ),
    (
        "event name taken from the payload when missing",
        [
            (
                "",
                json.dumps(
                    {
                        "type": "content_block_delta",
                        "index": 0,
                        "delta": {"type": "text_delta", "text": "q"},
                    }
                ),
            )
        ],
        [Delta("q")],
    ),
    (
        "text in content_block_start",
        [ev("content_block_start", index=0, content_block={"type": "text", "text": "pre"})],
        [Delta("pre")],
    ),
]


@pytest.mark.parametrize(
    ("name", "events", "expected"), CLAUDE_CASES, ids=[c[0] for c in CLAUDE_CASES]
)
def test_claude_decoder(name: str, events: list[tuple[str, str]], expected: list[Any]) -> None:
    decoder = ClaudeDecoder()
    got = [e for kind, data in events for e in decoder.feed(kind, data)]
    assert got == expected


def test_claude_complete_only_after_message_stop() -> None:
    decoder = ClaudeDecoder()
    decoder.feed(*ev("message_delta", delta={"stop_reason": "end_turn"}))
    assert not decoder.complete
    decoder.feed(*ev("message_stop"))
    assert decoder.complete


@pytest.mark.parametrize("data", ["{", "nope", "[]", "null"])
def test_claude_malformed_raises(data: str) -> None:
    with pytest.raises(StreamDecodeError):
        ClaudeDecoder().feed("content_block_delta", data)


# ---- Gemini -----------------------------------------------------------------------------------


def gem(
    parts: list[dict[str, Any]] | None = None,
    finish: str | None = None,
    usage: dict[str, Any] | None = None,
    **extra: Any,
) -> str:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts or []}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    body: dict[str, Any] = {"candidates": [candidate], **extra}
    if usage:
        body["usageMetadata"] = usage
    return json.dumps(body)


GEMINI_CASES: list[tuple[str, list[str], list[Any]]] = [
    (
        "text chunks, finish STOP, usage once per change",
        [
            gem(
                [{"text": "Hel"}],
                usage={"promptTokenCount": 4, "candidatesTokenCount": 1},
                responseId="r1",
                modelVersion="gemini-2.5-flash",
            ),
            gem([{"text": "lo"}], usage={"promptTokenCount": 4, "candidatesTokenCount": 1}),
            gem(
                [{"text": "!"}],
                finish="STOP",
                usage={"promptTokenCount": 4, "candidatesTokenCount": 3, "totalTokenCount": 7},
            ),
        ],
        [
            StreamStart("r1", "gemini-2.5-flash"),
            Delta("Hel"),
            Usage(4, 1),
            Delta("lo"),
            Delta("!"),
            Finish("stop", raw_reason="STOP"),
            Usage(4, 3),
        ],
    ),
    (
        "thought parts are reasoning",
        [gem([{"text": "plan", "thought": True}, {"text": "answer"}])],
        [Delta("plan", kind="reasoning"), Delta("answer")],
    ),
    (
        "thoughts and cache in usage",
        [
            gem(
                usage={
                    "promptTokenCount": 10,
                    "candidatesTokenCount": 5,
                    "thoughtsTokenCount": 20,
                    "cachedContentTokenCount": 6,
                }
            )
        ],
        [Usage(10, 25, 6, 20)],
    ),
    ("MAX_TOKENS", [gem(finish="MAX_TOKENS")], [Finish("length", raw_reason="MAX_TOKENS")]),
    ("SAFETY", [gem(finish="SAFETY")], [Finish("content_filter", raw_reason="SAFETY")]),
    ("unspecified finish is not a finish", [gem(finish="FINISH_REASON_UNSPECIFIED")], []),
    (
        "function call then STOP means tool_calls",
        [gem([{"functionCall": {"name": "get", "args": {"q": 1}}}], finish="STOP")],
        [ToolCallDelta(0, "", "get", '{"q": 1}'), Finish("tool_calls", raw_reason="STOP")],
    ),
    (
        "blocked prompt",
        [json.dumps({"promptFeedback": {"blockReason": "SAFETY"}})],
        [Finish("content_filter", raw_reason="SAFETY")],
    ),
    (
        "error object",
        [json.dumps({"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}})],
        [StreamError("quota", "429", "RESOURCE_EXHAUSTED")],
    ),
    (
        "array payload",
        [json.dumps([json.loads(gem([{"text": "a"}])), json.loads(gem([{"text": "b"}]))])],
        [Delta("a"), Delta("b")],
    ),
]


@pytest.mark.parametrize(
    ("name", "payloads", "expected"), GEMINI_CASES, ids=[c[0] for c in GEMINI_CASES]
)
def test_gemini_decoder(name: str, payloads: list[str], expected: list[Any]) -> None:
    decoder = GeminiDecoder()
    got = [e for payload in payloads for e in decoder.feed(payload)]
    assert got == expected


def test_gemini_complete_after_finish_reason() -> None:
    decoder = GeminiDecoder()
    decoder.feed(gem([{"text": "a"}]))
    assert not decoder.complete
    decoder.feed(gem(finish="STOP"))
    assert decoder.complete


@pytest.mark.parametrize("data", ["{bad", "[1]", '{"candidates": {}}', "7"])
def test_gemini_malformed_raises(data: str) -> None:
    with pytest.raises(StreamDecodeError):
        GeminiDecoder().feed(data)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("stop", "stop"),
        ("END_TURN", "stop"),
        ("stop_sequence", "stop"),
        ("length", "length"),
        ("MAX_TOKENS", "length"),
        ("tool_use", "tool_calls"),
        ("function_call", "tool_calls"),
        ("RECITATION", "content_filter"),
        ("pause_turn", "pause"),
        ("MALFORMED_FUNCTION_CALL", "error"),
        ("something_new", "other"),
    ],
)
def test_normalise_finish(raw: str, expected: str) -> None:
    assert normalise_finish(raw) == expected
