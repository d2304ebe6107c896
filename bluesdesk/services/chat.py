"""Chat: send a message in a conversation, stream the answer into SQLite, and account for it.

The assistant's row exists before the first byte arrives and is rewritten as ``partial`` at most
every `save_interval` seconds while it streams, so an exit loses at most that much text. It ends
``complete``, ``stopped`` (the task was cancelled), ``interrupted`` (the stream broke) or
``error`` (the gateway refused or reported an error); the text received so far is always kept.

Listeners get every delta as it arrives (cheap); batching them for the screen is the UI's job.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from bluesdesk.core.export import (
    ConversationDoc,
    MessageDoc,
    from_json_many,
    to_json,
    to_json_many,
    to_markdown,
)
from bluesdesk.core.models import (
    ApiStyle,
    ChatMessage,
    ChatParams,
    Delta,
    Finish,
    GatewayProfile,
    ToolCallDelta,
    Usage,
)
from bluesdesk.core.pricing import Price, estimate
from bluesdesk.core.tools import ToolResult, run_tool, tool_schemas
from bluesdesk.errors import (
    AuthFailed,
    BluesdeskError,
    Forbidden,
    GatewayError,
    NotFound,
    RateLimited,
    ServerError,
    StatusError,
    StoreUnavailable,
    StreamErrorEvent,
    StreamInterrupted,
)
from bluesdesk.gateway import GatewayClient, list_models, stream_chat
from bluesdesk.services.billing import BillingLookup
from bluesdesk.store.conversations import (
    Conversation,
    ConversationStore,
    MessageState,
    Preset,
    SearchHit,
    StoredMessage,
)

log = logging.getLogger(__name__)

ClientProvider = Callable[[str], Awaitable[GatewayClient]]  # profile id ("" = the active one)
PriceProvider = Callable[[GatewayProfile, str], Awaitable[Price | None]]
# The API style a model speaks best, from the catalog (None: not known, use the profile's).
StyleProvider = Callable[[GatewayProfile, str], Awaitable[ApiStyle | None]]

SAVE_INTERVAL_S = 0.25
TITLE_LENGTH = 60
UNFINISHED_TEXT = "bluesdesk closed before this answer was complete."
CONTINUE_PROMPT = (
    "Continue exactly where your previous answer stopped. Do not repeat what you already wrote."
)
RESPONSE_FORMATS = ("text", "json_object", "json_schema")
# Rounds of tool calls answered before the model must answer in text: a model that keeps calling
# tools must not loop (or bill) forever.
MAX_TOOL_ROUNDS = 4
# How often answers the database refused (disk full) are written again until they land.
UNSAVED_RETRY_S = 5.0


# ---- What listeners receive ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReplyStarted:
    conversation_id: str
    assistant: StoredMessage
    user: StoredMessage | None = None  # None when regenerating
    # When the transcript changed before this answer (edit and resend, continue, retry): the
    # shown messages that precede it, so the view can show them first.
    history: tuple[StoredMessage, ...] | None = None


@dataclass(frozen=True, slots=True)
class ReplyDelta:
    message_id: int
    text: str = ""
    reasoning: str = ""


@dataclass(frozen=True, slots=True)
class ReplyFinished:
    message: StoredMessage
    error: BluesdeskError | None = None


@dataclass(frozen=True, slots=True)
class ReplyToolCall:
    """A tool the model called has run locally; the answer goes on streaming after it."""

    message_id: int
    call: dict[str, Any]  # id, name, arguments (JSON text), result, ok


@dataclass(frozen=True, slots=True)
class ReplySaveFailed:
    """A write of the streaming answer failed (disk full…): it goes on streaming, the text is
    kept in memory and saved when the database takes it again (see `SaveStatus`)."""

    message_id: int
    error: BluesdeskError


ReplyUpdate = ReplyStarted | ReplyDelta | ReplyToolCall | ReplySaveFailed | ReplyFinished
Listener = Callable[[ReplyUpdate], None]


@dataclass(frozen=True, slots=True)
class SaveStatus:
    """How many answers are kept in memory because the database refused them (0: all saved),
    and why. Sent to `ChatService.listeners` whenever that changes."""

    unsaved: int
    error: BluesdeskError | None = None


@dataclass(frozen=True, slots=True)
class MessageChanged:
    """A finished answer changed after the fact (the gateway's billed cost arrived)."""

    message: StoredMessage


ServiceEvent = SaveStatus | MessageChanged
ServiceListener = Callable[[ServiceEvent], None]


@dataclass(frozen=True, slots=True)
class MessageStats:
    """What one answer took; kept in the message's meta_json."""

    model: str = ""
    style: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tokens_estimated: bool = False  # no usage arrived (stopped, dropped): counted from the text
    prompt_estimated: bool = False  # likewise for the prompt: counted from what was sent
    ttft_ms: float | None = None
    total_ms: float = 0.0
    tokens_per_s: float | None = None
    request_id: str = ""
    cost_usd: float | None = None  # None: no price known for the model
    # What the gateway said it charged (X-Credits-Consumed, in USD), summed over tool rounds;
    # None when it does not say.
    billed_usd: float | None = None
    finish_reason: str = ""

    @classmethod
    def from_meta(cls, meta_json: str) -> MessageStats | None:
        meta = _loads(meta_json)
        stats = meta.get("stats")
        if not isinstance(stats, dict):
            return None
        known = {k: v for k, v in stats.items() if k in cls.__dataclass_fields__}
        try:
            return cls(**known)
        except TypeError:
            return None


def tool_calls_of(meta_json: str) -> list[dict[str, Any]]:
    """The tool calls an answer made (id, name, arguments, result, ok), in order."""
    value = _loads(meta_json).get("tool_calls")
    return [c for c in value if isinstance(c, dict)] if isinstance(value, list) else []


def round_ends_of(meta_json: str) -> list[int]:
    """Where each tool round's text ends in the answer's text (one offset per round)."""
    value = _loads(meta_json).get("round_ends")
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, int) and not isinstance(v, bool) and v >= 0]


