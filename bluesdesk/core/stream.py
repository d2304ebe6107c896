"""Stream decoding for the three chat wire styles, as pure functions of the bytes received.

`SSEParser` turns text chunks (split anywhere) into (event, data) pairs. Each decoder turns one
SSE event's payload into `ChatEvent`s (core/models.py):

- `OpenAIChatDecoder`: `/v1/chat/completions` chunks, ending with `data: [DONE]`;
- `ClaudeDecoder`: `/v1/messages` events (message_start … message_stop);
- `GeminiDecoder`: `streamGenerateContent?alt=sse` GenerateContentResponse objects.

An error object inside a 200 stream becomes a `StreamError` event (the gateway layer raises);
a payload that is not the JSON we expect raises `StreamDecodeError`. `complete` tells whether
the stream reached its proper end, so a truncated stream is told apart from a finished one.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from bluesdesk.core.models import (
    ChatEvent,
    Delta,
    Finish,
    StreamError,
    StreamStart,
    ToolCallDelta,
    Usage,
)


class StreamDecodeError(ValueError):
    """A stream payload that is not the JSON this API style sends."""


# ---- SSE framing ----------------------------------------------------------------------------

_EOL = re.compile(r"\r\n|\r|\n")


class SSEParser:
    """Incremental Server-Sent Events parser (WHATWG rules, enough for API streams)."""

    def __init__(self) -> None:
        self._buf = ""
        self._event = ""
        self._data: list[str] = []
        self._has_data = False

    def feed(self, text: str) -> list[tuple[str, str]]:
        """Add a chunk of the body; return every event completed by it."""
        buf = self._buf + text
        out: list[tuple[str, str]] = []
        start = 0
        for match in _EOL.finditer(buf):
            if match.group() == "\r" and match.end() == len(buf):
                break  # a lone CR at the end may be the first half of CRLF: wait for more
            self._line(buf[start : match.start()], out)
            start = match.end()
        self._buf = buf[start:]
        return out

    def close(self) -> list[tuple[str, str]]:
        """End of body. A final line without newline is read; an event never ended by a blank
        line is dropped, as the SSE spec says, so a truncated payload is not taken as whole."""
        out: list[tuple[str, str]] = []
        if self._buf:
            line, self._buf = self._buf.rstrip("\r"), ""
            self._line(line, out)
        self._event, self._data, self._has_data = "", [], False
        return out

    def _line(self, line: str, out: list[tuple[str, str]]) -> None:
        if not line:
            if self._has_data:
                out.append((self._event, "\n".join(self._data)))
            self._event, self._data, self._has_data = "", [], False
            return
        if line.startswith(":"):
            return  # comment / keep-alive
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
            self._has_data = True
        elif name == "event":
            self._event = value
        # id and retry are irrelevant for one-shot API streams


# ---- shared helpers -------------------------------------------------------------------------

_FINISH_MAP = {
    "stop": "stop",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "eos": "stop",
    "finish_reason_stop": "stop",
    "length": "length",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "tool_use": "tool_calls",
    "content_filter": "content_filter",
    "safety": "content_filter",
    "recitation": "content_filter",
    "blocklist": "content_filter",
    "prohibited_content": "content_filter",
    "spii": "content_filter",
    "image_safety": "content_filter",
    "refusal": "content_filter",
    "pause_turn": "pause",
    "error": "error",
    "malformed_function_call": "error",
}


def normalise_finish(raw: str) -> str:
    """Map any style's finish/stop reason to stop, length, tool_calls, content_filter, pause,
    error or other."""
    return _FINISH_MAP.get(raw.strip().lower(), "other")


def _load(data: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:  # deep nesting overflows the C scanner
        snippet = data[:80]
        raise StreamDecodeError(f"malformed JSON in stream: {snippet!r}") from exc


def _load_object(data: str) -> dict[str, Any]:
    obj = _load(data)
    if not isinstance(obj, dict):
        raise StreamDecodeError(f"expected a JSON object in stream, got {type(obj).__name__}")
    return obj


def _int(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return 0
    if isinstance(value, float):
        # json reads NaN, Infinity and 1e400 as floats that int() refuses.
        return int(value) if math.isfinite(value) else 0
    return 0


def _str(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _error_event(err: Any) -> StreamError:
    """An error object in any of the shapes gateways send."""
    if isinstance(err, dict):
        message = _str(err.get("message")) or _str(err.get("status")) or "unknown error"
        return StreamError(
            message=message,
            code=_str(err.get("code")),
            type=_str(err.get("type")) or _str(err.get("status")),
        )
    return StreamError(message=_str(err) or "unknown error")


# ---- OpenAI chat completions ------------------------------------------------------------------


class OpenAIChatDecoder:
    """`data:` payloads of a `/v1/chat/completions` stream → ChatEvents."""

    def __init__(self) -> None:
        self.done = False  # saw [DONE]
        self.finished = False  # saw a finish_reason
        self._started = False

    @property
    def complete(self) -> bool:
        return self.done or self.finished

    def feed(self, data: str) -> list[ChatEvent]:
        if data.strip() == "[DONE]":
            self.done = True
            return []
        obj = _load_object(data)
        if "error" in obj and obj["error"] is not None:
            return [_error_event(obj["error"])]
        events: list[ChatEvent] = []
        if not self._started and (obj.get("id") or obj.get("model")):
            self._started = True
            events.append(
                StreamStart(response_id=_str(obj.get("id")), model=_str(obj.get("model")))
            )
        choices = obj.get("choices")
        if choices is not None and not isinstance(choices, list):
            raise StreamDecodeError("'choices' is not a list")
        for choice in choices or []:
            events.extend(self._choice(_dict(choice)))
        usage = obj.get("usage")
        if isinstance(usage, dict):
            events.append(openai_usage(usage))
        return events

    def _choice(self, choice: dict[str, Any]) -> list[ChatEvent]:
        index = _int(choice.get("index"))
        # Some gateways put a whole message (or legacy `text`) into a stream chunk.
        delta = _dict(choice.get("delta")) or _dict(choice.get("message"))
        events: list[ChatEvent] = []
        for key in ("reasoning_content", "reasoning"):
            reasoning = delta.get(key)
            if isinstance(reasoning, str) and reasoning:
                events.append(Delta(reasoning, kind="reasoning", choice=index))
                break
        content = delta.get("content")
        if content is None and isinstance(choice.get("text"), str):
            content = choice["text"]
        if isinstance(content, str) and content:
            events.append(Delta(content, choice=index))
        tool_calls = delta.get("tool_calls")
        if isinstance(tool_calls, list):
            for pos, call in enumerate(tool_calls):
                call = _dict(call)
                function = _dict(call.get("function"))
                events.append(
                    ToolCallDelta(
                        index=_int(call.get("index", pos)),
                        id=_str(call.get("id")),
                        name=_str(function.get("name")),
                        arguments=_str(function.get("arguments")),
                    )
                )
        raw = choice.get("finish_reason")
        if isinstance(raw, str) and raw:
            self.finished = True
            events.append(Finish(normalise_finish(raw), choice=index, raw_reason=raw))
        return events


def openai_usage(usage: dict[str, Any]) -> Usage:
    prompt_details = _dict(usage.get("prompt_tokens_details"))
    completion_details = _dict(usage.get("completion_tokens_details"))
    return Usage(
        prompt_tokens=_int(usage.get("prompt_tokens")),
        completion_tokens=_int(usage.get("completion_tokens")),
        cached_tokens=_int(prompt_details.get("cached_tokens")),
        reasoning_tokens=_int(completion_details.get("reasoning_tokens")),
    )


# ---- Anthropic messages -----------------------------------------------------------------------


class ClaudeDecoder:
    """`event:`/`data:` pairs of a `/v1/messages` stream → ChatEvents.

    Tool calls are numbered 0, 1, … in order of appearance (as OpenAI numbers them), not by
    content-block index, so consumers treat every style alike. Usage is cumulative in this
    protocol; each Usage event carries the totals so far.
    """

    def __init__(self) -> None:
        self.complete = False  # saw message_stop
        self._tool_index: dict[int, int] = {}  # content block index → tool ordinal
        self._block_type: dict[int, str] = {}
        self._prompt = 0
        self._cached = 0
        self._completion = 0

    def feed(self, event: str, data: str) -> list[ChatEvent]:
        obj = _load_object(data)
        kind = event or _str(obj.get("type"))
        handler = getattr(self, "_on_" + kind, None) if kind.isidentifier() else None
        if handler is None:
            return []  # ping and unknown events: the protocol says to ignore them
        result: list[ChatEvent] = handler(obj)
        return result

    def _usage(self, usage: dict[str, Any]) -> Usage:
        if "input_tokens" in usage or "cache_read_input_tokens" in usage:
            # Anthropic counts cache reads and writes apart from input_tokens; our prompt
            # figure is the whole prompt, as in the OpenAI style.
            self._cached = _int(usage.get("cache_read_input_tokens"))
            self._prompt = (
                _int(usage.get("input_tokens"))
                + self._cached
                + _int(usage.get("cache_creation_input_tokens"))
            )
        if "output_tokens" in usage:
            self._completion = _int(usage.get("output_tokens"))
        return Usage(
            prompt_tokens=self._prompt,
            completion_tokens=self._completion,
            cached_tokens=self._cached,
        )

    def _on_message_start(self, obj: dict[str, Any]) -> list[ChatEvent]:
        message = _dict(obj.get("message"))
        events: list[ChatEvent] = [
            StreamStart(response_id=_str(message.get("id")), model=_str(message.get("model")))
        ]
        usage = message.get("usage")
        if isinstance(usage, dict):
            events.append(self._usage(usage))
        return events

    def _on_content_block_start(self, obj: dict[str, Any]) -> list[ChatEvent]:
        index = _int(obj.get("index"))
        block = _dict(obj.get("content_block"))
        block_type = _str(block.get("type"))
        self._block_type[index] = block_type
        if block_type == "text" and _str(block.get("text")):
            return [Delta(_str(block.get("text")))]
        if block_type == "thinking" and _str(block.get("thinking")):
            return [Delta(_str(block.get("thinking")), kind="reasoning")]
        if block_type in ("tool_use", "server_tool_use"):
            ordinal = self._tool_index.setdefault(index, len(self._tool_index))
            initial = block.get("input")
            arguments = json.dumps(initial) if isinstance(initial, dict) and initial else ""
            return [
                ToolCallDelta(
                    index=ordinal,
                    id=_str(block.get("id")),
                    name=_str(block.get("name")),
                    arguments=arguments,
                )
            ]
        return []

    def _on_content_block_delta(self, obj: dict[str, Any]) -> list[ChatEvent]:
        index = _int(obj.get("index"))
        delta = _dict(obj.get("delta"))
        delta_type = _str(delta.get("type"))
        if delta_type == "text_delta":
            text = _str(delta.get("text"))
            return [Delta(text)] if text else []
        if delta_type == "thinking_delta":
            text = _str(delta.get("thinking"))
            return [Delta(text, kind="reasoning")] if text else []
        if delta_type == "input_json_delta":
            ordinal = self._tool_index.setdefault(index, len(self._tool_index))
            return [ToolCallDelta(index=ordinal, arguments=_str(delta.get("partial_json")))]
        return []  # signature_delta, citations_delta, future types

    def _on_message_delta(self, obj: dict[str, Any]) -> list[ChatEvent]:
        events: list[ChatEvent] = []
        raw = _dict(obj.get("delta")).get("stop_reason")
        if isinstance(raw, str) and raw:
            events.append(Finish(normalise_finish(raw), raw_reason=raw))
        usage = obj.get("usage")
        if isinstance(usage, dict):
            events.append(self._usage(usage))
        return events

    def _on_message_stop(self, obj: dict[str, Any]) -> list[ChatEvent]:
        self.complete = True
        return []

    def _on_error(self, obj: dict[str, Any]) -> list[ChatEvent]:
        return [_error_event(obj.get("error", obj))]


# ---- Gemini streamGenerateContent -------------------------------------------------------------


class GeminiDecoder:
    """`data:` payloads of `streamGenerateContent?alt=sse` → ChatEvents.

    Gemini has no end marker: the stream is complete once a candidate carries a finishReason.
    usageMetadata repeats on many chunks; a Usage event is emitted only when it changes.
    """

    def __init__(self) -> None:
        self.complete = False
        self._started = False
        self._tool_count = 0
        self._called_tools: set[int] = set()  # candidates that produced a functionCall
        self._last_usage: Usage | None = None

    def feed(self, data: str) -> list[ChatEvent]:
        obj = _load(data)
        items = obj if isinstance(obj, list) else [obj]  # a JSON-array stream sends lists
        events: list[ChatEvent] = []
        for item in items:
            if not isinstance(item, dict):
                raise StreamDecodeError("expected a JSON object in Gemini stream")
            events.extend(self._item(item))
        return events

    def _item(self, obj: dict[str, Any]) -> list[ChatEvent]:
        if obj.get("error") is not None:
            return [_error_event(obj["error"])]
        events: list[ChatEvent] = []
        if not self._started and (obj.get("responseId") or obj.get("modelVersion")):
            self._started = True
            events.append(
                StreamStart(
                    response_id=_str(obj.get("responseId")), model=_str(obj.get("modelVersion"))
                )
            )
        candidates = obj.get("candidates")
        if candidates is not None and not isinstance(candidates, list):
            raise StreamDecodeError("'candidates' is not a list")
        for pos, candidate in enumerate(candidates or []):
            events.extend(self._candidate(_dict(candidate), pos))
        blocked = _dict(obj.get("promptFeedback")).get("blockReason")
        if isinstance(blocked, str) and blocked and not candidates:
            self.complete = True
            events.append(Finish("content_filter", raw_reason=blocked))
        usage = obj.get("usageMetadata")
        if isinstance(usage, dict):
            current = gemini_usage(usage)
            if current != self._last_usage:
                self._last_usage = current
                events.append(current)
        return events

    def _candidate(self, candidate: dict[str, Any], pos: int) -> list[ChatEvent]:
        index = _int(candidate.get("index", pos))
        events: list[ChatEvent] = []
        parts = _dict(candidate.get("content")).get("parts")
        for part in parts if isinstance(parts, list) else []:
            part = _dict(part)
            text = part.get("text")
            if isinstance(text, str) and text:
                kind = "reasoning" if part.get("thought") is True else "text"
                events.append(Delta(text, kind=kind, choice=index))
            call = part.get("functionCall")
            if isinstance(call, dict):
                self._called_tools.add(index)
                args = call.get("args")
                events.append(
                    ToolCallDelta(
                        index=self._tool_count,
                        id=_str(call.get("id")),
                        name=_str(call.get("name")),
                        arguments=json.dumps(args if args is not None else {}),
                    )
                )
                self._tool_count += 1
        raw = candidate.get("finishReason")
        if isinstance(raw, str) and raw and raw != "FINISH_REASON_UNSPECIFIED":
            self.complete = True
            reason = normalise_finish(raw)
            if reason == "stop" and index in self._called_tools:
                reason = "tool_calls"  # Gemini says STOP after a function call
            events.append(Finish(reason, choice=index, raw_reason=raw))
        return events


def gemini_usage(usage: dict[str, Any]) -> Usage:
    """Usage from a Gemini `usageMetadata` object."""
    thoughts = _int(usage.get("thoughtsTokenCount"))
    return Usage(
        prompt_tokens=_int(usage.get("promptTokenCount")),
        # OpenAI counts reasoning inside completion tokens; Gemini reports it apart.
        completion_tokens=_int(usage.get("candidatesTokenCount")) + thoughts,
        cached_tokens=_int(usage.get("cachedContentTokenCount")),
        reasoning_tokens=thoughts,
    )


def claude_usage(usage: dict[str, Any]) -> Usage:
    """Usage from a complete Anthropic `usage` object (non-streamed answers)."""
    decoder = ClaudeDecoder()
    return decoder._usage(usage)
