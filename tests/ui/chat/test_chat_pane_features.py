"""The Chat pane's second-pass features against the real emulator (real HTTP, real SQLite), with
the real catalog service feeding the picker: parameters drawer and presets, the picker's
favourites, badges, cost and per-model API style, edit/delete/fork/duplicate with Undo, read
aloud, image attachments (paste, drop, refusal), the per-error actions, a long conversation
opening with its tail, and a reply cut by kill -9 found again after a restart (with Continue)."""

from __future__ import annotations

import base64
import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QGuiApplication, QImage

from bluesdesk.core.models import GatewayKind, GatewayProfile
from bluesdesk.emulator.accounts import DEMO
from bluesdesk.services.catalog import CatalogService
from bluesdesk.services.chat import images_of
from bluesdesk.store import Database, ModelCache
from bluesdesk.ui.chat.attachments import MAX_SIDE
from bluesdesk.ui.chat.pane import ChatPane
from bluesdesk.ui.chat.picker import BADGE_ROLE
from bluesdesk.ui.chat.transcript import ACTION_SCHEME, thumbnail
from tests.ui.chat.test_chat_pane import LONG, answer, type_and_enter
from tests.ui.conftest import run_async

pytestmark = pytest.mark.gui


@pytest.fixture
def pane(ctx: Any, home: Path, emulator: Any, qtbot: Any) -> Any:
    ctx.db = run_async(qtbot, Database.open(home / "chat.db"))
    profile = GatewayProfile(
        id="emu",
        name="Emulator",
        base_url=emulator.relay_url,
        kind=GatewayKind.BLUESMINDS,
        management_url=emulator.base_url,
        timeout_s=10,
    )
    run_async(qtbot, ctx.profiles.save(profile, api_key=DEMO.api_key))
    run_async(qtbot, ctx.profiles.set_active(profile.id))
    ctx.catalog = CatalogService(ctx.profiles, ModelCache(ctx.db))
    run_async(qtbot, ctx.catalog.set_favourite(profile, "gpt-4o", True))
    widget = ChatPane(ctx)
    widget.resize(1200, 760)
    widget.show()
    qtbot.waitExposed(widget)
    widget.on_shown()
    qtbot.waitUntil(widget.is_ready, timeout=5000)
    qtbot.waitUntil(lambda: widget.model_box.count() > 0, timeout=10_000)
    yield widget
    if widget.controller is not None and widget.controller.busy:
        widget.controller.stop()
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10_000)
    widget.close()
    widget.deleteLater()
    run_async(qtbot, ctx.db.close())


def idle(pane: Any) -> bool:
    return not pane.controller.busy and not pane.ctx.runner.busy


def stored(qtbot: Any, pane: Any) -> list[Any]:
    return run_async(qtbot, pane.service.store.get_messages(pane.conversation.id))


def click_link(pane: Any, name: str, message_id: int) -> None:
    """What a click on a message's action link does."""
    pane.transcript.anchorClicked.emit(QUrl(f"{ACTION_SCHEME}:{name}:{message_id}"))


