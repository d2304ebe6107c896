"""The Chat pane shows what a new-api gateway billed: signed in to the console, the answer's
stats line changes from the estimate to "billed $…" once the usage log has the row."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bluesdesk.core.models import GatewayKind, GatewayProfile
from bluesdesk.emulator.accounts import DEMO
from bluesdesk.services.account import AccountService
from bluesdesk.services.billing import ConsoleBilling
from bluesdesk.services.chat import ChatService, MessageStats
from bluesdesk.store import ConversationStore, Database
from bluesdesk.ui.chat.pane import ChatPane
from tests.ui.chat.test_chat_pane import answer, type_and_enter
from tests.ui.conftest import run_async

pytestmark = pytest.mark.gui


@pytest.fixture
def billing_pane(
    ctx: Any, home: Path, emulator: Any, qtbot: Any
) -> Iterator[tuple[ChatPane, AccountService]]:
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
    account = AccountService(ctx.profiles, ctx.keys)

    async def client_for(profile_id: str) -> Any:
        return await ctx.profiles.client(ctx.profiles.profile(profile_id) if profile_id else None)

    service = ChatService(
        ConversationStore(ctx.db), client_for, billing=ConsoleBilling(account, delays=(0.05, 0.1))
    )
    widget = ChatPane(ctx, service=service)
    widget.resize(1100, 720)
    widget.show()
    qtbot.waitExposed(widget)
    widget.on_shown()
    qtbot.waitUntil(lambda: widget.model_box.count() > 0, timeout=5000)
    yield widget, account
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=5000)
    run_async(qtbot, service.close())
    widget.close()
    widget.deleteLater()
    run_async(qtbot, ctx.db.close())


def test_the_billed_cost_replaces_the_estimate_on_screen(billing_pane: Any, qtbot: Any) -> None:
    pane, account = billing_pane
    profile = pane.ctx.profiles.active()
    assert run_async(qtbot, account.sign_in("demo", "demo-password", profile))
    type_and_enter(qtbot, pane, "echo: what did it cost")
    qtbot.waitUntil(lambda: not pane.controller.busy, timeout=10_000)
    qtbot.waitUntil(lambda: "billed $" in answer(pane), timeout=10_000)
    stored = run_async(qtbot, pane.service.store.get_messages(pane.conversation.id))[-1]
    stats = MessageStats.from_meta(stored.meta_json)
    assert stats is not None and stats.billed_usd is not None
    shown = f"billed ${stats.billed_usd:.6f}".rstrip("0").rstrip(".")
    assert shown in answer(pane)
    assert pane.transcript.message(stored.id) == stored  # the view's copy is the stored row
    assert not pane.error_label.isVisible()
