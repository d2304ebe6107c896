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
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from bluesdesk.core.export import (
    ConversationDoc,
    MessageDoc,
    from_json,
    to_json,
    to_markdown,
)
from bluesdesk.core.models import (
    ApiStyle,
    ChatMessage,
    ChatParams,
    Delta,
    Finish,
    GatewayProfile,
    Usage,
)
from bluesdesk.core.pricing import Price, estimate
from bluesdesk.errors import BluesdeskError, GatewayError, StreamErrorEvent, StreamInterrupted
from bluesdesk.gateway import GatewayClient, list_models, stream_chat
from bluesdesk.store.conversations import (
    Conversation,
    ConversationStore,
    MessageState,
    SearchHit,
    StoredMessage,
)

log = logging.getLogger(__name__)

ClientProvider = Callable[[str], Awaitable[GatewayClient]]  # profile id ("" = the active one)
PriceProvider = Callable[[GatewayProfile, str], Awaitable[Price | None]]

SAVE_INTERVAL_S = 0.25
TITLE_LENGTH = 60
UNFINISHED_TEXT = "bluesdesk closed before this answer was complete."


# ---- What listeners receive ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReplyStarted:
    conversation_id: str
    assistant: StoredMessage
    user: StoredMessage | None = None  # None when regenerating


@dataclass(frozen=True, slots=True)
class ReplyDelta:
    message_id: int
    text: str = ""
    reasoning: str = ""


@dataclass(frozen=True, slots=True)
class ReplyFinished:
    message: StoredMessage
    error: BluesdeskError | None = None


ReplyUpdate = ReplyStarted | ReplyDelta | ReplyFinished
Listener = Callable[[ReplyUpdate], None]


@dataclass(frozen=True, slots=True)
class MessageStats:
    """What one answer took; kept in the message's meta_json."""

    model: str = ""
    style: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tokens_estimated: bool = False  # no usage arrived (stopped, dropped): counted from the text
    ttft_ms: float | None = None
    total_ms: float = 0.0
    tokens_per_s: float | None = None
    request_id: str = ""
    cost_usd: float | None = None  # None: no price known for the model
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
        stop=tuple(s for s in stop if isinstance(s, str)) if isinstance(stop, list) else (),
    )


def history_messages(
    conversation: Conversation, history: Sequence[StoredMessage]
) -> list[ChatMessage]:
    """What the model sees: the system prompt and every shown user/assistant turn with text."""
    out = [ChatMessage("system", conversation.system_prompt)] if conversation.system_prompt else []
    for message in history:
        if message.hidden or not message.text or message.role not in ("user", "assistant"):
            continue
        out.append(ChatMessage(message.role, message.text))
    return out


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


# ---- The service --------------------------------------------------------------------------


