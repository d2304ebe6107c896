"""`POST /v1/messages` (Claude messages, whole or streamed) and `POST /v1/messages/count_tokens`.

The stream follows reference §10 exactly: message_start, then per block content_block_start →
content_block_delta… → content_block_stop (a ping after the first block opens), message_delta with
cumulative usage, message_stop.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import JSONResponse, Response

from bluesdesk.emulator.catalog import CatalogModel
from bluesdesk.emulator.relay import RelayCall, RelayError, RelayRoute
from bluesdesk.emulator.routes_chat import arg_pieces, is_thinker, require_vision
from bluesdesk.emulator.textcall import generate_or_invalid, open_text_call, report
from bluesdesk.emulator.textgen import (
    GenRequest,
    InputError,
    Message,
    Reply,
    ToolCall,
    ToolResult,
    ToolSpec,
    count_prompt_tokens,
    image_from_base64,
    image_from_url,
)
from bluesdesk.emulator.tokens import split_tokens

MISSING_MODEL = "model: Field required"


def invalid(message: str) -> RelayError:
    return RelayError(400, message, code="invalid_request_error", type_="invalid_request_error")


def _block_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(b.get("text", ""))
            for b in content
            if isinstance(b, dict) and b.get("type") == "text"
        )
    return ""


def _image(block: dict[str, Any]) -> Any:
    source = block.get("source")
    if not isinstance(source, dict):
        raise invalid("image block needs a source")
    try:
        if source.get("type") == "base64":
            return image_from_base64(str(source.get("data", "")))
        if source.get("type") == "url":
            return image_from_url(str(source.get("url", "")))
    except InputError as exc:
        raise invalid(str(exc)) from exc
    raise invalid("image source type must be base64 or url")


def parse_messages(raw: Any, system: Any) -> list[Message]:
    if not isinstance(raw, list) or not raw:
        raise invalid("messages: at least one message is required")
    out: list[Message] = []
    system_text = _block_text(system)
    if system_text:
        out.append(Message("system", system_text))
    names: dict[str, str] = {}
    for item in raw:
        if not isinstance(item, dict) or item.get("role") not in ("user", "assistant"):
            raise invalid("messages: each message needs role user or assistant")
        message = Message(item["role"])
        content = item.get("content")
        if isinstance(content, str):
            message.text = content
        elif isinstance(content, list):
            texts: list[str] = []
            for block in content:
                kind = block.get("type") if isinstance(block, dict) else None
                if kind == "text":
                    texts.append(str(block.get("text", "")))
                elif kind == "image":
                    message.images.append(_image(block))
                elif kind == "tool_use":
                    args = block.get("input")
                    call = ToolCall(
                        str(block.get("id", "toolu_0")),
                        str(block.get("name", "")),
                        args if isinstance(args, dict) else {},
                    )
                    message.tool_calls.append(call)
                    names[call.id] = call.name
                elif kind == "tool_result":
                    use_id = str(block.get("tool_use_id", ""))
                    message.tool_results.append(
                        ToolResult(use_id, names.get(use_id, ""), _block_text(block.get("content")))
                    )
                elif kind in ("thinking", "redacted_thinking", "document", "search_result"):
                    continue
                else:
                    raise invalid(f"messages: unknown content block type {kind!r}")
            message.text = "\n".join(texts)
        else:
            raise invalid("messages: content must be a string or a list of blocks")
        out.append(message)
    return out


def build_request(body: dict[str, Any], model: CatalogModel, *, need_max: bool) -> GenRequest:
    max_tokens = body.get("max_tokens")
    if need_max and (
        isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1
    ):
        raise invalid("max_tokens: Field required (a positive integer)")
    stops = body.get("stop_sequences") or []
    if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
        raise invalid("stop_sequences must be a list of strings")
    req = GenRequest(
        model=model.name,
        messages=parse_messages(body.get("messages"), body.get("system")),
        max_tokens=max_tokens if isinstance(max_tokens, int) else None,
        stop=stops,
    )
    thinking = body.get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive"):
        budget = thinking.get("budget_tokens")
        if isinstance(budget, int) and isinstance(max_tokens, int) and budget >= max_tokens:
            raise invalid("max_tokens must be greater than thinking.budget_tokens")
        req.reasoning = is_thinker(model)
    for tool in body.get("tools") or []:
        if isinstance(tool, dict) and isinstance(tool.get("name"), str):
            schema = tool.get("input_schema")
            if isinstance(schema, dict):
                req.tools.append(ToolSpec(tool["name"], str(tool.get("description", "")), schema))
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        kind = choice.get("type")
        if kind == "any":
            req.tool_choice = "required"
        elif kind == "none":
            req.tool_choice = "none"
        elif kind == "tool":
            if choice.get("name") not in {t.name for t in req.tools}:
                raise invalid("tool_choice.name is not one of the tools")
            req.forced_tool = str(choice["name"])
        req.parallel_tool_calls = not choice.get("disable_parallel_tool_use", False)
    require_vision(model, req)
    return req


def _stop_reason(reply: Reply) -> str:
    if reply.finish == "tool_calls":
        return "tool_use"
    if reply.finish == "length":
        return "max_tokens"
    return "stop_sequence" if reply.stop_sequence else "end_turn"


def _signature(thinking: str) -> str:
    return base64.b64encode(hashlib.sha256(thinking.encode()).digest() * 2).decode()


def _blocks(reply: Reply) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if reply.reasoning:
        blocks.append(
            {
                "type": "thinking",
                "thinking": reply.reasoning,
                "signature": _signature(reply.reasoning),
            }
        )
    if reply.text or not reply.tool_calls:
        blocks.append({"type": "text", "text": reply.text})
    blocks.extend(
        {"type": "tool_use", "id": "toolu_" + c.hex_id, "name": c.name, "input": c.arguments}
        for c in reply.tool_calls
    )
    return blocks


def _usage(prompt: int, output: int) -> dict[str, Any]:
    return {
        "input_tokens": prompt,
        "output_tokens": output,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }


def _event(kind: str, payload: dict[str, Any]) -> str:
    return f"event: {kind}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n"


async def messages(call: RelayCall) -> Response:
    text = await open_text_call(call, invalid, missing=MISSING_MODEL)
    body, name, started = text.body, text.name, text.started
    req = build_request(body, text.model, need_max=True)
    reply = generate_or_invalid(req, invalid)
    prompt = count_prompt_tokens(req)
    message_id = f"msg_{call.request_id}"
    if body.get("stream") is True:
        return call.sse(_stream(call, name, message_id, reply, prompt, started))
    report(call, text, prompt, reply.completion_tokens)
    return JSONResponse(
        {
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "model": name,
            "content": _blocks(reply),
            "stop_reason": _stop_reason(reply),
            "stop_sequence": reply.stop_sequence,
            "usage": _usage(prompt, reply.completion_tokens),
        }
    )


async def _stream(
    call: RelayCall, model: str, message_id: str, reply: Reply, prompt: int, started: float
) -> AsyncIterator[str]:
    start_message: dict[str, Any] = {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "content": [],
        "model": model,
        "stop_reason": None,
        "stop_sequence": None,
        "usage": _usage(prompt, 1),
    }
    yield _event("message_start", {"type": "message_start", "message": start_message})
    frt_ms: int | None = None
    for index, block in enumerate(_blocks(reply)):
        kind = block["type"]
        opening = dict(block)
        if kind == "thinking":
            opening.update(thinking="", signature="")
        elif kind == "text":
            opening["text"] = ""
        else:
            opening["input"] = {}
        yield _event(
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": opening},
        )
        if index == 0:
            yield _event("ping", {"type": "ping"})
        if kind == "thinking":
            deltas = [
                {"type": "thinking_delta", "thinking": p} for p in split_tokens(reply.reasoning)
            ]
            deltas.append({"type": "signature_delta", "signature": block["signature"]})
        elif kind == "text":
            deltas = [{"type": "text_delta", "text": p} for p in split_tokens(block["text"])]
        else:
            deltas = [
                {"type": "input_json_delta", "partial_json": p}
                for p in arg_pieces(json.dumps(block["input"], ensure_ascii=False))
            ]
        for delta in deltas:
            await call.pace(1)
            if frt_ms is None:
                frt_ms = int((time.monotonic() - started) * 1000)
            yield _event(
                "content_block_delta",
                {"type": "content_block_delta", "index": index, "delta": delta},
            )
        yield _event("content_block_stop", {"type": "content_block_stop", "index": index})
    call.usage(model, prompt, reply.completion_tokens, frt_ms=frt_ms or 0)
    yield _event(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": _stop_reason(reply), "stop_sequence": reply.stop_sequence},
            "usage": _usage(prompt, reply.completion_tokens),
        },
    )
    yield _event("message_stop", {"type": "message_stop"})


async def count_tokens(call: RelayCall) -> Response:
    text = await open_text_call(call, invalid, missing=MISSING_MODEL)
    req = build_request(text.body, text.model, need_max=False)
    tokens = count_prompt_tokens(req)
    call.usage(text.name, tokens, 0)
    return JSONResponse({"input_tokens": tokens})


ROUTES: list[RelayRoute] = [
    RelayRoute("/v1/messages", messages, style="claude"),
    RelayRoute("/v1/messages/count_tokens", count_tokens, style="claude", billable=False),
]
