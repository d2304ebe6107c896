"""Chat request bodies for each API style, built from the style-neutral ChatMessage/ChatParams.

Messages are kept in the OpenAI shape inside the app; this module translates them for Claude's
`/v1/messages` and Gemini's `generateContent`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bluesdesk.core.models import ApiStyle, ChatMessage, ChatParams

# Claude requires max_tokens; this is what its own console defaults to.
CLAUDE_DEFAULT_MAX_TOKENS = 4096


def chat_path(style: ApiStyle, model: str, *, stream: bool) -> str:
    if style is ApiStyle.CLAUDE:
        return "messages"
    if style is ApiStyle.GEMINI:
        action = "streamGenerateContent?alt=sse" if stream else "generateContent"
        return f"/v1beta/models/{model}:{action}"
    return "chat/completions"


def chat_body(
    style: ApiStyle, messages: Sequence[ChatMessage], params: ChatParams, *, stream: bool
) -> dict[str, Any]:
    if style is ApiStyle.CLAUDE:
        return claude_body(messages, params, stream=stream)
    if style is ApiStyle.GEMINI:
        return gemini_body(messages, params)
    return openai_body(messages, params, stream=stream)


# ---- OpenAI -----------------------------------------------------------------------------------


def openai_message(message: ChatMessage) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.name:
        out["name"] = message.name
    if message.tool_call_id:
        out["tool_call_id"] = message.tool_call_id
    if message.tool_calls:
        out["tool_calls"] = list(message.tool_calls)
    return out


def openai_body(
    messages: Sequence[ChatMessage], params: ChatParams, *, stream: bool
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": params.model,
        "messages": [openai_message(m) for m in messages],
        "stream": stream,
    }
    if stream:
        body["stream_options"] = {"include_usage": True}
    optional = {
        "temperature": params.temperature,
        "top_p": params.top_p,
        "max_tokens": params.max_tokens,
        "seed": params.seed,
        "response_format": params.response_format,
        "tool_choice": params.tool_choice,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    if params.stop:
        body["stop"] = list(params.stop)
    if params.tools:
        body["tools"] = list(params.tools)
    body.update(params.extra)
    return body


# ---- Claude -----------------------------------------------------------------------------------


def _text_of(content: str | list[dict[str, Any]]) -> str:
    if isinstance(content, str):
        return content
    return "".join(str(p.get("text", "")) for p in content if p.get("type") == "text")


def _data_url(url: str) -> tuple[str, str] | None:
    """(media type, base64 data) of a data: URL, else None."""
    if not url.startswith("data:") or ";base64," not in url:
        return None
    head, data = url[5:].split(";base64,", 1)
    return head or "application/octet-stream", data


def _claude_part(part: dict[str, Any]) -> dict[str, Any] | None:
    kind = part.get("type")
    if kind == "text":
        return {"type": "text", "text": str(part.get("text", ""))}
    if kind == "image_url":
        image = part.get("image_url")
        url = str(image.get("url", "")) if isinstance(image, dict) else str(image or "")
        inline = _data_url(url)
        if inline is not None:
            return {
                "type": "image",
                "source": {"type": "base64", "media_type": inline[0], "data": inline[1]},
            }
        return {"type": "image", "source": {"type": "url", "url": url}}
    return None


def _claude_content(content: str | list[dict[str, Any]]) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return content
    return [p for p in (_claude_part(part) for part in content) if p is not None]


def _blocks(content: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    return list(content)


def _merged_turns(turns: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Consecutive turns of one role as one turn. Claude wants every tool_result of a round in
    the user turn right after the tool_use (and Gemini one turn per role): several results, or a
    result followed by the user's next message, would otherwise be separate same-role turns."""
    out: list[dict[str, Any]] = []
    for turn in turns:
        if out and out[-1]["role"] == turn["role"]:
            previous = out[-1]
            if key == "content":
                merged = _blocks(previous["content"]) + _blocks(turn["content"])
            else:
                merged = previous[key] + turn[key]
            out[-1] = {**previous, key: merged}
        else:
            out.append(turn)
    return out


def claude_tool_choice(choice: str | dict[str, Any] | None) -> dict[str, Any] | None:
    """OpenAI's tool_choice in Claude's shape."""
    if isinstance(choice, dict):
        name = choice.get("function", {}).get("name") if choice.get("type") == "function" else None
        return {"type": "tool", "name": name} if name else dict(choice)
    return {"none": {"type": "none"}, "required": {"type": "any"}, "auto": {"type": "auto"}}.get(
        choice or ""
    )


