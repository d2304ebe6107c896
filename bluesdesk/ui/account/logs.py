"""The Logs tab: a paged, filtered table of /api/log/self, a details panel, CSV export.

The tab owns no network code: the pane hands it the account service and its task runner
(`run(coro, what)`), which shows errors and turns a `SignedOut` into the sign-in form.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
)

from bluesdesk.core.pricing import QuotaSettings
from bluesdesk.gateway.console import LogEntry
from bluesdesk.services.account import LOG_TYPES, log_row, logs_csv, quota_text
from bluesdesk.ui.account.paged_tab import PagedTab
from bluesdesk.ui.account.rows_model import Column, RowsTableModel, make_rows_view

PAGE_SIZE = 50
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


class LogsModel(RowsTableModel[LogEntry]):
    """One page of log entries."""

    def __init__(self, parent: QObject | None = None) -> None:
        self.settings: QuotaSettings | None = None
        super().__init__(self._columns(), parent)

    def _columns(self) -> tuple[Column[LogEntry], ...]:
        def cell(field: int) -> Callable[[LogEntry], str]:
            # log_row: time type model token group prompt completion cost quota duration frt
            # stream rid — the table shows the same texts as the CSV.
            return lambda e: log_row(e, self.settings)[field]

        def first_token(e: LogEntry) -> str:
            frt = log_row(e, self.settings)[10]
            return f"{frt} ms" if frt else "—"

        return (
            Column("Time", cell(0), sort_key=lambda e: e.created_at),
            Column("Type", cell(1)),
            Column("Model", cell(2)),
            Column("Token", cell(3)),
            Column("Prompt", cell(5), sort_key=lambda e: e.prompt_tokens),
            Column("Completion", cell(6), sort_key=lambda e: e.completion_tokens),
            Column("Cost", cell(7), sort_key=lambda e: e.quota),
            Column("Duration", lambda e: f"{e.use_time} s", sort_key=lambda e: e.use_time),
            Column("First token", first_token),
            Column("Stream", cell(11)),
            Column("Request id", cell(12)),
        )

    @property
    def entries(self) -> list[LogEntry]:
        return self.rows

    def set_entries(self, entries: list[LogEntry], settings: QuotaSettings | None) -> None:
        self.settings = settings
        self.set_rows(entries)


class LogsTab(PagedTab):
    """Filters on top, the table with a details panel beside it, paging and export below."""

    task = "logs"
    page_size = PAGE_SIZE

    def _build(self) -> None:
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
        self.view = make_rows_view(self.model)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._show_details())
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setPlaceholderText(self.tr("Select a row to see how it was billed."))
        splitter = QSplitter()
        splitter.addWidget(self.view)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)

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
        self.show_page(found)
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
