"""The Account pane's third pass on a real AppContext against the session emulator: the key
dialog's model whitelist picked from the catalog (checkable, searchable), the Logs tab's group
filter, a channel's "Refresh balance", and a chat message's "show in logs" through MainWindow."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from bluesdesk.core.models import GatewayKind, GatewayProfile
from bluesdesk.emulator.accounts import DEMO
from bluesdesk.services.account import AccountService
from bluesdesk.services.catalog import CatalogService
from bluesdesk.store.db import Database
from bluesdesk.store.model_cache import ModelCache
from bluesdesk.ui.account.pane import TAB_CHANNELS, TAB_KEYS, TAB_LOGS, AccountPane
from tests.ui.conftest import run_async

pytestmark = pytest.mark.gui

SIGNED_IN = 2


def add_profile(ctx: Any, qtbot: Any, emulator: Any) -> None:
    profile = GatewayProfile(
        id="emu", name="Emulator", base_url=emulator.relay_url, kind=GatewayKind.BLUESMINDS
    )
    run_async(qtbot, ctx.profiles.save(profile, DEMO.api_key))
    run_async(qtbot, ctx.profiles.set_active(profile.id))
    ctx.account = AccountService(ctx.profiles, ctx.keys)


@pytest.fixture
def catalog_ctx(ctx: Any, emulator: Any, qtbot: Any, tmp_path: Path) -> Iterator[Any]:
    add_profile(ctx, qtbot, emulator)
    db = run_async(qtbot, Database.open(tmp_path / "catalog.sqlite3"))
    ctx.db = db
    ctx.catalog = CatalogService(ctx.profiles, ModelCache(db), sessions=ctx.account.session)
    yield ctx
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10_000)
    run_async(qtbot, db.close())


@pytest.fixture
def pane(catalog_ctx: Any, qtbot: Any) -> Iterator[AccountPane]:
    ctx = catalog_ctx
    widget = AccountPane(ctx)
    qtbot.addWidget(widget)
    widget.resize(1200, 760)
    widget.show()
    qtbot.waitExposed(widget)
    widget.on_shown()
    idle(ctx, qtbot)
    yield widget
    idle(ctx, qtbot)


def idle(ctx: Any, qtbot: Any) -> None:
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10_000)


def sign_in(pane: AccountPane, ctx: Any, qtbot: Any, user: str, password: str) -> None:
    qtbot.keyClicks(pane.username_edit, user)
    qtbot.keyClicks(pane.password_edit, password)
    qtbot.mouseClick(pane.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.stack.currentIndex() == SIGNED_IN, timeout=10_000)
    idle(ctx, qtbot)


def test_key_whitelist_is_picked_from_the_catalog(pane: AccountPane, ctx: Any, qtbot: Any) -> None:
    sign_in(pane, ctx, qtbot, "demo", "demo-password")
    pane.tabs.setCurrentIndex(TAB_KEYS)
    qtbot.mouseClick(pane.create_button, Qt.MouseButton.LeftButton)
    dialog = pane.token_dialog
    picker = dialog.model_picker
    qtbot.waitUntil(lambda: bool(pane.models_offered), timeout=10_000)
    idle(ctx, qtbot)
    offered = picker.ids()
    assert "gpt-4o-mini" in offered and "gpt-4o" in offered
    assert not picker.checked() and picker.count_label.text() == "All models allowed"

    qtbot.keyClicks(picker.search_edit, "4O-MI")
    visible = picker.visible_ids()
    assert "gpt-4o-mini" in visible and "gpt-4o" not in visible
    assert all("4o-mi" in m.lower() for m in visible)
    item = picker.list.findItems("gpt-4o-mini", Qt.MatchFlag.MatchExactly)[0]
    item.setCheckState(Qt.CheckState.Checked)
    picker.search_edit.clear()
    assert len(picker.visible_ids()) == len(offered)
    assert picker.count_label.text() == "1 model(s) allowed"
    dialog.grab().save("/tmp/account-key-dialog.png")

    qtbot.keyClicks(dialog.name_edit, "whitelisted")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: pane.selected_token() is not None, timeout=10_000)
    idle(ctx, qtbot)
    created = pane.selected_token()
    assert created is not None and created.name == "whitelisted"
    assert created.model_limits_enabled and created.model_limits == ("gpt-4o-mini",)

    # Editing shows the whitelist checked, and a typed extra model joins it.
    qtbot.mouseClick(pane.edit_button, Qt.MouseButton.LeftButton)
    dialog = pane.token_dialog
    qtbot.waitUntil(lambda: len(dialog.model_picker.ids()) > 1, timeout=10_000)
    idle(ctx, qtbot)
    assert dialog.model_picker.checked() == ("gpt-4o-mini",)
    dialog.models_edit.setText("my-private-model")
    dialog.ok_button.click()
    qtbot.waitUntil(
        lambda: (t := pane.selected_token()) is not None and len(t.model_limits) == 2,
        timeout=10_000,
    )
    idle(ctx, qtbot)
    edited = pane.selected_token()
    assert edited is not None
    assert edited.model_limits == ("gpt-4o-mini", "my-private-model")


def test_logs_group_filter(pane: AccountPane, ctx: Any, qtbot: Any) -> None:
    sign_in(pane, ctx, qtbot, "demo", "demo-password")
    logs = pane.logs_tab
    assert logs is not None
    pane.tabs.setCurrentIndex(TAB_LOGS)
    qtbot.waitUntil(lambda: logs.model.rowCount() > 0, timeout=10_000)
    idle(ctx, qtbot)
    logs.group_edit.setText("default")
    assert logs.filters()["group"] == "default"
    qtbot.mouseClick(logs.apply_button, Qt.MouseButton.LeftButton)
    idle(ctx, qtbot)
    assert logs.model.rowCount() > 0
    assert all(e.group == "default" for e in logs.model.entries)
    logs.group_edit.setText("no-such-group")
    qtbot.mouseClick(logs.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: logs.model.rowCount() == 0, timeout=10_000)
    idle(ctx, qtbot)


def test_channel_refresh_balance(pane: AccountPane, ctx: Any, qtbot: Any) -> None:
    sign_in(pane, ctx, qtbot, "root", "root-password")
    channels = pane.channels_tab
    assert channels is not None
    pane.tabs.setCurrentIndex(TAB_CHANNELS)
    qtbot.waitUntil(lambda: channels.model.rowCount() > 0, timeout=10_000)
    idle(ctx, qtbot)
    assert not channels.balance_button.isEnabled()  # nothing selected
    channels.view.selectRow(0)
    chosen = channels.selected()
    assert chosen is not None and channels.balance_button.isEnabled()
    qtbot.mouseClick(channels.balance_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(channels.last_balance), timeout=10_000)
    idle(ctx, qtbot)
    assert channels.last_balance == f"{chosen.name}: balance {chosen.balance:,.2f}"
    assert channels.result_label.text() == channels.last_balance


def test_chat_show_in_logs_opens_the_request_in_the_account_pane(
    catalog_ctx: Any, make_window: Any, qtbot: Any
) -> None:
    ctx = catalog_ctx
    run_async(qtbot, ctx.account.sign_in("demo", "demo-password"))

    async def call() -> str:
        client = await ctx.client()
        _, meta = await client.request_json(
            "POST",
            "/chat/completions",
            json={"model": "gpt-4o", "messages": [{"role": "user", "content": "echo:jump"}]},
        )
        return str(meta.request_id)

    request_id = str(run_async(qtbot, call()))
    window = make_window()
    chat = window.pane("chat")
    chat.show_in_logs_requested.emit(request_id)
    account = window.panes["account"]
    assert isinstance(account, AccountPane)
    assert window.current_pane() is account
    logs = account.logs_tab
    assert logs is not None
    qtbot.waitUntil(
        lambda: [e.request_id for e in logs.model.entries] == [request_id], timeout=10_000
    )
    idle(ctx, qtbot)
    assert account.tabs.currentIndex() == TAB_LOGS and account.pending_request == ""
    assert logs.request_edit.text() == request_id
    assert logs.model.entries[0].model_name == "gpt-4o"
