"""The Channels tab's test button: a failed test shows how long it took and why, in the status
line and in the channel's row; a passed one "OK — 0.45 s". Either way the row's response and
test time change in place, as in the web console, without reloading the page."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt

from bluesdesk.emulator.accounts import ROOT
from bluesdesk.gateway.console import management_root
from bluesdesk.ui.account.pane import TAB_CHANNELS, AccountPane
from tests.ui.account.rig import idle, open_pane, sign_in
from tests.ui.conftest import run_async

pytestmark = pytest.mark.gui

RESPONSE, TESTED = 8, 11  # columns of the channels table
AUTO_DISABLED = 3  # the emulator's upstream fails for channels the system disabled


@pytest.fixture
def pane(ctx: Any, emulator: Any, qtbot: Any) -> Iterator[AccountPane]:
    widget = open_pane(ctx, emulator, qtbot)
    yield widget
    idle(ctx, qtbot)


def set_status(ctx: Any, qtbot: Any, channel_id: int, status: int) -> None:
    """PUT /api/channel/ with the pane's login, as the web console would."""
    profile = ctx.profiles.active()
    auth = run_async(qtbot, ctx.account.session(profile))
    answer = httpx.put(management_root(profile) + "/api/channel/", headers=auth.headers(),
                       json={"id": channel_id, "status": status}, timeout=10)
    assert answer.json()["success"], answer.text


def cell(model: Any, row: int, column: int, role: Any = Qt.ItemDataRole.DisplayRole) -> Any:
    return model.data(model.index(row, column), role)


def test_failed_and_passed_tests_show_in_the_row(pane: AccountPane, ctx: Any, qtbot: Any,
                                                 emulator: Any) -> None:
    sign_in(pane, ctx, qtbot, ROOT.username, ROOT.password)
    channels = pane.channels_tab
    assert channels is not None
    pane.tabs.setCurrentIndex(TAB_CHANNELS)
    qtbot.waitUntil(lambda: channels.model.rowCount() > 1, timeout=10_000)
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10_000)
    model = channels.model
    row = 1
    channel = model.channel_at(row)
    assert channel is not None
    set_status(ctx, qtbot, channel.id, AUTO_DISABLED)
    try:
        emulator.reset_faults()  # fresh request counters
        channels.view.selectRow(row)
        started = time.time()
        qtbot.mouseClick(channels.test_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "Failed after" in channels.last_test, timeout=10_000)
        qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10_000)
        result = model.tests[channel.id]
        assert not result.success and 0.2 <= result.seconds <= 1.8
        expected = f"Failed after {result.seconds:.2f} s: upstream returned 401"
        assert channels.last_test == f"{channel.name}: {expected}"
        assert channels.result_label.text() == channels.last_test
        assert cell(model, row, RESPONSE) == expected
        assert cell(model, row, RESPONSE, Qt.ItemDataRole.ToolTipRole) == expected
        updated = model.channel_at(row)
        assert updated is not None and updated.id == channel.id
        assert updated.response_time == round(result.seconds * 1000)
        assert updated.test_time >= int(started) and cell(model, row, TESTED) != "—"
        assert pane.error_label.isHidden()  # a failed test is a result, not an error
        assert emulator.request_count("/api/channel/") == 0  # updated in place, no reload
        selected = channels.selected()
        assert selected is not None and selected.id == channel.id
    finally:
        set_status(ctx, qtbot, channel.id, 1)

    qtbot.mouseClick(channels.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: " OK in " in channels.last_test, timeout=10_000)
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10_000)
    passed = model.tests[channel.id]
    assert passed.success
    assert cell(model, row, RESPONSE) == f"OK — {passed.seconds:.2f} s"
    assert channels.last_test == f"{channel.name}: OK in {passed.seconds:.2f} s"
    # Other rows keep the gateway's stored figures.
    other = model.channel_at(0)
    assert other is not None and other.id not in model.tests
    assert cell(model, 0, RESPONSE) == (
        f"{other.response_time / 1000:.2f} s" if other.response_time else "—"
    )
    assert cell(model, 0, RESPONSE, Qt.ItemDataRole.ToolTipRole) is None
