"""The Chat pane against the real emulator: type, press Enter, read the answer as the user sees
it; Stop keeps the partial answer; a dropped stream shows its reason; search and import."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from bluesdesk.core.models import GatewayKind, GatewayProfile
from bluesdesk.emulator.accounts import DEMO
from bluesdesk.store import Database
from bluesdesk.ui.chat.pane import ChatPane
from tests.ui.conftest import run_async

pytestmark = pytest.mark.gui
LONG = " ".join(f"word{i}" for i in range(300))


@pytest.fixture
def pane(ctx: Any, home: Path, emulator: Any, qtbot: Any) -> Any:
    ctx.db = run_async(qtbot, Database.open(home / "chat.db"))
    profile = GatewayProfile(
        id="emu",
        name="Emulator",
        base_url=emulator.relay_url,
        kind=GatewayKind.BLUESMINDS,
        timeout_s=10,
    )
    run_async(qtbot, ctx.profiles.save(profile, api_key=DEMO.api_key))
    run_async(qtbot, ctx.profiles.set_active(profile.id))
    widget = ChatPane(ctx)  # not qtbot.addWidget: it would delete the pane before we stop it
    widget.resize(1100, 720)
    widget.show()
    qtbot.waitExposed(widget)
    widget.on_shown()
    qtbot.waitUntil(widget.is_ready, timeout=5000)
    qtbot.waitUntil(lambda: widget.model_box.count() > 0, timeout=5000)
    yield widget
    if widget.controller is not None and widget.controller.busy:
        widget.controller.stop()
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=5000)
    widget.close()
    widget.deleteLater()
    run_async(qtbot, ctx.db.close())


def answer(pane: Any) -> str:
    """What the user sees of the last answer: the transcript after its last "Assistant"."""
    return pane.transcript.plain_text().rsplit("Assistant", 1)[-1]


def type_and_enter(qtbot: Any, pane: Any, text: str) -> None:
    pane.composer.edit.setFocus()
    qtbot.keyClicks(pane.composer.edit, text)
    qtbot.keyClick(pane.composer.edit, Qt.Key.Key_Return)


def test_enter_sends_and_the_answer_appears(pane: Any, qtbot: Any) -> None:
    assert pane.model_box.currentText() == "gpt-4o-mini"
    pane.composer.edit.setFocus()
    qtbot.keyClicks(pane.composer.edit, "echo: The answer is **42**")
    qtbot.keyClick(pane.composer.edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert pane.composer.edit.toPlainText() == "echo: The answer is **42**\n"  # Shift+Enter
    qtbot.keyClick(pane.composer.edit, Qt.Key.Key_Return)
    assert pane.composer.edit.toPlainText() == ""
    qtbot.waitUntil(lambda: "The answer is 42" in answer(pane), timeout=10_000)
    qtbot.waitUntil(lambda: not pane.controller.busy, timeout=10_000)
    text = answer(pane)
    assert "**" not in text  # markdown was rendered
    assert "tok/s" in text and "gpt-4o-mini" in text and "first token" in text
    # The sidebar lists the new conversation under a title from the first message.
    qtbot.waitUntil(lambda: pane.sidebar.list.count() == 1, timeout=5000)
    assert pane.sidebar.list.item(0).text().startswith("echo: The answer is")
    assert pane.conversation is not None and pane.conversation.title.startswith("echo:")
    # A second exchange continues the same conversation.
    type_and_enter(qtbot, pane, "echo: second reply")
    qtbot.waitUntil(lambda: "second reply" in answer(pane), timeout=10_000)
    qtbot.waitUntil(lambda: not pane.controller.busy, timeout=10_000)
    messages = run_async(qtbot, pane.service.store.get_messages(pane.conversation.id))
    assert [m.state for m in messages] == ["complete"] * 4


def test_stop_keeps_the_partial_answer(pane: Any, emulator: Any, qtbot: Any) -> None:
    emulator.arm_fault("stall", after=14, seconds=30)  # ≈ "word0 … word6"
    type_and_enter(qtbot, pane, f"echo: {LONG}")
    qtbot.waitUntil(lambda: pane.composer.stop_button.isVisible(), timeout=5000)
    qtbot.waitUntil(lambda: "word3" in answer(pane), timeout=10_000)
    qtbot.mouseClick(pane.composer.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not pane.controller.busy, timeout=5000)
    assert pane.composer.send_button.isVisible()
    text = answer(pane)
    assert "STOPPED" in text and "word2" in text and "word299" not in text
    assert re.search(r"≈[1-9]\d* in · ≈[1-9]\d* out", text)  # no usage came: counted here
    messages = run_async(qtbot, pane.service.store.get_messages(pane.conversation.id))
    assert messages[-1].state == "stopped"
    assert messages[-1].text.startswith("word0 word1 word2")


def test_dropped_stream_shows_the_reason_and_keeps_the_text(
    pane: Any, emulator: Any, qtbot: Any
) -> None:
    emulator.arm_fault("drop", after=8)
    type_and_enter(qtbot, pane, f"echo: {LONG}")
    qtbot.waitUntil(lambda: "INTERRUPTED" in answer(pane), timeout=10_000)
    text = answer(pane)
    assert "word0" in text and "word299" not in text
    assert "The partial answer was kept" in text  # the error's hint, inline on the message
    messages = run_async(qtbot, pane.service.store.get_messages(pane.conversation.id))
    assert messages[-1].state == "interrupted" and messages[-1].text.startswith("word0")


def test_regenerate_search_export_and_import(pane: Any, qtbot: Any, tmp_path: Path) -> None:
    type_and_enter(qtbot, pane, "echo: Lisbon has trams")
    qtbot.waitUntil(
        lambda: not pane.controller.busy and pane.sidebar.list.count() == 1, timeout=10_000
    )
    first = pane.transcript.messages[-1]
    pane._message_action("regen", first.id)
    qtbot.waitUntil(lambda: not pane.controller.busy and "2/2" in answer(pane), timeout=10_000)
    pane._message_action("prev", pane.transcript.messages[-1].id)
    qtbot.waitUntil(lambda: "1/2" in answer(pane), timeout=5000)
    assert pane.transcript.messages[-1].id == first.id

    pane.sidebar.search.setText("trams")

    def hits() -> list[str]:
        return [pane.sidebar.list.item(i).text() for i in range(pane.sidebar.list.count())]

    qtbot.waitUntil(lambda: any("[trams]" in h for h in hits()), timeout=5000)
    # The title matches too ("echo: Lisbon has trams"); clicking a message hit opens it.
    row = next(i for i, h in enumerate(hits()) if "[trams]" in h)
    pane.sidebar.list.itemClicked.emit(pane.sidebar.list.item(row))
    qtbot.waitUntil(lambda: "Lisbon has trams" in pane.transcript.plain_text(), timeout=5000)

    conv_id = pane.conversation.id
    out = tmp_path / "conv.json"
    run_async(qtbot, pane.export_to(conv_id, out))
    pane.sidebar.search.setText("")
    run_async(qtbot, pane.import_from(out))
    qtbot.waitUntil(lambda: pane.sidebar.list.count() == 2, timeout=5000)
    assert pane.conversation.id != conv_id
    assert "Lisbon has trams" in pane.transcript.plain_text()
    md = tmp_path / "conv.md"
    run_async(qtbot, pane.export_to(conv_id, md))
    assert "## Assistant (gpt-4o-mini)" in md.read_text()
