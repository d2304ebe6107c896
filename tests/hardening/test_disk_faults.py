"""Disk full and unwritable data folders: a clear typed error, nothing corrupted, the process
carries on, and writes resume when space returns.

"Disk full" is SQLite's own page limit (`PRAGMA max_page_count` on the writer connection), which
fails writes with SQLITE_FULL exactly as a full disk does. "Read-only" cannot be made with chmod
when the tests run as root, so an unwritable path is a regular file standing where a directory
should be.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bluesdesk.core.models import GatewayProfile
from bluesdesk.core.retry import RetryPolicy
from bluesdesk.emulator import EmulatorServer
from bluesdesk.emulator.accounts import DEMO
from bluesdesk.errors import SettingsError, StoreUnavailable
from bluesdesk.gateway import GatewayClient
from bluesdesk.logsetup import LOG_FILE, setup_logging, shutdown_logging
from bluesdesk.services.chat import (
    ChatService,
    MessageStats,
    ReplyDelta,
    ReplyFinished,
    ReplySaveFailed,
    ReplyStarted,
    SaveStatus,
)
from bluesdesk.settings import Settings, SettingsStore, UiSettings
from bluesdesk.store import ConversationStore, Database

BIG = "x" * 200_000  # a message larger than the room left once the disk is "full"


def _integrity(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


async def _fill_disk(db: Database) -> None:
    """Cap the database at its current size: the next write that needs a page fails."""

    def cap(conn: sqlite3.Connection) -> None:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {int(pages)}")

    await db.write(cap)


async def _free_disk(db: Database) -> None:
    await db.write(lambda conn: conn.execute("PRAGMA max_page_count = 1073741823"))


@asynccontextmanager
async def _chat_on_disk(
    path: Path, emu: EmulatorServer, **options: Any
) -> AsyncIterator[tuple[Database, ChatService]]:
    """A ChatService (`options` are its own) over the database at `path`, answered by `emu`
    without retries; closed in the order the app closes it: service, client, database."""
    profile = GatewayProfile(id="emu", name="Emulator", base_url=emu.relay_url, timeout_s=10)
    db = await Database.open(path)
    client = GatewayClient(profile, DEMO.api_key, policy=RetryPolicy(max_retries=0))

    async def client_for(profile_id: str) -> GatewayClient:
        return client

    chat = ChatService(ConversationStore(db), client_for, **options)
    try:
        yield db, chat
    finally:
        await chat.close()
        await client.aclose()
        await db.close()


def test_disk_full_gives_store_unavailable_and_recovers(tmp_path: Path) -> None:
    path = tmp_path / "bluesdesk.db"

    async def main() -> dict[str, Any]:
        db = await Database.open(path)
        store = ConversationStore(db)
        conv = await store.create_conversation("kept", model="m")
        for i in range(20):
            await store.add_message(conv.id, "user", f"earlier message {i}")
        await _fill_disk(db)
        with pytest.raises(StoreUnavailable) as full:
            await store.add_message(conv.id, "user", BIG)
        with pytest.raises(StoreUnavailable):
            await store.create_conversation("new " + BIG)
        # Reads still work while the disk is full, and show nothing half-written.
        during = await store.get_messages(conv.id)
        await _free_disk(db)
        resumed = await store.add_message(conv.id, "user", BIG)
        after = await store.get_messages(conv.id)
        await db.close()
        return {"error": full.value, "during": during, "after": after, "resumed": resumed}

    out = asyncio.run(main())
    error: StoreUnavailable = out["error"]
    assert "full" in error.user_message.lower()
    assert "disk space" in error.hint
    assert [m.text for m in out["during"]] == [f"earlier message {i}" for i in range(20)]
    assert [m.text for m in out["after"]][-1] == BIG and len(out["after"]) == 21
    assert _integrity(path) == "ok"


def test_disk_full_during_a_streamed_reply_keeps_earlier_data(
    tmp_path: Path, emu: EmulatorServer
) -> None:
    """The answer's saves fail with a typed error; the history and the file stay intact, and the
    next send works once space is back."""
    path = tmp_path / "bluesdesk.db"

    async def main() -> dict[str, Any]:
        async with _chat_on_disk(path, emu, save_interval=0.0) as (db, chat):
            conv = await chat.new_conversation(model="gpt-4o-mini", api_style="openai")
            first = await chat.send(conv.id, "echo: first answer")
            await _fill_disk(db)
            raised: BaseException | None = None
            try:
                await chat.send(conv.id, "echo: " + " ".join(["filler"] * 40_000))
            except StoreUnavailable as exc:
                raised = exc
            await _free_disk(db)
            again = await chat.send(conv.id, "echo: after the disk was freed")
            messages = await chat.store.get_messages(conv.id)
        return {"first": first, "raised": raised, "again": again, "messages": messages}

    out = asyncio.run(main())
    assert isinstance(out["raised"], StoreUnavailable)
    assert out["first"].state == "complete" and out["first"].text == "first answer"
    assert out["again"].state == "complete" and out["again"].text == "after the disk was freed"
    texts = [m.text for m in out["messages"]]
    assert texts[:2] == ["echo: first answer", "first answer"]
    assert texts[-2:] == ["echo: after the disk was freed", "after the disk was freed"]
    assert _integrity(path) == "ok"


def test_database_in_an_unwritable_place_is_store_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data folder should be")

    async def main() -> None:
        await Database.open(blocker / "bluesdesk.db")

    with pytest.raises(StoreUnavailable) as caught:
        asyncio.run(main())
    assert "bluesdesk.db" in caught.value.user_message
    assert blocker.read_text() == "a file where the data folder should be"


def test_settings_save_to_an_unwritable_place_is_settings_error(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("x")
    store = SettingsStore(blocker / "settings.json")
    assert store.load() == Settings()  # nothing there: defaults, no error
    with pytest.raises(SettingsError) as caught:
        store.save(Settings(ui=UiSettings(theme="dark")))
    assert "could not be saved" in caught.value.user_message
    assert store.current == Settings()  # the failed save did not pretend to succeed


def test_settings_save_resumes_when_the_folder_returns(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.write_text("x")
    store = SettingsStore(folder / "settings.json")
    wanted = Settings(ui=UiSettings(theme="dark"), first_run_done=True)
    with pytest.raises(SettingsError):
        store.save(wanted)
    folder.unlink()
    store.save(wanted)
    assert SettingsStore(folder / "settings.json").load() == wanted


def test_logging_to_an_unwritable_folder_falls_back_to_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "logs"
    blocker.write_text("x")
    try:
        problem = setup_logging(blocker, debug=False)
        logging.getLogger("bluesdesk.test").warning("still heard")
    finally:
        shutdown_logging()
    assert problem is not None and "log" in problem.lower()
    assert "still heard" in capsys.readouterr().err
    assert blocker.read_text() == "x"


def test_logging_resumes_to_file_when_the_folder_returns(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.write_text("x")
    try:
        assert setup_logging(folder, debug=False) is not None
        folder.unlink()
        assert setup_logging(folder, debug=False) is None
        logging.getLogger("bluesdesk.test").warning("in the file")
    finally:
        shutdown_logging()
    assert "in the file" in (folder / LOG_FILE).read_text()


# ---- The disk fills while an answer streams (issue 9) ----------------------------------------

FILLER = "echo: " + " ".join(f"filler{i}" for i in range(3000))


async def _answer_while_the_disk_fills(
    chat: ChatService, db: Database, conversation_id: str
) -> tuple[Any, list[Any]]:
    """Send `FILLER`; the disk fills as soon as the answer's row exists (before any text)."""
    updates: list[Any] = []
    fills: list[asyncio.Future[None]] = []

    def on_update(update: Any) -> None:
        updates.append(update)
        if isinstance(update, ReplyStarted):
            fills.append(asyncio.ensure_future(_fill_disk(db)))

    final = await chat.send(conversation_id, FILLER, on_update=on_update)
    await asyncio.gather(*fills)
    return final, updates


