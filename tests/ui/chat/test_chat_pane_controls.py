"""The Chat pane's remaining controls against the real emulator, read as the user sees them: Esc
stops an answer and the gateway sees its stream closed at once; the Gemini style chosen by the
model and an API style overridden in the drawer; a 500 retried out of sight; reasoning folded
apart from the answer; tools on and off per conversation; rename and pin from the sidebar; links
opened only on a click and remote images never fetched."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QApplication, QInputDialog

from bluesdesk.emulator.accounts import DEMO
from bluesdesk.services.chat import reasoning_of
from bluesdesk.ui.chat.pane import LIST_PAGE
from bluesdesk.ui.widgets.shortcuts_dialog import pane_entries
from tests.ui.chat.test_chat_pane import LONG, answer, type_and_enter
from tests.ui.chat.test_chat_pane_features import click_link, idle, pane, stored
from tests.ui.conftest import run_async

pytestmark = pytest.mark.gui
__all__ = ["pane"]  # the fixture, shared with the pane's other tests


def test_escape_stops_the_answer_and_the_gateway_sees_the_stream_closed(
    pane: Any, emulator: Any, qtbot: Any
) -> None:
    emulator.arm_fault("stall", after=14, seconds=30)  # the answer hangs after ≈ "word6"
    type_and_enter(qtbot, pane, f"echo: {LONG}")
    qtbot.waitUntil(lambda: "word3" in answer(pane), timeout=10_000)
    assert emulator.open_streams == 1
    qtbot.keyClick(pane.composer.edit, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: idle(pane), timeout=5000)
    # The server's generator was cancelled by the hang-up, well before its 30 s stall ended.
    qtbot.waitUntil(lambda: emulator.open_streams == 0, timeout=5000)
    [outcome] = emulator.stream_outcomes("/v1/chat/completions")
    assert outcome.how == "client_closed" and outcome.seconds < 10
    assert "STOPPED" in answer(pane) and "word299" not in answer(pane)
    last = stored(qtbot, pane)[-1]
    assert last.state == "stopped" and last.text.startswith("word0 word1 word2")


def test_a_gemini_model_streams_through_generate_content(
    pane: Any, emulator: Any, qtbot: Any
) -> None:
    pane.use_model("gemini-2.5-flash")
    assert pane.drawer.style_box.itemText(0) == "Auto (Gemini)"
    type_and_enter(qtbot, pane, "echo: through gemini")
    qtbot.waitUntil(lambda: idle(pane) and "through gemini" in answer(pane), timeout=10_000)
    assert "gemini-2.5-flash (gemini)" in answer(pane)
    [outcome] = emulator.stream_outcomes("/v1beta/models/")
    assert outcome.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    assert outcome.how == "finished"
    assert stored(qtbot, pane)[-1].state == "complete"


def test_the_drawer_overrides_the_api_style_for_this_conversation(
    pane: Any, emulator: Any, qtbot: Any
) -> None:
    pane.use_model("gpt-4o-mini")
    pane.params_button.setChecked(True)
    pane.drawer.style_box.setCurrentIndex(pane.drawer.style_box.findData("claude"))
    type_and_enter(qtbot, pane, "echo: asked as claude")
    qtbot.waitUntil(lambda: idle(pane) and "asked as claude" in answer(pane), timeout=10_000)
    assert "gpt-4o-mini (claude)" in answer(pane)
    assert emulator.requests("/v1/messages")[-1]["model"] == "gpt-4o-mini"
    assert pane.conversation is not None and pane.conversation.api_style == "claude"


def test_a_500_is_retried_without_bothering_the_user(pane: Any, emulator: Any, qtbot: Any) -> None:
    emulator.arm_fault("500", count=1)
    type_and_enter(qtbot, pane, "echo: second time lucky")
    qtbot.waitUntil(lambda: idle(pane) and "second time lucky" in answer(pane), timeout=15_000)
    assert emulator.request_count("/v1/chat/completions") == 2
    assert not pane.action_bar.isVisible()
    assert "FAILED" not in answer(pane)
    assert stored(qtbot, pane)[-1].state == "complete"


def test_reasoning_is_folded_apart_from_the_answer(pane: Any, qtbot: Any) -> None:
    pane.use_model("gpt-5")
    type_and_enter(qtbot, pane, "Why is the sky blue?")
    qtbot.waitUntil(lambda: idle(pane) and "Thinking" in answer(pane), timeout=15_000)
    last = stored(qtbot, pane)[-1]
    reasoning = reasoning_of(last.meta_json)
    assert reasoning and reasoning not in last.text  # kept apart from the answer
    folded = answer(pane)
    assert "▸ Thinking" in folded and reasoning not in folded
    pane.transcript.toggle_reasoning(last.id)
    qtbot.waitUntil(lambda: "▾ Thinking" in answer(pane), timeout=2000)
    assert " ".join(reasoning.split()[:8]) in " ".join(answer(pane).split())
    pane.transcript.toggle_reasoning(last.id)
    qtbot.waitUntil(lambda: "▸ Thinking" in answer(pane), timeout=2000)


def test_tools_are_on_or_off_per_conversation(pane: Any, emulator: Any, qtbot: Any) -> None:
    pane.params_button.setChecked(True)
    assert not pane.drawer.tools.isChecked()  # off until the user turns them on
    type_and_enter(qtbot, pane, "calculate 2+3*4")
    qtbot.waitUntil(lambda: idle(pane) and len(pane.transcript.messages) == 2, timeout=10_000)
    assert "tools" not in emulator.requests("/v1/chat/completions")[-1]
    assert "Tool call" not in answer(pane)
    without = pane.conversation.id

    qtbot.mouseClick(pane.sidebar.new_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.transcript.messages == [], timeout=5000)
    pane.drawer.tools.setChecked(True)
    type_and_enter(qtbot, pane, "calculate 2+3*4")
    qtbot.waitUntil(lambda: idle(pane) and "result is" in answer(pane), timeout=10_000)
    sent = emulator.requests("/v1/chat/completions")[-1]
    assert {t["function"]["name"] for t in sent["tools"]} >= {"calculator"}
    assert "Tool call" in answer(pane)
    with_tools = pane.conversation.id

    # Each conversation keeps its own choice.
    pane.open_conversation(without)
    qtbot.waitUntil(lambda: pane.conversation.id == without, timeout=5000)
    assert not pane.drawer.tools.isChecked()
    pane.open_conversation(with_tools)
    qtbot.waitUntil(lambda: pane.conversation.id == with_tools, timeout=5000)
    assert pane.drawer.tools.isChecked()


def _answer_dialog(text: str) -> None:
    """Type into the rename dialog the way a user would, then press Enter."""
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, QInputDialog)
    dialog.setTextValue(text)
    dialog.accept()


def test_rename_and_pin_from_the_sidebar(pane: Any, qtbot: Any) -> None:
    for text in ("echo: first talk", "echo: second talk"):
        qtbot.mouseClick(pane.sidebar.new_button, Qt.MouseButton.LeftButton)
        type_and_enter(qtbot, pane, text)
        qtbot.waitUntil(lambda t=text: idle(pane) and t[6:] in answer(pane), timeout=10_000)
    qtbot.waitUntil(lambda: pane.sidebar.list.count() == 2, timeout=5000)

    def titles() -> list[str]:
        return [pane.sidebar.list.item(i).text() for i in range(pane.sidebar.list.count())]

    assert titles()[0].startswith("echo: second")  # newest first
    first_id = next(
        str(pane.sidebar.list.item(i).data(Qt.ItemDataRole.UserRole))
        for i in range(2)
        if titles()[i].startswith("echo: first")
    )
    QTimer.singleShot(0, lambda: _answer_dialog("Trip planning"))
    pane.sidebar.command.emit("rename", first_id)
    qtbot.waitUntil(lambda: "Trip planning" in titles(), timeout=5000)
    pane.sidebar.command.emit("pin", first_id)
    qtbot.waitUntil(lambda: titles()[0] == "📌 Trip planning", timeout=5000)
    pane.sidebar.command.emit("pin", first_id)
    qtbot.waitUntil(lambda: "Trip planning" in titles(), timeout=5000)  # unpinned
    assert len(titles()) == 2 and not any(t.startswith("📌") for t in titles())
    # Both survive a reload of the list from the database.
    convs = run_async(qtbot, pane.service.store.list_conversations())
    assert {c.title for c in convs} == {"Trip planning", "echo: second talk"}


class _Browser(QObject):
    """Stands in for the desktop's browser through Qt's own URL-handler registry."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(url.toString())


