"""`POST /v1/responses`: the OpenAI Responses API, whole or as a typed event stream."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any, Literal

from starlette.responses import JSONResponse, Response

from bluesdesk.emulator.catalog import CatalogModel
from bluesdesk.emulator.relay import RelayCall, RelayRoute
from bluesdesk.emulator.routes_chat import (
    arg_pieces,
    bad_request,
    positive_int,
    require_vision,
    thinks,
)
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
    image_from_url,
)
from bluesdesk.emulator.tokens import split_tokens


def _content_into(content: Any, message: Message) -> None:
    if isinstance(content, str):
        message.text = content
        return
    if not isinstance(content, list):
        raise bad_request("input content must be a string or a list of parts")
    texts: list[str] = []
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("input_text", "output_text", "text"):
            texts.append(str(part.get("text", "")))
        elif kind == "input_image":
            url = part.get("image_url")
            if not isinstance(url, str):
                raise bad_request("input_image needs an image_url (https or data URL)")
            try:
                message.images.append(image_from_url(url))
            except InputError as exc:
                raise bad_request(str(exc)) from exc
        elif kind in ("input_file", "refusal"):
            continue
        else:
            raise bad_request(f"unknown input content type {kind!r}")
    message.text = "\n".join(texts)


def parse_input(raw: Any, instructions: Any) -> list[Message]:
    out: list[Message] = []
    if isinstance(instructions, str) and instructions:
        out.append(Message("system", instructions))
    if isinstance(raw, str):
        out.append(Message("user", raw))
        return out
    if not isinstance(raw, list) or not raw:
        raise bad_request("input must be a string or a non-empty list of items")
    names: dict[str, str] = {}
    for item in raw:
        if not isinstance(item, dict):
            raise bad_request("input items must be objects")
        kind = item.get("type", "message")
        if kind == "message":
            role = item.get("role")
            roles: dict[Any, Literal["system", "user", "assistant"]] = {
                "developer": "system",
                "system": "system",
                "user": "user",
                "assistant": "assistant",
            }
            if role not in roles:
                raise bad_request(f"invalid role {role!r}")
            message = Message(roles[role])
            _content_into(item.get("content", ""), message)
            out.append(message)
        elif kind == "function_call":
            try:
                args = json.loads(item.get("arguments") or "{}")
            except (ValueError, TypeError):
                args = {}
            call = ToolCall(
                str(item.get("call_id", "call_0")),
                str(item.get("name", "")),
                args if isinstance(args, dict) else {},
            )
            names[call.id] = call.name
            out.append(Message("assistant", tool_calls=[call]))
        elif kind == "function_call_output":
            call_id = str(item.get("call_id", ""))
            output = item.get("output", "")
            text = output if isinstance(output, str) else json.dumps(output)
            out.append(
                Message("tool", tool_results=[ToolResult(call_id, names.get(call_id, ""), text)])
            )
        elif kind == "reasoning":
            continue
        else:
            raise bad_request(f"unsupported input item type {kind!r}")
    return out


def build_request(body: dict[str, Any], model: CatalogModel) -> GenRequest:
    req = GenRequest(
        model=model.name,
        messages=parse_input(body.get("input"), body.get("instructions")),
        max_tokens=positive_int(body, "max_output_tokens"),
        reasoning=thinks(model, body),
    )
    for tool in body.get("tools") or []:
        if isinstance(tool, dict) and tool.get("type") == "function":
            req.tools.append(
                ToolSpec(
                    str(tool.get("name", "")),
                    str(tool.get("description", "")),
                    tool.get("parameters") or {},
                )
            )
    choice = body.get("tool_choice", "auto")
    if isinstance(choice, dict) and choice.get("type") == "function":
        req.forced_tool = str(choice.get("name", ""))
    elif choice in ("auto", "none", "required"):
        req.tool_choice = choice
    req.parallel_tool_calls = body.get("parallel_tool_calls", True) is not False
    fmt = (body.get("text") or {}).get("format") if isinstance(body.get("text"), dict) else None
    if isinstance(fmt, dict):
        if fmt.get("type") == "json_object":
            req.json_mode = True
        elif fmt.get("type") == "json_schema":
            if not isinstance(fmt.get("schema"), dict):
                raise bad_request("text.format.schema must be an object")
            req.json_schema = fmt["schema"]
    require_vision(model, req)
    return req


def _output(reply: Reply, rid: str, status: str = "completed") -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if reply.reasoning:
        items.append(
            {
                "id": f"rs_{rid}",
                "type": "reasoning",
                "status": status,
                "summary": [{"type": "summary_text", "text": reply.reasoning}],
            }
        )
    if reply.text or not reply.tool_calls:
        items.append(_message_item(rid, reply.text, status))
    items.extend(_call_item(c, status) for c in reply.tool_calls)
    return items


def _message_item(rid: str, text: str | None, status: str) -> dict[str, Any]:
    content = [] if text is None else [_text_part(text)]
    return {
        "id": f"msg_{rid}",
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": content,
    }


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _call_item(c: ToolCall, status: str, arguments: str | None = None) -> dict[str, Any]:
    return {
        "id": f"fc_{c.hex_id}",
        "type": "function_call",
        "status": status,
        "call_id": c.id,
        "name": c.name,
        "arguments": c.arguments_json if arguments is None else arguments,
    }


def _response(
    body: dict[str, Any],
    name: str,
    rid: str,
    created: int,
    status: str,
    output: list[dict[str, Any]],
    usage: dict[str, Any] | None,
    reply: Reply | None,
) -> dict[str, Any]:
    incomplete = None
    if reply is not None and reply.finish == "length":
        status = "incomplete"
        incomplete = {"reason": "max_output_tokens"}
    return {
        "id": f"resp_{rid}",
        "object": "response",
        "created_at": created,
        "status": status,
        "error": None,
        "incomplete_details": incomplete,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": name,
        "output": output,
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": body.get("text") or {"format": {"type": "text"}},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools") or [],
        "top_p": body.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": usage,
        "metadata": body.get("metadata") or {},
    }


def _usage(prompt: int, reply: Reply) -> dict[str, Any]:
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": reply.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": reply.reasoning_tokens},
        "total_tokens": prompt + reply.completion_tokens,
    }


async def responses(call: RelayCall) -> Response:
    text = await open_text_call(call, bad_request)
    body, name, started = text.body, text.name, text.started
    req = build_request(body, text.model)
    reply = generate_or_invalid(req, bad_request)
    prompt = count_prompt_tokens(req)
    created = int(time.time())
    if body.get("stream") is True:
        return call.sse(_stream(call, body, name, reply, prompt, created, started))
    report(call, text, prompt, reply.completion_tokens)
    return JSONResponse(
        _response(
            body,
            name,
            call.request_id,
            created,
            "completed",
            _output(reply, call.request_id),
            _usage(prompt, reply),
            reply,
        )
    )


async def _stream(
    call: RelayCall,
    body: dict[str, Any],
    name: str,
    reply: Reply,
    prompt: int,
    created: int,
    started: float,
) -> AsyncIterator[str]:
    rid = call.request_id
    seq = 0
    frt_ms: int | None = None

    def event(kind: str, **payload: Any) -> str:
        nonlocal seq
        data = {"type": kind, "sequence_number": seq, **payload}
        seq += 1
        return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"

    shell = _response(body, name, rid, created, "in_progress", [], None, None)
    yield event("response.created", response=shell)
    yield event("response.in_progress", response=shell)
    final_items = _output(reply, rid)
    for index, item in enumerate(final_items):
        if item["type"] == "reasoning":
            yield event(
                "response.output_item.added",
                output_index=index,
                item={**item, "summary": [], "status": "in_progress"},
            )
            yield event("response.output_item.done", output_index=index, item=item)
        elif item["type"] == "message":
            item_id = item["id"]
            yield event(
                "response.output_item.added",
                output_index=index,
                item=_message_item(rid, None, "in_progress"),
            )
            yield event(
                "response.content_part.added",
                item_id=item_id,
                output_index=index,
                content_index=0,
                part=_text_part(""),
            )
            for piece in split_tokens(reply.text):
                await call.pace(1)
                if frt_ms is None:
                    frt_ms = int((time.monotonic() - started) * 1000)
                yield event(
                    "response.output_text.delta",
                    item_id=item_id,
                    output_index=index,
                    content_index=0,
                    delta=piece,
                    logprobs=[],
                )
            yield event(
                "response.output_text.done",
                item_id=item_id,
                output_index=index,
                content_index=0,
                text=reply.text,
                logprobs=[],
            )
            yield event(
                "response.content_part.done",
                item_id=item_id,
                output_index=index,
                content_index=0,
                part=_text_part(reply.text),
            )
            yield event("response.output_item.done", output_index=index, item=item)
        else:
            call_item = item
            yield event(
                "response.output_item.added",
                output_index=index,
                item={**call_item, "arguments": "", "status": "in_progress"},
            )
            for piece in arg_pieces(call_item["arguments"]):
                await call.pace(1)
                if frt_ms is None:
                    frt_ms = int((time.monotonic() - started) * 1000)
                yield event(
                    "response.function_call_arguments.delta",
                    item_id=call_item["id"],
                    output_index=index,
                    delta=piece,
                )
            yield event(
                "response.function_call_arguments.done",
                item_id=call_item["id"],
                output_index=index,
                arguments=call_item["arguments"],
            )
            yield event("response.output_item.done", output_index=index, item=call_item)
    call.usage(name, prompt, reply.completion_tokens, frt_ms=frt_ms or 0)
    final = _response(
        body, name, rid, created, "completed", final_items, _usage(prompt, reply), reply
    )
    kind = "response.incomplete" if final["status"] == "incomplete" else "response.completed"
    yield event(kind, response=final)


ROUTES: list[RelayRoute] = [RelayRoute("/v1/responses", responses)]
