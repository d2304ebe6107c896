"""Conversation export and import: Markdown for reading, JSON for a lossless round trip.

Pure functions over `ConversationDoc`/`MessageDoc`, which mirror the store's rows field for field
(core may not import the store). The JSON keeps every field, message ids included, so that
regenerate alternatives (`alt_group`, which names another message's id) survive an import.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

FORMAT = "bluesdesk.conversation"
FORMAT_MANY = "bluesdesk.conversations"  # "export all": a list of conversations in one file
VERSION = 1
ROLES = ("system", "user", "assistant", "tool")
STATES = ("partial", "complete", "stopped", "interrupted", "error")


class ImportFormatError(ValueError):
    """The file is not a conversation exported by bluesdesk (or is damaged)."""


@dataclass(frozen=True, slots=True)
class MessageDoc:
    id: int
    role: str
    text: str
    state: str = "complete"
    model: str = ""
    created_at: float = 0.0
    updated_at: float = 0.0
    request_id: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str = ""
    meta_json: str = "{}"
    alt_group: int = 0
    hidden: bool = False


@dataclass(frozen=True, slots=True)
class ConversationDoc:
    title: str
    profile_id: str = ""
    model: str = ""
    created_at: float = 0.0
    updated_at: float = 0.0
    pinned: bool = False
    system_prompt: str = ""
    api_style: str = ""
    params_json: str = "{}"
    messages: tuple[MessageDoc, ...] = field(default_factory=tuple)


# ---- JSON -------------------------------------------------------------------------------------


def to_json(doc: ConversationDoc) -> str:
    conversation = asdict(doc)
    messages = conversation.pop("messages")
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "conversation": conversation,
        "messages": messages,
    }
    return json.dumps(payload, ensure_ascii=False, indent=2)


def _typed(raw: Any, name: str, kind: type, where: str) -> Any:
    if kind is float and isinstance(raw, int) and not isinstance(raw, bool):
        raw = float(raw)
    if kind is bool and isinstance(raw, int) and not isinstance(raw, bool) and raw in (0, 1):
        raw = bool(raw)
    if not isinstance(raw, kind) or (kind is int and isinstance(raw, bool)):
        raise ImportFormatError(f"{where}: field {name!r} should be {kind.__name__}")
    if isinstance(raw, float) and not math.isfinite(raw):
        raise ImportFormatError(f"{where}: field {name!r} is not a finite number")
    return raw


_KINDS = {"str": str, "int": int, "float": float, "bool": bool}


def _build(cls: Any, data: Any, where: str, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ImportFormatError(f"{where} is not an object")
    values: dict[str, Any] = {}
    for f in fields(cls):
        if f.name in skip:
            continue
        if f.name not in data:
            raise ImportFormatError(f"{where}: field {f.name!r} is missing")
        values[f.name] = _typed(data[f.name], f.name, _KINDS[str(f.type)], where)
    return values


def to_json_many(docs: Sequence[ConversationDoc]) -> str:
    """Every conversation in one file; each item is what `to_json` writes for one."""
    items = [json.loads(to_json(doc)) for doc in docs]
    payload = {"format": FORMAT_MANY, "version": VERSION, "conversations": items}
    return json.dumps(payload, ensure_ascii=False, indent=2)


def from_json_many(text: str) -> list[ConversationDoc]:
    """Parse either export (one conversation, or all of them); raises ImportFormatError."""
    payload = _parse(text)
    if isinstance(payload, dict) and payload.get("format") == FORMAT_MANY:
        if payload.get("version") != VERSION:
            raise ImportFormatError(f"unsupported export version {payload.get('version')!r}")
        items = payload.get("conversations")
        if not isinstance(items, list) or not items:
            raise ImportFormatError("the export holds no conversations")
        return [_from_payload(item) for item in items]
    return [_from_payload(payload)]


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ImportFormatError(f"not JSON: {exc}") from exc


def from_json(text: str) -> ConversationDoc:
    """Parse an export made by `to_json`; raises ImportFormatError on anything else."""
    return _from_payload(_parse(text))


def _from_payload(payload: Any) -> ConversationDoc:
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ImportFormatError("not a bluesdesk conversation export")
    if payload.get("version") != VERSION:
        raise ImportFormatError(f"unsupported export version {payload.get('version')!r}")
    conv = _build(ConversationDoc, payload.get("conversation"), "conversation", ("messages",))
    raw_messages = payload.get("messages")
    if not isinstance(raw_messages, list):
        raise ImportFormatError("messages is not a list")
    messages = [
        MessageDoc(**_build(MessageDoc, m, f"message {i + 1}")) for i, m in enumerate(raw_messages)
    ]
    ids = {m.id for m in messages}
    if len(ids) != len(messages):
        raise ImportFormatError("two messages share an id")
    for m in messages:
        if m.role not in ROLES:
            raise ImportFormatError(f"message {m.id}: unknown role {m.role!r}")
        if m.state not in STATES:
            raise ImportFormatError(f"message {m.id}: unknown state {m.state!r}")
        if m.alt_group and m.alt_group not in ids:
            raise ImportFormatError(f"message {m.id}: alternative of a missing message")
    return ConversationDoc(**conv, messages=tuple(messages))


# ---- Markdown ---------------------------------------------------------------------------------

_MARKS = {
    "stopped": "stopped by you",
    "interrupted": "interrupted",
    "error": "failed",
    "partial": "unfinished",
}


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def to_markdown(doc: ConversationDoc) -> str:
    """A readable transcript: the shown answers only, with a mark on unfinished ones."""
    lines = [f"# {doc.title or 'Untitled conversation'}", ""]
    about = [f"Model: {doc.model}"] if doc.model else []
    if doc.created_at:
        about.append(f"Started: {_when(doc.created_at)}")
    if about:
        lines += [" · ".join(about), ""]
    if doc.system_prompt:
        lines += ["## System", "", doc.system_prompt, ""]
    for message in visible(doc.messages):
        heading = message.role.capitalize()
        if message.role == "assistant" and message.model:
            heading += f" ({message.model})"
        lines += [f"## {heading}", "", message.text, ""]
        mark = _MARKS.get(message.state)
        if mark:
            reason = f": {message.error.splitlines()[0]}" if message.error else ""
            lines += [f"> *{mark}{reason}*", ""]
    return "\n".join(lines).rstrip() + "\n"


def visible(messages: Sequence[MessageDoc]) -> list[MessageDoc]:
    return [m for m in messages if not m.hidden]
