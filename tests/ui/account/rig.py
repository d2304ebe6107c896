"""Shared set-up for the newer Account pane tests: a pane on the session emulator's profile,
waiting for the task runner, and a password sign-in through the form."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from bluesdesk.core.models import GatewayKind, GatewayProfile
from bluesdesk.emulator.accounts import DEMO
from bluesdesk.services.account import AccountService
from bluesdesk.ui.account.pane import AccountPane
from bluesdesk.ui.theme import resource_text
from tests.ui.conftest import run_async

SIGN_IN, SIGNED_IN = 1, 2


def idle(ctx: Any, qtbot: Any) -> None:
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10_000)


def open_pane(
    ctx: Any,
    emulator: Any,
    qtbot: Any,
    *,
    styled: bool = False,
    size: tuple[int, int] = (1200, 760),
) -> AccountPane:
    """The pane, shown, for a BluesMinds profile on `emulator` (signed out); `styled` gives it
    the light style sheet, as the app themes it."""
    profile = GatewayProfile(
        id="emu", name="Emulator", base_url=emulator.relay_url, kind=GatewayKind.BLUESMINDS
    )
    run_async(qtbot, ctx.profiles.save(profile, DEMO.api_key))
    run_async(qtbot, ctx.profiles.set_active(profile.id))
    ctx.account = AccountService(ctx.profiles, ctx.keys)
    widget = AccountPane(ctx)
    if styled:
        widget.setStyleSheet(resource_text("light.qss"))
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    widget.on_shown()
    idle(ctx, qtbot)
    return widget


def sign_in(pane: AccountPane, ctx: Any, qtbot: Any, user: str, password: str) -> None:
    pane.username_edit.setText(user)
    pane.password_edit.setText(password)
    qtbot.mouseClick(pane.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.stack.currentIndex() == SIGNED_IN, timeout=10_000)
    idle(ctx, qtbot)
