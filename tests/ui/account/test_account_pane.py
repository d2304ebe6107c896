"""The Account pane on a real AppContext against the session emulator: sign in (password and
2FA), see the user and balance, create / disable / delete an API key, sign out."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from bluesdesk.services.account import ACCESS_TOKEN_KIND
from bluesdesk.ui.account.pane import AccountPane
from tests.ui.account.rig import open_pane
from tests.ui.conftest import run_async

pytestmark = pytest.mark.gui

SIGN_IN, SIGNED_IN = 1, 2


@pytest.fixture
def pane(ctx: Any, emulator: Any, qtbot: Any) -> AccountPane:
    return open_pane(ctx, emulator, qtbot, styled=True, size=(1100, 700))


def sign_in(pane: AccountPane, qtbot: Any, user: str, password: str) -> None:
    qtbot.keyClicks(pane.username_edit, user)
    qtbot.keyClicks(pane.password_edit, password)
    qtbot.mouseClick(pane.sign_in_button, Qt.MouseButton.LeftButton)


def test_sign_in_shows_the_user_and_balance(pane: AccountPane, ctx: Any, qtbot: Any) -> None:
    assert pane.stack.currentIndex() == SIGN_IN
    assert pane.sign_out_button.isHidden()
    sign_in(pane, qtbot, "demo", "demo-password")
    qtbot.waitUntil(lambda: pane.stack.currentIndex() == SIGNED_IN, timeout=10_000)
    qtbot.waitUntil(lambda: pane.tokens_model.rowCount() > 0, timeout=10_000)
    assert "Demo User" in pane.figures["user"].text()
    assert pane.figures["balance"].text().startswith("¤")  # BluesMinds credits
    assert pane.figures["group"].text() == "default ×1"
    assert "Demo User" in pane.subtitle.text()
    assert pane.password_edit.text() == ""  # the password is not kept
    assert run_async(qtbot, ctx.keys.get("emu", ACCESS_TOKEN_KIND))
    assert pane.error_label.isHidden()
    pane.grab().save("/tmp/account.png")

    # Create a key with a quota through the dialog.
    qtbot.mouseClick(pane.create_button, Qt.MouseButton.LeftButton)
    dialog = pane.token_dialog
    qtbot.keyClicks(dialog.name_edit, "from-the-pane")
    dialog.unlimited_check.setChecked(False)
    dialog.quota_spin.setValue(3.0)
    dialog.ok_button.click()
    qtbot.waitUntil(
        lambda: any(t.name == "from-the-pane" for t in pane.tokens_model.tokens), timeout=10_000
    )
    token = pane.tokens_model.tokens[0]
    assert token.name == "from-the-pane" and token.remain_quota == 1_500_000
    assert pane.tokens_model.data(pane.tokens_model.index(0, 2)) == "¤3.00"

    # Disable it, then delete it (confirming).
    pane.tokens_view.selectRow(0)
    assert pane.toggle_button.text() == "Disable"
    qtbot.mouseClick(pane.toggle_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not pane.tokens_model.tokens[0].enabled, timeout=10_000)
    pane.tokens_view.selectRow(0)
    assert pane.toggle_button.text() == "Enable"
    qtbot.mouseClick(pane.delete_button, Qt.MouseButton.LeftButton)
    pane.confirm_box.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(
        lambda: all(t.name != "from-the-pane" for t in pane.tokens_model.tokens),
        timeout=10_000,
    )

    # Sign out: back to the form, the keyring entry gone.
    qtbot.mouseClick(pane.sign_out_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.stack.currentIndex() == SIGN_IN, timeout=10_000)
    assert run_async(qtbot, ctx.keys.get("emu", ACCESS_TOKEN_KIND)) is None


def test_two_factor_step_and_a_wrong_password(pane: AccountPane, ctx: Any, qtbot: Any) -> None:
    sign_in(pane, qtbot, "demo", "wrong")
    qtbot.waitUntil(lambda: pane.error_label.isVisible(), timeout=10_000)
    assert "Username or password is incorrect" in pane.error_label.text()
    assert pane.stack.currentIndex() == SIGN_IN

    pane.username_edit.clear()
    sign_in(pane, qtbot, "secure", "secure-password")
    qtbot.waitUntil(lambda: pane.twofa_box.isVisible(), timeout=10_000)
    assert pane.password_box.isHidden()
    qtbot.keyClicks(pane.code_edit, "424242")
    qtbot.mouseClick(pane.verify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.stack.currentIndex() == SIGNED_IN, timeout=10_000)
    qtbot.waitUntil(lambda: "2FA User" in pane.figures["user"].text(), timeout=10_000)
    assert pane.figures["group"].text().startswith("vip")
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10_000)


def test_paste_token_needs_a_numeric_user_id(pane: AccountPane, qtbot: Any) -> None:
    qtbot.keyClicks(pane.token_edit, "abc")
    qtbot.keyClicks(pane.user_id_edit, "bob")
    qtbot.mouseClick(pane.use_token_button, Qt.MouseButton.LeftButton)
    assert "numeric user id" in pane.error_label.text()
    pane.user_id_edit.clear()
    qtbot.keyClicks(pane.user_id_edit, "2")
    qtbot.mouseClick(pane.use_token_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "did not accept" in pane.error_label.text(), timeout=10_000)
    assert pane.stack.currentIndex() == SIGN_IN
