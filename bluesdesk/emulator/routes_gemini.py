"""`POST /v1beta/models/{model}:generateContent` and `:streamGenerateContent` (Gemini shape).

`:streamGenerateContent?alt=sse` streams `data: {GenerateContentResponse}` events; without
`alt=sse` Google answers one JSON array of those responses, and so do we.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import JSONResponse, Response

from bluesdesk.emulator.catalog import CatalogModel
from bluesdesk.emulator.relay import RelayCall, RelayError, RelayRoute
from bluesdesk.emulator.routes_chat import is_thinker, require_vision
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


def invalid(message: str) -> RelayError:
    return RelayError(400, message, code="INVALID_ARGUMENT", type_="INVALID_ARGUMENT")


def _get(d: dict[str, Any], camel: str, snake: str) -> Any:
    """Gemini accepts both camelCase and snake_case field names."""
    return d.get(camel, d.get(snake))


def _parts_into(parts: Any, message: Message) -> None:
    if not isinstance(parts, list):
        raise invalid("content.parts must be a list")
    texts: list[str] = []
    for part in parts:
        if not isinstance(part, dict):
            raise invalid("each part must be an object")
        if "text" in part:
            if not part.get("thought"):
                texts.append(str(part["text"]))
            continue
        inline = _get(part, "inlineData", "inline_data")
        file_data = _get(part, "fileData", "file_data")
        call = _get(part, "functionCall", "function_call")
        response = _get(part, "functionResponse", "function_response")
        try:
            if isinstance(inline, dict):
                message.images.append(image_from_base64(str(inline.get("data", ""))))
            elif isinstance(file_data, dict):
                message.images.append(image_from_url(str(_get(file_data, "fileUri", "file_uri"))))
            elif isinstance(call, dict):
                args = call.get("args")
                message.tool_calls.append(
                    ToolCall(
                        "call_0", str(call.get("name", "")), args if isinstance(args, dict) else {}
                    )
                )
            elif isinstance(response, dict):
                name = str(response.get("name", ""))
                message.tool_results.append(
                    ToolResult(name, name, json.dumps(response.get("response", {})))
                )
        except InputError as exc:
            raise invalid(str(exc)) from exc
    message.text = "\n".join(texts)


def build_request(body: dict[str, Any], model: CatalogModel) -> GenRequest:
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        raise invalid("contents is not specified")
    messages: list[Message] = []
    system = _get(body, "systemInstruction", "system_instruction")
    if isinstance(system, dict):
        sys_message = Message("system")
        _parts_into(system.get("parts", []), sys_message)
        messages.append(sys_message)
    for content in contents:
        if not isinstance(content, dict):
            raise invalid("each content must be an object")
        message = Message("assistant" if content.get("role") == "model" else "user")
        _parts_into(content.get("parts", []), message)
        messages.append(message)
    config = _get(body, "generationConfig", "generation_config") or {}
    if not isinstance(config, dict):
        raise invalid("generationConfig must be an object")
    max_tokens = _get(config, "maxOutputTokens", "max_output_tokens")
    stops = _get(config, "stopSequences", "stop_sequences") or []
    seed = config.get("seed")
    req = GenRequest(
        model=model.name,
        messages=messages,
        max_tokens=max_tokens if isinstance(max_tokens, int) and max_tokens > 0 else None,
        stop=[s for s in stops if isinstance(s, str)] if isinstance(stops, list) else [],
        seed=seed if isinstance(seed, int) else None,
    )
    thinking = _get(config, "thinkingConfig", "thinking_config")
    if isinstance(thinking, dict) and _get(thinking, "includeThoughts", "include_thoughts"):
        req.reasoning = is_thinker(model)
    mime = _get(config, "responseMimeType", "response_mime_type")
    schema = _get(config, "responseSchema", "response_schema") or _get(
        config, "responseJsonSchema", "response_json_schema"
    )
    if mime == "application/json":
        if isinstance(schema, dict):
            req.json_schema = schema
        else:
            req.json_mode = True
    for tool in body.get("tools") or []:
        declarations = _get(tool, "functionDeclarations", "function_declarations") or []
        for decl in declarations if isinstance(declarations, list) else []:
            if isinstance(decl, dict) and isinstance(decl.get("name"), str):
                params = decl.get("parameters") or decl.get("parametersJsonSchema") or {}
                req.tools.append(ToolSpec(decl["name"], str(decl.get("description", "")), params))
    tool_config = _get(body, "toolConfig", "tool_config") or {}
    calling = _get(tool_config, "functionCallingConfig", "function_calling_config") or {}
    mode = str(calling.get("mode", "AUTO")).upper() if isinstance(calling, dict) else "AUTO"
    if mode == "NONE":
        req.tool_choice = "none"
    elif mode == "ANY":
        allowed = _get(calling, "allowedFunctionNames", "allowed_function_names") or []
        if isinstance(allowed, list) and len(allowed) == 1:
            req.forced_tool = str(allowed[0])
        else:
            req.tool_choice = "required"
    require_vision(model, req)
    return req


_FINISH = {"stop": "STOP", "length": "MAX_TOKENS", "tool_calls": "STOP"}


def _usage(prompt: int, reply: Reply | None) -> dict[str, Any]:
    out = reply.completion_tokens if reply else 0
    usage: dict[str, Any] = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": out - (reply.reasoning_tokens if reply else 0),
        "totalTokenCount": prompt + out,
    }
    if reply and reply.reasoning_tokens:
        usage["thoughtsTokenCount"] = reply.reasoning_tokens
    return usage


def _response(
    model: str, parts: list[dict[str, Any]], finish: str | None, usage: dict[str, Any], rid: str
) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    return {
        "candidates": [candidate],
        "usageMetadata": usage,
        "modelVersion": model,
        "responseId": rid,
    }


def _parts(reply: Reply) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    if reply.reasoning:
        parts.append({"text": reply.reasoning, "thought": True})
    if reply.text or not reply.tool_calls:
        parts.append({"text": reply.text})
    parts.extend({"functionCall": {"name": c.name, "args": c.arguments}} for c in reply.tool_calls)
    return parts


async def gemini(call: RelayCall) -> Response:
    model_action = call.request.path_params.get("model", "")
    name, _, action = str(model_action).rpartition(":")
    name = name.removeprefix("models/")
    if action not in ("generateContent", "streamGenerateContent") or not name:
        raise RelayError(404, f"unknown method {action!r}", code="NOT_FOUND", type_="NOT_FOUND")
    text = await open_text_call(call, invalid, name=name)
    started = text.started
    req = build_request(text.body, text.model)
    reply = generate_or_invalid(req, invalid)
    prompt = count_prompt_tokens(req)
    rid = call.request_id
    if action == "generateContent":
        report(call, text, prompt, reply.completion_tokens)
        return JSONResponse(
            _response(name, _parts(reply), _FINISH[reply.finish], _usage(prompt, reply), rid)
        )
    chunks = _chunks(name, reply, prompt, rid)
    if call.request.query_params.get("alt") == "sse":
        return call.sse(_sse(call, name, chunks, prompt, reply, started))
    report(call, text, prompt, reply.completion_tokens)
    return JSONResponse(chunks)


def _chunks(model: str, reply: Reply, prompt: int, rid: str) -> list[dict[str, Any]]:
    """The stream's responses: thought pieces, text pieces, then calls and the finish reason."""
    pieces: list[dict[str, Any]] = []
    for text in _grouped(split_tokens(reply.reasoning)):
        pieces.append({"text": text, "thought": True})
    pieces.extend({"text": text} for text in _grouped(split_tokens(reply.text)))
    calls: list[dict[str, Any]] = [
        {"functionCall": {"name": c.name, "args": c.arguments}} for c in reply.tool_calls
    ]
    out = [_response(model, [p], None, _usage(prompt, None), rid) for p in pieces]
    last_parts = calls or ([] if pieces else [{"text": ""}])
    if out and not calls:
        out[-1] = _response(model, [pieces[-1]], _FINISH[reply.finish], _usage(prompt, reply), rid)
    else:
        out.append(_response(model, last_parts, _FINISH[reply.finish], _usage(prompt, reply), rid))
    return out


def _grouped(pieces: list[str], size: int = 4) -> list[str]:
    """Gemini streams a few words per event, not one token."""
    return ["".join(pieces[i : i + size]) for i in range(0, len(pieces), size)]


async def _sse(
    call: RelayCall,
    model: str,
    chunks: list[dict[str, Any]],
    prompt: int,
    reply: Reply,
    started: float,
) -> AsyncIterator[str]:
    frt_ms: int | None = None
    for chunk in chunks:
        await call.pace(4)
        if frt_ms is None:
            frt_ms = int((time.monotonic() - started) * 1000)
        if chunk is chunks[-1]:
            call.usage(model, prompt, reply.completion_tokens, frt_ms=frt_ms)
        yield f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"


ROUTES: list[RelayRoute] = [
    RelayRoute("/v1beta/models/{model:path}", gemini, style="gemini"),
]
