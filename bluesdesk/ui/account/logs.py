"""The Logs tab: a paged, filtered table of /api/log/self, a details panel, CSV export.

The tab owns no network code: the pane hands it the account service and its task runner
(`run(coro, what)`), which shows errors and turns a `SignedOut` into the sign-in form.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from bluesdesk.core.pricing import QuotaSettings
from bluesdesk.gateway.console import LogEntry
from bluesdesk.services.account import LOG_TYPES, AccountService, log_row, logs_csv, quota_text

PAGE_SIZE = 50
COLUMNS = (
    "Time",
    "Type",
    "Model",
    "Token",
    "Prompt",
    "Completion",
    "Cost",
    "Duration",
    "First token",
    "Stream",
    "Request id",
)
# (label, seconds back; 0 = any time)
RANGES = (
    ("Any time", 0),
    ("Last hour", 3600),
    ("Last 24 hours", 86_400),
    ("Last 7 days", 7 * 86_400),
    ("Last 30 days", 30 * 86_400),
)
# `other` fields worth showing, in this order, with their meaning.
DETAIL_FIELDS = (
    ("model_ratio", "Model ratio"),
    ("completion_ratio", "Completion ratio"),
    ("group_ratio", "Group ratio"),
    ("user_group_ratio", "User group ratio"),
    ("model_price", "Fixed price per call"),
    ("cache_tokens", "Cached prompt tokens"),
    ("cache_ratio", "Cache ratio"),
    ("frt", "First token (ms)"),
    ("upstream_model_name", "Upstream model"),
    ("reasoning_effort", "Reasoning effort"),
    ("request_path", "Request path"),
)

Runner = Callable[[Awaitable[Any], str], None]


def details_text(entry: LogEntry, settings: QuotaSettings | None) -> str:
    """The details panel: the row's figures, then the parsed `other` fields."""
    lines = [
        f"Request id: {entry.request_id or '—'}",
        f"Model: {entry.model_name or '—'}   Group: {entry.group or '—'}",
        f"Tokens: {entry.prompt_tokens:,} prompt + {entry.completion_tokens:,} completion",
        f"Cost: {quota_text(entry.quota, settings)} ({entry.quota:,} quota)",
        f"Duration: {entry.use_time} s   Stream: {'yes' if entry.is_stream else 'no'}",
    ]
    shown = set()
    for key, label in DETAIL_FIELDS:
        value = entry.other.get(key)
        if value is None or value == "" or (key in ("model_price", "frt") and value == -1):
            continue
        shown.add(key)
        lines.append(f"{label}: {value}")
    rest = {k: v for k, v in entry.other.items() if k not in shown}
    if rest:
        lines.append("Other: " + ", ".join(f"{k}={v}" for k, v in sorted(rest.items())))
    if entry.content:
        lines.append("")
        lines.append(entry.content)
    return "\n".join(lines)