def request_ids_of(meta_json: str) -> list[str]:
    """Every request an answer took (one per tool round), oldest first."""
    value = _loads(meta_json).get("request_ids")
    if isinstance(value, list):
        found = [v for v in value if isinstance(v, str) and v]
        if found:
            return found
    stats = MessageStats.from_meta(meta_json)
    return [stats.request_id] if stats is not None and stats.request_id else []


def tools_enabled(conversation: Conversation) -> bool:
    return _loads(conversation.params_json).get("tools") is True


def reasoning_of(meta_json: str) -> str:
    value = _loads(meta_json).get("reasoning")
    return value if isinstance(value, str) else ""


def _loads(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def estimate_tokens(text: str) -> int:
    """A local token count good enough for estimates (≈ 4 characters per token)."""
    return max(1, (len(text) + 3) // 4) if text else 0


def prompt_estimate(conversation: Conversation, history: Sequence[StoredMessage]) -> int:
    """Tokens of the system prompt and the history, counted locally (the gateway's own count
    never arrives for an answer that was stopped or cut)."""
    texts = [conversation.system_prompt, *(m.text for m in history if not m.hidden)]
    return sum(estimate_tokens(t) for t in texts)


def title_from(text: str) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1].rstrip() + "…"


def chat_params(conversation: Conversation) -> ChatParams:
    """The conversation's saved parameters; anything malformed is left at the default."""
    raw = _loads(conversation.params_json)

    def number(name: str, kind: type) -> Any:
        value = raw.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return kind(value)
        return None

    stop = raw.get("stop")
    return ChatParams(
        model=conversation.model,
        temperature=number("temperature", float),
        top_p=number("top_p", float),
        max_tokens=number("max_tokens", int),
        seed=number("seed", int),
        stop=tuple(s for s in stop if isinstance(s, str) and s) if isinstance(stop, list) else (),
        response_format=response_format(raw),
        tools=tool_schemas() if raw.get("tools") is True else (),
    )


def response_format(raw: dict[str, Any]) -> dict[str, Any] | None:
    """The OpenAI `response_format` for saved params: None for plain text (the default)."""
    kind = raw.get("response_format")
    if kind == "json_object":
        return {"type": "json_object"}
    if kind == "json_schema":
        schema = raw.get("json_schema")
        if not isinstance(schema, dict):
            return {"type": "json_object"}  # a schema that went missing still asks for JSON
        if "schema" not in schema:  # the user pasted a bare JSON Schema
            schema = {"name": "response", "schema": schema}
        return {"type": "json_schema", "json_schema": schema}
    return None


def images_of(meta_json: str) -> list[str]:
    """The image data URLs attached to a user message."""
    value = _loads(meta_json).get("images")
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def error_info(meta_json: str) -> dict[str, Any]:
    """What went wrong with an answer, for the pane's action: kind, status, retry_after."""
    value = _loads(meta_json).get("error")
    return value if isinstance(value, dict) else {}


def classify_error(error: BluesdeskError) -> dict[str, Any]:
    """A small, stored description of an error that decides which action the pane offers:
    "rate_limit" (retry after a countdown), "auth" (fix the key), "model" (pick another),
    "quota" (top up), "interrupted" (continue), "server", or "other"."""
    code = getattr(error, "code", "") or ""
    status = error.status if isinstance(error, StatusError) else 0
    text = f"{code} {error.user_message}".lower()
    kind = "other"
    if isinstance(error, StreamInterrupted):
        kind = "interrupted"
    elif "quota" in text:
        kind = "quota"
    elif isinstance(error, RateLimited):
        kind = "rate_limit"
    elif isinstance(error, AuthFailed):
        kind = "auth"
    elif (
        isinstance(error, NotFound)
        or "model_not_found" in text
        or (status in (403, 503) and "model" in text)
    ):
        kind = "model"
    elif isinstance(error, Forbidden):
        kind = "auth"
    elif isinstance(error, (ServerError, StreamErrorEvent)):
        kind = "server"
    info: dict[str, Any] = {"kind": kind, "status": status}
    if isinstance(error, RateLimited) and error.retry_after is not None:
        info["retry_after"] = float(error.retry_after)
    return info


def history_messages(
    conversation: Conversation, history: Sequence[StoredMessage]
) -> list[ChatMessage]:
    """What the model sees: the system prompt and every shown user/assistant turn with text.
    An answer that used tools is replayed as it was sent: per round the assistant turn with
    its tool calls and the tool results, then the answer's last text."""
    out = [ChatMessage("system", conversation.system_prompt)] if conversation.system_prompt else []
    for message in history:
        if message.hidden or message.role not in ("user", "assistant"):
            continue
        images = images_of(message.meta_json) if message.role == "user" else []
        calls = tool_calls_of(message.meta_json) if message.role == "assistant" else []
        if images:
            parts: list[dict[str, Any]] = [{"type": "text", "text": message.text}]
            parts += [{"type": "image_url", "image_url": {"url": url}} for url in images]
            out.append(ChatMessage(message.role, parts))
        elif calls:
            out += tool_exchange(message.text, calls, round_ends_of(message.meta_json))
        elif message.text:
            out.append(ChatMessage(message.role, message.text))
    return out


def wire_call(call: dict[str, Any]) -> dict[str, Any]:
    """A stored tool call in the OpenAI `tool_calls` shape (what every body builder reads)."""
    return {
        "id": str(call.get("id", "")),
        "type": "function",
        "function": {
            "name": str(call.get("name", "")),
            "arguments": str(call.get("arguments", "")) or "{}",
        },
    }


def tool_result_message(call: dict[str, Any]) -> ChatMessage:
    return ChatMessage(
        "tool",
        str(call.get("result", "")),
        name=str(call.get("name", "")),
        tool_call_id=str(call.get("id", "")),
    )


def tool_exchange(
    text: str, calls: Sequence[dict[str, Any]], round_ends: Sequence[int]
) -> list[ChatMessage]:
    """An answer with tool calls as the messages its requests carried: for each round the
    assistant's text of that round with its calls, then their results; then the final text.

    Calls stored before rounds were recorded (no `round`) count as one round with no text."""
    rounds: dict[int, list[dict[str, Any]]] = {}
    for call in calls:
        index = call.get("round")
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            index = 0
        rounds.setdefault(index, []).append(call)
    out: list[ChatMessage] = []
    start = 0
    for index in sorted(rounds):
        end = round_ends[index] if index < len(round_ends) else start
        end = min(max(end, start), len(text))
        members = rounds[index]
        out.append(
            ChatMessage("assistant", text[start:end], tool_calls=tuple(map(wire_call, members)))
        )
        out += [tool_result_message(call) for call in members]
        start = end
    if text[start:]:
        out.append(ChatMessage("assistant", text[start:]))
    return out


def has_tool_exchange(messages: Sequence[ChatMessage]) -> bool:
    return any(m.role == "tool" or m.tool_calls for m in messages)


class PriceSource(Protocol):
    """What chat needs of the catalog service (`services.catalog.CatalogService`)."""

    async def snapshot(self, profile: GatewayProfile | None = None) -> Any: ...

    def price(
        self, model: str, group: str | None = None, *, profile: GatewayProfile | None = None
    ) -> Price | None: ...


def catalog_prices(catalog: PriceSource) -> PriceProvider:
    """A PriceProvider over the catalog: its cached prices, loaded from SQLite when needed."""

    async def price_for(profile: GatewayProfile, model: str) -> Price | None:
        await catalog.snapshot(profile)
        return catalog.price(model, profile=profile)

    return price_for


class ModelSource(Protocol):
    """What chat needs of the catalog to pick a model's API style."""

    async def snapshot(self, profile: GatewayProfile | None = None) -> Any: ...


def catalog_styles(catalog: ModelSource) -> StyleProvider:
    """A StyleProvider over the catalog: Claude-native models speak Claude, Gemini-native ones
    Gemini, every other model the OpenAI style; None when the catalog does not know the model."""

    async def style_for(profile: GatewayProfile, model: str) -> ApiStyle | None:
        snapshot = await catalog.snapshot(profile)
        found = snapshot.model(model) if snapshot is not None else None
        if found is None:
            return None
        return style_of(frozenset(str(c) for c in found.capabilities))

    return style_for


def style_of(capabilities: frozenset[str]) -> ApiStyle:
    if "claude_native" in capabilities:
        return ApiStyle.CLAUDE
    if "gemini_native" in capabilities:
        return ApiStyle.GEMINI
    return ApiStyle.OPENAI


# ---- The service --------------------------------------------------------------------------


class ChatService:
    def __init__(
        self,
        store: ConversationStore,
        client_for: ClientProvider,
        *,
        price_for: PriceProvider | None = None,
        style_for: StyleProvider | None = None,
        billing: BillingLookup | None = None,
        save_interval: float = SAVE_INTERVAL_S,
        unsaved_retry: float = UNSAVED_RETRY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self._client_for = client_for
        self._price_for = price_for
        self.style_provider = style_for
        self.billing = billing
        self.save_interval = save_interval
        self.unsaved_retry = unsaved_retry
        self._clock = clock
        self.listeners: list[ServiceListener] = []
        # Answers the database refused (disk full): the final write of each, by message id, kept
        # until a retry lands it. `_failing` also holds live answers whose last save failed.
        self._unsaved: dict[int, dict[str, Any]] = {}
        self._failing: set[int] = set()
        self._save_error: BluesdeskError | None = None
        self._last_status: SaveStatus | None = SaveStatus(0)
        self._retrier: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()

    # ---- conversations

    async def new_conversation(
        self,
        *,
        profile_id: str = "",
        model: str = "",
        api_style: str = "",
        system_prompt: str = "",
        params: dict[str, Any] | None = None,
    ) -> Conversation:
        return await self.store.create_conversation(
            "",
            profile_id=profile_id,
            model=model,
            api_style=api_style,
            system_prompt=system_prompt,
            params_json=json.dumps(params or {}),
        )

    async def search(self, text: str) -> tuple[list[Conversation], list[SearchHit]]:
        """Conversations whose title matches, and messages whose text matches (FTS5)."""
        return await self.store.search_titles(text), await self.store.search(text)

    async def recover(self) -> int:
        """At start-up: answers left `partial` by an exit are marked interrupted."""
        return await self.store.mark_unfinished(UNFINISHED_TEXT)

    async def model_ids(self, profile_id: str = "") -> list[str]:
        client = await self._client_for(profile_id)
        return sorted(m.id for m in await list_models(client))

    # ---- sending

    async def send(
        self,
        conversation_id: str,
        text: str,
        *,
        images: Sequence[str] = (),
        on_update: Listener | None = None,
    ) -> StoredMessage:
        """Add the user's message (with image data URLs) and stream the answer. Returns the final
        assistant message.

        Gateway failures do not raise: they end up in the returned message's state and error.
        Cancelling the calling task saves the partial answer as ``stopped`` and re-raises.
        """
        conversation = await self._conversation(conversation_id, require_model=True)
        await self.flush_unsaved()
        meta = json.dumps({"images": list(images)}) if images else "{}"
        user = await self.store.add_message(conversation_id, "user", text, meta_json=meta)
        if not conversation.title:
            await self.store.rename_conversation(conversation_id, title_from(text))
        history = await self._messages(conversation_id)
        assistant = await self.store.add_message(
            conversation_id, "assistant", "", state="partial", model=conversation.model
        )
        _emit(on_update, ReplyStarted(conversation_id, assistant, user))
        return await self._stream(conversation, assistant, history, on_update)

    async def regenerate(
        self, message_id: int, *, on_update: Listener | None = None
    ) -> StoredMessage:
        """Answer again in place of `message_id`; the old answer stays as an alternative."""
        old = await self._message(message_id, "assistant")
        conversation = await self._conversation(old.conversation_id, require_model=True)
        await self.flush_unsaved()
        messages = await self._messages(old.conversation_id)
        history = [m for m in messages if m.order_key < old.order_key]
        assistant = await self.store.add_message(
            old.conversation_id,
            "assistant",
            "",
            state="partial",
            model=conversation.model,
            alt_group=old.alt_group or old.id,
        )
        _emit(on_update, ReplyStarted(old.conversation_id, assistant))
        return await self._stream(conversation, assistant, history, on_update)

    async def edit_and_resend(
        self, message_id: int, text: str, *, on_update: Listener | None = None
    ) -> StoredMessage:
        """Replace a user message's text, drop everything after it, and answer it afresh."""
        user = await self._message(message_id, "user")
        conversation = await self._conversation(user.conversation_id, require_model=True)
        messages = await self.store.get_messages(user.conversation_id)
        later = [m.id for m in messages if m.order_key > user.order_key]
        await self.store.delete_messages(later)
        await self.store.edit_message(message_id, text)
        history = [m for m in await self._messages(user.conversation_id) if not m.hidden]
        assistant = await self.store.add_message(
            user.conversation_id, "assistant", "", state="partial", model=conversation.model
        )
        _emit(on_update, ReplyStarted(user.conversation_id, assistant, history=tuple(history)))
        return await self._stream(conversation, assistant, history, on_update)

    async def retry(self, message_id: int, *, on_update: Listener | None = None) -> StoredMessage:
        """Ask again for a failed answer: it is replaced (not kept as an alternative)."""
        old = await self._message(message_id, "assistant")
        if old.alt_group:  # one of several answers: the failed one stays an alternative
            return await self.regenerate(message_id, on_update=on_update)
        conversation = await self._conversation(old.conversation_id, require_model=True)
        await self.store.delete_message(message_id)
        messages = await self._messages(old.conversation_id)
        history = [m for m in messages if m.order_key < old.order_key and not m.hidden]
        assistant = await self.store.add_message(
            old.conversation_id, "assistant", "", state="partial", model=conversation.model
        )
        _emit(on_update, ReplyStarted(old.conversation_id, assistant, history=tuple(history)))
        return await self._stream(conversation, assistant, history, on_update)

    async def continue_answer(
        self, message_id: int, *, on_update: Listener | None = None
    ) -> StoredMessage:
        """Carry on an answer that was stopped or interrupted: the model sees the partial text and
        is asked to go on; what it writes is appended to the same message."""
        old = await self._message(message_id, "assistant")
        conversation = await self._conversation(old.conversation_id, require_model=True)
        await self.flush_unsaved()
        messages = [m for m in await self._messages(old.conversation_id) if not m.hidden]
        if not messages or messages[-1].id != message_id:
            raise ValueError("only the last answer can be continued")
        old = messages[-1]
        before = messages[:-1]
        await self.store.update_message_text(message_id, old.text, "partial", error="")
        live = await self._message(message_id, "assistant")
        _emit(on_update, ReplyStarted(old.conversation_id, live, history=tuple(before)))
        request = [*messages, _continue_request(old)]
        return await self._stream(
            conversation, live, request, on_update, prefix=old.text, earlier=old.meta_json
        )

    async def _message(self, message_id: int, role: str) -> StoredMessage:
        message = await self.store.get_message(message_id)
        if message is None or message.role != role:
            raise ValueError(f"message {message_id} is not a {role} message")
        return self._overlaid(message)

    async def _messages(self, conversation_id: str) -> list[StoredMessage]:
        """The conversation's messages, with answers not saved yet as the user saw them."""
        return [self._overlaid(m) for m in await self.store.get_messages(conversation_id)]

    def _overlaid(self, message: StoredMessage) -> StoredMessage:
        pending = self._unsaved.get(message.id)
        if pending is None:
            return message
        return _with_values(message, pending)

    # ---- answers the database refused

    @property
    def unsaved_count(self) -> int:
        return len(self._failing | set(self._unsaved))

    async def flush_unsaved(self) -> int:
        """Write the answers kept in memory; returns how many are still unsaved."""
        for message_id, values in list(self._unsaved.items()):
            try:
                await self.store.update_message_text(message_id, **values)
            except StoreUnavailable as exc:
                self._save_error = exc
                break
            if self._unsaved.get(message_id) is values:  # not replaced meanwhile
                del self._unsaved[message_id]
                self._failing.discard(message_id)
                log.info("saved answer %s that the database had refused", message_id)
        if self._unsaved:
            self._last_status = None  # said again: the pane may have cleared its notice
        self._notify_save()
        return self.unsaved_count

    def _keep_unsaved(
        self, message_id: int, values: dict[str, Any], error: StoreUnavailable
    ) -> None:
        self._unsaved[message_id] = values
        self._failing.add(message_id)
        self._save_error = error
        self._notify_save()
        if self._retrier is None or self._retrier.done():
            self._retrier = asyncio.ensure_future(self._retry_unsaved())

    async def _retry_unsaved(self) -> None:
        while self._unsaved:
            await asyncio.sleep(self.unsaved_retry)
            try:
                await self.flush_unsaved()
            except Exception:  # not a full disk (closed, corrupt): retrying will not help
                log.exception("giving up on saving %d answer(s)", len(self._unsaved))
                return

    def _notify_save(self) -> None:
        count = self.unsaved_count
        if count == 0:
            self._save_error = None
        status = SaveStatus(count, self._save_error)
        if status != self._last_status:  # a failing save every interval says nothing new
            self._last_status = status
            self._publish(status)

    def _publish(self, event: ServiceEvent) -> None:
        for listener in list(self.listeners):
            try:
                listener(event)
            except Exception:  # a broken listener must not cost the answer
                log.exception("chat listener failed")

    # ---- the billed cost from the gateway's usage log

    def _look_up_billed(self, final: StoredMessage, profile: GatewayProfile) -> None:
        task = asyncio.ensure_future(self._billed_later(final, profile))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _billed_later(self, final: StoredMessage, profile: GatewayProfile) -> None:
        assert self.billing is not None
        try:
            usd = await self.billing.billed_usd(profile, request_ids_of(final.meta_json))
        except Exception:  # a lookup is a nicety: never an error the user sees
            log.info("billed cost lookup failed for %s", final.request_id, exc_info=True)
            return
        if usd is None:
            return
        current = self._overlaid(await self.store.get_message(final.id) or final)
        meta = _loads(current.meta_json)
        stats = meta.get("stats")
        if not isinstance(stats, dict) or stats.get("billed_usd") is not None:
            return
        stats["billed_usd"] = round(usd, 8)
        values = _values_of(current)
        values["meta_json"] = json.dumps(meta)
        changed = _with_values(current, values)
        try:
            await self.store.update_message_text(current.id, **values)
        except StoreUnavailable as exc:
            self._keep_unsaved(current.id, values, exc)
        else:
            if self._unsaved.pop(current.id, None) is not None:  # that write landed it too
                self._failing.discard(current.id)
                self._notify_save()
            changed = await self.store.get_message(current.id) or changed
        self._publish(MessageChanged(changed))

    async def close(self) -> None:
        """Stop the lookups and retries (before the database closes); one last write of the
        answers still unsaved. Returns quietly if the disk is still full (logged)."""
        tasks = [t for t in (self._retrier, *self._background) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._unsaved and await self.flush_unsaved():
            log.error("%d answer(s) could not be saved before exit", self.unsaved_count)

    async def wait_background(self) -> None:
        """Wait for the lookups started after answers (tests; shutdown)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    # ---- editing the transcript

    async def delete_message(self, message_id: int) -> list[StoredMessage]:
        """Delete one message; returns what `undo_delete_messages` needs to put it back. When it
        was the shown alternative of its group, another answer of the group is shown instead."""
        message = await self.store.get_message(message_id)
        if message is None:
            return []
        await self.store.delete_message(message_id)
        if message.alt_group and not message.hidden:
            siblings = [
                m
                for m in await self.store.get_messages(message.conversation_id)
                if m.alt_group == message.alt_group
            ]
            if siblings:
                await self.store.show_alternative(siblings[-1].id)
        return [message]

    async def undo_delete_messages(self, messages: list[StoredMessage]) -> None:
        await self.store.restore_messages(messages)
        for m in messages:
            if m.alt_group and not m.hidden:
                await self.store.show_alternative(m.id)

    async def delete_conversation(
        self, conversation_id: str
    ) -> tuple[Conversation, list[StoredMessage]] | None:
        """Delete a conversation; returns what `undo_delete_conversation` needs."""
        conversation = await self.store.get_conversation(conversation_id)
        if conversation is None:
            return None
        messages = await self.store.get_messages(conversation_id)
        await self.store.delete_conversation(conversation_id)
        return conversation, messages

    async def undo_delete_conversation(
        self, deleted: tuple[Conversation, list[StoredMessage]]
    ) -> None:
        await self.store.restore_conversation(*deleted)

    async def duplicate(self, conversation_id: str) -> Conversation:
        """A copy of the whole conversation (alternatives included) under a new id."""
        conversation = await self._conversation(conversation_id)
        messages = await self.store.get_messages(conversation_id)
        copy = _retitled(conversation, f"{conversation.title or 'Conversation'} (copy)")
        return await self.store.import_conversation(copy, messages)

    async def fork(self, message_id: int) -> Conversation:
        """A new conversation holding the shown messages up to and including `message_id`."""
        message = await self.store.get_message(message_id)
        if message is None:
            raise ValueError(f"no message {message_id}")
        conversation = await self._conversation(message.conversation_id)
        messages = await self.store.get_messages(message.conversation_id)
        kept = [
            _standalone(m) for m in messages if not m.hidden and m.order_key <= message.order_key
        ]
        copy = _retitled(conversation, f"Fork of {conversation.title or 'conversation'}")
        return await self.store.import_conversation(copy, kept)

    # ---- presets

    async def presets(self) -> list[Preset]:
        return await self.store.list_presets()

    async def save_preset(self, name: str, system_prompt: str, params: dict[str, Any]) -> Preset:
        name = name.strip()
        if not name:
            raise ValueError("a preset needs a name")
        preset = Preset(name, system_prompt, json.dumps(params))
        await self.store.save_preset(preset)
        return preset

    async def delete_preset(self, name: str) -> None:
        await self.store.delete_preset(name)

    async def style_for(self, conversation: Conversation) -> ApiStyle:
        """The API style a conversation's answer would use: its own choice, else the catalog's
        for its model, else the profile's."""
        if conversation.api_style:
            return ApiStyle(conversation.api_style)
        client = await self._client_for(conversation.profile_id)
        return await self._default_style(client, conversation.model)

    async def _default_style(self, client: GatewayClient, model: str) -> ApiStyle:
        if self.style_provider is not None:
            try:
                found = await self.style_provider(client.profile, model)
            except Exception:  # a broken catalog must not stop the answer
                log.warning("style lookup failed for %s", model, exc_info=True)
                found = None
            if found is not None:
                return found
        return client.profile.api_style

    async def _conversation(
        self, conversation_id: str, *, require_model: bool = False
    ) -> Conversation:
        conversation = await self.store.get_conversation(conversation_id)
        if conversation is None:
            raise ValueError(f"no conversation {conversation_id}")
        if require_model and not conversation.model:
            raise ValueError("pick a model for this conversation first")
        return conversation

    async def _stream(
        self,
        conversation: Conversation,
        assistant: StoredMessage,
        history: Sequence[StoredMessage],
        on_update: Listener | None,
        *,
        prefix: str = "",
        earlier: str = "{}",
    ) -> StoredMessage:
        run = _Run(self._clock, prefix)
        run.listener = on_update
        # Continuing an answer that used tools keeps its calls (and where their rounds ended).
        run.tool_calls = tool_calls_of(earlier)
        run.round_ends = round_ends_of(earlier)
        client: GatewayClient | None = None
        style = ApiStyle.OPENAI
        # Text that arrived just before the stream stalls must not wait for the next event to
        # be saved: a timer saves it too, so a kill loses at most `save_interval` of text.
        saver = (
            asyncio.ensure_future(self._autosave(assistant.id, run))
            if self.save_interval > 0
            else None
        )
        try:
            client = await self._client_for(conversation.profile_id)
            style = (
                ApiStyle(conversation.api_style)
                if conversation.api_style
                else await self._default_style(client, conversation.model)
            )
            params = chat_params(conversation)
            messages = history_messages(conversation, history)
            run.prompt_estimate = prompt_estimate(conversation, history)
            if not params.tools and style is not ApiStyle.OPENAI and has_tool_exchange(messages):
                # Claude refuses tool_use/tool_result blocks unless tools are declared (Gemini
                # likewise wants its functions): declare them, but let no new call be made.
                params = _replace_params(params, tools=tool_schemas(), tool_choice="none")
            for round_ in range(MAX_TOOL_ROUNDS + 1):
                if round_ == MAX_TOOL_ROUNDS:  # enough tools: the model must answer now
                    params = _replace_params(params, tool_choice="none")
                calls = await self._stream_round(
                    client, messages, params, style, assistant.id, run, on_update
                )
                if not calls or run.finish != "tool_calls" or round_ == MAX_TOOL_ROUNDS:
                    break
                messages += self._run_tools(calls, assistant.id, run, on_update)
            state: MessageState = "complete"
            error: BluesdeskError | None = None
        except asyncio.CancelledError:
            await _stop(saver)
            final = await asyncio.shield(
                self._finish(assistant, run, "stopped", None, client, style)
            )
            _emit(on_update, ReplyFinished(final))
            raise
        except (StreamInterrupted, StreamErrorEvent) as exc:
            if len(prefix + exc.partial_text) > len(run.text):
                run.parts = [prefix + exc.partial_text]
            state = "interrupted" if isinstance(exc, StreamInterrupted) else "error"
            error = exc
        except BluesdeskError as exc:  # refused by the gateway, or no profile/key to ask it
            state, error = "error", exc
        except BaseException:
            await _stop(saver)
            raise
        await _stop(saver)  # before the final write, which must be the last one
        final = await self._finish(assistant, run, state, error, client, style)
        _emit(on_update, ReplyFinished(final, error))
        return final

    async def _stream_round(
        self,
        client: GatewayClient,
        messages: list[ChatMessage],
        params: ChatParams,
        style: ApiStyle,
        message_id: int,
        run: _Run,
        on_update: Listener | None,
    ) -> list[dict[str, str]]:
        """Stream one request into `run`; returns the tool calls the model made (OpenAI shape
        pieces: id, name, arguments), assembled from their streamed parts."""
        calls: dict[int, dict[str, str]] = {}
        run.request_id = ""  # the last request's id is the one the answer's text came from
        stream = stream_chat(client, messages, params, style=style)
        async with contextlib.aclosing(stream) as events:
            async for event in events:
                if not run.request_id:
                    run.request_id = client.last_meta.request_id
                    if run.request_id:
                        run.request_ids.append(run.request_id)
                    run.add_billed(client.last_meta.credits_consumed)
                if isinstance(event, Delta):
                    run.add(event)
                    if event.choice == 0:
                        _emit(on_update, ReplyDelta(message_id, *run.piece(event)))
                elif isinstance(event, ToolCallDelta):
                    call = calls.setdefault(event.index, {"id": "", "name": "", "arguments": ""})
                    call["id"] = call["id"] or event.id
                    call["name"] = call["name"] or event.name
                    call["arguments"] += event.arguments
                elif isinstance(event, Usage):
                    run.add_usage(event)
                elif isinstance(event, Finish) and event.choice == 0:
                    run.finish = event.reason
                # `run.parts`, not `run.text`: reading the text joins the whole answer, and
                # doing that per event made a long answer quadratic (benchmarks/stream_ui.py).
                if run.parts and self._clock() - run.last_save >= self.save_interval:
                    await self._save_partial(message_id, run)
        return [calls[i] for i in sorted(calls)]

    def _run_tools(
        self,
        calls: list[dict[str, str]],
        message_id: int,
        run: _Run,
        on_update: Listener | None,
    ) -> list[ChatMessage]:
        """Run the called tools; the messages that carry the calls and results back. The calls
        are recorded with their round, so later requests replay them exactly (`tool_exchange`)."""
        for k, call in enumerate(calls):
            # Gemini gives calls no id; one unique in the conversation keeps the history valid
            # if it is later sent in a style that pairs results with calls by id.
            call["id"] = call["id"] or f"call_{message_id}_{len(run.tool_calls) + k}"
        round_index = len(run.round_ends)
        text = run.round_text()
        run.round_ends.append(len(run.text))
        records: list[dict[str, Any]] = []
        for call in calls:
            result: ToolResult = run_tool(call["name"], call["arguments"])
            record = {**call, "result": result.content, "ok": result.ok, "round": round_index}
            run.tool_calls.append(record)
            records.append(record)
            _emit(on_update, ReplyToolCall(message_id, record))
        out = [ChatMessage("assistant", text, tool_calls=tuple(map(wire_call, records)))]
        return out + [tool_result_message(record) for record in records]

    async def _save_partial(self, message_id: int, run: _Run) -> None:
        """Save the text so far. A database that refuses (disk full) does not stop the answer:
        the text stays in memory and the next save (or the final one) tries again."""
        run.last_save = self._clock()
        text = run.text
        try:
            await self.store.update_message_text(message_id, text, "partial")
        except StoreUnavailable as exc:
            if run.save_error is None:
                log.warning("answer %s: partial save failed: %s", message_id, exc)
                run.save_error = exc
                _emit(run.listener, ReplySaveFailed(message_id, exc))
            self._failing.add(message_id)
            self._save_error = exc
            self._notify_save()
            return
        run.saved_chars = len(text)
        if message_id in self._failing and message_id not in self._unsaved:
            self._failing.discard(message_id)
            self._notify_save()

    async def _autosave(self, message_id: int, run: _Run) -> None:
        while True:
            await asyncio.sleep(self.save_interval)
            if len(run.text) != run.saved_chars:
                await self._save_partial(message_id, run)

    async def _finish(
        self,
        assistant: StoredMessage,
        run: _Run,
        state: MessageState,
        error: BluesdeskError | None,
        client: GatewayClient | None,
        style: ApiStyle,
    ) -> StoredMessage:
        stats = run.stats(assistant.model, style)
        if isinstance(error, GatewayError) and error.request_id and not stats.request_id:
            stats = _replace(stats, request_id=error.request_id)
        if client is not None and self._price_for is not None:
            stats = _replace(stats, cost_usd=await self._cost(client.profile, stats))
        meta: dict[str, Any] = {"stats": asdict(stats)}
        if error is not None:
            meta["error"] = classify_error(error)
        if run.reasoning:
            meta["reasoning"] = "".join(run.reasoning)
        if run.tool_calls:
            meta["tool_calls"] = run.tool_calls
            meta["round_ends"] = run.round_ends
        if len(run.request_ids) > 1:
            meta["request_ids"] = run.request_ids
        values: dict[str, Any] = {
            "text": run.text,
            "state": state,
            "request_id": stats.request_id,
            "prompt_tokens": stats.prompt_tokens,
            "completion_tokens": stats.completion_tokens,
            "error": error.describe() if error is not None else "",
            "meta_json": json.dumps(meta),
        }
        try:
            await self.store.update_message_text(assistant.id, **values)
        except StoreUnavailable as exc:
            # Disk full: the answer is kept in memory, shown as it is, and written by a retry.
            log.warning("answer %s: final save failed, kept for a retry: %s", assistant.id, exc)
            self._keep_unsaved(assistant.id, values, exc)
            final = _with_values(assistant, values)
        else:
            self._failing.discard(assistant.id)
            self._unsaved.pop(assistant.id, None)
            self._notify_save()
            stored = await self.store.get_message(assistant.id)
            assert stored is not None  # the row was written just above
            final = stored
        if (
            self.billing is not None
            and client is not None
            and stats.billed_usd is None
            and stats.request_id
            and state != "error"
        ):
            self._look_up_billed(final, client.profile)
        return final

    async def _cost(self, profile: GatewayProfile, stats: MessageStats) -> float | None:
        assert self._price_for is not None
        try:
            price = await self._price_for(profile, stats.model)
        except Exception:  # a missing catalog must never cost the user the answer
            log.warning("price lookup failed for %s", stats.model, exc_info=True)
            return None
        if price is None:
            return None
        return estimate(price, stats.prompt_tokens, stats.completion_tokens).high

    # ---- export and import

    async def export_doc(self, conversation_id: str) -> ConversationDoc:
        conversation = await self._conversation(conversation_id)
        messages = await self.store.get_messages(conversation_id)
        fields = asdict(conversation)
        del fields["id"]
        docs = []
        for m in messages:
            values = asdict(m)
            del values["conversation_id"]
            docs.append(MessageDoc(**values))
        return ConversationDoc(**fields, messages=tuple(docs))

    async def export_json(self, conversation_id: str) -> str:
        return to_json(await self.export_doc(conversation_id))

    async def export_markdown(self, conversation_id: str) -> str:
        return to_markdown(await self.export_doc(conversation_id))

    async def export_all_json(self) -> str:
        """Every conversation in one JSON file (`import_json` reads it back)."""
        ids = await self.store.all_conversation_ids()
        return to_json_many([await self.export_doc(i) for i in ids])

    async def import_json(self, text: str) -> Conversation:
        """Store an exported conversation as a new one; of a whole export (every conversation)
        all are stored and the first is returned. Raises ImportFormatError (ValueError)."""
        imported = await self.import_json_many(text)
        return imported[0]

    async def import_json_many(self, text: str) -> list[Conversation]:
        docs = from_json_many(text)
        out = []
        for doc in docs:
            fields = asdict(doc)
            del fields["messages"]
            conversation = Conversation(id="", **fields)
            messages = [StoredMessage(conversation_id="", **asdict(m)) for m in doc.messages]
            out.append(await self.store.import_conversation(conversation, messages))
        return out


def _emit(listener: Listener | None, update: ReplyUpdate) -> None:
    if listener is not None:
        listener(update)


_WRITTEN = (
    "text",
    "state",
    "request_id",
    "prompt_tokens",
    "completion_tokens",
    "error",
    "meta_json",
)


def _values_of(message: StoredMessage) -> dict[str, Any]:
    """What `_finish` writes of a message (the arguments of `update_message_text`)."""
    return {name: getattr(message, name) for name in _WRITTEN}


def _with_values(message: StoredMessage, values: dict[str, Any]) -> StoredMessage:
    return dataclasses.replace(message, **{k: v for k, v in values.items() if k in _WRITTEN})


def _replace(stats: MessageStats, **changes: Any) -> MessageStats:
    return MessageStats(**{**asdict(stats), **changes})


def _replace_params(params: ChatParams, **changes: Any) -> ChatParams:
    return dataclasses.replace(params, **changes)


async def _stop(task: asyncio.Future[None] | None) -> None:
    """Cancel the autosave task and wait for it. The database's single writer thread keeps
    writes in order, so a save it already started lands before the final write."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _retitled(conversation: Conversation, title: str) -> Conversation:
    fields = asdict(conversation)
    fields.update(title=title, pinned=False)
    return Conversation(**fields)


def _standalone(message: StoredMessage) -> StoredMessage:
    """The message outside its alternatives group (a fork keeps only the shown answer)."""
    fields = asdict(message)
    fields.update(alt_group=0, hidden=False)
    return StoredMessage(**fields)


def _continue_request(answer: StoredMessage) -> StoredMessage:
    """The user turn that asks the model to go on (sent, never stored)."""
    fields = asdict(answer)
    fields.update(role="user", text=CONTINUE_PROMPT, meta_json="{}", alt_group=0, hidden=False)
    return StoredMessage(**fields)


class _Run:
    """The bookkeeping of one streamed answer."""

    def __init__(self, clock: Callable[[], float], prefix: str = "") -> None:
        self.clock = clock
        self.started = clock()
        self.last_save = self.started
        self.saved_chars = len(prefix)
        self.first: float | None = None
        self.parts: list[str] = [prefix] if prefix else []
        self.reasoning: list[str] = []
        self.usage: Usage | None = None
        self.prompt_estimate = 0  # local count of what was sent, for when no usage arrives
        self.finish = ""
        self.request_id = ""
        self.tool_calls: list[dict[str, Any]] = []
        self.round_ends: list[int] = []  # where each tool round's text ends in `text`
        self.request_ids: list[str] = []  # one per request (tool rounds make several)
        self.billed: float | None = None
        self.save_error: BluesdeskError | None = None  # the first partial save that failed
        self.listener: Listener | None = None
        self._round_start = len(prefix)

    def add_billed(self, usd: float | None) -> None:
        if usd is not None:
            self.billed = (self.billed or 0.0) + usd

    def add_usage(self, usage: Usage) -> None:
        """Usage of every request of the answer (tool rounds included) is added up."""
        if self.usage is None:
            self.usage = usage
            return
        self.usage = Usage(
            prompt_tokens=self.usage.prompt_tokens + usage.prompt_tokens,
            completion_tokens=self.usage.completion_tokens + usage.completion_tokens,
        )

    def round_text(self) -> str:
        """The text of the round that just ended (what the model said beside its tool calls)."""
        text = self.text
        piece = text[self._round_start :]
        self._round_start = len(text)
        return piece

    @property
    def text(self) -> str:
        if len(self.parts) > 1:
            self.parts = ["".join(self.parts)]  # joined once per read, not once per token
        return self.parts[0] if self.parts else ""

    def add(self, delta: Delta) -> None:
        if delta.choice != 0:
            return
        if self.first is None:
            self.first = self.clock()
        (self.parts if delta.kind == "text" else self.reasoning).append(delta.text)

    @staticmethod
    def piece(delta: Delta) -> tuple[str, str]:
        return (delta.text, "") if delta.kind == "text" else ("", delta.text)

    def stats(self, model: str, style: ApiStyle) -> MessageStats:
        end = self.clock()
        text = self.text
        usage = self.usage
        estimated = usage is None or (usage.completion_tokens == 0 and bool(text))
        completion = (
            estimate_tokens(text) if estimated or usage is None else usage.completion_tokens
        )
        tokens_per_s = None
        if self.first is not None and end > self.first and completion:
            tokens_per_s = round(completion / (end - self.first), 1)
        return MessageStats(
            model=model,
            style=str(style),
            prompt_tokens=usage.prompt_tokens if usage is not None else self.prompt_estimate,
            completion_tokens=completion,
            tokens_estimated=estimated,
            prompt_estimated=usage is None and self.prompt_estimate > 0,
            ttft_ms=None if self.first is None else round((self.first - self.started) * 1000, 1),
            total_ms=round((end - self.started) * 1000, 1),
            tokens_per_s=tokens_per_s,
            request_id=self.request_id,
            finish_reason=self.finish,
            billed_usd=None if self.billed is None else round(self.billed, 8),
        )
