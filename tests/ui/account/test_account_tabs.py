"""The Account pane's second pass on a real AppContext against the session emulator: usage
charts, key search / edit / copy / "use in bluesdesk" / batch delete, the 429 of the reveal
route, the Logs tab (filters, details, CSV), Channels for root only, login options, and the
status-bar balance that follows paid calls."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox

from bluesdesk.core.redact import forget_secret
from bluesdesk.gateway.console import LoginOptions
from bluesdesk.services.account import REVEAL_LIMIT_MESSAGE
from bluesdesk.ui.account.pane import TAB_CHANNELS, TAB_KEYS, TAB_LOGS, AccountPane
from bluesdesk.ui.status_bar import StatusBar
from tests.ui.account.rig import idle, open_pane
from tests.ui.conftest import run_async

pytestmark = pytest.mark.gui

SIGN_IN, SIGNED_IN = 1, 2


@pytest.fixture
def pane(ctx: Any, emulator: Any, qtbot: Any) -> Iterator[AccountPane]:
    yield open_pane(ctx, emulator, qtbot, styled=True)
    idle(ctx, qtbot)


def sign_in(pane: AccountPane, ctx: Any, qtbot: Any, user: str, password: str) -> None:
    qtbot.keyClicks(pane.username_edit, user)
    qtbot.keyClicks(pane.password_edit, password)
    qtbot.mouseClick(pane.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.stack.currentIndex() == SIGNED_IN, timeout=10_000)
    qtbot.waitUntil(lambda: pane.charts.summary is not None, timeout=10_000)
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10_000)


def create_key(pane: AccountPane, ctx: Any, qtbot: Any, name: str) -> None:
    qtbot.mouseClick(pane.create_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(pane.token_dialog.name_edit, name)
    pane.token_dialog.ok_button.click()
    qtbot.waitUntil(lambda: pane.selected_token() is not None, timeout=10_000)
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10_000)
    token = pane.selected_token()
    assert token is not None and token.name == name


def chat(ctx: Any, qtbot: Any, text: str) -> str:
    async def call() -> str:
        client = await ctx.client()
        body, meta = await client.request_json(
            "POST",
            "/chat/completions",
            json={
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": f"echo:{text}"}],
            },
        )
        assert body["choices"][0]["message"]["content"] == text
        return str(meta.request_id)

    return str(run_async(qtbot, call()))


def test_usage_and_keys_for_a_user(pane: AccountPane, ctx: Any, qtbot: Any) -> None:
    sign_in(pane, ctx, qtbot, "demo", "demo-password")
    summary = pane.charts.summary
    assert summary is not None and len(summary.days) == 7 and summary.source == "data"
    assert summary.total_quota > 0  # the emulator seeds 30 days of history
    assert pane.charts.spend_chart.series() and pane.charts.models_chart.series()
    assert pane.figures["today"].text() != "—"  # BluesMinds' /api/dashboard/
    assert not pane.tabs.isTabVisible(TAB_CHANNELS)  # not for users
    pane.grab().save("/tmp/account-usage.png")
    pane.charts.range_combo.setCurrentIndex(1)
    qtbot.waitUntil(
        lambda: pane.charts.summary is not None and len(pane.charts.summary.days) == 30,
        timeout=10_000,
    )
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10_000)

    pane.tabs.setCurrentIndex(TAB_KEYS)
    create_key(pane, ctx, qtbot, "tabs-one")
    create_key(pane, ctx, qtbot, "tabs-two")

    # Edit every field of the selected key.
    qtbot.mouseClick(pane.edit_button, Qt.MouseButton.LeftButton)
    dialog = pane.token_dialog
    assert dialog.name_edit.text() == "tabs-two" and dialog.unlimited_check.isChecked()
    dialog.name_edit.setText("tabs-two-edited")
    dialog.unlimited_check.setChecked(False)
    dialog.quota_spin.setValue(4.0)
    dialog.models_edit.setText("gpt-4o-mini")
    dialog.ips_edit.setPlainText("127.0.0.1")
    dialog.ok_button.click()
    qtbot.waitUntil(
        lambda: any(t.name == "tabs-two-edited" for t in pane.tokens_model.tokens),
        timeout=10_000,
    )
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10_000)
    edited = pane.selected_token()
    assert edited is not None and edited.name == "tabs-two-edited"
    assert edited.remain_quota == 2_000_000 and not edited.unlimited_quota
    assert edited.model_limits == ("gpt-4o-mini",) and edited.allow_ips == ("127.0.0.1",)

    # Search.
    qtbot.keyClicks(pane.search_edit, "tabs-")
    qtbot.keyClick(pane.search_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: sorted(t.name for t in pane.tokens_model.tokens) == ["tabs-one", "tabs-two-edited"],
        timeout=10_000,
    )
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10_000)

    # Copy the whole key, then make it the profile's key.
    pane.tokens_view.selectRow(0)
    qtbot.mouseClick(pane.copy_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.revealed_key.startswith("sk-"), timeout=10_000)
    key = pane.revealed_key
    assert QGuiApplication.clipboard().text() == key and len(key) == 51
    assert "copied" in pane.key_label.text()
    qtbot.mouseClick(pane.use_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "now calls the gateway" in pane.key_label.text(), timeout=10_000)
    assert key not in pane.key_label.text()  # only a short form once stored
    assert run_async(qtbot, ctx.keys.get("emu")) == key
    assert chat(ctx, qtbot, "with the new key")  # the relay takes it
    pane.grab().save("/tmp/account-keys.png")

    # Batch delete both.
    selection = pane.tokens_view.selectionModel()
    for row in range(pane.tokens_model.rowCount()):
        selection.select(
            pane.tokens_model.index(row, 0),
            QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
        )
    assert pane.delete_button.text() == "Delete 2" and not pane.edit_button.isEnabled()
    qtbot.mouseClick(pane.delete_button, Qt.MouseButton.LeftButton)
    pane.confirm_box.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: pane.tokens_model.rowCount() == 0, timeout=10_000)
    forget_secret(key)


def test_reveal_limit_is_explained(pane: AccountPane, ctx: Any, emulator: Any, qtbot: Any) -> None:
    sign_in(pane, ctx, qtbot, "demo", "demo-password")
    pane.tabs.setCurrentIndex(TAB_KEYS)
    pane.tokens_view.selectRow(0)
    emulator.arm_fault("429", 1, path_prefix="/api/token/")
    qtbot.mouseClick(pane.copy_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.error_label.isVisible(), timeout=10_000)
    assert pane.error_label.text().startswith(REVEAL_LIMIT_MESSAGE)
    assert pane.stack.currentIndex() == SIGNED_IN and pane.revealed_key == ""


def test_logs_tab_filters_details_and_csv(
    pane: AccountPane, ctx: Any, qtbot: Any, tmp_path: Path
) -> None:
    sign_in(pane, ctx, qtbot, "demo", "demo-password")
    request_id = chat(ctx, qtbot, "find me in the logs")
    logs = pane.logs_tab
    assert logs is not None
    pane.tabs.setCurrentIndex(TAB_LOGS)
    qtbot.waitUntil(lambda: logs.model.rowCount() > 0, timeout=10_000)
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10_000)
    assert logs.total is not None and logs.total > 50 and logs.next_button.isEnabled()
    qtbot.mouseClick(logs.next_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: logs.page_label.text().startswith("Page 2"), timeout=10_000)
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10_000)

    pane.show_request_in_logs(request_id)  # what a chat message's "show in logs" calls
    qtbot.waitUntil(lambda: logs.model.rowCount() == 1, timeout=10_000)
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10_000)
    entry = logs.model.entries[0]
    assert entry.request_id == request_id and entry.model_name == "gpt-4o-mini"
    details = logs.details.toPlainText()
    assert request_id in details and "Model ratio" in details and "Group ratio" in details
    assert logs.model.data(logs.model.index(0, 10)) == request_id
    pane.grab().save("/tmp/account-logs.png")

    logs.request_edit.clear()
    logs.type_combo.setCurrentIndex(logs.type_combo.findData(2))
    logs.model_edit.setText("gpt-4o-mini")
    logs.range_combo.setCurrentIndex(2)  # last 24 hours
    target = tmp_path / "logs.csv"
    logs.export_to(target)
    qtbot.waitUntil(lambda: logs.last_export == target, timeout=10_000)
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert rows and all(r["model"] == "gpt-4o-mini" and r["type"] == "Consume" for r in rows)
    assert request_id in {r["request_id"] for r in rows}
    assert "Exported" in logs.status_label.text()


def channel_enabled(channels: Any) -> bool | None:
    chosen = channels.selected()
    return None if chosen is None else bool(chosen.enabled)


def test_root_sees_channels_and_can_test_and_toggle(
    pane: AccountPane, ctx: Any, qtbot: Any
) -> None:
    sign_in(pane, ctx, qtbot, "root", "root-password")
    assert pane.tabs.isTabVisible(TAB_CHANNELS)
    channels = pane.channels_tab
    assert channels is not None
    pane.tabs.setCurrentIndex(TAB_CHANNELS)
    qtbot.waitUntil(lambda: channels.model.rowCount() > 0, timeout=10_000)
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10_000)
    channels.view.selectRow(0)
    first = channels.selected()
    assert first is not None
    qtbot.mouseClick(channels.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: " OK in " in channels.last_test, timeout=10_000)
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10_000)
    assert channels.last_test.endswith(" s") and first.name in channels.last_test
    tested = channels.selected()
    assert tested is not None and tested.id == first.id and tested.response_time > 0
    pane.grab().save("/tmp/account-channels.png")

    qtbot.mouseClick(channels.toggle_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: channel_enabled(channels) is False, timeout=10_000)
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10_000)
    assert channels.toggle_button.text() == "Enable"
    qtbot.mouseClick(channels.toggle_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: channel_enabled(channels) is True, timeout=10_000)
    # Delete asks first; Cancel keeps the channel.
    qtbot.mouseClick(channels.delete_button, Qt.MouseButton.LeftButton)
    channels.confirm_box.button(QMessageBox.StandardButton.Cancel).click()
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10_000)
    assert first.id in [c.id for c in channels.model.channels]


def test_turnstile_or_no_password_leaves_only_the_token_form(pane: AccountPane, qtbot: Any) -> None:
    assert pane.login_options is not None and pane.login_options.password_form
    assert pane.password_box.isVisible() and pane.login_note.isHidden()
    pane.apply_login_options(LoginOptions(turnstile=True))
    assert pane.password_box.isHidden() and pane.use_token_button.isVisible()
    assert "Turnstile" in pane.login_note.text() and pane.login_note.isVisible()
    pane.apply_login_options(LoginOptions(password_login=False))
    assert pane.password_box.isHidden() and "turned off" in pane.login_note.text()


def test_status_bar_balance_follows_paid_calls(pane: AccountPane, ctx: Any, qtbot: Any) -> None:
    bar = StatusBar()
    qtbot.addWidget(bar)
    bar.show()
    bar.watch_balance(ctx)
    watcher = bar.balance_watcher
    assert watcher is not None and bar.balance_label.isHidden()  # nobody signed in
    watcher.min_interval = 0.3  # keep the test short; the app waits 5 s between reads
    sign_in(pane, ctx, qtbot, "demo", "demo-password")
    qtbot.waitUntil(lambda: bar.balance_label.isVisible(), timeout=10_000)
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10_000)
    before = bar.balance_label.text()
    assert before.startswith("Balance ¤")
    reads = watcher.reads
    for n in range(3):  # a burst: one read after it, not one per call
        chat(ctx, qtbot, f"paid call {n} " + "x" * 400)
    qtbot.waitUntil(lambda: bar.balance_label.text() != before, timeout=10_000)
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10_000)
    assert watcher.reads - reads <= 2
    qtbot.waitUntil(lambda: watcher.idle, timeout=10_000)
    # The watcher's own reads did not schedule another one.
    assert watcher.idle and not ctx.runner.busy
    qtbot.mouseClick(pane.sign_out_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bar.balance_label.isHidden(), timeout=10_000)