def test_links_open_only_when_clicked_and_remote_images_are_never_fetched(
    pane: Any, emulator: Any, qtbot: Any
) -> None:
    browser = _Browser()
    # PySide takes the slot's name as str at run time; its stubs say bytes.
    QDesktopServices.setUrlHandler("https", browser, "open")  # type: ignore[arg-type]
    try:
        image = f"{emulator.relay_url}/remote-image.png"
        type_and_enter(
            qtbot, pane, f"echo: see [the docs](https://docs.example.org/x) ![chart]({image})"
        )
        qtbot.waitUntil(lambda: idle(pane) and "the docs" in answer(pane), timeout=10_000)
        pane.transcript.viewport().repaint()
        assert browser.opened == []  # shown, not opened
        assert emulator.request_count("/v1/remote-image.png") == 0
        pane.transcript.anchorClicked.emit(QUrl("https://docs.example.org/x"))
        assert browser.opened == ["https://docs.example.org/x"]
        assert "\U0001f5bc chart" in answer(pane)  # named, as a link the user may follow
        assert f'src="{image}"' not in pane.transcript.toHtml()
    finally:
        QDesktopServices.unsetUrlHandler("https")


def test_raw_html_in_an_answer_is_shown_as_text(pane: Any, qtbot: Any) -> None:
    type_and_enter(qtbot, pane, 'echo: <b>bold?</b> <script>alert("x")</script>')
    qtbot.waitUntil(lambda: idle(pane) and "alert" in answer(pane), timeout=10_000)
    assert "<b>bold?</b>" in answer(pane)  # the tags are visible, not applied
    assert "<script>" not in pane.transcript.toHtml()


