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
from bluesdesk.store.search_text import SCORE_CHARS, SNIPPET_CHARS, Terms, rank, snippet

MessageState = Literal["partial", "complete", "stopped", "interrupted", "error"]
Role = Literal["system", "user", "assistant", "tool"]
MESSAGE_STATES: tuple[MessageState, ...] = (
    "partial",
    "complete",
    "stopped",
    "interrupted",
    "error",
)


# How many of the newest matches a search ranks (see ConversationStore.search).
SEARCH_CANDIDATES = 2000


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
    api_style: str = ""  # "" = the profile's default
    params_json: str = "{}"  # temperature, top_p, max_tokens… as the chat pane saved them


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
    meta_json: str = "{}"  # stats of an answer (timings, style, cost) and its reasoning text
    alt_group: int = 0  # answers regenerated from one another share the first one's id; 0 = none
    hidden: bool = False  # an alternative answer that is not the one shown

    @property
    def order_key(self) -> int:
        """Where the message sits in the transcript: alternatives take their group's place."""
        return self.alt_group or self.id


@dataclass(frozen=True, slots=True)
class SearchHit:
    conversation_id: str
    conversation_title: str
    message_id: int
    snippet: str  # the matched words wrapped in [ and ]


_CONV_COLUMNS = (
    "id, title, profile_id, model, created_at, updated_at, pinned, system_prompt, api_style,"
    " params_json"
)
_MSG_COLUMNS = (
    "id, conversation_id, role, text, state, model, created_at, updated_at, request_id, "
    "prompt_tokens, completion_tokens, error, meta_json, alt_group, hidden"
)
# Transcript order: by position (an alternative sits where its group started), then by id.
_MSG_ORDER = "ORDER BY CASE WHEN alt_group > 0 THEN alt_group ELSE id END, id"


def _conversation(row: tuple[Any, ...]) -> Conversation:
    cid, title, profile_id, model, created, updated, pinned, system_prompt, style, params = row
    return Conversation(
        id=str(cid),
        title=str(title),
        profile_id=str(profile_id),
        model=str(model),
        created_at=float(created),
        updated_at=float(updated),
        pinned=bool(pinned),
        system_prompt=str(system_prompt),
        api_style=str(style),
        params_json=str(params),
    )


