"""403 and 404 on the console actions, seen in the Account pane: sign-in, key list, key create,
logs, dashboard, channel list and channel test each reach the emulator once (the app's pool
retries, but never these), the pane says what happened and what to do — not a stack of errors —
and the same action works again at once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt

from bluesdesk.emulator.accounts import DEMO, ROOT
from bluesdesk.ui.account.pane import TAB_CHANNELS, TAB_LOGS, AccountPane
from tests.ui.account.rig import SIGN_IN, SIGNED_IN, idle, open_pane, sign_in

pytestmark = pytest.mark.gui

GUIDANCE = {
    "403": ("Your account is not allowed to {0} on this gateway (HTTP 403)", "ask an admin"),
    "404": ("This gateway has no route to {0} (HTTP 404)", "is the base URL right"),
}


@pytest.fixture
def pane(ctx: Any, emulator: Any, qtbot: Any) -> Iterator[AccountPane]:
    widget = open_pane(ctx, emulator, qtbot)
    yield widget
    idle(ctx, qtbot)


def refused(pane: AccountPane, ctx: Any, qtbot: Any, emulator: Any, kind: str, path: str,
            trigger: Callable[[], None]) -> str:
    """Arm `kind` on `path` for three requests, trigger the action once: the pane's message.
    Exactly one request may reach `path` (a retry would be a second)."""
    emulator.reset_faults()
    emulator.arm_fault(kind, count=3, path_prefix=path)
    trigger()
    qtbot.waitUntil(lambda: pane.error_label.isVisible(), timeout=10_000)
    idle(ctx, qtbot)
    assert emulator.request_count(path) == 1, f"{path} was requested again"
    emulator.reset_faults()
    return pane.error_label.text()


def says(text: str, kind: str, action: str) -> None:
    first, second = GUIDANCE[kind]
    assert first.format(action) in text and second in text, text
    assert f"emulated {kind}" in text  # the gateway's own words, below the advice
    assert "Traceback" not in text and text.count("\n") == 1


@pytest.mark.parametrize("kind", ["403", "404"])
def test_console_actions_explain_403_and_404(pane: AccountPane, ctx: Any, qtbot: Any,
                                             emulator: Any, kind: str) -> None:
    # Sign-in: the form stays, the password is gone, the next try works.
    pane.username_edit.setText(DEMO.username)
    pane.password_edit.setText(DEMO.password)
    text = refused(pane, ctx, qtbot, emulator, kind, "/api/user/login",
                   lambda: qtbot.mouseClick(pane.sign_in_button, Qt.MouseButton.LeftButton))
    says(text, kind, "sign in to the console")
    assert pane.stack.currentIndex() == SIGN_IN and pane.sign_in_button.isEnabled()
    sign_in(pane, ctx, qtbot, DEMO.username, DEMO.password)
    assert pane.error_label.isHidden()
    keys = pane.tokens_model.rowCount()
    assert keys > 0

    # Key list (Enter in the search box lists the first page again).
    text = refused(pane, ctx, qtbot, emulator, kind, "/api/token/",
                   lambda: qtbot.keyClick(pane.search_edit, Qt.Key.Key_Return))
    says(text, kind, "list API keys")
    assert pane.tokens_model.rowCount() == keys  # what was shown stays
    qtbot.keyClick(pane.search_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(pane.error_label.isHidden, timeout=10_000)

    # Key create: the dialog's answer reaches the gateway once and nothing is made.
    def create() -> None:
        qtbot.mouseClick(pane.create_button, Qt.MouseButton.LeftButton)
        pane.token_dialog.name_edit.setText(f"refused-{kind}")
        pane.token_dialog.ok_button.click()

    text = refused(pane, ctx, qtbot, emulator, kind, "/api/token/", create)
    says(text, kind, "create API keys")
    assert all(t.name != f"refused-{kind}" for t in pane.tokens_model.tokens)

    # Logs.
    logs = pane.logs_tab
    assert logs is not None
    pane.tabs.setCurrentIndex(TAB_LOGS)
    idle(ctx, qtbot)
    text = refused(pane, ctx, qtbot, emulator, kind, "/api/log/self",
                   lambda: qtbot.mouseClick(logs.apply_button, Qt.MouseButton.LeftButton))
    says(text, kind, "read the usage logs")
    qtbot.mouseClick(logs.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: logs.model.rowCount() > 0, timeout=10_000)
    qtbot.waitUntil(pane.error_label.isHidden, timeout=10_000)

    # Dashboard: an optional figure; refused, the card shows the rest and no error at all.
    emulator.reset_faults()
    emulator.arm_fault(kind, count=3, path_prefix="/api/dashboard/")
    pane.figures["today"].setText("stale")
    pane.refresh()
    qtbot.waitUntil(lambda: pane.figures["today"].text() == "—", timeout=10_000)
    idle(ctx, qtbot)
    assert emulator.request_count("/api/dashboard/") == 1
    assert pane.error_label.isHidden() and pane.figures["balance"].text() not in ("", "—")
    emulator.reset_faults()

    # Channels (root only).
    qtbot.mouseClick(pane.sign_out_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.stack.currentIndex() == SIGN_IN, timeout=10_000)
    idle(ctx, qtbot)
    sign_in(pane, ctx, qtbot, ROOT.username, ROOT.password)
    channels = pane.channels_tab
    assert channels is not None
    pane.tabs.setCurrentIndex(TAB_CHANNELS)
    qtbot.waitUntil(lambda: channels.model.rowCount() > 0, timeout=10_000)
    idle(ctx, qtbot)
    text = refused(pane, ctx, qtbot, emulator, kind, "/api/channel/",
                   lambda: qtbot.mouseClick(channels.search_button, Qt.MouseButton.LeftButton))
    says(text, kind, "list channels")
    assert channels.model.rowCount() > 0

    channels.view.selectRow(0)
    chosen = channels.selected()
    assert chosen is not None
    text = refused(pane, ctx, qtbot, emulator, kind, f"/api/channel/test/{chosen.id}",
                   lambda: qtbot.mouseClick(channels.test_button, Qt.MouseButton.LeftButton))
    says(text, kind, "test channels")
    qtbot.mouseClick(channels.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: " OK in " in channels.last_test, timeout=10_000)
    qtbot.waitUntil(pane.error_label.isHidden, timeout=10_000)
    assert pane.stack.currentIndex() == SIGNED_IN  # never signed out by a 403/404