def test_parameters_drawer_is_saved_used_and_presets_reapply_it(pane: Any, qtbot: Any) -> None:
    qtbot.mouseClick(pane.params_button, Qt.MouseButton.LeftButton)
    assert pane.drawer.isVisible()
    pane.drawer.stop.setPlainText("STOP")
    pane.drawer.system_prompt.setPlainText("Be terse.")
    pane.drawer.max_tokens.setValue(200)
    type_and_enter(qtbot, pane, "echo: alpha beta STOP gamma")
    qtbot.waitUntil(lambda: idle(pane) and pane.conversation is not None, timeout=10_000)
    qtbot.waitUntil(lambda: "alpha beta" in answer(pane), timeout=5000)
    assert "gamma" not in answer(pane)  # the stop sequence reached the gateway
    conv = run_async(qtbot, pane.service.store.get_conversation(pane.conversation.id))
    assert conv.system_prompt == "Be terse."
    assert json.loads(conv.params_json) == {"stop": ["STOP"], "max_tokens": 200}

    # Edits in the drawer are saved to the open conversation after a short pause.
    pane.drawer.temperature.setValue(0.3)
    qtbot.waitUntil(
        lambda: (
            json.loads(
                run_async(qtbot, pane.service.store.get_conversation(conv.id)).params_json
            ).get("temperature")
            == 0.3
        ),
        timeout=5000,
    )

    # Save as a preset, start afresh (drawer keeps values), clear them, re-apply the preset.
    pane.drawer.save_preset_requested.emit("Terse")
    qtbot.waitUntil(lambda: pane.drawer.preset_box.findText("Terse") >= 0, timeout=5000)
    pane.new_conversation()
    pane.drawer.set_values("", "", {})
    assert pane.drawer.values() == ("", "", {})
    pane.drawer.preset_box.activated.emit(pane.drawer.preset_box.findText("Terse"))
    system, _, params = pane.drawer.values()
    assert system == "Be terse."
    assert params == {"stop": ["STOP"], "max_tokens": 200, "temperature": 0.3}

    # An unusable JSON schema is refused before anything is sent.
    pane.drawer.format_box.setCurrentIndex(pane.drawer.format_box.findData("json_schema"))
    pane.drawer.schema.setPlainText("{not json")
    assert pane.drawer.problem.isVisible()
    type_and_enter(qtbot, pane, "echo: never sent")
    assert "not valid JSON" in pane.error_label.text()
    assert pane.composer.edit.toPlainText() == "echo: never sent"
    pane.drawer.schema.setPlainText(
        '{"type": "object", "properties": {"city": {"type": "string"}}}'
    )
    pane.composer.edit.clear()
    type_and_enter(qtbot, pane, "Where do trams run?")
    qtbot.waitUntil(lambda: idle(pane) and len(pane.transcript.messages) == 2, timeout=10_000)
    assert pane.transcript.messages[-1].state == "complete"
    assert set(json.loads(pane.transcript.messages[-1].text)) <= {"city"}


def test_picker_lists_favourites_with_badges_cost_and_the_models_api_style(
    pane: Any, qtbot: Any
) -> None:
    box = pane.model_box
    assert box.itemText(0) == "gpt-4o"  # the favourite comes first
    labels = [box.itemData(i, BADGE_ROLE) for i in range(box.count())]
    assert labels[0].startswith("★ gpt-4o") and "vision" in labels[0]
    ids = [box.itemText(i) for i in range(box.count())]
    assert "claude-haiku-4-5" in ids and "gpt-4o-mini-tts" not in ids  # chat models only
    # The open list is wide enough to read every id with its badges.
    box.showPopup()
    qtbot.waitUntil(box.view().isVisible, timeout=2000)
    metrics = box.view().fontMetrics()
    longest = max(labels, key=metrics.horizontalAdvance)
    assert box.view().viewport().width() >= metrics.horizontalAdvance(longest)
    box.hidePopup()
    assert box.completer().filterMode() == Qt.MatchFlag.MatchContains
    box.setCurrentText("gpt-4o-mini")
    assert "vision" in pane.model_info.text()

    # Cost before sending, from the catalog's prices.
    pane.composer.edit.setPlainText("How long is the Tagus?")
    qtbot.waitUntil(lambda: "$" in pane.composer.cost_label.text(), timeout=5000)
    assert pane.composer.cost_label.text().startswith("≈ $")
    assert "out" in pane.composer.cost_label.text()
    pane.composer.edit.clear()

    # A Claude-native model is asked in the Claude style unless the drawer says otherwise.
    pane.use_model("claude-haiku-4-5")
    assert box.currentText() == "claude-haiku-4-5"
    assert pane.drawer.style_box.itemText(0) == "Auto (Claude)"
    type_and_enter(qtbot, pane, "echo: through messages")
    qtbot.waitUntil(lambda: idle(pane) and "through messages" in answer(pane), timeout=10_000)
    assert "claude-haiku-4-5 (claude)" in answer(pane)