def test_copy_as_markdown_as_text_and_the_request_id(pane: Any, qtbot: Any) -> None:
    type_and_enter(qtbot, pane, "echo: The answer is **42** and `x`")
    qtbot.waitUntil(lambda: idle(pane) and "The answer is 42" in answer(pane), timeout=10_000)
    assert "Copy · as text" in answer(pane) and "Copy id" in answer(pane)
    last = stored(qtbot, pane)[-1]
    clipboard = QGuiApplication.clipboard()
    click_link(pane, "copy", last.id)
    assert clipboard.text() == "The answer is **42** and `x`"
    click_link(pane, "copytext", last.id)
    qtbot.waitUntil(lambda: clipboard.text() == "The answer is 42 and x", timeout=5000)
    click_link(pane, "copyid", last.id)
    assert clipboard.text() == last.request_id and last.request_id


def test_older_conversations_are_listed_on_demand(pane: Any, qtbot: Any) -> None:
    def insert(conn: Any) -> None:
        conn.executemany(
            "INSERT INTO conversations (id, title, created_at, updated_at) VALUES (?, ?, ?, ?)",
            [(f"old{i}", f"Talk {i}", i, i) for i in range(LIST_PAGE + 5)],
        )

    run_async(qtbot, pane.service.store.db.write(insert))
    pane._refresh_list()
    sidebar = pane.sidebar.list
    qtbot.waitUntil(lambda: sidebar.count() == LIST_PAGE + 1, timeout=5000)
    more = sidebar.item(LIST_PAGE)
    assert more.text() == "Show older conversations…"
    assert sidebar.item(0).text() == f"Talk {LIST_PAGE + 4}"  # newest first
    sidebar.scrollToBottom()
    sidebar.itemClicked.emit(more)
    qtbot.waitUntil(lambda: sidebar.count() == LIST_PAGE + 5, timeout=5000)
    assert sidebar.item(LIST_PAGE + 4).text() == "Talk 0"  # the oldest, and no "more" item
    assert sidebar.verticalScrollBar().value() > 0  # the reader's place was kept


def test_keyboard_shortcuts_for_what_people_do_most(pane: Any, qtbot: Any) -> None:
    ctrl = Qt.KeyboardModifier.ControlModifier
    type_and_enter(qtbot, pane, "echo: first **answer**")
    qtbot.waitUntil(lambda: idle(pane) and "first answer" in answer(pane), timeout=10_000)
    edit = pane.composer.edit
    qtbot.keyClick(edit, Qt.Key.Key_C, ctrl | Qt.KeyboardModifier.ShiftModifier)
    assert QGuiApplication.clipboard().text() == "first **answer**"
    qtbot.keyClick(edit, Qt.Key.Key_R, ctrl)
    qtbot.waitUntil(lambda: idle(pane) and "2/2" in answer(pane), timeout=10_000)
    qtbot.keyClick(edit, Qt.Key.Key_F, ctrl)
    assert pane.sidebar.search.hasFocus()
    qtbot.keyClick(pane.sidebar.search, Qt.Key.Key_N, ctrl)
    assert pane.conversation is None and pane.transcript.messages == []
    assert edit.hasFocus()  # ready to type the new chat's first message
    listed = dict(pane_entries(pane))
    assert listed["New chat"] == "Ctrl+N" and listed["Regenerate the last answer"] == "Ctrl+R"


def test_an_account_out_of_quota_is_offered_a_top_up(pane: Any, emulator: Any, qtbot: Any) -> None:
    store = emulator.state.store
    before = store.one("SELECT quota FROM users WHERE id = ?", (DEMO.id,))["quota"]
    store.update("users", DEMO.id, {"quota": 0})
    try:
        type_and_enter(qtbot, pane, "echo: on credit")
        qtbot.waitUntil(lambda: idle(pane) and pane.action_bar.isVisible(), timeout=10_000)
        assert "quota" in answer(pane).lower()  # the gateway's reason, inline
        assert pane.action_bar.button.text() == "Top up"
        with qtbot.waitSignal(pane.open_pane_requested, timeout=2000) as opened:
            qtbot.mouseClick(pane.action_bar.button, Qt.MouseButton.LeftButton)
        assert opened.args == ["account"]  # where the balance and top-up live
    finally:
        store.update("users", DEMO.id, {"quota": before})
