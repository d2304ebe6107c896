"""What the four text routes (chat, Claude messages, Gemini, Responses) do alike around a reply:
read the body, resolve a chat-capable model, generate with input errors as the route's 400, and
report usage with the time to first token. Each route keeps its own error shape via `invalid`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bluesdesk.emulator.catalog import CatalogModel
from bluesdesk.emulator.relay import RelayCall, RelayError
from bluesdesk.emulator.textgen import GenRequest, InputError, Reply, generate

Invalid = Callable[[str], RelayError]


def require_chat(model: CatalogModel) -> None:
    if not model.has("chat"):
        raise RelayError(
            400,
            f"model {model.name} does not support this endpoint",
            code="invalid_request_error",
            type_="invalid_request_error",
        )


@dataclass(slots=True)
class TextCall:
    body: dict[str, Any]
    name: str
    model: CatalogModel
    started: float  # monotonic, when the handler began: the origin of `frt`


async def open_text_call(
    call: RelayCall,
    invalid: Invalid,
    *,
    missing: str = "model is required",
    name: str | None = None,
) -> TextCall:
    """The body, and the model it names (or `name`, for routes that carry it in the path)."""
    started = time.monotonic()
    body = await call.json()
    if name is None:
        found = body.get("model")
        if not isinstance(found, str) or not found:
            raise invalid(missing)
        name = found
    model = call.model(name)
    require_chat(model)
    return TextCall(body, name, model, started)


def generate_or_invalid(req: GenRequest, invalid: Invalid, variant: int = 0) -> Reply:
    try:
        return generate(req, variant)
    except InputError as exc:
        raise invalid(str(exc)) from exc


def report(call: RelayCall, text: TextCall, prompt: int, completion: int) -> None:
    """Usage for a whole (non-streamed) reply: its first token is its last."""
    call.usage(text.name, prompt, completion, frt_ms=int((time.monotonic() - text.started) * 1000))
