"""Plain data types passed between layers. Frozen dataclasses, no behaviour beyond small helpers."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class ApiStyle(enum.StrEnum):
    """Which wire protocol a chat request uses."""

    OPENAI = "openai"  # POST /v1/chat/completions
    CLAUDE = "claude"  # POST /v1/messages
    GEMINI = "gemini"  # POST /v1beta/models/{model}:streamGenerateContent


class GatewayKind(enum.StrEnum):
    """Which family a gateway belongs to; decides management features, never relay behaviour."""

    BLUESMINDS = "bluesminds"
    NEWAPI = "newapi"
    MINDPROXY = "mindproxy"
    BLUENEXUS = "bluenexus"
    CUSTOM = "custom"


@dataclass(frozen=True, slots=True)
class GatewayProfile:
    """One gateway the user talks to. Holds no secret: the key lives in the keyring by `id`."""

    id: str
    name: str
    base_url: str  # the OpenAI-style base, ending in /v1 (or /api/v1 for BlueNexus)
    kind: GatewayKind = GatewayKind.CUSTOM
    management_url: str = ""  # new-api console root (…/api lives below it); "" if none
    api_style: ApiStyle = ApiStyle.OPENAI
    rpm_limit: int = 0  # client-side requests per minute; 0 = no limit
    timeout_s: float = 60.0
    demo: bool = False  # created by --demo; shown with a badge, never special-cased in I/O

    @property
    def root_url(self) -> str:
        """The gateway's origin plus any path before /v1 (where /v1beta and /api live)."""
        base = self.base_url.rstrip("/")
        for suffix in ("/api/v1", "/v1"):  # longest first: BlueNexus serves /api/v1
            if base.endswith(suffix):
                return base[: -len(suffix)]
        return base


@dataclass(frozen=True, slots=True)
class ResponseMeta:
    """What a gateway said about a call in its headers."""

    request_id: str = ""
    ratelimit_limit: int | None = None
    ratelimit_remaining: int | None = None
    ratelimit_reset: float | None = None  # seconds until reset
    credits_consumed: float | None = None
    credits_remaining: float | None = None
    hold_id: str = ""
    status: int = 0
    elapsed_ms: float = 0.0


# ---- Chat stream events (the output of every stream decoder) -------------------------------


@dataclass(frozen=True, slots=True)
class Delta:
    """A piece of assistant text (kind="text") or reasoning (kind="reasoning")."""

    text: str
    kind: str = "text"
    choice: int = 0


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """Part of a tool call; `arguments` pieces are concatenated per `index`."""

    index: int
    id: str = ""
    name: str = ""
    arguments: str = ""


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class Finish:
    """The model finished a choice. `reason` is normalised: stop, length, tool_calls, error…"""

    reason: str
    choice: int = 0
    raw_reason: str = ""


@dataclass(frozen=True, slots=True)
class StreamStart:
    """First event of a stream: ids the gateway gave the response."""

    response_id: str = ""
    model: str = ""


@dataclass(frozen=True, slots=True)
class StreamError:
    """An error object inside a 200 stream. The decoder yields it; the gateway layer raises."""

    message: str
    code: str = ""
    type: str = ""


ChatEvent = StreamStart | Delta | ToolCallDelta | Usage | Finish | StreamError


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """A message as sent to a gateway. `content` is text or a list of OpenAI-style parts."""

    role: str
    content: str | list[dict[str, Any]]
    name: str = ""
    tool_call_id: str = ""
    tool_calls: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class ChatParams:
    model: str
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    response_format: dict[str, Any] | None = None
    tools: tuple[dict[str, Any], ...] = ()
    tool_choice: str | dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """A model as the relay lists it (GET /v1/models)."""

    id: str
    owned_by: str = ""
    created: int = 0
    endpoint_types: tuple[str, ...] = ()