def _message(row: tuple[Any, ...]) -> StoredMessage:
    # The SELECT lists the columns in field order; sqlite hands `hidden` back as 0/1.
    values = list(row)
    values[-1] = bool(values[-1])
    return StoredMessage(*values)


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
        self,
        title: str = "",
        *,
        profile_id: str = "",
        model: str = "",
        system_prompt: str = "",
        api_style: str = "",
        params_json: str = "{}",
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
            api_style=api_style,
            params_json=params_json,
        )

        def insert(conn: sqlite3.Connection) -> None:
            conn.execute(
                f"INSERT INTO conversations ({_CONV_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    conv.id,
                    conv.title,
                    conv.profile_id,
                    conv.model,
                    conv.created_at,
                    conv.updated_at,
                    int(conv.pinned),
                    conv.system_prompt,
                    conv.api_style,
                    conv.params_json,
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
        meta_json: str = "{}",
        alt_group: int = 0,
    ) -> StoredMessage:
        """Append a message. With `alt_group`, it becomes the shown answer of that group."""
        now = time.time()

        def insert(conn: sqlite3.Connection) -> int:
            if alt_group:
                conn.execute(
                    "UPDATE messages SET hidden = 1 WHERE id = ? OR alt_group = ?",
                    (alt_group, alt_group),
                )
                conn.execute(
                    "UPDATE messages SET alt_group = ? WHERE id = ?", (alt_group, alt_group)
                )
            cur = conn.execute(
                "INSERT INTO messages (conversation_id, role, text, state, model, created_at,"
                " updated_at, meta_json, alt_group) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, role, text, state, model, now, now, meta_json, alt_group),
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
            meta_json=meta_json,
            alt_group=alt_group,
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
        meta_json: str | None = None,
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
                " error = coalesce(?, error), meta_json = coalesce(?, meta_json) WHERE id = ?",
                (
                    text,
                    state,
                    time.time(),
                    request_id,
                    prompt_tokens,
                    completion_tokens,
                    error,
                    meta_json,
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

    async def get_messages(self, conversation_id: str, *, last: int = 0) -> list[StoredMessage]:
        """The conversation's messages in transcript order; with `last`, only the last ones
        (a long conversation opens with its tail, without reading every row)."""

        def query(conn: sqlite3.Connection) -> list[StoredMessage]:
            if last > 0:
                # The newest `last` rows by id come off the (conversation_id, id) index; only
                # those are then sorted into transcript order. A late alternative of an older
                # answer belongs before the cut, so it is left out with its group.
                row = conn.execute(
                    "SELECT id FROM messages WHERE conversation_id = ?"
                    " ORDER BY id DESC LIMIT 1 OFFSET ?",
                    (conversation_id, last - 1),
                ).fetchone()
                cut = int(row[0]) if row is not None else 0
                rows = conn.execute(
                    f"SELECT {_MSG_COLUMNS} FROM messages WHERE conversation_id = ? AND id >= ?"
                    f" AND CASE WHEN alt_group > 0 THEN alt_group ELSE id END >= ? {_MSG_ORDER}",
                    (conversation_id, cut, cut),
                ).fetchall()
            else:
                rows = conn.execute(
                    f"SELECT {_MSG_COLUMNS} FROM messages WHERE conversation_id = ? {_MSG_ORDER}",
                    (conversation_id,),
                ).fetchall()
            return [_message(r) for r in rows]

        return await self.db.read(query)

    async def count_messages(self, conversation_id: str) -> int:
        """How many messages the conversation holds (hidden alternatives included)."""
        row = await self.db.read(
            lambda c: c.execute(
                "SELECT count(*) FROM messages WHERE conversation_id = ?", (conversation_id,)
            ).fetchone()
        )
        return int(row[0])

    async def search(self, text: str, limit: int = 50) -> list[SearchHit]:
        """Full-text search over message text: best matches first, or newest first when common.

        FTS5 finds the newest `SEARCH_CANDIDATES` + 1 matches (it walks rowids in order and
        stops). Up to that many are ranked here (`search_text.rank`); past it the words are too
        common for a rank to mean much and the newest matches come first. FTS5's own bm25 and
        snippet cost seconds at a million messages (see `bluesdesk/store/search_text.py`).
        """
        match = fts_query(text)
        if not match:
            return []
        terms = Terms.parse(text)

        def query(conn: sqlite3.Connection) -> list[SearchHit]:
            newest = [
                int(r[0])
                for r in conn.execute(
                    "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?"
                    " ORDER BY rowid DESC LIMIT ?",
                    (match, SEARCH_CANDIDATES + 1),
                )
            ]
            if len(newest) > SEARCH_CANDIDATES:
                ids = newest[:limit]
            else:
                ids = rank(terms, _texts(conn, newest, SCORE_CHARS), limit)
            if not ids:
                return []
            marks = ",".join("?" * len(ids))
            rows = conn.execute(
                "SELECT m.id, m.conversation_id, c.title, substr(m.text, 1, ?)"
                " FROM messages m JOIN conversations c ON c.id = m.conversation_id"
                f" WHERE m.id IN ({marks})",
                (SNIPPET_CHARS, *ids),
            ).fetchall()
            found = {
                int(r[0]): SearchHit(str(r[1]), str(r[2]), int(r[0]), snippet(terms, str(r[3])))
                for r in rows
            }
            return [found[i] for i in ids if i in found]

        return await self.db.read(query)

    # ---- Chat pane additions --------------------------------------------------------------------

    async def set_pinned(self, conversation_id: str, pinned: bool) -> None:
        await self.db.write(
            lambda c: c.execute(
                "UPDATE conversations SET pinned = ? WHERE id = ?", (int(pinned), conversation_id)
            )
        )

    async def update_conversation(
        self,
        conversation_id: str,
        *,
        profile_id: str | None = None,
        model: str | None = None,
        api_style: str | None = None,
        system_prompt: str | None = None,
        params_json: str | None = None,
    ) -> None:
        """Change the remembered settings; only the fields given change."""
        await self.db.write(
            lambda c: c.execute(
                "UPDATE conversations SET profile_id = coalesce(?, profile_id),"
                " model = coalesce(?, model), api_style = coalesce(?, api_style),"
                " system_prompt = coalesce(?, system_prompt),"
                " params_json = coalesce(?, params_json) WHERE id = ?",
                (profile_id, model, api_style, system_prompt, params_json, conversation_id),
            )
        )

    async def get_message(self, message_id: int) -> StoredMessage | None:
        def query(conn: sqlite3.Connection) -> StoredMessage | None:
            row = conn.execute(
                f"SELECT {_MSG_COLUMNS} FROM messages WHERE id = ?", (message_id,)
            ).fetchone()
            return None if row is None else _message(row)

        return await self.db.read(query)

    async def delete_message(self, message_id: int) -> None:
        await self.db.write(lambda c: c.execute("DELETE FROM messages WHERE id = ?", (message_id,)))

    async def show_alternative(self, message_id: int) -> None:
        """Make `message_id` the shown answer of its alternatives group."""

        def update(conn: sqlite3.Connection) -> None:
            row = conn.execute("SELECT alt_group FROM messages WHERE id = ?", (message_id,))
            found = row.fetchone()
            if found is None or not found[0]:
                return
            group = int(found[0])
            conn.execute(
                "UPDATE messages SET hidden = (id != ?) WHERE id = ? OR alt_group = ?",
                (message_id, group, group),
            )

        await self.db.write(update)

    async def mark_unfinished(self, error: str) -> int:
        """After a restart: answers still `partial` were cut off by an exit. Returns how many."""

        def update(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "UPDATE messages SET state = 'interrupted', error = ? WHERE state = 'partial'",
                (error,),
            )
            return cur.rowcount

        return await self.db.write(update)

    async def search_titles(self, text: str, limit: int = 50) -> list[Conversation]:
        """Conversations whose title contains every word of `text` (case-insensitive)."""
        words = [w.lower() for w in text.split()]
        if not words:
            return []
        clause = " AND ".join("instr(lower(title), ?) > 0" for _ in words)

        def query(conn: sqlite3.Connection) -> list[Conversation]:
            rows = conn.execute(
                f"SELECT {_CONV_COLUMNS} FROM conversations WHERE {clause}"
                " ORDER BY pinned DESC, updated_at DESC LIMIT ?",
                (*words, limit),
            ).fetchall()
            return [_conversation(r) for r in rows]

        return await self.db.read(query)

    async def import_conversation(
        self, conversation: Conversation, messages: list[StoredMessage]
    ) -> Conversation:
        """Store a whole conversation in one transaction, under a fresh id.

        Message ids are assigned anew; `alt_group` references between the given messages (by
        their old ids) are mapped onto the new ids.
        """
        conv = _with_id(conversation, uuid.uuid4().hex)

        def insert(conn: sqlite3.Connection) -> None:
            _insert_conversation(conn, conv)
            _insert_messages(conn, conv.id, messages, keep_ids=False)

        await self.db.write(insert)
        return conv

    # ---- undo, duplicate, fork, edit --------------------------------------------------------

    async def restore_conversation(
        self, conversation: Conversation, messages: list[StoredMessage]
    ) -> None:
        """Put back a deleted conversation exactly as it was: same id, same message ids (undo)."""

        def insert(conn: sqlite3.Connection) -> None:
            _insert_conversation(conn, conversation)
            _insert_messages(conn, conversation.id, messages, keep_ids=True)

        await self.db.write(insert)

    async def restore_messages(self, messages: list[StoredMessage]) -> None:
        """Put back deleted messages with their ids (undo); their conversation must exist."""
        if not messages:
            return

        def insert(conn: sqlite3.Connection) -> None:
            _insert_messages(conn, messages[0].conversation_id, messages, keep_ids=True)

        await self.db.write(insert)

    async def delete_messages(self, message_ids: list[int]) -> None:
        """Delete several messages in one transaction."""
        if not message_ids:
            return

        def delete(conn: sqlite3.Connection) -> None:
            conn.executemany("DELETE FROM messages WHERE id = ?", [(i,) for i in message_ids])

        await self.db.write(delete)

    async def edit_message(self, message_id: int, text: str, meta_json: str | None = None) -> None:
        """Change a message's text (and metadata) in place, keeping its state."""
        await self.db.write(
            lambda c: c.execute(
                "UPDATE messages SET text = ?, meta_json = coalesce(?, meta_json),"
                " updated_at = ? WHERE id = ?",
                (text, meta_json, time.time(), message_id),
            )
        )

    async def all_conversation_ids(self) -> list[str]:
        rows = await self.db.read(
            lambda c: c.execute(
                "SELECT id FROM conversations ORDER BY pinned DESC, updated_at DESC"
            ).fetchall()
        )
        return [str(r[0]) for r in rows]

    # ---- presets ------------------------------------------------------------------------------

    async def list_presets(self) -> list[Preset]:
        rows = await self.db.read(
            lambda c: c.execute(
                "SELECT name, system_prompt, params_json FROM chat_presets ORDER BY lower(name)"
            ).fetchall()
        )
        return [Preset(str(a), str(b), str(c)) for a, b, c in rows]

    async def save_preset(self, preset: Preset) -> None:
        """Create or replace the preset of that name."""
        await self.db.write(
            lambda c: c.execute(
                "INSERT INTO chat_presets (name, system_prompt, params_json, updated_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
                " system_prompt = excluded.system_prompt, params_json = excluded.params_json,"
                " updated_at = excluded.updated_at",
                (preset.name, preset.system_prompt, preset.params_json, time.time()),
            )
        )

    async def delete_preset(self, name: str) -> None:
        await self.db.write(lambda c: c.execute("DELETE FROM chat_presets WHERE name = ?", (name,)))


@dataclass(frozen=True, slots=True)
class Preset:
    """A named system prompt with parameters, applied to conversations from the drawer."""

    name: str
    system_prompt: str = ""
    params_json: str = "{}"


def _with_id(conversation: Conversation, new_id: str) -> Conversation:
    return Conversation(
        id=new_id,
        title=conversation.title,
        profile_id=conversation.profile_id,
        model=conversation.model,
        created_at=conversation.created_at,
        updated_at=conversation.updated_at,
        pinned=conversation.pinned,
        system_prompt=conversation.system_prompt,
        api_style=conversation.api_style,
        params_json=conversation.params_json,
    )


def _insert_conversation(conn: sqlite3.Connection, conv: Conversation) -> None:
    conn.execute(
        f"INSERT INTO conversations ({_CONV_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            conv.id,
            conv.title,
            conv.profile_id,
            conv.model,
            conv.created_at,
            conv.updated_at,
            int(conv.pinned),
            conv.system_prompt,
            conv.api_style,
            conv.params_json,
        ),
    )


def _insert_messages(
    conn: sqlite3.Connection,
    conversation_id: str,
    messages: list[StoredMessage],
    *,
    keep_ids: bool,
) -> None:
    """Insert messages into one conversation. With `keep_ids` the rows get their old ids back
    (undo); otherwise fresh ids, with `alt_group` references mapped onto them (import, copy)."""
    new_ids: dict[int, int] = {}
    # Group heads first, so every alt_group points at an id that already exists.
    for m in sorted(messages, key=lambda m: (m.order_key, m.id)):
        mapped = new_ids.get(m.alt_group, 0) if m.alt_group else 0
        group = m.alt_group if keep_ids else mapped
        cur = conn.execute(
            "INSERT INTO messages (id, conversation_id, role, text, state, model, created_at,"
            " updated_at, request_id, prompt_tokens, completion_tokens, error, meta_json,"
            " alt_group, hidden) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                m.id if keep_ids else None,
                conversation_id,
                m.role,
                m.text,
                m.state,
                m.model,
                m.created_at,
                m.updated_at,
                m.request_id,
                m.prompt_tokens,
                m.completion_tokens,
                m.error,
                m.meta_json,
                group,
                int(m.hidden),
            ),
        )
        assert cur.lastrowid is not None
        new_ids[m.id] = cur.lastrowid
        if not keep_ids and m.alt_group == m.id:  # the head of its own group
            conn.execute(
                "UPDATE messages SET alt_group = ? WHERE id = ?", (cur.lastrowid, cur.lastrowid)
            )


def _texts(conn: sqlite3.Connection, ids: list[int], chars: int) -> list[tuple[int, str]]:
    """(id, the first `chars` of its text) for `ids`, in batches under SQLite's variable limit."""
    out: list[tuple[int, str]] = []
    for i in range(0, len(ids), 500):
        batch = ids[i : i + 500]
        marks = ",".join("?" * len(batch))
        out.extend(
            (int(r[0]), str(r[1]))
            for r in conn.execute(
                f"SELECT id, substr(text, 1, ?) FROM messages WHERE id IN ({marks})",
                (chars, *batch),
            )
        )
    return out