def test_edit_delete_fork_duplicate_and_undo(pane: Any, qtbot: Any, tmp_path: Path) -> None:
    type_and_enter(qtbot, pane, "echo: first")
    qtbot.waitUntil(lambda: idle(pane) and len(pane.transcript.messages) == 2, timeout=10_000)
    type_and_enter(qtbot, pane, "echo: second")
    qtbot.waitUntil(lambda: idle(pane) and len(pane.transcript.messages) == 4, timeout=10_000)

    # Up in the empty composer edits the last message; Enter resends it.
    pane.composer.edit.setFocus()
    qtbot.keyClick(pane.composer.edit, Qt.Key.Key_Up)
    assert pane.composer.edit.toPlainText() == "echo: second"
    assert pane.composer.editing_banner.isVisible()
    pane.composer.edit.setPlainText("echo: changed")
    qtbot.keyClick(pane.composer.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: idle(pane) and "changed" in answer(pane), timeout=10_000)
    assert [m.text for m in stored(qtbot, pane)] == [
        "echo: first",
        "first",
        "echo: changed",
        "changed",
    ]
    assert "second" not in pane.transcript.plain_text()

    # Delete one message, then Undo brings it back with its id.
    first_answer = stored(qtbot, pane)[1]
    click_link(pane, "delete", first_answer.id)
    qtbot.waitUntil(lambda: pane.undo_bar.isVisible(), timeout=5000)
    assert len(stored(qtbot, pane)) == 3
    assert pane.transcript.message(first_answer.id) is None
    qtbot.mouseClick(pane.undo_bar.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.transcript.message(first_answer.id) is not None, timeout=5000)
    assert [m.id for m in stored(qtbot, pane)][1] == first_answer.id

    # Fork from the first answer: a new conversation with the first exchange only.
    original = pane.conversation.id
    click_link(pane, "fork", first_answer.id)
    qtbot.waitUntil(lambda: pane.conversation.id != original and idle(pane), timeout=5000)
    assert [m.text for m in stored(qtbot, pane)] == ["echo: first", "first"]
    assert pane.sidebar.list.count() == 2

    # Duplicate the original from the sidebar menu command, then delete it and undo.
    pane._command("duplicate", original)
    qtbot.waitUntil(lambda: pane.sidebar.list.count() == 3 and idle(pane), timeout=5000)
    assert pane.conversation.title.endswith("(copy)")
    assert len(stored(qtbot, pane)) == 4
    pane._command("delete", original)
    qtbot.waitUntil(
        lambda: pane.sidebar.list.count() == 2 and pane.undo_bar.isVisible(), timeout=5000
    )
    qtbot.mouseClick(pane.undo_bar.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.conversation.id == original and idle(pane), timeout=5000)
    assert pane.sidebar.list.count() == 3
    assert "changed" in pane.transcript.plain_text()

    # Export all: one file holding every conversation.
    out = tmp_path / "all.json"
    run_async(qtbot, pane.export_all_to(out))
    assert len(json.loads(out.read_text())["conversations"]) == 3


def test_undo_offer_expires(pane: Any, qtbot: Any) -> None:
    type_and_enter(qtbot, pane, "echo: gone soon")
    qtbot.waitUntil(lambda: idle(pane) and len(pane.transcript.messages) == 2, timeout=10_000)
    called: list[int] = []
    pane.undo_bar.offer("Deleted.", lambda: called.append(1), ms=50)
    qtbot.waitUntil(lambda: not pane.undo_bar.isVisible(), timeout=2000)
    pane.undo_bar.undo()
    assert called == []  # too late: nothing is undone


def test_read_aloud_hands_the_answer_over(pane: Any, qtbot: Any) -> None:
    type_and_enter(qtbot, pane, "echo: Say this out loud")
    qtbot.waitUntil(lambda: idle(pane) and len(pane.transcript.messages) == 2, timeout=10_000)
    assert "Read aloud" in answer(pane)
    message = pane.transcript.messages[-1]
    with qtbot.waitSignal(pane.read_aloud_requested, timeout=2000) as blocker:
        click_link(pane, "speak", message.id)
    assert blocker.args == ["Say this out loud"]
    # The other way round: a transcript from the Speech pane lands in the composer, unsent.
    pane.set_draft("heard this")
    assert pane.composer.edit.toPlainText() == "heard this"
    assert len(pane.transcript.messages) == 2


def _image(width: int, height: int) -> QImage:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(0x3366CC)
    return image