class ChatService:
    def __init__(
        self,
        store: ConversationStore,
        client_for: ClientProvider,
        *,
        price_for: PriceProvider | None = None,
        save_interval: float = SAVE_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self._client_for = client_for
        self._price_for = price_for
        self.save_interval = save_interval
        self._clock = clock

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
        self, conversation_id: str, text: str, *, on_update: Listener | None = None
    ) -> StoredMessage:
        """Add the user's message and stream the answer. Returns the final assistant message.

        Gateway failures do not raise: they end up in the returned message's state and error.
        Cancelling the calling task saves the partial answer as ``stopped`` and re-raises.
        """
        conversation = await self._conversation(conversation_id, require_model=True)
        user = await self.store.add_message(conversation_id, "user", text)
        if not conversation.title:
            await self.store.rename_conversation(conversation_id, title_from(text))
        history = await self.store.get_messages(conversation_id)
        assistant = await self.store.add_message(
            conversation_id, "assistant", "", state="partial", model=conversation.model
        )
        _emit(on_update, ReplyStarted(conversation_id, assistant, user))
        return await self._stream(conversation, assistant, history, on_update)

    async def regenerate(
        self, message_id: int, *, on_update: Listener | None = None
    ) -> StoredMessage:
        """Answer again in place of `message_id`; the old answer stays as an alternative."""
        old = await self.store.get_message(message_id)
        if old is None or old.role != "assistant":
            raise ValueError(f"message {message_id} is not an assistant message")
        conversation = await self._conversation(old.conversation_id, require_model=True)
        messages = await self.store.get_messages(old.conversation_id)
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
    ) -> StoredMessage:
        run = _Run(self._clock)
        client: GatewayClient | None = None
        style = ApiStyle.OPENAI
        try:
            client = await self._client_for(conversation.profile_id)
            style = (
                ApiStyle(conversation.api_style)
                if conversation.api_style
                else (client.profile.api_style)
            )
            params = chat_params(conversation)
            messages = history_messages(conversation, history)
            stream = stream_chat(client, messages, params, style=style)
            async with contextlib.aclosing(stream) as events:
                async for event in events:
                    if not run.request_id:
                        run.request_id = client.last_meta.request_id
                    if isinstance(event, Delta):
                        run.add(event)
                        if event.choice == 0:
                            _emit(on_update, ReplyDelta(assistant.id, *run.piece(event)))
                    elif isinstance(event, Usage):
                        run.usage = event
                    elif isinstance(event, Finish) and event.choice == 0:
                        run.finish = event.reason
                    if run.text and self._clock() - run.last_save >= self.save_interval:
                        run.last_save = self._clock()
                        await self.store.update_message_text(assistant.id, run.text, "partial")
            state: MessageState = "complete"
            error: BluesdeskError | None = None
        except asyncio.CancelledError:
            final = await asyncio.shield(
                self._finish(assistant, run, "stopped", None, client, style)
            )
            _emit(on_update, ReplyFinished(final))
            raise
        except (StreamInterrupted, StreamErrorEvent) as exc:
            if len(exc.partial_text) > len(run.text):
                run.parts = [exc.partial_text]
            state = "interrupted" if isinstance(exc, StreamInterrupted) else "error"
            error = exc
        except BluesdeskError as exc:  # refused by the gateway, or no profile/key to ask it
            state, error = "error", exc
        final = await self._finish(assistant, run, state, error, client, style)
        _emit(on_update, ReplyFinished(final, error))
        return final

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
        if run.reasoning:
            meta["reasoning"] = "".join(run.reasoning)
        await self.store.update_message_text(
            assistant.id,
            run.text,
            state,
            request_id=stats.request_id,
            prompt_tokens=stats.prompt_tokens,
            completion_tokens=stats.completion_tokens,
            error=error.describe() if error is not None else "",
            meta_json=json.dumps(meta),
        )
        final = await self.store.get_message(assistant.id)
        assert final is not None  # the row was written just above
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

    async def import_json(self, text: str) -> Conversation:
        """Store an exported conversation as a new one. Raises ImportFormatError (ValueError)."""
        doc = from_json(text)
        fields = asdict(doc)
        del fields["messages"]
        conversation = Conversation(id="", **fields)
        messages = [StoredMessage(conversation_id="", **asdict(m)) for m in doc.messages]
        return await self.store.import_conversation(conversation, messages)


def _emit(listener: Listener | None, update: ReplyUpdate) -> None:
    if listener is not None:
        listener(update)


def _replace(stats: MessageStats, **changes: Any) -> MessageStats:
    return MessageStats(**{**asdict(stats), **changes})


class _Run:
    """The bookkeeping of one streamed answer."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.started = clock()
        self.last_save = self.started
        self.first: float | None = None
        self.parts: list[str] = []
        self.reasoning: list[str] = []
        self.usage: Usage | None = None
        self.finish = ""
        self.request_id = ""

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
            prompt_tokens=usage.prompt_tokens if usage is not None else 0,
            completion_tokens=completion,
            tokens_estimated=estimated,
            ttft_ms=None if self.first is None else round((self.first - self.started) * 1000, 1),
            total_ms=round((end - self.started) * 1000, 1),
            tokens_per_s=tokens_per_s,
            request_id=self.request_id,
            finish_reason=self.finish,
        )
