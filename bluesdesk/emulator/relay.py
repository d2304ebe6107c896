"""The contract between the relay platform and the relay route handlers.

The platform (this module, `app.py`, `state.py`, `faults.py`) does everything that is the same for
every relay call: key auth in each API style, per-key RPM, fault injection, Idempotency-Key replay,
X-TT-Dry-Run estimates, request-id and flavor headers, and billing + a consume log once the call
has finished. Route handlers (`routes_chat.py`, `routes_claude.py`, `routes_gemini.py`,
`routes_responses.py`, `routes_models.py`, `routes_images.py`, `routes_audio.py`, `routes_tasks.py`)
only turn a request into a reply and report the usage.

A handler module exports ``ROUTES: list[RelayRoute]``. A handler is
``async def handler(call: RelayCall) -> Response``. It must:
- read the body with ``await call.json()`` (or ``await call.request.form()`` for multipart);
- resolve the model with ``call.model(name)`` (raises `RelayError` for unknown/forbidden models);
- report what it consumed with ``call.usage(...)`` exactly once, before returning (non-stream) or
  before the stream's iterator ends (stream);
- for streams, return ``call.sse(iterator)`` where the iterator yields one complete SSE event per
  item (``"data: {...}\\n\\n"`` or ``"event: x\\ndata: {...}\\n\\n"``), so faults can be injected
  between events; pace with ``await call.pace(n_tokens)``;
- raise `RelayError` for client errors (bad params, non-vision model given images); the platform
  renders it in the style of the route.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from starlette.requests import Request
from starlette.responses import Response

if TYPE_CHECKING:
    from bluesdesk.emulator.catalog import CatalogModel
    from bluesdesk.emulator.config import EmulatorConfig

Style = Literal["openai", "claude", "gemini"]


class RelayError(Exception):
    """A relay failure rendered as the route's error shape with this HTTP status."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str = "",
        type_: str = "new_api_error",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.type = type_
        self.headers = headers or {}


@dataclass(slots=True)
class KeyContext:
    """The API key that authenticated the call, and its owner."""

    token_id: int
    token_name: str
    user_id: int
    username: str
    group: str  # effective group (the key's group, else the user's)
    group_ratio: float
    model_limits: frozenset[str] | None  # None = any model


@dataclass(slots=True)
class UsageReport:
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    requests: int = 1  # per-request models: number of billable units (images: n)
    frt_ms: int | None = None  # time to first token, for the log's `other.frt`


@dataclass
class RelayCall:
    """One relay request as a handler sees it. Built by the platform, never by handlers."""

    request: Request
    request_id: str
    style: Style
    key: KeyContext
    config: EmulatorConfig
    base_url: str  # e.g. http://127.0.0.1:8080 (no trailing slash), for URLs the emulator serves
    _model_lookup: Callable[[str, KeyContext], CatalogModel] = field(repr=False)
    _body: Any = field(default=None, repr=False)
    reported: UsageReport | None = None
    is_stream: bool = False
    _pace: Callable[[int], Awaitable[None]] | None = field(default=None, repr=False)
    _sse: Callable[[AsyncIterator[str]], Response] | None = field(default=None, repr=False)
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # served blobs, see serve()
    _serve: Callable[[bytes, str, str], str] | None = field(default=None, repr=False)

    async def json(self) -> Any:
        """The JSON body (cached); a malformed body raises RelayError 400."""
        if self._body is None:
            import json

            raw = await self.request.body()
            try:
                self._body = json.loads(raw or b"{}")
            except ValueError as exc:
                raise RelayError(400, "invalid JSON body", code="invalid_request") from exc
            if not isinstance(self._body, dict):
                raise RelayError(400, "request body must be a JSON object", code="invalid_request")
        return self._body

    def model(self, name: str) -> CatalogModel:
        """Resolve a model the key may use, or raise the flavor's error (404 / 503 / 403)."""
        return self._model_lookup(name, self.key)

    def usage(
        self,
        model: str,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        *,
        cached_tokens: int = 0,
        requests: int = 1,
        frt_ms: int | None = None,
    ) -> None:
        self.reported = UsageReport(
            model, prompt_tokens, completion_tokens, cached_tokens, requests, frt_ms
        )

    async def pace(self, n_tokens: int = 1) -> None:
        """Wait as long as `n_tokens` take at the configured tokens/s (no wait when 0)."""
        if self._pace is not None:
            await self._pace(n_tokens)

    def sse(self, events: AsyncIterator[str]) -> Response:
        """A text/event-stream response the platform can bill, log and inject faults into."""
        self.is_stream = True
        assert self._sse is not None
        return self._sse(events)

    def serve(self, data: bytes, media_type: str, suffix: str) -> str:
        """Keep `data` and return an absolute URL on the emulator that serves it (image urls)."""
        assert self._serve is not None
        return self._serve(data, media_type, suffix)


Handler = Callable[[RelayCall], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class RelayRoute:
    """A relay endpoint. `path` is relative to the relay root ("/v1/chat/completions")."""

    path: str
    handler: Handler
    methods: tuple[str, ...] = ("POST",)
    style: Style = "openai"
    billable: bool = True  # GET /v1/models and count_tokens are free
