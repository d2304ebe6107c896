"""Settings pane: gateway profiles created, edited, duplicated and deleted the way a user does it.

Keys are read back from the keyring (our in-memory backend, through keyring's public API).
"""

from __future__ import annotations

import keyring
import keyring.backends.fail
import pytest
from PySide6.QtCore import Qt

from bluesdesk.ui.preferences.pane import PreferencesPane

pytestmark = pytest.mark.gui

KEY = "sk-" + "k" * 48
LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def prefs(make_window, qtbot) -> PreferencesPane:
    window = make_window()
    qtbot.mouseClick(window.rail.buttons["settings"], LEFT)
    pane = window.panes["settings"]
    assert isinstance(pane, PreferencesPane)
    return pane


def preset_action(pane: PreferencesPane, label: str):
    return next(a for a in pane.preset_menu.actions() if a.text() == label)


def stored_key(profile_id: str, kind: str = "api_key") -> str | None:
    return keyring.get_password("bluesdesk", f"{profile_id}:{kind}")


def type_into(qtbot, edit, text: str) -> None:
    edit.clear()
    qtbot.keyClicks(edit, text)


def save(qtbot, pane: PreferencesPane) -> None:
    qtbot.mouseClick(pane.editor.save_button, LEFT)
    qtbot.waitUntil(lambda: pane.editor.result_label.text() == "Saved.", timeout=5000)


def create_profile(qtbot, pane: PreferencesPane, preset: str, key: str = KEY) -> str:
    preset_action(pane, preset).trigger()
    type_into(qtbot, pane.editor.key_edit, key)
    save(qtbot, pane)
    return pane.selected_id()


