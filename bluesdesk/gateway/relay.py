"""Relay calls every pane uses: list models, stream a chat answer, or get it in one piece.

`stream_chat` joins the HTTP stream (gateway/http.py) to the pure decoders (core/stream.py) and
turns the stream's faults into typed errors that keep the text received so far.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Any

from bluesdesk.core.models import (
    ApiStyle,
    ChatEvent,
    ChatMessage,
    ChatParams,
    Delta,
    ModelInfo,
    ResponseMeta,
    StreamError,
    Usage,
)
from bluesdesk.core.stream import (
    ClaudeDecoder,
    GeminiDecoder,
    OpenAIChatDecoder,
    StreamDecodeError,
    claude_usage,
    gemini_usage,
    openai_usage,
)
from bluesdesk.errors import BadResponse, StreamErrorEvent, StreamInterrupted
from bluesdesk.gateway.bodies import chat_body, chat_path
from bluesdesk.gateway.http import GatewayClient


async def list_models(client: GatewayClient) -> list[ModelInfo]:
    """GET /models. Accepts the OpenAI list object and the bare array old servers send."""
    data, meta = await client.request_json("GET", "models")
    items = data.get("data") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise BadResponse(
            "The gateway's model list is not in the expected format.",
            profile=client.profile.name,
            request_id=meta.request_id,
        )
    models: list[ModelInfo] = []
    for item in items:
        if isinstance(item, str):
            models.append(ModelInfo(id=item))
            continue
        if not isinstance(item, dict) or not item.get("id"):
            continue
        endpoints = item.get("supported_endpoint_types") or item.get("endpoint_types") or ()
        created = item.get("created")
        models.append(
            ModelInfo(
                id=str(item["id"]),
                owned_by=str(item.get("owned_by") or ""),
                created=created if isinstance(created, int) else 0,
                endpoint_types=tuple(str(e) for e in endpoints if isinstance(e, str)),
            )
        )
    return models


class _Decoder:
    """One interface over the three style decoders."""

    def __init__(self, style: ApiStyle) -> None:
        self.style = style
        self._openai = OpenAIChatDecoder() if style is ApiStyle.OPENAI else None
        self._claude = ClaudeDecoder() if style is ApiStyle.CLAUDE else None
        self._gemini = GeminiDecoder() if style is ApiStyle.GEMINI else None

    def feed(self, event: str, data: str) -> list[ChatEvent]:
        if self._claude is not None:
            return self._claude.feed(event, data)
        if self._gemini is not None:
            return self._gemini.feed(data)
        assert self._openai is not None
        return self._openai.feed(data)

    @property
    def complete(self) -> bool:
        decoder = self._openai or self._claude or self._gemini
        assert decoder is not None
        return decoder.complete


async def stream_chat(
    client: GatewayClient,
    messages: Sequence[ChatMessage],
    params: ChatParams,
    *,
    style: ApiStyle = ApiStyle.OPENAI,
) -> AsyncGenerator[ChatEvent, None]:
    """Yield the answer's ChatEvents as they arrive.

    Raises StreamInterrupted (with the partial text) if the stream breaks or ends early, and
    StreamErrorEvent (with the partial text) if the gateway reports an error inside it.
    """
    decoder = _Decoder(style)
    partial: list[str] = []
    profile = client.profile.name
    events = client.stream_events(
        chat_path(style, params.model, stream=True),
        chat_body(style, messages, params, stream=True),
        style=style,
    )
    try:
        async for event, data in events:
            try:
                decoded = decoder.feed(event, data)
            except StreamDecodeError as exc:
                text = "".join(partial)
                if text:
                    raise StreamInterrupted(
                        "The gateway sent data that could not be read, so the answer stopped.",
                        partial_text=text,
                        profile=profile,
                        request_id=client.last_meta.request_id,
                    ) from exc
                raise BadResponse(
                    "The gateway sent a stream that could not be read (malformed data).",
                    profile=profile,
                    request_id=client.last_meta.request_id,
                ) from exc
            for item in decoded:
                if isinstance(item, StreamError):
                    raise StreamErrorEvent(
                        f"The gateway reported an error during the answer: {item.message}",
                        code=item.code or item.type,
                        partial_text="".join(partial),
                        profile=profile,
                        request_id=client.last_meta.request_id,
                    )
                if isinstance(item, Delta) and item.kind == "text" and item.choice == 0:
                    partial.append(item.text)
                yield item
    except StreamInterrupted as exc:
        if exc.partial_text:
            raise
        raise StreamInterrupted(
            exc.user_message,
            partial_text="".join(partial),
            profile=profile,
            request_id=exc.request_id or client.last_meta.request_id,
        ) from exc
    finally:
        await events.aclose()
    if not decoder.complete:
        raise StreamInterrupted(
            "The connection closed before the answer was complete.",
            partial_text="".join(partial),
            profile=profile,
            request_id=client.last_meta.request_id,
        )


async def complete_chat(
    client: GatewayClient,
    messages: Sequence[ChatMessage],
    params: ChatParams,
    *,
    style: ApiStyle = ApiStyle.OPENAI,
) -> tuple[str, Usage, ResponseMeta]:
    """One non-streamed answer: (text, usage, meta). Retried in full per the policy."""
    data, meta = await client.request_json(
        "POST",
        chat_path(style, params.model, stream=False),
        json=chat_body(style, messages, params, stream=False),
        style=style,
    )
    try:
        if style is ApiStyle.CLAUDE:
            text, usage = _claude_answer(data)
        elif style is ApiStyle.GEMINI:
            text, usage = _gemini_answer(data)
        else:
            text, usage = _openai_answer(data)
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise BadResponse(
            "The gateway's answer is not in the expected format.",
            profile=client.profile.name,
            request_id=meta.request_id,
        ) from exc
    return text, usage, meta


def _openai_answer(data: Any) -> tuple[str, Usage]:
    message = data["choices"][0]["message"]
    content = message.get("content") or ""
    usage = data.get("usage")
    return str(content), openai_usage(usage) if isinstance(usage, dict) else Usage()


def _claude_answer(data: Any) -> tuple[str, Usage]:
    blocks = data["content"]
    text = "".join(b.get("text", "") for b in blocks if b.get("type") == "text")
    usage = data.get("usage")
    return text, claude_usage(usage) if isinstance(usage, dict) else Usage()


def _gemini_answer(data: Any) -> tuple[str, Usage]:
    if isinstance(data.get("error"), dict):
        raise TypeError("error object in answer")
    candidate = data["candidates"][0]
    parts = candidate.get("content", {}).get("parts", [])
    text = "".join(
        p["text"] for p in parts if isinstance(p.get("text"), str) and p.get("thought") is not True
    )
    usage = data.get("usageMetadata")
    return text, gemini_usage(usage) if isinstance(usage, dict) else Usage()
