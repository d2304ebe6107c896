"""The Channels tab (admins and root only): a paged, filterable table of upstream channels
with test (shows the answer time), enable/disable and delete (confirmed)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from bluesdesk.core.pricing import QuotaSettings
from bluesdesk.gateway.console import Channel
from bluesdesk.services.account import AccountService, quota_text

PAGE_SIZE = 20
STATUS_TEXT = {1: "Enabled", 2: "Disabled (manual)", 3: "Disabled (auto)"}
COLUMNS = (
    "ID",
    "Name",
    "Status",
    "Type",
    "Models",
    "Group",
    "Priority",
    "Weight",
    "Response",
    "Balance",
    "Used",
    "Tested",
)
Runner = Callable[[Awaitable[Any], str], None]


class ChannelsModel(QAbstractTableModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.channels: list[Channel] = []
        self.settings: QuotaSettings | None = None

    def set_channels(self, channels: list[Channel], settings: QuotaSettings | None) -> None:
        self.beginResetModel()
        self.channels = list(channels)
        self.settings = settings
        self.endResetModel()

    def rowCount(self, parent: Any = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.channels)

    def columnCount(self, parent: Any = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        c = self.channels[index.row()]
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 4:
            return "\n".join(c.models)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        models = ", ".join(c.models[:3]) + (f" +{len(c.models) - 3}" if len(c.models) > 3 else "")
        tested = datetime.fromtimestamp(c.test_time).strftime("%m-%d %H:%M") if c.test_time else "—"
        cells = (
            str(c.id),
            c.name,
            STATUS_TEXT.get(c.status, str(c.status)),
            str(c.type),
            models,
            c.group,
            str(c.priority),
            str(c.weight),
            f"{c.response_time / 1000:.2f} s" if c.response_time else "—",
            f"{c.balance:,.2f}",
            quota_text(c.used_quota, self.settings),
            tested,
        )
        return cells[index.column()]

    def channel_at(self, row: int) -> Channel | None:
        return self.channels[row] if 0 <= row < len(self.channels) else None


class ChannelsTab(QWidget):
    def __init__(
        self,
        account: AccountService,
        run: Runner,
        settings: Callable[[], QuotaSettings | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.account = account
        self._run = run
        self._settings = settings
        self.page = 1
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
        self.prev_button = QPushButton("‹")
        self.prev_button.clicked.connect(lambda *_: self.go_page(self.page - 1))
        self.next_button = QPushButton("›")
        self.next_button.clicked.connect(lambda *_: self.go_page(self.page + 1))
        self.page_label = QLabel()
        self.page_label.setObjectName("muted")
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
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setShowGrid(False)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().hide()
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addLayout(filters)
        layout.addLayout(actions)
        layout.addWidget(self.view, 1)
        self._update_buttons()

    def search(self) -> None:
        self.page = 1
        self.reload()

    def go_page(self, page: int) -> None:
        self.page = max(1, page)
        self.reload()

    def reload(self) -> None:
        self._run(self.load(), "channels")

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
        pages = f" of {max(1, (found.total - 1) // PAGE_SIZE + 1)}" if found.total else ""
        self.page_label.setText(self.tr("Page {0}{1}").format(self.page, pages))
        self.prev_button.setEnabled(self.page > 1)
        self.next_button.setEnabled(found.has_next)
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
                text = self.tr("{0}: failed — {1}").format(channel.name, result.message)
            self.last_test = text
            self.result_label.setText(text)
            await self.load()

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