def claude_messages(messages: Sequence[ChatMessage]) -> tuple[str, list[dict[str, Any]]]:
    """(system prompt, messages) in the Anthropic shape; tool results become user turns, and
    consecutive turns of one role are merged."""
    system: list[str] = []
    out: list[dict[str, Any]] = []
    for message in messages:
        if message.role in ("system", "developer"):
            system.append(_text_of(message.content))
            continue
        if message.role == "tool":
            block = {
                "type": "tool_result",
                "tool_use_id": message.tool_call_id,
                "content": _text_of(message.content),
            }
            out.append({"role": "user", "content": [block]})
            continue
        content = _claude_content(message.content)
        if message.role == "assistant" and message.tool_calls:
            blocks: list[dict[str, Any]] = []
            if content:
                blocks.extend(
                    [{"type": "text", "text": content}] if isinstance(content, str) else content
                )
            for call in message.tool_calls:
                function = call.get("function", {})
                try:
                    arguments = json.loads(function.get("arguments") or "{}")
                except ValueError:
                    arguments = {}
                blocks.append(
                    {
                        "type": "tool_use",
                        "id": call.get("id", ""),
                        "name": function.get("name", ""),
                        "input": arguments,
                    }
                )
            content = blocks
        out.append(
            {"role": "assistant" if message.role == "assistant" else "user", "content": content}
        )
    return "\n\n".join(s for s in system if s), _merged_turns(out, "content")


def claude_tools(tools: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for tool in tools:
        function = tool.get("function", tool)
        out.append(
            {
                "name": function.get("name", ""),
                "description": function.get("description", ""),
                "input_schema": function.get("parameters") or {"type": "object", "properties": {}},
            }
        )
    return out


def claude_body(
    messages: Sequence[ChatMessage], params: ChatParams, *, stream: bool
) -> dict[str, Any]:
    system, converted = claude_messages(messages)
    body: dict[str, Any] = {
        "model": params.model,
        "messages": converted,
        "max_tokens": params.max_tokens or CLAUDE_DEFAULT_MAX_TOKENS,
        "stream": stream,
    }
    if system:
        body["system"] = system
    if params.temperature is not None:
        body["temperature"] = params.temperature
    if params.top_p is not None:
        body["top_p"] = params.top_p
    if params.stop:
        body["stop_sequences"] = list(params.stop)
    if params.tools:
        body["tools"] = claude_tools(params.tools)
        choice = claude_tool_choice(params.tool_choice)
        if choice is not None:
            body["tool_choice"] = choice
    body.update(params.extra)
    return body


# ---- Gemini -----------------------------------------------------------------------------------


def _gemini_parts(content: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"text": content}]
    parts: list[dict[str, Any]] = []
    for part in content:
        if part.get("type") == "text":
            parts.append({"text": str(part.get("text", ""))})
        elif part.get("type") == "image_url":
            image = part.get("image_url")
            url = str(image.get("url", "")) if isinstance(image, dict) else str(image or "")
            inline = _data_url(url)
            if inline is not None:
                parts.append({"inlineData": {"mimeType": inline[0], "data": inline[1]}})
            else:
                parts.append({"fileData": {"fileUri": url}})
    return parts


def _gemini_call(call: dict[str, Any]) -> dict[str, Any]:
    function = call.get("function", {})
    try:
        args = json.loads(function.get("arguments") or "{}")
    except ValueError:
        args = {}
    return {"functionCall": {"name": function.get("name", ""), "args": args}}


def gemini_body(messages: Sequence[ChatMessage], params: ChatParams) -> dict[str, Any]:
    system: list[str] = []
    contents: list[dict[str, Any]] = []
    for message in messages:
        if message.role in ("system", "developer"):
            system.append(_text_of(message.content))
            continue
        if message.role == "tool":  # Gemini answers a functionCall with a functionResponse
            response = {"name": message.name, "response": {"content": _text_of(message.content)}}
            contents.append({"role": "user", "parts": [{"functionResponse": response}]})
            continue
        role = "model" if message.role == "assistant" else "user"
        parts = _gemini_parts(message.content) if _text_of(message.content) else []
        if message.role == "assistant" and message.tool_calls:
            parts += [_gemini_call(call) for call in message.tool_calls]
        contents.append({"role": role, "parts": parts or _gemini_parts(message.content)})
    body: dict[str, Any] = {"contents": _merged_turns(contents, "parts")}
    if system:
        body["systemInstruction"] = {"parts": [{"text": "\n\n".join(system)}]}
    config = {
        "temperature": params.temperature,
        "topP": params.top_p,
        "maxOutputTokens": params.max_tokens,
        "seed": params.seed,
    }
    generation: dict[str, Any] = {k: v for k, v in config.items() if v is not None}
    if params.stop:
        generation["stopSequences"] = list(params.stop)
    if generation:
        body["generationConfig"] = generation
    if params.tools:
        declarations = [t.get("function", t) for t in params.tools]
        body["tools"] = [{"functionDeclarations": declarations}]
        mode = {"none": "NONE", "required": "ANY", "auto": "AUTO"}.get(
            params.tool_choice if isinstance(params.tool_choice, str) else ""
        )
        if mode is not None:
            body["toolConfig"] = {"functionCallingConfig": {"mode": mode}}
    body.update(params.extra)
    return body