def test_images_by_paste_and_drop_are_sent_downscaled(
    pane: Any, qtbot: Any, tmp_path: Path
) -> None:
    pane.use_model("gpt-4o-mini")
    QGuiApplication.clipboard().setImage(_image(3000, 2000))
    pane.composer.edit.setFocus()
    qtbot.keyClick(pane.composer.edit, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert pane.composer.attachments.count() == 1
    assert pane.composer.edit.toPlainText() == ""  # the image did not land as text

    path = tmp_path / "photo.png"
    assert _image(40, 30).save(str(path))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    # Qt delivers drop events only inside a real drag, so the handler gets the event directly.
    drop = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    pane.composer.dropEvent(drop)
    assert drop.isAccepted()
    assert pane.composer.attachments.count() == 2
    assert pane.composer.attachments.isVisible()

    type_and_enter(qtbot, pane, "echo: two pictures")
    qtbot.waitUntil(lambda: idle(pane) and len(pane.transcript.messages) == 2, timeout=10_000)
    assert pane.composer.attachments.count() == 0
    user = stored(qtbot, pane)[0]
    urls = images_of(user.meta_json)
    assert len(urls) == 2 and all(u.startswith("data:image/jpeg;base64,") for u in urls)
    big = QImage()
    big.loadFromData(base64.b64decode(urls[0].partition(",")[2]))
    assert max(big.width(), big.height()) == MAX_SIDE
    assert pane.transcript.messages[-1].state == "complete"
    assert "bluesdesk-att://" in pane.transcript.toHtml()  # thumbnails shown in the transcript
    assert not thumbnail(urls[1]).isNull()


def test_a_model_without_vision_refuses_images_clearly(pane: Any, qtbot: Any) -> None:
    pane.use_model("gpt-3.5-turbo")
    pane.composer.add_images([_image(20, 20)])
    type_and_enter(qtbot, pane, "echo: look")
    assert "gpt-3.5-turbo cannot see images" in pane.error_label.text()
    assert "gpt-4o" in pane.error_label.text()  # it names models that can
    assert pane.composer.attachments.count() == 1  # nothing was lost
    assert pane.composer.edit.toPlainText() == "echo: look"
    assert pane.conversation is None  # nothing was sent


def test_rate_limit_retries_after_a_visible_countdown(pane: Any, emulator: Any, qtbot: Any) -> None:
    emulator.arm_fault("429", count=3, retry_after=1)  # more than the client's own retries
    type_and_enter(qtbot, pane, "echo: patience")
    qtbot.waitUntil(lambda: pane.action_bar.isVisible(), timeout=15_000)
    assert pane.action_bar.kind == "rate_limit"
    assert "Retrying in 1 s" in pane.action_bar.label.text()
    assert "FAILED" in answer(pane) and "rate limiting" in answer(pane)
    # The countdown runs out and the answer is asked for again, replacing the failed one.
    qtbot.waitUntil(lambda: idle(pane) and "patience" in answer(pane), timeout=15_000)
    assert [m.state for m in stored(qtbot, pane)] == ["complete", "complete"]


def test_error_actions_open_settings_pick_a_model_and_retry(
    pane: Any, emulator: Any, qtbot: Any
) -> None:
    emulator.arm_fault("401", count=1)
    type_and_enter(qtbot, pane, "echo: who am I")
    qtbot.waitUntil(lambda: pane.action_bar.isVisible() and idle(pane), timeout=10_000)
    assert pane.action_bar.button.text() == "Open Settings"
    with qtbot.waitSignal(pane.open_settings_requested, timeout=2000):
        qtbot.mouseClick(pane.action_bar.button, Qt.MouseButton.LeftButton)

    pane.use_model("no-such-model-xyz")
    type_and_enter(qtbot, pane, "echo: hello")
    qtbot.waitUntil(lambda: pane.action_bar.isVisible() and idle(pane), timeout=10_000)
    assert pane.action_bar.button.text() == "Pick another model"
    pane.use_model("gpt-4o-mini")

    emulator.arm_fault("html502", count=3)
    type_and_enter(qtbot, pane, "echo: behind nginx")
    qtbot.waitUntil(lambda: pane.action_bar.isVisible() and idle(pane), timeout=15_000)
    assert pane.action_bar.button.text() == "Retry"
    assert "<html" not in answer(pane).lower()  # the reason, not the HTML page
    assert " in · " not in answer(pane) and "$" not in answer(pane)  # no tokens to count
    qtbot.mouseClick(pane.action_bar.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: idle(pane) and "behind nginx" in answer(pane), timeout=10_000)
    assert stored(qtbot, pane)[-1].state == "complete"


def test_continue_finishes_a_dropped_answer(pane: Any, emulator: Any, qtbot: Any) -> None:
    emulator.arm_fault("drop", after=8)
    type_and_enter(qtbot, pane, f"echo: {LONG}")
    qtbot.waitUntil(lambda: pane.action_bar.isVisible() and idle(pane), timeout=10_000)
    assert pane.action_bar.button.text() == "Continue"
    cut = stored(qtbot, pane)[-1]
    assert cut.state == "interrupted"
    qtbot.mouseClick(pane.action_bar.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: idle(pane) and stored(qtbot, pane)[-1].state == "complete", timeout=10_000
    )
    done = stored(qtbot, pane)[-1]
    assert done.id == cut.id and done.text.startswith(cut.text) and len(done.text) > len(cut.text)
    assert "INTERRUPTED" not in answer(pane)
    assert len(pane.transcript.messages) == 2


def test_malformed_frame_and_stream_error_are_survived(
    pane: Any, emulator: Any, qtbot: Any
) -> None:
    emulator.arm_fault("malformed", after=3)
    type_and_enter(qtbot, pane, "echo: one two three four five six")
    qtbot.waitUntil(lambda: idle(pane) and len(pane.transcript.messages) == 2, timeout=10_000)
    first = stored(qtbot, pane)[-1]
    assert first.state in ("complete", "error", "interrupted")
    assert first.text.startswith("one")  # what arrived is kept either way
    emulator.arm_fault("stream_error", after=3)
    type_and_enter(qtbot, pane, "echo: seven eight nine ten eleven")
    qtbot.waitUntil(lambda: idle(pane) and len(pane.transcript.messages) == 4, timeout=10_000)
    second = stored(qtbot, pane)[-1]
    assert second.state == "error" and second.text.startswith("seven")
    assert pane.action_bar.isVisible() and pane.action_bar.button.text() == "Retry"


def test_a_long_conversation_opens_with_its_tail(pane: Any, qtbot: Any) -> None:
    async def fill() -> str:
        conv = await pane.service.new_conversation(model="gpt-4o-mini")

        def insert(conn: Any) -> None:
            conn.executemany(
                "INSERT INTO messages (conversation_id, role, text, created_at, updated_at)"
                " VALUES (?, ?, ?, 0, 0)",
                [(conv.id, "user" if i % 2 == 0 else "assistant", f"line {i}") for i in range(500)],
            )

        await pane.service.store.db.write(insert)
        return str(conv.id)

    conv_id = run_async(qtbot, fill())
    pane.open_conversation(conv_id)
    qtbot.waitUntil(lambda: "line 499" in pane.transcript.plain_text(), timeout=5000)
    assert len(pane.transcript.messages) <= 80  # read the tail only
    assert "Show 460 earlier messages" in pane.transcript.plain_text()
    assert "line 0\n" not in pane.transcript.plain_text()

    def lines() -> set[str]:
        return set(pane.transcript.plain_text().splitlines())

    # "Earlier" reads the rest and slides the window up a page at a time, never laying out the
    # whole conversation: past `MAX_SHOWN` messages the bottom of the window goes.
    pane.transcript.anchorClicked.emit(QUrl(f"{ACTION_SCHEME}:earlier:0"))
    qtbot.waitUntil(lambda: len(pane.transcript.messages) == 500, timeout=5000)
    assert "line 420" in lines() and "line 419" not in lines() and "line 499" in lines()
    assert "Show 420 earlier messages" in lines()
    for _ in range(3):
        pane.transcript.anchorClicked.emit(QUrl(f"{ACTION_SCHEME}:earlier:0"))
    assert "line 300" in lines() and "line 459" in lines() and "line 460" not in lines()
    assert "Show 40 later messages · Go to the latest (40 more)" in lines()
    pane.transcript.anchorClicked.emit(QUrl(f"{ACTION_SCHEME}:later:0"))
    assert "line 499" in lines() and "line 339" not in lines() and "line 340" in lines()
    assert not any("later messages" in line for line in lines())
    for _ in range(9):
        pane.transcript.anchorClicked.emit(QUrl(f"{ACTION_SCHEME}:earlier:0"))
    assert "line 0" in lines() and "earlier messages" not in pane.transcript.plain_text()
    pane.transcript.anchorClicked.emit(QUrl(f"{ACTION_SCHEME}:latest:0"))
    assert "line 499" in lines() and "line 459" not in lines()
    assert pane.transcript.at_latest


def test_a_search_hit_far_up_a_long_conversation_opens_a_window_around_it(
    pane: Any, qtbot: Any
) -> None:
    async def fill() -> tuple[str, int]:
        conv = await pane.service.new_conversation(model="gpt-4o-mini")

        def insert(conn: Any) -> int:
            conn.executemany(
                "INSERT INTO messages (conversation_id, role, text, created_at, updated_at)"
                " VALUES (?, ?, ?, 0, 0)",
                [
                    (conv.id, "user" if i % 2 == 0 else "assistant", f"line {i}")
                    for i in range(2000)
                ],
            )
            (hit,) = conn.execute(
                "SELECT id FROM messages WHERE text = 'line 10' AND conversation_id = ?",
                (conv.id,),
            ).fetchone()
            return int(hit)

        return str(conv.id), await pane.service.store.db.write(insert)

    conv_id, hit = run_async(qtbot, fill())
    pane.open_conversation(conv_id, hit)
    qtbot.waitUntil(lambda: "line 10" in pane.transcript.plain_text(), timeout=5000)
    lines = set(pane.transcript.plain_text().splitlines())
    assert {"line 0", "line 10", "line 39"} <= lines and "line 40" not in lines
    assert "Show 40 later messages · Go to the latest (1960 more)" in lines
    assert not pane.transcript.at_end()  # the hit is in view, not the window's end
    # Asking something goes back to the latest messages, where the answer streams.
    type_and_enter(qtbot, pane, "echo: back at the end")
    qtbot.waitUntil(lambda: idle(pane) and "back at the end" in answer(pane), timeout=10_000)
    lines = set(pane.transcript.plain_text().splitlines())
    assert "line 1999" in lines and "line 10" not in lines and pane.transcript.at_latest


CHILD = r"""
import asyncio, sys
from pathlib import Path
from bluesdesk.core.models import GatewayProfile
from bluesdesk.emulator.accounts import DEMO
from bluesdesk.gateway import GatewayClient
from bluesdesk.services.chat import ChatService
from bluesdesk.store import ConversationStore, Database

async def main():
    db = await Database.open(Path(sys.argv[1]))
    profile = GatewayProfile(id="emu", name="Emulator", base_url=sys.argv[2], timeout_s=60)
    client = GatewayClient(profile, DEMO.api_key)
    async def client_for(_):
        return client
    service = ChatService(ConversationStore(db), client_for, save_interval=0.05)
    conv = await service.new_conversation(model="gpt-4o-mini")
    await service.send(conv.id, "echo: " + " ".join(f"word{i}" for i in range(300)))

asyncio.run(main())
"""


def test_a_reply_cut_by_kill_9_is_there_after_restart_with_continue(
    pane: Any, emulator: Any, home: Path, qtbot: Any
) -> None:
    emulator.arm_fault("stall", after=12, seconds=60)  # the child streams, then hangs mid-answer
    db_path = home / "chat.db"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(db_path), emulator.relay_url])

    def partial_saved() -> bool:
        with sqlite3.connect(db_path) as conn:
            row = conn.execute(
                "SELECT text FROM messages WHERE state = 'partial' AND text != ''"
            ).fetchone()
        return row is not None and "word3" in row[0]

    try:
        qtbot.waitUntil(partial_saved, timeout=20_000)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL

    # "Restart": recovery marks the cut answer, and the pane offers Continue for it.
    assert run_async(qtbot, pane.service.recover()) == 1
    emulator.reset_faults()
    pane._refresh_list()
    qtbot.waitUntil(lambda: pane.sidebar.list.count() == 1, timeout=5000)
    pane.sidebar.list.itemClicked.emit(pane.sidebar.list.item(0))
    qtbot.waitUntil(lambda: "INTERRUPTED" in answer(pane), timeout=5000)
    assert "word0 word1 word2" in answer(pane)
    assert pane.action_bar.isVisible() and pane.action_bar.button.text() == "Continue"
    qtbot.mouseClick(pane.action_bar.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: idle(pane) and stored(qtbot, pane)[-1].state == "complete", timeout=15_000
    )
    assert stored(qtbot, pane)[-1].text.startswith("word0 word1 word2")
