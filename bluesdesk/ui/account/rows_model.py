"""One read-only table model for the Account pane's lists (API keys, logs, channels).

A table is a list of rows (any type) and a tuple of `Column`s saying how to show each field:
the header title, the cell text, an optional alignment, tooltip and sort key. `UserRole` gives
the row object itself, so views and tests can get at what a line stands for.
`make_rows_view` builds the QTableView all three tabs share (whole-row selection, no editing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

R = TypeVar("R")
SORT_ROLE = Qt.ItemDataRole.UserRole + 1  # the column's sort key, for a sort proxy


@dataclass(frozen=True, slots=True)
class Column(Generic[R]):
    """How one column shows a row. `tooltip` may answer None for "no tooltip"."""

    title: str
    text: Callable[[R], str]
    alignment: Qt.AlignmentFlag | None = None
    tooltip: Callable[[R], str | None] | None = None
    sort_key: Callable[[R], Any] | None = None

    def key(self, row: R) -> Any:
        return self.sort_key(row) if self.sort_key is not None else self.text(row)


class RowsTableModel(QAbstractTableModel, Generic[R]):
    """`rows` shown through `columns`; replace them all at once with `set_rows`."""

    def __init__(self, columns: Sequence[Column[R]], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.columns: tuple[Column[R], ...] = tuple(columns)
        self.rows: list[R] = []

    def set_rows(self, rows: Iterable[R]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> R | None:
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def replace_row(self, row: int, value: R) -> None:
        """Swap one row in place (selection and scroll position stay)."""
        if not 0 <= row < len(self.rows):
            return
        self.rows[row] = value
        last = self.index(row, len(self.columns) - 1)
        self.dataChanged.emit(self.index(row, 0), last)

    def rowCount(self, parent: Any = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Any = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self.columns)
        ):
            return self.columns[section].title
        return None

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.UserRole:
            return row
        column = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(row)
        if role == Qt.ItemDataRole.ToolTipRole and column.tooltip is not None:
            return column.tooltip(row)
        if role == Qt.ItemDataRole.TextAlignmentRole and column.alignment is not None:
            return int(column.alignment)
        if role == SORT_ROLE:
            return column.key(row)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.columns):
            return
        spec = self.columns[column]
        ranked = sorted(
            range(len(self.rows)),
            key=lambda i: spec.key(self.rows[i]),
            reverse=order == Qt.SortOrder.DescendingOrder,
        )
        self.layoutAboutToBeChanged.emit()
        moved = {old: new for new, old in enumerate(ranked)}
        self.rows = [self.rows[i] for i in ranked]
        for index in self.persistentIndexList():  # keep the selection on the same rows
            self.changePersistentIndex(index, self.index(moved[index.row()], index.column()))
        self.layoutChanged.emit()


def make_rows_view(model: QAbstractTableModel, *, multi_select: bool = False) -> QTableView:
    """The Account pane's table look: whole rows, no grid, no editing, columns fit content."""
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(
        QAbstractItemView.SelectionMode.ExtendedSelection
        if multi_select
        else QAbstractItemView.SelectionMode.SingleSelection
    )
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setShowGrid(False)
    view.setAlternatingRowColors(True)
    view.verticalHeader().hide()
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    view.horizontalHeader().setStretchLastSection(True)
    return view