def _expected_answer() -> str:
    return FILLER.removeprefix("echo: ")


def test_disk_full_mid_answer_keeps_streaming_and_saves_when_space_returns(
    tmp_path: Path, emu: EmulatorServer
) -> None:
    path = tmp_path / "bluesdesk.db"

    async def main() -> dict[str, Any]:
        statuses: list[SaveStatus] = []
        all_saved = asyncio.Event()

        def listen(event: Any) -> None:
            if isinstance(event, SaveStatus):
                statuses.append(event)
                if event.unsaved == 0 and len(statuses) > 1:
                    all_saved.set()

        async with _chat_on_disk(path, emu, save_interval=0.02, unsaved_retry=0.05) as (db, chat):
            chat.listeners.append(listen)
            conv = await chat.new_conversation(model="gpt-4o-mini", api_style="openai")
            final, updates = await _answer_while_the_disk_fills(chat, db, conv.id)
            during = await chat.store.get_message(final.id)
            await _free_disk(db)  # the retry timer saves it now
            await asyncio.wait_for(all_saved.wait(), 10)
            after = await chat.store.get_message(final.id)
        return {
            "final": final,
            "updates": updates,
            "during": during,
            "after": after,
            "statuses": statuses,
        }

    out = asyncio.run(main())
    final = out["final"]
    # The answer streamed to its end although nothing could be written.
    assert final.state == "complete" and final.text == _expected_answer()
    streamed = "".join(u.text for u in out["updates"] if isinstance(u, ReplyDelta))
    assert streamed == _expected_answer()
    failed = [u for u in out["updates"] if isinstance(u, ReplySaveFailed)]
    assert len(failed) == 1 and "full" in failed[0].error.user_message.lower()
    assert isinstance(out["updates"][-1], ReplyFinished) and out["updates"][-1].error is None
    # While the disk was full the database still held the unfinished row...
    assert out["during"].state == "partial" and out["during"].text != _expected_answer()
    # ...the listeners heard "1 unsaved, disk full", then "all saved"...
    first_problem = next(s for s in out["statuses"] if s.unsaved)
    assert first_problem.unsaved == 1 and "full" in str(first_problem.error).lower()
    assert out["statuses"][-1] == SaveStatus(0)
    # ...and once space returned the answer landed whole, stats and all.
    after = out["after"]
    assert after.state == "complete" and after.text == _expected_answer()
    stats = MessageStats.from_meta(after.meta_json)
    assert stats is not None and stats.request_id == final.request_id
    assert _integrity(path) == "ok"