class LogsModel(QAbstractTableModel):
    """One page of log entries."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.entries: list[LogEntry] = []
        self.settings: QuotaSettings | None = None

    def set_entries(self, entries: list[LogEntry], settings: QuotaSettings | None) -> None:
        self.beginResetModel()
        self.entries = list(entries)
        self.settings = settings
        self.endResetModel()

    def rowCount(self, parent: Any = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.entries)

    def columnCount(self, parent: Any = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        entry = self.entries[index.row()]
        if role == Qt.ItemDataRole.UserRole:
            return entry
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        row = log_row(entry, self.settings)
        # log_row: time type model token group prompt completion cost quota duration frt stream rid
        cells = [row[0], row[1], row[2], row[3], row[5], row[6], row[7]]
        cells += [f"{entry.use_time} s", f"{row[10]} ms" if row[10] else "—", row[11], row[12]]
        return cells[index.column()]


class LogsTab(QWidget):
    """Filters on top, the table with a details panel beside it, paging and export below."""

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
        self.total: int | None = None
        self.last_export: Path | None = None

        self.type_combo = QComboBox()
        self.type_combo.addItem(self.tr("All types"), 0)
        for code, name in LOG_TYPES.items():
            self.type_combo.addItem(self.tr(name), code)
        self.model_edit = QLineEdit()
        self.model_edit.setPlaceholderText(self.tr("Model"))
        self.token_edit = QLineEdit()
        self.token_edit.setPlaceholderText(self.tr("Key name"))
        self.group_edit = QLineEdit()
        self.group_edit.setPlaceholderText(self.tr("Group"))
        self.range_combo = QComboBox()
        for label, seconds in RANGES:
            self.range_combo.addItem(self.tr(label), seconds)
        self.request_edit = QLineEdit()
        self.request_edit.setPlaceholderText(self.tr("Request id"))
        self.apply_button = QPushButton(self.tr("Search"))
        self.apply_button.setProperty("primary", True)
        self.apply_button.clicked.connect(lambda *_: self.search())
        for edit in (self.model_edit, self.token_edit, self.group_edit, self.request_edit):
            edit.returnPressed.connect(self.search)
        filters = QHBoxLayout()
        filters.addWidget(self.type_combo)
        filters.addWidget(self.model_edit, 1)
        filters.addWidget(self.token_edit, 1)
        filters.addWidget(self.group_edit)
        filters.addWidget(self.range_combo)
        filters.addWidget(self.request_edit, 1)
        filters.addWidget(self.apply_button)

        self.model = LogsModel(self)
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
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._show_details())
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setPlaceholderText(self.tr("Select a row to see how it was billed."))
        splitter = QSplitter()
        splitter.addWidget(self.view)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)

        self.prev_button = QPushButton("‹")
        self.prev_button.setToolTip(self.tr("Previous page"))
        self.prev_button.clicked.connect(lambda *_: self.go_page(self.page - 1))
        self.next_button = QPushButton("›")
        self.next_button.setToolTip(self.tr("Next page"))
        self.next_button.clicked.connect(lambda *_: self.go_page(self.page + 1))
        self.page_label = QLabel()
        self.page_label.setObjectName("muted")
        self.export_button = QPushButton(self.tr("Export CSV…"))
        self.export_button.clicked.connect(lambda *_: self._export_clicked())
        self.status_label = QLabel()
        self.status_label.setObjectName("muted")
        bottom = QHBoxLayout()
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(self.export_button)
        bottom.addSpacing(16)
        bottom.addWidget(self.prev_button)
        bottom.addWidget(self.page_label)
        bottom.addWidget(self.next_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addLayout(filters)
        layout.addWidget(splitter, 1)
        layout.addLayout(bottom)

    # ---- filters and paging ------------------------------------------------------------------

    def filters(self, now: float | None = None) -> dict[str, object]:
        """The filter fields in new-api's query names (empty ones left out)."""
        found: dict[str, object] = {}
        if self.type_combo.currentData():
            found["type"] = int(self.type_combo.currentData())
        for name, edit in (
            ("model_name", self.model_edit),
            ("token_name", self.token_edit),
            ("group", self.group_edit),
            ("request_id", self.request_edit),
        ):
            if edit.text().strip():
                found[name] = edit.text().strip()
        back = int(self.range_combo.currentData() or 0)
        if back:
            found["start_timestamp"] = int((time.time() if now is None else now) - back)
        return found

    def search(self) -> None:
        self.page = 1
        self.reload()

    def go_page(self, page: int) -> None:
        self.page = max(1, page)
        self.reload()

    def reload(self) -> None:
        self._run(self.load(), "logs")

    def show_request(self, request_id: str) -> None:
        """Filter on one request id (a chat message's "show in logs")."""
        self.type_combo.setCurrentIndex(0)
        self.range_combo.setCurrentIndex(0)
        self.model_edit.clear()
        self.token_edit.clear()
        self.group_edit.clear()
        self.request_edit.setText(request_id)
        self.search()

    async def load(self) -> None:
        found = await self.account.logs(self.page, PAGE_SIZE, self.filters())
        self.total = found.total
        self.model.set_entries(found.items, self._settings())
        pages = f" of {max(1, (found.total - 1) // PAGE_SIZE + 1)}" if found.total else ""
        self.page_label.setText(self.tr("Page {0}{1}").format(self.page, pages))
        self.prev_button.setEnabled(self.page > 1)
        self.next_button.setEnabled(found.has_next)
        count = f"{found.total:,}" if found.total is not None else "?"
        self.status_label.setText(self.tr("{0} matching entries").format(count))
        if found.items:
            self.view.selectRow(0)
        else:
            self.details.clear()

    def selected(self) -> LogEntry | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.entries[rows[0].row()] if rows else None

    def _show_details(self) -> None:
        entry = self.selected()
        self.details.setPlainText(details_text(entry, self._settings()) if entry else "")

    # ---- export ------------------------------------------------------------------------------

    def _export_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, self.tr("Export logs"), "bluesdesk-logs.csv", self.tr("CSV files (*.csv)")
        )
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        """Write every row matching the filters (not just this page) to `path`."""
        filters = self.filters()

        async def export() -> None:
            self.export_button.setEnabled(False)
            try:
                entries = await self.account.all_logs(filters)
                text = logs_csv(entries, self._settings())
                await asyncio.to_thread(path.write_text, text, encoding="utf-8")
            except OSError as exc:
                self.status_label.setText(
                    self.tr("Could not write {0}: {1}").format(path.name, exc.strerror or exc)
                )
                return
            finally:
                self.export_button.setEnabled(True)
            self.last_export = path
            self.status_label.setText(
                self.tr("Exported {0} entries to {1}").format(len(entries), path.name)
            )

        self._run(export(), "export")
