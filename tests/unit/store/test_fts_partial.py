"""Search leaves an answer out while it streams (its saves would re-index all of it every
250 ms) and finds it once it has ended, however it ended. Real SQLite files."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from bluesdesk.store import ConversationStore, Database
from bluesdesk.store.schema import MIGRATIONS

T = TypeVar("T")


def run(path: Path, body: Callable[[ConversationStore], Awaitable[T]]) -> T:
    async def main() -> T:
        db = await Database.open(path)
        try:
            return await body(ConversationStore(db))
        finally:
            await db.close()

    return asyncio.run(main())


async def found(store: ConversationStore, word: str) -> list[int]:
    return [hit.message_id for hit in await store.search(word)]


def integrity(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:  # raises if the index and the messages disagree
        conn.execute("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')")
    finally:
        conn.close()


def test_a_streaming_answer_is_found_once_it_ends(tmp_path: Path) -> None:
    async def body(store: ConversationStore) -> tuple[int, list[list[int]]]:
        conv = await store.create_conversation("t")
        msg = await store.add_message(conv.id, "assistant", "", state="partial")
        seen = []
        await store.update_message_text(msg.id, "quokkas are", state="partial")
        seen.append(await found(store, "quokkas"))
        await store.update_message_text(msg.id, "quokkas are marsupials", state="complete")
        seen.append(await found(store, "marsupials"))
        await store.edit_message(msg.id, "wombats instead")
        seen.append(await found(store, "marsupials") + await found(store, "wombats"))
        await store.delete_message(msg.id)
        seen.append(await found(store, "wombats"))
        return msg.id, seen

    msg_id, (partial, complete, edited, deleted) = run(tmp_path / "c.db", body)
    assert partial == []
    assert complete == [msg_id]
    assert edited == [msg_id]  # only under its new words
    assert deleted == []
    integrity(tmp_path / "c.db")


def test_an_answer_cut_off_by_an_exit_is_found_after_the_restart(tmp_path: Path) -> None:
    path = tmp_path / "c.db"

    async def before(store: ConversationStore) -> int:
        conv = await store.create_conversation("t")
        msg = await store.add_message(conv.id, "assistant", "platypus eggs", state="partial")
        return msg.id

    async def after(store: ConversationStore) -> list[int]:
        assert await found(store, "platypus") == []
        assert await store.mark_unfinished("The app closed during the answer.") == 1
        return await found(store, "platypus")

    msg_id = run(path, before)
    assert run(path, after) == [msg_id]
    integrity(path)


def test_partial_rows_indexed_by_the_old_triggers_are_taken_out_by_the_upgrade(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.db"
    conn = sqlite3.connect(path)
    for step in MIGRATIONS[:-1]:
        conn.executescript(step)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) - 1}")
    conn.execute(
        "INSERT INTO conversations (id, title, created_at, updated_at) VALUES ('c1', 't', 1, 1)"
    )
    conn.executemany(
        "INSERT INTO messages (conversation_id, role, text, state, created_at, updated_at)"
        " VALUES ('c1', 'assistant', ?, ?, 1, 1)",
        [("echidna finished", "complete"), ("echidna streaming", "partial")],
    )
    conn.commit()
    conn.close()

    async def body(store: ConversationStore) -> list[list[int]]:
        first = await found(store, "echidna")
        await store.mark_unfinished("cut off")
        return [first, await found(store, "echidna")]

    first, later = run(path, body)
    assert first == [1]  # the partial one is out of the index after the upgrade
    assert sorted(later) == [1, 2]  # and back in, once, when marked interrupted
    integrity(path)
