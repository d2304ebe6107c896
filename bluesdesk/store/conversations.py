"""Conversations and their messages: a small repository over `Database`.

A streamed answer is written as a ``partial`` message first and updated as it grows, then marked
``complete`` (or ``stopped``/``interrupted``/``error``), so a crash or a dropped stream never loses
the text received so far.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from bluesdesk.store.db import Database

MessageState = Literal["partial", "complete", "stopped", "interrupted", "error"]
Role = Literal["system", "user", "assistant", "tool"]
MESSAGE_STATES: tuple[MessageState, ...] = (
    "partial",
    "complete",
    "stopped",
    "interrupted",
    "error",
)


@dataclass(frozen=True, slots=True)
class Conversation:
    id: str
    title: str
    profile_id: str
    model: str
    created_at: float
    updated_at: float
    pinned: bool = False
    system_prompt: str = ""


@dataclass(frozen=True, slots=True)
class StoredMessage:
    id: int
    conversation_id: str
    role: str
    text: str
    state: str
    model: str
    created_at: float
    updated_at: float
    request_id: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str = ""


@dataclass(frozen=True, slots=True)
class SearchHit:
    conversation_id: str
    conversation_title: str
    message_id: int
    snippet: str  # the matched words wrapped in [ and ]


_CONV_COLUMNS = "id, title, profile_id, model, created_at, updated_at, pinned, system_prompt"
_MSG_COLUMNS = (
    "id, conversation_id, role, text, state, model, created_at, updated_at, request_id, "
    "prompt_tokens, completion_tokens, error"
)


def _conversation(row: tuple[Any, ...]) -> Conversation:
    cid, title, profile_id, model, created, updated, pinned, system_prompt = row
    return Conversation(
        id=str(cid),
        title=str(title),
        profile_id=str(profile_id),
        model=str(model),
        created_at=float(created),
        updated_at=float(updated),
        pinned=bool(pinned),
        system_prompt=str(system_prompt),
    )


def _message(row: tuple[Any, ...]) -> StoredMessage:
    return StoredMessage(*row)  # the SELECT lists the columns in field order


def fts_query(text: str) -> str:
    """User words → an FTS5 query: every word must match, the last one as a prefix.

    Each word is quoted so that FTS5 syntax in the input (AND, *, quotes, column:) is literal.
    """
    words = [w.replace('"', '""') for w in text.split()]
    if not words:
        return ""
    parts = [f'"{w}"' for w in words]
    parts[-1] += "*"
    return " ".join(parts)


class ConversationStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create_conversation(
        self, title: str = "", *, profile_id: str = "", model: str = "", system_prompt: str = ""
    ) -> Conversation:
        now = time.time()
        conv = Conversation(
            id=uuid.uuid4().hex,
            title=title,
            profile_id=profile_id,
            model=model,
            created_at=now,
            updated_at=now,
            system_prompt=system_prompt,
        )

        def insert(conn: sqlite3.Connection) -> None:
            conn.execute(
                f"INSERT INTO conversations ({_CONV_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    conv.id,
                    conv.title,
                    conv.profile_id,
                    conv.model,
                    conv.created_at,
                    conv.updated_at,
                    int(conv.pinned),
                    conv.system_prompt,
                ),
            )

        await self.db.write(insert)
        return conv

    async def rename_conversation(self, conversation_id: str, title: str) -> None:
        await self.db.write(
            lambda c: c.execute(
                "UPDATE conversations SET title = ?, updated_at = ? WHERE id = ?",
                (title, time.time(), conversation_id),
            )
        )

    async def delete_conversation(self, conversation_id: str) -> None:
        """Delete a conversation with its messages and attachments (foreign-key cascade)."""
        await self.db.write(
            lambda c: c.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
        )

    async def add_message(
        self,
        conversation_id: str,
        role: Role,
        text: str,
        *,
        state: MessageState = "complete",
        model: str = "",
    ) -> StoredMessage:
        now = time.time()

        def insert(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "INSERT INTO messages (conversation_id, role, text, state, model, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, role, text, state, model, now, now),
            )
            conn.execute(
                "UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation_id)
            )
            assert cur.lastrowid is not None  # an INSERT into a rowid table always sets it
            return cur.lastrowid

        message_id = await self.db.write(insert)
        return StoredMessage(
            id=message_id,
            conversation_id=conversation_id,
            role=role,
            text=text,
            state=state,
            model=model,
            created_at=now,
            updated_at=now,
        )

    async def update_message_text(
        self,
        message_id: int,
        text: str,
        state: MessageState = "partial",
        *,
        request_id: str | None = None,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        error: str | None = None,
    ) -> None:
        """Replace a message's text and state; the other fields change only when given."""
        if state not in MESSAGE_STATES:
            raise ValueError(f"unknown message state {state!r}")

        def update(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE messages SET text = ?, state = ?, updated_at = ?,"
                " request_id = coalesce(?, request_id),"
                " prompt_tokens = coalesce(?, prompt_tokens),"
                " completion_tokens = coalesce(?, completion_tokens),"
                " error = coalesce(?, error) WHERE id = ?",
                (
                    text,
                    state,
                    time.time(),
                    request_id,
                    prompt_tokens,
                    completion_tokens,
                    error,
                    message_id,
                ),
            )

        await self.db.write(update)

    async def list_conversations(self, limit: int = 200, offset: int = 0) -> list[Conversation]:
        """Newest activity first, pinned conversations on top."""

        def query(conn: sqlite3.Connection) -> list[Conversation]:
            rows = conn.execute(
                f"SELECT {_CONV_COLUMNS} FROM conversations"
                " ORDER BY pinned DESC, updated_at DESC, rowid DESC LIMIT ? OFFSET ?",
                (limit, offset),
            ).fetchall()
            return [_conversation(r) for r in rows]

        return await self.db.read(query)

    async def get_conversation(self, conversation_id: str) -> Conversation | None:
        def query(conn: sqlite3.Connection) -> Conversation | None:
            row = conn.execute(
                f"SELECT {_CONV_COLUMNS} FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone()
            return None if row is None else _conversation(row)

        return await self.db.read(query)

    async def get_messages(self, conversation_id: str) -> list[StoredMessage]:
        def query(conn: sqlite3.Connection) -> list[StoredMessage]:
            rows = conn.execute(
                f"SELECT {_MSG_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY id",
                (conversation_id,),
            ).fetchall()
            return [_message(r) for r in rows]

        return await self.db.read(query)

    async def search(self, text: str, limit: int = 50) -> list[SearchHit]:
        """Full-text search over message text, best matches first."""
        match = fts_query(text)
        if not match:
            return []

        def query(conn: sqlite3.Connection) -> list[SearchHit]:
            rows = conn.execute(
                "SELECT m.conversation_id, c.title, m.id,"
                " snippet(messages_fts, 0, '[', ']', '…', 12)"
                " FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid"
                " JOIN conversations c ON c.id = m.conversation_id"
                " WHERE messages_fts MATCH ? ORDER BY rank LIMIT ?",
                (match, limit),
            ).fetchall()
            return [SearchHit(str(a), str(b), int(c), str(d)) for a, b, c, d in rows]

        return await self.db.read(query)
