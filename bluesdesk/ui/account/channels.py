"""The Channels tab (admins and root only): a paged, filterable table of upstream channels
with test, enable/disable and delete (confirmed).

A test's outcome stays in its row ("OK — 0.45 s", "Failed after 1.23 s: why") and, as in the
web console, updates the row's response and test time in place instead of reloading the page.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime

from PySide6.QtCore import QObject
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
)

from bluesdesk.core.pricing import QuotaSettings
from bluesdesk.gateway.console import Channel, ChannelTest
from bluesdesk.services.account import quota_text
from bluesdesk.ui.account.paged_tab import PagedTab
from bluesdesk.ui.account.rows_model import Column, RowsTableModel, make_rows_view

PAGE_SIZE = 20
STATUS_TEXT = {1: "Enabled", 2: "Disabled (manual)", 3: "Disabled (auto)"}
RESULT_CHARS = 60  # a failure reason is cut here in the cell; the tooltip has all of it


def outcome_text(result: ChannelTest) -> str:
    """A test's outcome as the row shows it: "OK — 0.45 s" or "Failed after 1.23 s: why"."""
    if result.success:
        return f"OK — {result.seconds:.2f} s"
    reason = result.message or "no reason given"
    if result.seconds > 0:
        return f"Failed after {result.seconds:.2f} s: {reason}"
    return f"Failed: {reason}"


def _models(c: Channel) -> str:
    return ", ".join(c.models[:3]) + (f" +{len(c.models) - 3}" if len(c.models) > 3 else "")


def _tested(c: Channel) -> str:
    return datetime.fromtimestamp(c.test_time).strftime("%m-%d %H:%M") if c.test_time else "—"


class ChannelsModel(RowsTableModel[Channel]):
    """One page of channels, and the outcome of the tests run here (by channel id)."""

    def __init__(self, parent: QObject | None = None) -> None:
        self.settings: QuotaSettings | None = None
        self.tests: dict[int, ChannelTest] = {}
        super().__init__(self._columns(), parent)

    def _columns(self) -> tuple[Column[Channel], ...]:
        return (
            Column("ID", lambda c: str(c.id), sort_key=lambda c: c.id),
            Column("Name", lambda c: c.name),
            Column("Status", lambda c: STATUS_TEXT.get(c.status, str(c.status))),
            Column("Type", lambda c: str(c.type), sort_key=lambda c: c.type),
            Column("Models", _models, tooltip=lambda c: "\n".join(c.models)),
            Column("Group", lambda c: c.group),
            Column("Priority", lambda c: str(c.priority), sort_key=lambda c: c.priority),
            Column("Weight", lambda c: str(c.weight), sort_key=lambda c: c.weight),
            Column(
                "Response",
                self._response,
                tooltip=self._response_tip,
                sort_key=lambda c: c.response_time,
            ),
            Column("Balance", lambda c: f"{c.balance:,.2f}", sort_key=lambda c: c.balance),
            Column(
                "Used",
                lambda c: quota_text(c.used_quota, self.settings),
                sort_key=lambda c: c.used_quota,
            ),
            Column("Tested", _tested, sort_key=lambda c: c.test_time),
        )

    def _response(self, c: Channel) -> str:
        result = self.tests.get(c.id)
        if result is not None:
            text = outcome_text(result)
            return text if len(text) <= RESULT_CHARS else text[: RESULT_CHARS - 1] + "…"
        return f"{c.response_time / 1000:.2f} s" if c.response_time else "—"

    def _response_tip(self, c: Channel) -> str | None:
        result = self.tests.get(c.id)
        return outcome_text(result) if result is not None else None

    @property
    def channels(self) -> list[Channel]:
        return self.rows

    def set_channels(self, channels: list[Channel], settings: QuotaSettings | None) -> None:
        self.settings = settings
        if not channels:
            self.tests.clear()  # signed out or another profile: old results mean nothing
        self.set_rows(channels)

    def channel_at(self, row: int) -> Channel | None:
        return self.row_at(row)

    def record_test(self, channel_id: int, result: ChannelTest, now: float) -> Channel | None:
        """Keep `result` for the row and update its response and test time in place, as the
        web console does (the gateway stores the same figures); the updated channel."""
        self.tests[channel_id] = result
        for row, channel in enumerate(self.rows):
            if channel.id != channel_id:
                continue
            updated = replace(channel, test_time=int(now))
            if result.seconds > 0:
                updated = replace(updated, response_time=round(result.seconds * 1000))
            self.replace_row(row, updated)
            return updated
        return None