def test_presets_are_offered(prefs, qtbot):
    labels = [a.text() for a in prefs.preset_menu.actions()]
    assert labels == ["BluesMinds", "MindProxy", "BlueNexus", "Custom OpenAI-compatible"]
    # Ctrl+N, as its tooltip says, opens the same menu.
    window = prefs.window()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    qtbot.keyClick(prefs, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(prefs.preset_menu.isVisible, timeout=3000)
    prefs.preset_menu.hide()


def test_create_from_preset_stores_the_key_only_in_the_keyring(prefs, ctx, qtbot, home):
    preset_action(prefs, "BluesMinds").trigger()
    editor = prefs.editor
    assert editor.heading.text() == "New gateway"
    assert editor.name_edit.text() == "BluesMinds"
    assert editor.base_url_edit.text() == "https://api.bluesminds.com/v1"
    assert editor.management_url_edit.text() == "https://api.bluesminds.com"
    assert editor.rpm_spin.value() == 20
    assert editor.key_edit.echoMode() == editor.key_edit.EchoMode.Password
    type_into(qtbot, editor.key_edit, KEY)
    save(qtbot, prefs)

    assert prefs.item_texts() == ["BluesMinds\napi.bluesminds.com · in use"]
    profile_id = prefs.selected_id()
    assert stored_key(profile_id) == KEY
    settings_text = (home / "settings.json").read_text()
    assert "BluesMinds" in settings_text
    assert KEY not in settings_text
    assert "sk-" not in settings_text
    # The status bar follows the (first, hence active) profile.
    status = prefs.window().status
    assert status.profile_label.text() == "BluesMinds · api.bluesminds.com"


def test_edit_name_url_and_key(prefs, ctx, qtbot, home):
    profile_id = create_profile(qtbot, prefs, "Custom OpenAI-compatible")
    editor = prefs.editor
    type_into(qtbot, editor.name_edit, "Local llama")
    type_into(qtbot, editor.base_url_edit, "http://127.0.0.1:9999/v1")
    editor.reveal_action.trigger()  # the eye button in the key field
    assert editor.key_edit.echoMode() == editor.key_edit.EchoMode.Normal
    type_into(qtbot, editor.key_edit, "sk-new-" + "n" * 40)
    save(qtbot, prefs)

    assert prefs.item_texts() == ["Local llama\n127.0.0.1:9999 · in use"]
    assert stored_key(profile_id) == "sk-new-" + "n" * 40
    saved = ctx.settings.load().profile(profile_id)
    assert saved is not None
    assert saved.base_url == "http://127.0.0.1:9999/v1"
    assert "sk-new" not in (home / "settings.json").read_text()


def test_selecting_a_profile_shows_its_stored_key_and_unchanged_key_is_kept(prefs, ctx, qtbot):
    first = create_profile(qtbot, prefs, "BluesMinds", key=KEY)
    create_profile(qtbot, prefs, "MindProxy", key="sk-" + "m" * 48)
    prefs.select(first)
    qtbot.waitUntil(lambda: prefs.editor.key_edit.text() == KEY, timeout=5000)
    assert prefs.editor.name_edit.text() == "BluesMinds"
    type_into(qtbot, prefs.editor.name_edit, "BluesMinds work")
    save(qtbot, prefs)
    assert stored_key(first) == KEY


def test_clearing_the_key_deletes_it(prefs, qtbot):
    profile_id = create_profile(qtbot, prefs, "BlueNexus")
    assert stored_key(profile_id) == KEY
    prefs.editor.key_edit.clear()
    save(qtbot, prefs)
    assert stored_key(profile_id) is None


def test_invalid_form_is_explained_inline(prefs, qtbot):
    preset_action(prefs, "Custom OpenAI-compatible").trigger()
    type_into(qtbot, prefs.editor.base_url_edit, "api.example.com")
    qtbot.mouseClick(prefs.editor.save_button, LEFT)
    assert prefs.editor.result_label.objectName() == "errorText"
    assert "must start with https://" in prefs.editor.result_label.text()
    assert prefs.item_texts() == []


def test_duplicate_copies_profile_and_key(prefs, qtbot):
    original = create_profile(qtbot, prefs, "MindProxy")
    qtbot.mouseClick(prefs.duplicate_button, LEFT)
    qtbot.waitUntil(lambda: len(prefs.item_texts()) == 2, timeout=5000)
    assert prefs.item_texts()[1] == "MindProxy (copy)\ngateway.mindproxy.ai"
    copy_id = prefs.selected_id()
    assert copy_id != original
    assert prefs.editor.name_edit.text() == "MindProxy (copy)"
    assert stored_key(copy_id) == KEY


def test_delete_asks_first_then_removes_profile_and_key(prefs, qtbot):
    keep = create_profile(qtbot, prefs, "BluesMinds")
    doomed = create_profile(qtbot, prefs, "BlueNexus", key="sk-" + "d" * 48)
    assert prefs.selected_id() == doomed

    qtbot.mouseClick(prefs.delete_button, LEFT)
    box = prefs.confirm_box
    assert box is not None and box.isVisible()
    assert "BlueNexus" in box.text()
    qtbot.mouseClick(box.button(box.StandardButton.Cancel), LEFT)
    assert len(prefs.item_texts()) == 2

    qtbot.mouseClick(prefs.delete_button, LEFT)
    box = prefs.confirm_box
    qtbot.mouseClick(box.property("deleteButton"), LEFT)
    qtbot.waitUntil(lambda: len(prefs.item_texts()) == 1, timeout=5000)
    assert prefs.item_texts()[0].startswith("BluesMinds")
    assert stored_key(doomed) is None
    assert stored_key(keep) == KEY


def test_set_active(prefs, ctx, qtbot):
    first = create_profile(qtbot, prefs, "BluesMinds")
    second = create_profile(qtbot, prefs, "MindProxy")
    assert ctx.profiles.active().id == first
    assert prefs.editor.activate_button.isEnabled()
    assert prefs.editor.activate_button.text() == "Use this gateway"
    qtbot.mouseClick(prefs.editor.activate_button, LEFT)
    qtbot.waitUntil(lambda: ctx.profiles.active().id == second, timeout=5000)
    qtbot.waitUntil(lambda: "in use" in prefs.item_texts()[1], timeout=5000)
    assert "in use" not in prefs.item_texts()[0]
    assert prefs.editor.activate_button.text() == "In use"
    assert not prefs.editor.activate_button.isEnabled()
    assert prefs.window().status.profile_label.text() == "MindProxy · gateway.mindproxy.ai"


def test_keyring_unavailable_offers_keeping_the_key_for_this_run(prefs, ctx, qtbot, home):
    keyring.set_keyring(keyring.backends.fail.Keyring())  # the `memory_keyring` fixture restores
    preset_action(prefs, "BluesMinds").trigger()
    type_into(qtbot, prefs.editor.key_edit, KEY)
    qtbot.mouseClick(prefs.editor.save_button, LEFT)
    qtbot.waitUntil(lambda: prefs.keyring_dialog is not None, timeout=5000)
    dialog = prefs.keyring_dialog
    assert dialog.isVisible()
    assert "keyring" in dialog.text()
    qtbot.mouseClick(dialog.keep_button, LEFT)
    qtbot.waitUntil(lambda: prefs.editor.result_label.text() == "Saved.", timeout=5000)
    assert ctx.keys.memory_only
    status = prefs.window().status
    assert status.notice_label.text() == "API keys are kept in memory for this run only"
    assert KEY not in (home / "settings.json").read_text()
