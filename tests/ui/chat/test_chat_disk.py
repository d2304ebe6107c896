"""Disk full while an answer streams, through the Chat pane: the answer streams to its end, a
notice says it is kept and will be saved, and once space returns it is saved and the notice goes.

"Disk full" is SQLite's page limit on the writer connection (as in tests/hardening)."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import pytest
from PySide6.QtCore import Qt

from bluesdesk.store import Database
from tests.ui.chat.test_chat_pane import answer, pane  # noqa: F401
from tests.ui.conftest import run_async

pytestmark = pytest.mark.gui
WORDS = [f"filler{i}" for i in range(3000)]


async def fill_disk(db: Database) -> None:
    def cap(conn: sqlite3.Connection) -> None:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {int(pages)}")

    await db.write(cap)


async def free_disk(db: Database) -> None:
    await db.write(lambda conn: conn.execute("PRAGMA max_page_count = 1073741823"))


def test_disk_full_mid_answer_shows_a_notice_and_saves_later(pane: Any, qtbot: Any) -> None:  # noqa: F811
    db = pane.ctx.db
    pane.service.unsaved_retry = 0.05  # the retry timer, fast for the test
    fills: list[Any] = []

    def on_busy(busy: bool) -> None:  # the answer's row exists: now the disk fills
        if busy and not fills:
            fills.append(asyncio.ensure_future(fill_disk(db)))

    pane.controller.busy_changed.connect(on_busy)
    pane.composer.edit.setPlainText("echo: " + " ".join(WORDS))  # pasted: typing it is slow
    pane.composer.edit.setFocus()
    qtbot.keyClick(pane.composer.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "disk is full" in pane.error_label.text(), timeout=10_000)
    assert pane.error_label.isVisible()
    assert "the answer is kept and will be saved" in pane.error_label.text()
    qtbot.waitUntil(lambda: not pane.controller.busy, timeout=20_000)
    # Everything streamed is on screen, and the answer ended normally.
    shown = answer(pane)
    assert WORDS[-1] in shown and "INTERRUPTED" not in shown and "STREAMING" not in shown
    messages = run_async(qtbot, pane.service.store.get_messages(pane.conversation.id))
    assert messages[-1].state == "partial"  # the database has not taken it yet
    run_async(qtbot, free_disk(db))
    qtbot.waitUntil(lambda: not pane.error_label.isVisible(), timeout=10_000)
    messages = run_async(qtbot, pane.service.store.get_messages(pane.conversation.id))
    assert messages[-1].state == "complete" and messages[-1].text == " ".join(WORDS)
    assert pane.service.unsaved_count == 0
