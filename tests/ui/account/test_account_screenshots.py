"""Every tab of the Account pane renders (offscreen grab): Usage, API keys and Logs for the
demo user (a month of history), Channels for root. With
BLUESDESK_SCREENSHOT_DIR set the PNGs land there as account-<tab>.png (the README's
docs/screenshots/); otherwise in the test's temporary directory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from bluesdesk.core.models import GatewayKind, GatewayProfile
from bluesdesk.core.retry import RetryPolicy
from bluesdesk.emulator.accounts import DEMO
from bluesdesk.gateway.http import GatewayClient
from bluesdesk.services.account import AccountService
from bluesdesk.ui.account.pane import TAB_CHANNELS, TAB_KEYS, TAB_LOGS, TAB_USAGE, AccountPane
from bluesdesk.ui.theme import resource_text
from tests.ui.conftest import run_async

pytestmark = pytest.mark.gui

SIZE = (1180, 760)
MODELS = ("gpt-4o-mini", "gpt-4o", "claude-sonnet-4-5")


async def calls(profile: GatewayProfile, key: str) -> None:
    """A few paid calls today, so that the Logs tab starts with fresh rows."""
    client = GatewayClient(profile, key, policy=RetryPolicy(max_retries=0))
    try:
        for model in MODELS:
            await client.request_json(
                "POST",
                "/chat/completions",
                json={"model": model, "messages": [{"role": "user", "content": "echo:hello"}]},
            )
    finally:
        await client.aclose()


def sign_in(pane: AccountPane, ctx: Any, qtbot: Any, user: str) -> None:
    pane.username_edit.clear()  # it keeps the last user name after a sign-out
    qtbot.keyClicks(pane.username_edit, user)
    qtbot.keyClicks(pane.password_edit, f"{user}-password")
    qtbot.mouseClick(pane.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: (
            pane.stack.currentIndex() == 2
            and (found := ctx.account.user()) is not None
            and found.username == user
        ),
        timeout=10_000,
    )
    qtbot.waitUntil(lambda: pane.charts.summary is not None, timeout=10_000)
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10_000)


def test_each_tab_renders(ctx: Any, emulator: Any, qtbot: Any, tmp_path: Path) -> None:
    out = Path(os.environ.get("BLUESDESK_SCREENSHOT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    profile = GatewayProfile(
        id="emu", name="Demo gateway", base_url=emulator.relay_url, kind=GatewayKind.BLUESMINDS
    )
    run_async(qtbot, ctx.profiles.save(profile, DEMO.api_key))
    run_async(qtbot, ctx.profiles.set_active(profile.id))
    ctx.account = AccountService(ctx.profiles, ctx.keys)
    run_async(qtbot, calls(profile, DEMO.api_key))
    pane = AccountPane(ctx)
    pane.setStyleSheet(resource_text("light.qss"))
    qtbot.addWidget(pane)
    pane.resize(*SIZE)
    pane.show()
    qtbot.waitExposed(pane)
    pane.on_shown()
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10_000)
    sign_in(pane, ctx, qtbot, "demo")

    logs, channels = pane.logs_tab, pane.channels_tab
    assert logs is not None and channels is not None
    ready = {
        "usage": (TAB_USAGE, lambda: pane.charts.summary is not None),
        "keys": (TAB_KEYS, lambda: pane.tokens_model.rowCount() > 0),
        "logs": (TAB_LOGS, lambda: logs.model.rowCount() > 0),
        "channels": (TAB_CHANNELS, lambda: channels.model.rowCount() > 0),
    }
    for name, (tab, loaded) in ready.items():
        if name == "channels":  # admins only
            assert not pane.tabs.isTabVisible(TAB_CHANNELS)
            qtbot.mouseClick(pane.sign_out_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: pane.stack.currentIndex() == 1, timeout=10_000)
            sign_in(pane, ctx, qtbot, "root")
            assert pane.tabs.isTabVisible(TAB_CHANNELS)
        pane.tabs.setCurrentIndex(tab)
        qtbot.waitUntil(loaded, timeout=10_000)
        qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10_000)
        if name == "logs":
            logs.view.selectRow(0)  # the details panel filled in
        elif name == "channels":
            channels.view.selectRow(0)
        target = out / f"account-{name}.png"
        assert pane.grab().save(str(target))
        image = QImage(str(target))
        assert (image.width(), image.height()) == SIZE
