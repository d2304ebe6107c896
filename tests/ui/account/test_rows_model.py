"""RowsTableModel, the one model behind the Account pane's tables: columns from specs, the row
object under UserRole, tooltips and alignment where given, sorting by the sort key with the
selection kept, and in-place row updates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt

from bluesdesk.ui.account.rows_model import SORT_ROLE, Column, RowsTableModel, make_rows_view

pytestmark = pytest.mark.gui


@dataclass(frozen=True)
class Item:
    name: str
    size: int


def model_of(items: list[Item]) -> RowsTableModel[Item]:
    model: RowsTableModel[Item] = RowsTableModel(
        (
            Column("Name", lambda i: i.name, tooltip=lambda i: f"all about {i.name}"),
            Column(
                "Size",
                lambda i: f"{i.size} B",
                alignment=Qt.AlignmentFlag.AlignRight,
                sort_key=lambda i: i.size,
            ),
        )
    )
    model.set_rows(items)
    return model


def text(model: RowsTableModel[Any], row: int, column: int, role: Any = None) -> Any:
    return model.data(model.index(row, column), role or Qt.ItemDataRole.DisplayRole)


def test_cells_headers_and_roles(qapp: Any) -> None:
    model = model_of([Item("a", 10), Item("b", 9)])
    assert (model.rowCount(), model.columnCount()) == (2, 2)
    header = [model.headerData(c, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole)
              for c in range(2)]
    assert header == ["Name", "Size"]
    assert model.headerData(0, Qt.Orientation.Vertical, Qt.ItemDataRole.DisplayRole) is None
    assert text(model, 1, 1) == "9 B" and text(model, 0, 0) == "a"
    assert text(model, 0, 0, Qt.ItemDataRole.UserRole) == Item("a", 10)
    assert text(model, 0, 0, Qt.ItemDataRole.ToolTipRole) == "all about a"
    assert text(model, 0, 1, Qt.ItemDataRole.ToolTipRole) is None
    assert text(model, 0, 1, Qt.ItemDataRole.TextAlignmentRole) == int(Qt.AlignmentFlag.AlignRight)
    assert text(model, 0, 0, Qt.ItemDataRole.TextAlignmentRole) is None
    assert text(model, 0, 1, SORT_ROLE) == 10 and text(model, 0, 0, SORT_ROLE) == "a"
    assert model.row_at(1) == Item("b", 9) and model.row_at(2) is None and model.row_at(-1) is None


def test_sort_uses_the_key_and_keeps_the_selection(qapp: Any, qtbot: Any) -> None:
    # By text "10 B" < "9 B"; by the key 9 < 10 < 100.
    model = model_of([Item("ten", 10), Item("nine", 9), Item("hundred", 100)])
    view = make_rows_view(model)
    qtbot.addWidget(view)
    view.selectionModel().select(
        model.index(0, 0),
        QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
    )
    model.sort(1, Qt.SortOrder.AscendingOrder)
    assert [i.name for i in model.rows] == ["nine", "ten", "hundred"]
    assert [i.row() for i in view.selectionModel().selectedRows()] == [1]  # still "ten"
    model.sort(1, Qt.SortOrder.DescendingOrder)
    assert [i.name for i in model.rows] == ["hundred", "ten", "nine"]
    model.sort(0)
    assert [i.name for i in model.rows] == ["hundred", "nine", "ten"]


def test_replace_row_updates_in_place(qapp: Any, qtbot: Any) -> None:
    model = model_of([Item("a", 1), Item("b", 2)])
    with qtbot.waitSignal(model.dataChanged) as changed:
        model.replace_row(1, Item("b", 20))
    top, bottom = changed.args[0], changed.args[1]
    assert (top.row(), top.column(), bottom.row(), bottom.column()) == (1, 0, 1, 1)
    assert text(model, 1, 1) == "20 B"
    model.replace_row(5, Item("c", 3))  # out of range: ignored
    assert model.rowCount() == 2
    model.set_rows([])
    assert model.rowCount() == 0
