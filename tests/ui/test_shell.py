"""The shell's second pass: panes built after the first paint, cross-pane hooks, theme choice,
busy indicator and the keyboard-shortcuts list.

Cross-pane hooks are checked twice: with the real panes (whatever they offer today) and with small
stand-in panes that do or do not have the method, since a pane may not have grown it yet.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QLabel, QWidget

from bluesdesk.__main__ import build_parser
from bluesdesk.ui.chat.pane import ChatPane
from bluesdesk.ui.main_window import PANE_KEYS, MainWindow
from bluesdesk.ui.models.pane import ModelsPane
from bluesdesk.ui.preferences.pane import PreferencesPane
from bluesdesk.ui.theme import ThemeManager
from bluesdesk.ui.widgets.pane import Pane
from tests.ui.conftest import run_async
from tests.ui.screenshot_rig import run_screenshots

pytestmark = pytest.mark.gui


class SpeakingPane(Pane):
    """Speech as agreed: `speak_text(text)` and `use_model(model_id)`."""

    def __init__(self) -> None:
        super().__init__()
        self.spoken: list[str] = []
        self.models: list[str] = []
        self._ready = True

    def speak_text(self, text: str) -> None:
        self.spoken.append(text)

    def use_model(self, model_id: str) -> None:
        self.models.append(model_id)


class OldPane(Pane):
    """A pane from before the hooks: only a model box."""

    def __init__(self) -> None:
        super().__init__()
        self.model_box = QComboBox(self)
        self.model_box.setEditable(True)
        self.model_box.addItems(["alpha", "beta"])
        self._ready = True


class AskingChat(Pane):
    """Chat as agreed: emits `read_aloud_requested(str)`; takes drafts with `set_draft`."""

    read_aloud_requested = Signal(str)
    open_pane_requested = Signal(str)
    open_settings_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.drafts: list[str] = []
        self._ready = True

    def set_draft(self, text: str) -> None:
        self.drafts.append(text)


class TranscribingPane(Pane):
    send_to_chat_requested = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self._ready = True


def _window(ctx, qtbot, **factories) -> MainWindow:
    window = MainWindow(ctx, pane_factories=factories)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window._finish_first_run()
    return window


# ---- Start-up: the shell paints first, panes come after


def test_deferred_panes_are_built_after_the_window_shows(ctx, qtbot):
    window = MainWindow(ctx, defer_panes=True)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.panes == {}
    assert window.stack.currentWidget() is window.loading_page
    assert window.current_key == "chat"
    with qtbot.waitSignal(window.panes_loaded, timeout=10_000):
        future = asyncio.ensure_future(window.load_panes())
    qtbot.waitUntil(future.done, timeout=10_000)
    assert list(window.panes) == list(PANE_KEYS)
    assert window.stack.currentWidget() is window.panes["chat"]
    for key, pane in window.panes.items():
        qtbot.waitUntil(pane.is_ready, timeout=10_000)
        assert [w for w in pane.findChildren(QLabel) if w.text().strip()], key


def test_a_pane_asked_for_during_loading_is_built_on_the_spot(ctx, qtbot):
    window = MainWindow(ctx, defer_panes=True)
    qtbot.addWidget(window)
    window.show()
    window._finish_first_run()
    window.show_pane("settings")
    assert set(window.panes) == {"settings"}
    assert window.stack.currentWidget() is window.panes["settings"]
    run_async(qtbot, window.load_panes())
    assert list(window.panes) == list(PANE_KEYS)
    assert window.current_key == "settings"
    assert window.stack.currentWidget() is window.panes["settings"]


def test_closing_while_loading_stops_building_panes(ctx, qtbot):
    window = MainWindow(ctx, defer_panes=True)
    qtbot.addWidget(window)
    window.show()
    window.close()
    run_async(qtbot, window.load_panes())
    assert window.panes == {}
    assert ctx.settings.load().ui.geometry  # the close still saved the window


def test_wait_painted_returns_after_the_first_paint(ctx, qtbot):
    window = MainWindow(ctx, defer_panes=True)
    qtbot.addWidget(window)
    window.show()
    run_async(qtbot, window.wait_painted(timeout=5.0))
    assert window.isVisible()
    assert not window.panes


def test_demo_flag_skips_the_welcome_screen(ctx, qtbot):
    window = MainWindow(ctx, defer_panes=True, first_run=False)
    qtbot.addWidget(window)
    assert not window.showing_first_run()
    plain = MainWindow(ctx, defer_panes=True)
    qtbot.addWidget(plain)
    assert plain.showing_first_run()  # no profile, first start


# ---- Cross-pane hooks


def test_read_aloud_from_chat_goes_to_speech(ctx, qtbot):
    window = _window(ctx, qtbot, chat=lambda c: AskingChat(), speech=lambda c: SpeakingPane())
    chat, speech = window.panes["chat"], window.panes["speech"]
    assert isinstance(chat, AskingChat) and isinstance(speech, SpeakingPane)
    chat.read_aloud_requested.emit("Hello there")
    assert window.current_key == "speech"
    assert speech.spoken == ["Hello there"]
    chat.read_aloud_requested.emit("   ")  # nothing to say: nothing happens
    assert speech.spoken == ["Hello there"]


def test_read_aloud_without_speak_text_says_so(ctx, qtbot):
    window = _window(ctx, qtbot, chat=lambda c: AskingChat(), speech=lambda c: OldPane())
    chat = window.panes["chat"]
    assert isinstance(chat, AskingChat)
    chat.read_aloud_requested.emit("Hello")
    assert window.current_key == "speech"
    assert "cannot read text aloud" in window.status.currentMessage()


def test_a_pane_can_open_another(ctx, qtbot):
    window = _window(ctx, qtbot, chat=lambda c: AskingChat())
    chat = window.panes["chat"]
    assert isinstance(chat, AskingChat)
    chat.open_pane_requested.emit("account")
    assert window.current_key == "account"
    chat.open_pane_requested.emit("nowhere")  # ignored
    assert window.current_key == "account"
    chat.open_settings_requested.emit()
    assert window.current_key == "settings"


def test_use_model_calls_the_pane_or_picks_in_its_box(ctx, qtbot):
    window = _window(ctx, qtbot, speech=lambda c: SpeakingPane(), images=lambda c: OldPane())
    window.use_model("speech", "tts-1")
    assert window.current_key == "speech"
    speech = window.panes["speech"]
    assert isinstance(speech, SpeakingPane) and speech.models == ["tts-1"]
    window.use_model("images", "beta")
    images = window.panes["images"]
    assert isinstance(images, OldPane)
    assert window.current_key == "images"
    assert images.model_box.currentText() == "beta"
    window.use_model("images", "gamma")  # not listed, but the box is editable
    assert images.model_box.currentText() == "gamma"


def test_models_pane_use_in_chat_reaches_the_real_chat_pane(ctx, qtbot):
    window = _window(ctx, qtbot)
    models = window.panes["models"]
    assert isinstance(models, ModelsPane)
    models.use_model.emit("chat", "echo-model-1")  # what "Use in Chat" sends
    assert window.current_key == "chat"
    chat = window.panes["chat"]
    assert isinstance(chat, ChatPane)
    qtbot.waitUntil(lambda: chat.model_box.currentText() == "echo-model-1", timeout=5000)


def test_send_to_chat_fills_the_draft(ctx, qtbot):
    window = _window(ctx, qtbot, chat=lambda c: AskingChat(), speech=lambda c: TranscribingPane())
    speech = window.panes["speech"]
    assert isinstance(speech, TranscribingPane)
    speech.send_to_chat_requested.emit("a transcript")
    chat = window.panes["chat"]
    assert isinstance(chat, AskingChat)
    assert window.current_key == "chat"
    assert chat.drafts == ["a transcript"]


def test_send_to_chat_reaches_the_real_composer(ctx, qtbot):
    window = _window(ctx, qtbot)
    window.send_to_chat("summarise this")
    assert window.current_key == "chat"
    chat = window.panes["chat"]
    assert isinstance(chat, ChatPane)
    qtbot.waitUntil(lambda: chat.composer.edit.toPlainText() == "summarise this", timeout=5000)


# ---- Theme choice and busy indicator


@pytest.fixture
def restore_style(qapp):
    sheet, palette = qapp.styleSheet(), qapp.palette()
    yield
    qapp.setStyleSheet(sheet)
    qapp.setPalette(palette)


def test_theme_choice_in_settings_applies_and_is_saved(ctx, qapp, qtbot, restore_style):
    theme = ThemeManager(qapp, ctx.settings.current.ui.theme)
    theme.apply()
    ctx.theme = theme
    window = MainWindow(ctx, theme)
    qtbot.addWidget(window)
    prefs = window.panes["settings"]
    assert isinstance(prefs, PreferencesPane)
    assert prefs.theme_preference() == "system"
    assert [prefs.theme_box.itemText(i) for i in range(3)] == ["System", "Light", "Dark"]
    with qtbot.waitSignal(theme.changed) as applied:
        prefs.set_theme_preference("dark")
    assert applied.args == [True]
    assert "dark theme" in qapp.styleSheet()
    assert ctx.settings.load().ui.theme == "dark"
    with qtbot.waitSignal(theme.changed) as applied:
        prefs.set_theme_preference("light")
    assert applied.args == [False]
    assert "light theme" in qapp.styleSheet()
    assert ctx.settings.load().ui.theme == "light"
    theme.setParent(None)


def test_busy_indicator_follows_the_task_runner(make_window, ctx, qtbot):
    window = make_window()
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10_000)
    assert not window.busy.isVisible()
    release = asyncio.Event()

    async def work() -> None:
        await release.wait()

    ctx.runner.run(work(), key="test:busy")
    qtbot.waitUntil(window.busy.spinning, timeout=5000)
    angle = window.busy.angle
    qtbot.waitUntil(lambda: window.busy.angle != angle, timeout=5000)  # it turns
    release.set()
    qtbot.waitUntil(lambda: not window.busy.isVisible(), timeout=5000)
    assert not window.busy.spinning()


def test_short_tasks_do_not_flash_the_indicator(make_window, ctx, qtbot):
    window = make_window()
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10_000)

    async def quick() -> None:
        await asyncio.sleep(0)

    task = ctx.runner.run(quick(), key="test:quick")
    assert window.busy.busy  # it knows at once…
    qtbot.waitUntil(task.done, timeout=5000)
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=5000)
    assert not window.busy.isVisible()  # …but never showed up for a task this short
    # It follows the runner (a pane's own load may start a task meanwhile: CI saw one).
    assert window.busy.busy == ctx.runner.busy


# ---- Keyboard shortcuts


def test_f1_lists_the_keyboard_shortcuts(make_window, qtbot):
    window = make_window()
    window._finish_first_run()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    qtbot.keyClick(window, Qt.Key.Key_F1)
    dialog = window.shortcuts_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible, timeout=3000)
    rows = dialog.rows()
    assert ("Anywhere", "Show Chat", "Ctrl+1") in rows
    assert ("Anywhere", "Show Settings", "Ctrl+6") in rows
    assert ("Anywhere", "Quit", "Ctrl+Q") in rows
    assert ("Anywhere", "Keyboard shortcuts", "F1 or ?") in rows
    assert ("Chat", "Send the message", "Enter") in rows
    sections = {section for section, _, _ in rows}
    assert {"Models", "Settings"} <= sections  # F5 refresh, Ctrl+S save come from the panes
    assert any(keys == "F5" for section, _, keys in rows if section == "Models")
    dialog.close()


def _shortcuts_dialog(window: MainWindow) -> QWidget | None:
    return window.shortcuts_dialog  # read afresh (mypy would keep an earlier narrowing)


def test_typing_a_question_mark_in_chat_does_not_open_the_list(make_window, qtbot):
    window = make_window()
    window._finish_first_run()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    chat = window.panes["chat"]
    assert isinstance(chat, ChatPane)
    chat.composer.edit.setFocus()
    qtbot.waitUntil(chat.composer.edit.hasFocus, timeout=3000)
    qtbot.keyClicks(chat.composer.edit, "why?")
    assert chat.composer.edit.toPlainText() == "why?"
    assert window.shortcuts_dialog is None
    # Outside a text field the same key opens the list.
    qtbot.keyClick(window.rail.buttons["chat"], "?")
    dialog = _shortcuts_dialog(window)
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible, timeout=3000)
    dialog.close()


def test_theme_flag_on_the_command_line():
    assert build_parser().parse_args(["--theme", "dark"]).theme == "dark"
    assert build_parser().parse_args([]).theme is None
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--theme", "purple"])


def test_dark_screenshot_set_beside_the_light_one(tmp_path):
    """`--screenshot DIR --theme dark`: DIR/<pane>-dark.png, dark pixels, saved theme untouched."""
    from PySide6.QtGui import QImage

    proc, out = run_screenshots(tmp_path, "--theme", "dark")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{k}-dark.png" for k in PANE_KEYS)
    for key in PANE_KEYS:
        image = QImage(str(out / f"{key}-dark.png"))
        assert not image.isNull()
        # The rail's top-left corner is canvas: dark in the dark theme.
        assert image.pixelColor(4, 4).lightness() < 80, key
    saved = json.loads((tmp_path / "home" / "settings.json").read_text(encoding="utf-8"))
    assert saved["ui"]["theme"] == "system"  # --theme is for this run only
