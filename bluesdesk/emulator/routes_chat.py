"""`POST /v1/chat/completions`: OpenAI chat completions, whole or streamed as `data:` chunks."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import JSONResponse, Response

from bluesdesk.emulator.catalog import CatalogModel
from bluesdesk.emulator.relay import RelayCall, RelayError, RelayRoute
from bluesdesk.emulator.textcall import (
    generate_or_invalid,
    open_text_call,
    report,
)
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

MAX_CHOICES = 16


def bad_request(message: str) -> RelayError:
    """An OpenAI-style 400 as the upstream would send it through new-api."""
    return RelayError(400, message, code="invalid_request_error", type_="invalid_request_error")


def fingerprint(model: str) -> str:
    return "fp_" + hashlib.sha256(model.encode()).hexdigest()[:10]


def is_thinker(model: CatalogModel) -> bool:
    return model.has("reasoning") or model.has("thinking")


def thinks(model: CatalogModel, body: dict[str, Any]) -> bool:
    """Reasoning models always think; thinking-capable ones only when the request asks."""
    asked = any(
        body.get(k) not in (None, False, "none")
        for k in ("reasoning_effort", "thinking", "reasoning")
    )
    return model.has("reasoning") or (model.has("thinking") and asked)


def require_vision(model: CatalogModel, req: GenRequest) -> None:
    if req.images and not model.has("vision"):
        raise RelayError(
            400,
            f"Invalid content type. image_url is only supported by certain models; "
            f"{model.name} does not accept images.",
            code="model_not_support_vision",
            type_="invalid_request_error",
        )


def positive_int(body: dict[str, Any], *names: str) -> int | None:
    for name in names:
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise bad_request(f"{name} must be a positive integer")
        return value
    return None


def stop_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(s, str) for s in value):
        return value[:4]
    raise bad_request("stop must be a string or a list of strings")


def seed_of(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request("seed must be an integer")
    return value


# --------------------------------------------------------------------------- request parsing


def _text_and_images(content: Any, message: Message) -> None:
    if content is None:
        return
    if isinstance(content, str):
        message.text = content
        return
    if not isinstance(content, list):
        raise bad_request("message content must be a string or a list of parts")
    texts: list[str] = []
    for part in content:
        if not isinstance(part, dict):
            raise bad_request("content parts must be objects")
        kind = part.get("type")
        if kind == "text":
            texts.append(str(part.get("text", "")))
        elif kind == "image_url":
            ref = part.get("image_url")
            url = ref.get("url") if isinstance(ref, dict) else ref
            if not isinstance(url, str):
                raise bad_request("image_url.url must be a string")
            try:
                message.images.append(image_from_url(url))
            except InputError as exc:
                raise bad_request(str(exc)) from exc
        elif kind in ("input_audio", "file", "refusal"):
            continue  # accepted and ignored, as a text model would
        else:
            raise bad_request(f"unknown content part type {kind!r}")
    message.text = "\n".join(texts)


def _tool_calls(raw: Any) -> list[ToolCall]:
    calls = []
    for item in raw if isinstance(raw, list) else []:
        fn = item.get("function", {}) if isinstance(item, dict) else {}
        try:
            args = json.loads(fn.get("arguments") or "{}")
        except (ValueError, TypeError):
            args = {}
        calls.append(
            ToolCall(
                str(item.get("id", "call_0")),
                str(fn.get("name", "")),
                args if isinstance(args, dict) else {},
            )
        )
    return calls


def parse_messages(raw: Any) -> list[Message]:
    if not isinstance(raw, list) or not raw:
        raise bad_request("messages must be a non-empty array")
    names: dict[str, str] = {}
    out: list[Message] = []
    for item in raw:
        if not isinstance(item, dict):
            raise bad_request("each message must be an object")
        role = item.get("role")
        if role == "developer":
            role = "system"
        if role not in ("system", "user", "assistant", "tool", "function"):
            raise bad_request(f"invalid message role {role!r}")
        if role in ("tool", "function"):
            call_id = str(item.get("tool_call_id", ""))
            content = item.get("content")
            if isinstance(content, list):
                content = "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            name = names.get(call_id, str(item.get("name", "")))
            out.append(
                Message("tool", tool_results=[ToolResult(call_id, name, str(content or ""))])
            )
            continue
        message = Message(role)
        _text_and_images(item.get("content"), message)
        if role == "assistant":
            message.tool_calls = _tool_calls(item.get("tool_calls"))
            names.update({c.id: c.name for c in message.tool_calls})
        out.append(message)
    return out


def parse_tools(body: dict[str, Any], req: GenRequest) -> None:
    raw = body.get("tools")
    if raw is None:
        return
    if not isinstance(raw, list):
        raise bad_request("tools must be an array")
    for item in raw:
        fn = item.get("function") if isinstance(item, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise bad_request("each tool needs a function with a name")
        params = fn.get("parameters")
        req.tools.append(
            ToolSpec(fn["name"], str(fn.get("description", "")), params if params else {})
        )
    choice = body.get("tool_choice", "auto")
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        if not isinstance(name, str) or name not in {t.name for t in req.tools}:
            raise bad_request("tool_choice names a function that is not in tools")
        req.forced_tool = name
    elif choice in ("auto", "none", "required"):
        req.tool_choice = choice
    else:
        raise bad_request("tool_choice must be none, auto, required or a function")
    req.parallel_tool_calls = body.get("parallel_tool_calls", True) is not False


def parse_response_format(value: Any, req: GenRequest) -> None:
    if value is None:
        return
    kind = value.get("type") if isinstance(value, dict) else None
    if kind == "json_object":
        req.json_mode = True
    elif kind == "json_schema":
        spec = value.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict):
            raise bad_request("response_format.json_schema.schema must be an object")
        req.json_schema = schema
    elif kind != "text":
        raise bad_request("response_format.type must be text, json_object or json_schema")


def build_request(body: dict[str, Any], model: CatalogModel) -> GenRequest:
    req = GenRequest(
        model=model.name,
        messages=parse_messages(body.get("messages")),
        max_tokens=positive_int(body, "max_completion_tokens", "max_tokens"),
        stop=stop_list(body.get("stop")),
        seed=seed_of(body.get("seed")),
        reasoning=thinks(model, body),
    )
    parse_tools(body, req)
    parse_response_format(body.get("response_format"), req)
    require_vision(model, req)
    return req


def generate_checked(req: GenRequest, variant: int = 0) -> Reply:
    return generate_or_invalid(req, bad_request, variant)


# --------------------------------------------------------------------------- responses


def _message(reply: Reply) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "role": "assistant",
        "content": None if reply.tool_calls else reply.text,
        "refusal": None,
    }
    if reply.reasoning:
        msg["reasoning_content"] = reply.reasoning
    if reply.tool_calls:
        msg["tool_calls"] = [
            {
                "id": c.id,
                "type": "function",
                "function": {"name": c.name, "arguments": c.arguments_json},
            }
            for c in reply.tool_calls
        ]
    return msg


def _usage(prompt: int, replies: list[Reply]) -> dict[str, Any]:
    completion = sum(r.completion_tokens for r in replies)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": sum(r.reasoning_tokens for r in replies),
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def arg_pieces(text: str, size: int = 8) -> list[str]:
    """Tool-call arguments streamed in small pieces, as upstream providers do."""
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


async def chat_completions(call: RelayCall) -> Response:
    text = await open_text_call(call, bad_request)
    body, name, started = text.body, text.name, text.started
    req = build_request(body, text.model)
    n = positive_int(body, "n") or 1
    if n > MAX_CHOICES:
        raise bad_request(f"n must be at most {MAX_CHOICES}")
    replies = [generate_checked(req, i) for i in range(n)]
    prompt_tokens = count_prompt_tokens(req)
    completion_id = f"chatcmpl-{call.request_id}"
    created = int(time.time())

    if body.get("stream") is True:
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and options.get("include_usage") is True
        return call.sse(
            _stream(
                call, name, replies, prompt_tokens, completion_id, created, include_usage, started
            )
        )

    report(call, text, prompt_tokens, sum(r.completion_tokens for r in replies))
    return JSONResponse(
        {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": name,
            "system_fingerprint": fingerprint(name),
            "choices": [
                {"index": i, "message": _message(r), "logprobs": None, "finish_reason": r.finish}
                for i, r in enumerate(replies)
            ],
            "usage": _usage(prompt_tokens, replies),
            "service_tier": "default",
        }
    )


async def _stream(
    call: RelayCall,
    model: str,
    replies: list[Reply],
    prompt_tokens: int,
    completion_id: str,
    created: int,
    include_usage: bool,
    started: float,
) -> AsyncIterator[str]:
    head = (
        f'{{"id":{json.dumps(completion_id)},"object":"chat.completion.chunk","created":{created},'
        f'"model":{json.dumps(model)},"system_fingerprint":"{fingerprint(model)}",'
    )

    def frame(index: int, delta: dict[str, Any], finish: str | None = None) -> str:
        choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
        return f'data: {head}"choices":[{json.dumps(choice, ensure_ascii=False)}]}}\n\n'

    frt_ms: int | None = None
    for index, reply in enumerate(replies):
        yield frame(index, {"role": "assistant", "content": "", "refusal": None})
        for piece in split_tokens(reply.reasoning):
            await call.pace(1)
            if frt_ms is None:
                frt_ms = int((time.monotonic() - started) * 1000)
            yield frame(index, {"reasoning_content": piece})
        for piece in split_tokens(reply.text):
            await call.pace(1)
            if frt_ms is None:
                frt_ms = int((time.monotonic() - started) * 1000)
            yield frame(index, {"content": piece})
        for k, tool_call in enumerate(reply.tool_calls):
            await call.pace(1)
            if frt_ms is None:
                frt_ms = int((time.monotonic() - started) * 1000)
            opening = {
                "index": k,
                "id": tool_call.id,
                "type": "function",
                "function": {"name": tool_call.name, "arguments": ""},
            }
            yield frame(index, {"tool_calls": [opening]})
            for piece in arg_pieces(tool_call.arguments_json):
                await call.pace(1)
                yield frame(index, {"tool_calls": [{"index": k, "function": {"arguments": piece}}]})
        yield frame(index, {}, reply.finish)
    call.usage(model, prompt_tokens, sum(r.completion_tokens for r in replies), frt_ms=frt_ms or 0)
    if include_usage:
        usage = json.dumps(_usage(prompt_tokens, replies))
        yield f'data: {head}"choices":[],"usage":{usage}}}\n\n'
    yield "data: [DONE]\n\n"


ROUTES: list[RelayRoute] = [RelayRoute("/v1/chat/completions", chat_completions)]