class ChannelsTab(PagedTab):
    task = "channels"
    page_size = PAGE_SIZE

    def _build(self) -> None:
        self.last_test = ""
        self.last_balance = ""

        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText(self.tr("Search name, URL or id"))
        self.search_edit.returnPressed.connect(self.search)
        self.model_edit = QLineEdit()
        self.model_edit.setPlaceholderText(self.tr("Model"))
        self.model_edit.returnPressed.connect(self.search)
        self.status_combo = QComboBox()
        self.status_combo.addItem(self.tr("Any status"), "")
        self.status_combo.addItem(self.tr("Enabled"), "enabled")
        self.status_combo.addItem(self.tr("Disabled"), "disabled")
        self.group_edit = QLineEdit()
        self.group_edit.setPlaceholderText(self.tr("Group"))
        self.group_edit.returnPressed.connect(self.search)
        self.search_button = QPushButton(self.tr("Search"))
        self.search_button.clicked.connect(lambda *_: self.search())
        filters = QHBoxLayout()
        filters.addWidget(self.search_edit, 2)
        filters.addWidget(self.model_edit, 1)
        filters.addWidget(self.group_edit, 1)
        filters.addWidget(self.status_combo)
        filters.addWidget(self.search_button)

        self.test_button = QPushButton(self.tr("Test"))
        self.test_button.clicked.connect(lambda *_: self._test_clicked())
        self.balance_button = QPushButton(self.tr("Refresh balance"))
        self.balance_button.setToolTip(
            self.tr("Ask the gateway to read the upstream's balance now")
        )
        self.balance_button.clicked.connect(lambda *_: self._balance_clicked())
        self.toggle_button = QPushButton(self.tr("Disable"))
        self.toggle_button.clicked.connect(lambda *_: self._toggle_clicked())
        self.delete_button = QPushButton(self.tr("Delete"))
        self.delete_button.setProperty("danger", True)
        self.delete_button.clicked.connect(lambda *_: self._delete_clicked())
        self.result_label = QLabel()
        self.result_label.setObjectName("muted")
        actions = QHBoxLayout()
        actions.addWidget(self.test_button)
        actions.addWidget(self.balance_button)
        actions.addWidget(self.toggle_button)
        actions.addWidget(self.delete_button)
        actions.addWidget(self.result_label, 1)
        actions.addWidget(self.prev_button)
        actions.addWidget(self.page_label)
        actions.addWidget(self.next_button)

        self.model = ChannelsModel(self)
        self.view = make_rows_view(self.model)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addLayout(filters)
        layout.addLayout(actions)
        layout.addWidget(self.view, 1)
        self._update_buttons()

    async def load(self) -> None:
        found = await self.account.channels(
            self.page,
            PAGE_SIZE,
            keyword=self.search_edit.text().strip(),
            status=str(self.status_combo.currentData() or ""),
            group=self.group_edit.text().strip(),
            model=self.model_edit.text().strip(),
        )
        selected = self.selected()
        self.model.set_channels(found.items, self._settings())
        self.show_page(found)
        if selected is not None:
            for row, channel in enumerate(found.items):
                if channel.id == selected.id:
                    self.view.selectRow(row)
        self._update_buttons()

    def selected(self) -> Channel | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.channel_at(rows[0].row()) if rows else None

    def _update_buttons(self) -> None:
        channel = self.selected()
        buttons = (self.test_button, self.balance_button, self.toggle_button, self.delete_button)
        for button in buttons:
            button.setEnabled(channel is not None)
        self.toggle_button.setText(
            self.tr("Enable") if channel is not None and not channel.enabled else self.tr("Disable")
        )

    def _test_clicked(self) -> None:
        channel = self.selected()
        if channel is None:
            return

        async def test() -> None:
            self.result_label.setText(self.tr("Testing {0}…").format(channel.name))
            result = await self.account.test_channel(channel.id)
            if result.success:
                text = self.tr("{0}: OK in {1:.2f} s").format(channel.name, result.seconds)
            else:
                text = f"{channel.name}: {outcome_text(result)}"
            self.last_test = text
            self.result_label.setText(text)
            self.model.record_test(channel.id, result, time.time())
            self._update_buttons()

        self._run(test(), "channel-test")

    def _balance_clicked(self) -> None:
        channel = self.selected()
        if channel is None:
            return

        async def refresh() -> None:
            balance = await self.account.refresh_channel_balance(channel.id)
            self.last_balance = self.tr("{0}: balance {1:,.2f}").format(channel.name, balance)
            self.result_label.setText(self.last_balance)
            await self.load()

        self._run(refresh(), "channel-balance")

    def _toggle_clicked(self) -> None:
        channel = self.selected()
        if channel is None:
            return

        async def toggle() -> None:
            await self.account.set_channel_enabled(channel.id, not channel.enabled)
            await self.load()

        self._run(toggle(), "channel-toggle")

    def _delete_clicked(self) -> None:
        channel = self.selected()
        if channel is None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            self.tr("Delete channel"),
            self.tr("Delete the channel “{0}” (id {1})? Requests will no longer use it.").format(
                channel.name, channel.id
            ),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)

        async def delete() -> None:
            await self.account.delete_channel(channel.id)
            await self.load()

        box.buttonClicked.connect(
            lambda button: (
                self._run(delete(), "channel-delete")
                if box.standardButton(button) == QMessageBox.StandardButton.Yes
                else None
            )
        )
        box.open()
        self.confirm_box = box  # tests drive it
