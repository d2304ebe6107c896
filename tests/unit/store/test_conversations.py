"""ConversationStore over a real SQLite file: messages, partial answers, search."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from bluesdesk.store import ConversationStore, Database
from bluesdesk.store.conversations import SEARCH_CANDIDATES, fts_query

T = TypeVar("T")


async def _with_store(path: Path, body: Callable[[ConversationStore], Awaitable[T]]) -> T:
    db = await Database.open(path)
    try:
        return await body(ConversationStore(db))
    finally:
        await db.close()


def test_messages_and_partial_answers(tmp_path: Path) -> None:
    async def body(store: ConversationStore) -> None:
        conv = await store.create_conversation("Trip", profile_id="p1", model="gpt-4o-mini")
        await store.add_message(conv.id, "user", "Plan a trip to Lisbon")
        answer = await store.add_message(conv.id, "assistant", "", state="partial")
        await store.update_message_text(answer.id, "Day one: Alfama")
        await store.update_message_text(
            answer.id,
            "Day one: Alfama. Day two: Belém.",
            "complete",
            request_id="req-1",
            prompt_tokens=5,
            completion_tokens=9,
        )
        messages = await store.get_messages(conv.id)
        assert [(m.role, m.state) for m in messages] == [
            ("user", "complete"),
            ("assistant", "complete"),
        ]
        assert messages[1].text == "Day one: Alfama. Day two: Belém."
        assert (messages[1].request_id, messages[1].prompt_tokens) == ("req-1", 5)
        # Updating only the text keeps the usage recorded earlier.
        await store.update_message_text(answer.id, "edited", "stopped")
        again = (await store.get_messages(conv.id))[1]
        assert (again.text, again.state, again.completion_tokens) == ("edited", "stopped", 9)
        with pytest.raises(ValueError):
            await store.update_message_text(answer.id, "x", "bogus")  # type: ignore[arg-type]

    asyncio.run(_with_store(tmp_path / "c.db", body))


def test_partial_text_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "c.db"

    async def write(store: ConversationStore) -> str:
        conv = await store.create_conversation("Crash")
        msg = await store.add_message(conv.id, "assistant", "", state="partial")
        await store.update_message_text(msg.id, "half an ans")
        return conv.id

    conv_id = asyncio.run(_with_store(path, write))

    async def read(store: ConversationStore) -> None:
        (msg,) = await store.get_messages(str(conv_id))
        assert (msg.text, msg.state) == ("half an ans", "partial")

    asyncio.run(_with_store(path, read))


def test_list_orders_by_activity_and_delete_cascades(tmp_path: Path) -> None:
    async def body(store: ConversationStore) -> None:
        first = await store.create_conversation("first")
        second = await store.create_conversation("second")
        await store.add_message(first.id, "user", "bump the first one")
        assert [c.title for c in await store.list_conversations()] == ["first", "second"]
        await store.rename_conversation(second.id, "renamed")
        assert (await store.get_conversation(second.id)).title == "renamed"  # type: ignore[union-attr]
        await store.delete_conversation(first.id)
        assert [c.id for c in await store.list_conversations()] == [second.id]
        assert await store.get_messages(first.id) == []
        assert await store.search("bump") == []
        assert await store.get_conversation(first.id) is None

    asyncio.run(_with_store(tmp_path / "c.db", body))


def test_search_follows_edits(tmp_path: Path) -> None:
    async def body(store: ConversationStore) -> None:
        conv = await store.create_conversation("Cooking")
        other = await store.create_conversation("Other")
        await store.add_message(conv.id, "user", "How long do I boil an egg?")
        msg = await store.add_message(conv.id, "assistant", "", state="partial")
        await store.update_message_text(msg.id, "Boil it for seven minutes.", "complete")
        await store.add_message(other.id, "user", "Completely unrelated: café prices")

        hits = await store.search("boil")
        assert {h.message_id for h in hits} == {1, msg.id}
        assert all(h.conversation_title == "Cooking" for h in hits)
        assert any("[Boil]" in h.snippet for h in hits)
        assert [h.message_id for h in await store.search("sev")] == [msg.id]  # prefix
        assert len(await store.search("cafe")) == 1  # diacritics folded
        await store.update_message_text(msg.id, "Ten minutes, actually.", "complete")
        assert [h.message_id for h in await store.search("seven")] == []
        assert [h.message_id for h in await store.search("ten minutes")] == [msg.id]
        # FTS syntax in user input is taken literally, never an error.
        assert await store.search('egg" OR *') == []
        assert await store.search("   ") == []

    asyncio.run(_with_store(tmp_path / "c.db", body))


def test_fts_query_quotes_words() -> None:
    assert fts_query("hello world") == '"hello" "world"*'
    assert fts_query('say "hi"') == '"say" """hi"""*'
    assert fts_query("") == ""


def test_search_ranks_best_matches_first_among_many(tmp_path: Path) -> None:
    async def body(store: ConversationStore) -> None:
        conv = await store.create_conversation("Rivers")
        best = await store.add_message(conv.id, "user", "river river river delta")
        for i in range(300):
            await store.add_message(conv.id, "assistant", f"note {i} that names a river once")
        hits = await store.search("river", limit=5)
        assert len(hits) == 5
        # bm25 puts the message that says "river" three times in few words first.
        assert hits[0].message_id == best.id
        assert all("[river]" in h.snippet.lower() for h in hits)

    asyncio.run(_with_store(tmp_path / "c.db", body))


def test_search_for_a_very_common_word_lists_the_newest_matches(tmp_path: Path) -> None:
    async def body(store: ConversationStore) -> None:
        conv = await store.create_conversation("Common")
        count = SEARCH_CANDIDATES + 50

        def insert(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT INTO messages (conversation_id, role, text, state, created_at, updated_at)"
                " VALUES (?, 'user', ?, 'complete', 0, 0)",
                [(conv.id, f"the word again {i}" + " the" * (i % 7)) for i in range(count)],
            )

        await store.db.write(insert)
        newest = await store.db.read(
            lambda c: [r[0] for r in c.execute("SELECT id FROM messages ORDER BY id DESC LIMIT 5")]
        )
        hits = await store.search("the", limit=5)
        # Past SEARCH_CANDIDATES matches the ranking is skipped: newest first, with snippets.
        assert [h.message_id for h in hits] == newest
        assert all("[the]" in h.snippet for h in hits)
        # Prefix of the same common word (the last word typed is a prefix): same rows.
        assert [h.message_id for h in await store.search("th", limit=5)] == newest

    asyncio.run(_with_store(tmp_path / "c.db", body))


def test_search_mixing_a_common_and_a_rare_word_finds_only_both(tmp_path: Path) -> None:
    async def body(store: ConversationStore) -> None:
        conv = await store.create_conversation("Mixed")

        def insert(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT INTO messages (conversation_id, role, text, state, created_at, updated_at)"
                " VALUES (?, 'user', ?, 'complete', 0, 0)",
                [(conv.id, "the quetzal" if i % 500 == 0 else "the word") for i in range(3000)],
            )

        await store.db.write(insert)
        hits = await store.search("the quetz")
        assert len(hits) == 6
        assert all("[quetzal]" in h.snippet for h in hits)

    asyncio.run(_with_store(tmp_path / "c.db", body))