def test_an_unsaved_answer_is_saved_by_the_next_send(tmp_path: Path, emu: EmulatorServer) -> None:
    """Without waiting for the timer: the next message saves the kept answer first, and the
    model is sent the answer as the user saw it, not the stale row."""
    path = tmp_path / "bluesdesk.db"

    async def main() -> dict[str, Any]:
        # A retry timer far beyond the test: only the next send can save the answer.
        async with _chat_on_disk(path, emu, unsaved_retry=3600) as (db, chat):
            conv = await chat.new_conversation(model="gpt-4o-mini", api_style="openai")
            final, _ = await _answer_while_the_disk_fills(chat, db, conv.id)
            unsaved_while_full = chat.unsaved_count
            still_full = await chat.flush_unsaved()  # a retry while the disk is full: no change
            await _free_disk(db)
            again = await chat.send(conv.id, "echo: next")
            messages = await chat.store.get_messages(conv.id)
        return {
            "final": final,
            "again": again,
            "messages": messages,
            "counts": (unsaved_while_full, still_full, chat.unsaved_count),
        }

    out = asyncio.run(main())
    assert out["counts"] == (1, 1, 0)
    assert out["again"].state == "complete" and out["again"].text == "next"
    assert [(m.role, m.state) for m in out["messages"]] == [
        ("user", "complete"),
        ("assistant", "complete"),
        ("user", "complete"),
        ("assistant", "complete"),
    ]
    assert out["messages"][1].text == _expected_answer()
    assert _integrity(path) == "ok"
