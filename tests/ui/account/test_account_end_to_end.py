"""The Account pane end to end on a real AppContext against the session emulator: sign in,
create a key through the dialog, reveal it, make a real chat call with that key through the
gateway client, then find the call in the Logs tab and see the balance drop."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt

from bluesdesk.core.redact import forget_secret
from bluesdesk.core.retry import RetryPolicy
from bluesdesk.emulator.accounts import DEMO
from bluesdesk.gateway.http import GatewayClient
from bluesdesk.ui.account.pane import TAB_KEYS, TAB_LOGS, AccountPane
from tests.ui.account.rig import idle, open_pane
from tests.ui.conftest import run_async

pytestmark = pytest.mark.gui

SIGNED_IN = 2


@pytest.fixture
def pane(ctx: Any, emulator: Any, qtbot: Any) -> Iterator[AccountPane]:
    yield open_pane(ctx, emulator, qtbot)
    idle(ctx, qtbot)


def test_sign_in_create_a_key_use_it_and_see_the_call_billed(
    pane: AccountPane, ctx: Any, qtbot: Any
) -> None:
    qtbot.keyClicks(pane.username_edit, "demo")
    qtbot.keyClicks(pane.password_edit, "demo-password")
    qtbot.mouseClick(pane.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.stack.currentIndex() == SIGNED_IN, timeout=10_000)
    qtbot.waitUntil(lambda: pane.figures["balance"].text().startswith("¤"), timeout=10_000)
    idle(ctx, qtbot)
    balance_before = pane.figures["balance"].text()
    quota_before = ctx.account.user().quota

    # Create a key through the dialog; the pane selects the new token.
    pane.tabs.setCurrentIndex(TAB_KEYS)
    qtbot.mouseClick(pane.create_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(pane.token_dialog.name_edit, "e2e-key")
    pane.token_dialog.ok_button.click()
    qtbot.waitUntil(lambda: pane.selected_token() is not None, timeout=10_000)
    idle(ctx, qtbot)
    token = pane.selected_token()
    assert token is not None and token.name == "e2e-key"

    # Reveal (and copy) the full key, then call the relay with it.
    qtbot.mouseClick(pane.copy_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.revealed_key.startswith("sk-"), timeout=10_000)
    idle(ctx, qtbot)
    key = pane.revealed_key
    assert key != DEMO.api_key

    async def call() -> str:
        client = GatewayClient(ctx.profiles.active(), key, policy=RetryPolicy(max_retries=0))
        try:
            body, meta = await client.request_json(
                "POST",
                "/chat/completions",
                json={
                    "model": "gpt-4o-mini",
                    "messages": [{"role": "user", "content": "echo:paid with the new key " * 20}],
                },
            )
        finally:
            await client.aclose()
        assert body["choices"][0]["message"]["content"].startswith("paid with the new key")
        return str(meta.request_id)

    try:
        request_id = str(run_async(qtbot, call()))

        # The call shows up in the Logs tab, billed to the new key.
        logs = pane.logs_tab
        assert logs is not None
        pane.show_request_in_logs(request_id)
        assert pane.tabs.currentIndex() == TAB_LOGS
        qtbot.waitUntil(lambda: logs.model.rowCount() == 1, timeout=10_000)
        idle(ctx, qtbot)
        entry = logs.model.entries[0]
        assert entry.request_id == request_id
        assert entry.token_name == "e2e-key" and entry.quota > 0

        # The balance drops by what the call cost.
        qtbot.mouseClick(pane.refresh_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: pane.figures["balance"].text() != balance_before, timeout=10_000)
        idle(ctx, qtbot)
        user = ctx.account.user()
        assert user is not None and user.quota == quota_before - entry.quota
    finally:
        forget_secret(key)
