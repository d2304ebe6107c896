"""The shell: navigation rail and shortcuts, first-run screen, remembered geometry and pane."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QLabel

from bluesdesk.ui.main_window import PANE_KEYS

pytestmark = pytest.mark.gui


def test_rail_buttons_switch_panes(make_window, qtbot):
    window = make_window()
    window._finish_first_run()
    labels = [window.rail.buttons[k].text() for k in PANE_KEYS]
    assert labels == ["Chat", "Images", "Speech", "Models", "Account", "Settings"]
    for key in ("images", "settings", "chat"):
        qtbot.mouseClick(window.rail.buttons[key], Qt.MouseButton.LeftButton)
        assert window.stack.currentWidget() is window.panes[key]
        assert window.rail.buttons[key].isChecked()


def test_ctrl_number_shortcuts(make_window, qtbot):
    window = make_window()
    window._finish_first_run()
    window.windowHandle().requestActivate()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    for number, key in enumerate(PANE_KEYS, start=1):
        qtbot.keyClick(
            window, getattr(Qt.Key, f"Key_{number}"), Qt.KeyboardModifier.ControlModifier
        )
        assert window.current_key == key
        assert window.stack.currentWidget() is window.panes[key]
    qtbot.keyClick(window, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.current_key == "chat"
    qtbot.keyClick(window, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    assert window.current_key == "settings"


def test_every_pane_loads_and_shows_content(make_window, qtbot):
    window = make_window()
    for key, pane in window.panes.items():
        qtbot.waitUntil(pane.is_ready, timeout=10000)
        # Something a person can read: a title, a form or a table, never a blank page.
        labels = [w.text() for w in pane.findChildren(QLabel) if w.text().strip()]
        assert labels, f"pane {key} shows no text"


def test_first_run_then_connect_opens_the_editor(make_window, ctx, qtbot):
    window = make_window()
    assert window.showing_first_run()
    assert window.first_run.demo_button.text() == "Try the demo"
    qtbot.mouseClick(window.first_run.connect_button, Qt.MouseButton.LeftButton)
    assert not window.showing_first_run()
    assert window.current_key == "settings"
    prefs = window.panes["settings"]
    assert prefs.editor.isVisible()
    assert prefs.editor.heading.text() == "New gateway"
    assert prefs.editor.name_edit.text() == "Custom OpenAI-compatible"
    assert ctx.settings.load().first_run_done


def test_geometry_and_last_pane_survive_a_restart(make_window, ctx, qtbot):
    first = make_window()
    first._finish_first_run()
    first.resize(760, 560)
    qtbot.mouseClick(first.rail.buttons["models"], Qt.MouseButton.LeftButton)
    first.close()
    saved = ctx.settings.load().ui
    assert saved.last_pane == "models"
    assert saved.geometry

    second = make_window()
    assert not second.showing_first_run()
    assert second.current_key == "models"
    assert second.rail.buttons["models"].isChecked()
    assert second.size() == QSize(760, 560)
