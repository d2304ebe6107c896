"""The Models table: one row per catalog model, and a proxy that shows what `filter_rows` picks.

The source model never creates a widget per row; display texts (prices need Decimal formatting)
are computed on first paint and kept. It sorts itself (one Python key per row, not a comparison
callback), so the proxy only keeps the accepted source rows, in source order: a keystroke costs
one `filter_rows` call (over the previous result when typing forward) and a layout change.
"""

from __future__ import annotations

import bisect
import enum
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractProxyModel,
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)

from bluesdesk.core.catalog_filter import FilterRow, ModelFilter, filter_rows, narrows
from bluesdesk.core.catalog_model import CatalogModel
from bluesdesk.core.pricing import Price, PriceKind, QuotaSettings, format_price
from bluesdesk.ui.models.vendors import VENDOR_ICON_ROLE, icon_key

Index = QModelIndex | QPersistentModelIndex

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
MODEL_ROLE = Qt.ItemDataRole.UserRole + 2  # the CatalogModel of the row
CAPS_ROLE = Qt.ItemDataRole.UserRole + 3  # its capabilities (for the badge delegate)


class Column(enum.IntEnum):
    MODEL = 0
    VENDOR = 1
    CAPABILITIES = 2
    CONTEXT = 3
    GROUPS = 4
    INPUT = 5
    OUTPUT = 6
    STAR = 7


_COLUMN_COUNT = len(Column)
_COLUMNS = tuple(Column)  # indexing a tuple is much cheaper than calling Column(n) per cell

HEADERS = {
    Column.MODEL: "Model",
    Column.VENDOR: "Vendor",
    Column.CAPABILITIES: "Capabilities",
    Column.CONTEXT: "Context",
    Column.GROUPS: "Groups",
    Column.INPUT: "Input",
    Column.OUTPUT: "Output",
    Column.STAR: "★",
}

HEADER_TIPS = {
    Column.STAR: "Favourites (click a star to toggle)",
    Column.INPUT: "Input price per 1M tokens, or the price per request",
    Column.OUTPUT: "Output price per 1M tokens",
}

UNKNOWN = "—"


def context_text(tokens: int | None) -> str:
    """128000 → "128K", 131072 → "128K", 1048576 → "1M"; None → "—"."""
    if not tokens:
        return UNKNOWN
    # Binary sizes (2^n × 1024) are what vendors call "128K" or "1M"; the rest are decimal.
    binary = tokens % 1024 == 0 and (tokens // 1024) & (tokens // 1024 - 1) == 0
    if tokens >= 1_000_000:
        value = tokens / 1_048_576 if binary else tokens / 1_000_000
        return f"{value:.1f}".rstrip("0").rstrip(".") + "M"
    if tokens >= 1000:
        value = tokens / 1024 if binary else tokens / 1000
        return f"{value:.0f}K"
    return str(tokens)


_ROLES = frozenset(
    int(role)
    for role in (
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.ToolTipRole,
        Qt.ItemDataRole.TextAlignmentRole,
        Qt.ItemDataRole.AccessibleTextRole,
        SORT_ROLE,
        MODEL_ROLE,
        CAPS_ROLE,
        VENDOR_ICON_ROLE,
    )
)


class ModelsTableModel(QAbstractTableModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.models: list[CatalogModel] = []
        self.rows: list[FilterRow] = []
        self.prices: list[Price | None] = []
        self.settings: QuotaSettings | None = None
        self._texts: dict[int, tuple[str, str]] = {}
        self._row_of: dict[str, int] = {}

    def set_catalog(
        self,
        models: Sequence[CatalogModel],
        rows: Sequence[FilterRow],
        prices: Sequence[Price | None],
        settings: QuotaSettings | None,
    ) -> None:
        self.beginResetModel()
        self.models = list(models)
        self.rows = list(rows)
        self.prices = list(prices)
        self.settings = settings
        self._texts.clear()
        self._row_of = {m.id: i for i, m in enumerate(self.models)}
        self.endResetModel()

    def sort_rows(
        self,
        column: int,
        order: Qt.SortOrder,
        on_reorder: Callable[[list[int]], None] | None = None,
    ) -> None:
        """Reorder the rows themselves: one Python sort key per row (a few ms for 5,000), where
        Qt's proxy sort would call `data` twice per comparison (seconds). Persistent indexes
        (the selection) follow their rows; `on_reorder(new_row_of_old)` runs before the views
        hear of the new layout."""
        if not 0 <= column < _COLUMN_COUNT or len(self.models) < 2:
            return
        col = Column(column)
        keys = [self._sort_key(i, m, col) for i, m in enumerate(self.models)]
        ids = [m.id.lower() for m in self.models]
        new_order = sorted(
            range(len(self.models)),
            key=lambda i: (keys[i], ids[i]),
            reverse=order == Qt.SortOrder.DescendingOrder,
        )
        new_row_of_old = [0] * len(new_order)
        for new, old in enumerate(new_order):
            new_row_of_old[old] = new
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        self.models = [self.models[i] for i in new_order]
        self.rows = [self.rows[i] for i in new_order]
        self.prices = [self.prices[i] for i in new_order]
        self._texts = {new_row_of_old[r]: v for r, v in self._texts.items()}
        self._row_of = {m.id: i for i, m in enumerate(self.models)}
        self.changePersistentIndexList(
            persistent,
            [self.index(new_row_of_old[i.row()], i.column()) for i in persistent],
        )
        if on_reorder is not None:
            on_reorder(new_row_of_old)
        self.layoutChanged.emit()

    def row_of(self, model_id: str) -> int:
        return self._row_of.get(model_id, -1)

    def set_favourites(self, starred: frozenset[str]) -> list[int]:
        """Update the stars in place (no reset, so selection and scroll stay); changed rows."""
        changed = []
        for i, row in enumerate(self.rows):
            want = row.model_id in starred
            if row.favourite != want:
                self.rows[i] = _with_favourite(row, want)
                changed.append(i)
        for i in changed:
            index = self.index(i, Column.STAR)
            self.dataChanged.emit(index, index)
        return changed

    # ---- QAbstractTableModel

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.models)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else _COLUMN_COUNT  # called per row: keep it cheap

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or section >= len(Column):
            return None
        column = Column(section)
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS.get(column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (
            Column.CONTEXT,
            Column.INPUT,
            Column.OUTPUT,
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # Painting asks for a dozen roles per cell; most are answered "none" here at once.
        if role not in _ROLES or not index.isValid():
            return None
        return self.cell(index.row(), index.column(), role)

    def cell(self, r: int, c: int, role: int) -> Any:
        """`data` of row `r`, column `c` (the proxy calls this directly: no index per role)."""
        if not 0 <= r < len(self.models):
            return None
        model = self.models[r]
        column = _COLUMNS[c]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(r, model, column)
        if role == SORT_ROLE:
            return self._sort_key(r, model, column)
        if role == MODEL_ROLE:
            return model
        if role == CAPS_ROLE:
            return model.capabilities
        if role == VENDOR_ICON_ROLE:
            return icon_key(model.vendor_icon, model.vendor) if model.vendor_icon else ""
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == Column.STAR:
                return "Remove from favourites" if self.rows[r].favourite else "Add to favourites"
            if column == Column.MODEL and model.display_name != model.id:
                return model.display_name
            if column == Column.CAPABILITIES:
                return ", ".join(sorted(c.value.replace("_", " ") for c in model.capabilities))
            if column == Column.INPUT and self.prices[r] is not None:
                return "per request" if self._price_texts(r)[0].endswith("/ req") else None
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if column == Column.STAR:
                return int(Qt.AlignmentFlag.AlignCenter)
            if column in (Column.CONTEXT, Column.INPUT, Column.OUTPUT):
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.AccessibleTextRole and column == Column.STAR:
            return "favourite" if self.rows[r].favourite else "not a favourite"
        return None

    def _display(self, r: int, model: CatalogModel, column: Column) -> str:
        if column == Column.STAR:
            return "★" if self.rows[r].favourite else "☆"
        if column == Column.MODEL:
            return model.id
        if column == Column.VENDOR:
            return model.vendor or UNKNOWN
        if column == Column.CAPABILITIES:
            return ""  # painted as badges by the delegate
        if column == Column.CONTEXT:
            return context_text(model.context_length)
        if column == Column.GROUPS:
            return ", ".join(model.groups)
        texts = self._price_texts(r)
        return texts[0] if column == Column.INPUT else texts[1]

    def _price_texts(self, r: int) -> tuple[str, str]:
        found = self._texts.get(r)
        if found is None:
            price = self.prices[r]
            if price is None or self.settings is None:
                found = ("price unknown", "")
            else:
                text = format_price(price, self.settings)
                if price.kind is PriceKind.PER_REQUEST:
                    found = (f"{text.per_request} / req", "")
                else:
                    found = (text.input, text.output)
            self._texts[r] = found
        return found

    def _sort_key(self, r: int, model: CatalogModel, column: Column) -> Any:
        if column == Column.STAR:
            return 0 if self.rows[r].favourite else 1
        if column == Column.MODEL:
            return model.id.lower()
        if column == Column.VENDOR:
            return model.vendor.lower()
        if column == Column.CAPABILITIES:
            return len(model.capabilities)
        if column == Column.CONTEXT:
            return model.context_length or 0
        if column == Column.GROUPS:
            return ", ".join(model.groups)
        price = self.prices[r]
        if price is None:
            return float("inf")  # unknown prices sort last
        if column == Column.INPUT:
            return price.headline
        return price.output_per_m if price.output_per_m is not None else float("inf")


def _with_favourite(row: FilterRow, favourite: bool) -> FilterRow:
    return FilterRow(
        model_id=row.model_id,
        haystack=row.haystack,
        vendor=row.vendor,
        capabilities=row.capabilities,
        groups=row.groups,
        headline=row.headline,
        free=row.free,
        favourite=favourite,
        available=row.available,
    )


class ModelsProxy(QAbstractProxyModel):
    """The rows `filter_rows` picked for the current filter, in source order (the source sorts
    itself: `ModelsTableModel.sort_rows`).

    Not a QSortFilterProxyModel: that one asks `filterAcceptsRow` once per source row on every
    filter change, and 5,000 Python calls per keystroke cost more than the filter itself. Here a
    filter change is one `filter_rows` call and a layout change; persistent indexes (the
    selection) follow their rows, or become invalid when their row is filtered out.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.filter = ModelFilter()
        self._visible: list[int] = []  # source rows shown, ascending
        self._last: tuple[ModelFilter, list[int]] | None = None  # for typing forward
        self._held: list[tuple[QModelIndex, int, int]] = []  # across a layout change
        self._moved: list[int] | None = None
        self._source: ModelsTableModel | None = None

    def setSourceModel(self, source: QAbstractItemModel) -> None:
        assert isinstance(source, ModelsTableModel)
        self.beginResetModel()
        super().setSourceModel(source)
        self._source = source
        source.modelAboutToBeReset.connect(self.beginResetModel)
        source.modelReset.connect(self._on_source_reset)
        source.dataChanged.connect(self._on_source_data_changed)
        source.layoutAboutToBeChanged.connect(self._on_source_layout_about)
        source.layoutChanged.connect(self._on_source_layout_changed)
        self._on_source_reset()

    def source(self) -> ModelsTableModel:
        found = self.sourceModel()
        assert isinstance(found, ModelsTableModel)
        return found

    # ---- Filtering and sorting

    def set_filter(self, flt: ModelFilter) -> None:
        self.filter = flt
        self.refilter()

    def refilter(self) -> None:
        """Recompute the shown rows (after a filter or catalog change)."""
        self._begin_layout()
        self._set_visible(self._compute())
        self._end_layout(lambda source_row: source_row)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """The view's sort: the source reorders its rows; the shown ones keep source order."""
        self.source().sort_rows(column, order, self._remember_moves)

    def _compute(self) -> list[int]:
        rows = self.source().rows
        flt = self.filter
        if flt.empty:
            found = list(range(len(rows)))
        elif self._last is not None and narrows(self._last[0], flt):
            found = filter_rows(rows, flt, within=self._last[1])
        else:
            found = filter_rows(rows, flt)
        self._last = (flt, found)
        return found

    def _set_visible(self, rows: list[int]) -> None:
        self._visible = rows

    def _proxy_row(self, source_row: int) -> int | None:
        # `_visible` is ascending: a binary search, rather than a dict rebuilt per keystroke.
        i = bisect.bisect_left(self._visible, source_row)
        return i if i < len(self._visible) and self._visible[i] == source_row else None

    # ---- Layout changes: persistent indexes follow their source rows

    def _begin_layout(self) -> None:
        self.layoutAboutToBeChanged.emit()
        self._held = [
            (index, self._visible[index.row()], index.column())
            for index in self.persistentIndexList()
            if 0 <= index.row() < len(self._visible)
        ]

    def _end_layout(self, new_source_row: Callable[[int], int]) -> None:
        old, new = [], []
        for held, source_row, column in self._held:
            row = self._proxy_row(new_source_row(source_row))
            old.append(held)
            new.append(self.index(row, column) if row is not None else QModelIndex())
        self._held = []
        self.changePersistentIndexList(old, new)
        self.layoutChanged.emit()

    def _on_source_layout_about(self) -> None:
        self._begin_layout()

    def _remember_moves(self, new_row_of_old: list[int]) -> None:
        self._moved = new_row_of_old

    def _on_source_layout_changed(self) -> None:
        moved, self._moved = self._moved, None
        if moved is None:  # a layout change we were not told about: start afresh
            self._last = None
            self._set_visible(self._compute())
            self._end_layout(lambda source_row: -1)
            return
        self._last = None  # its row numbers are stale now
        self._set_visible(sorted(moved[r] for r in self._visible))
        self._end_layout(lambda source_row: moved[source_row])

    def _on_source_reset(self) -> None:
        self._last = None
        self._set_visible(self._compute())
        self.endResetModel()

    def _on_source_data_changed(
        self, top_left: QModelIndex, bottom_right: QModelIndex, roles: list[int]
    ) -> None:
        for source_row in range(top_left.row(), bottom_right.row() + 1):
            row = self._proxy_row(source_row)
            if row is not None:
                self.dataChanged.emit(
                    self.index(row, top_left.column()),
                    self.index(row, bottom_right.column()),
                    roles,
                )

    # ---- QAbstractProxyModel

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        source = self._source
        if role not in _ROLES or source is None or not index.isValid():
            return None
        row = index.row()
        if row >= len(self._visible):
            return None
        return source.cell(self._visible[row], index.column(), role)

    def mapToSource(self, proxy_index: Index) -> QModelIndex:
        source = self._source
        if source is None or not proxy_index.isValid() or proxy_index.row() >= len(self._visible):
            return QModelIndex()
        return source.index(self._visible[proxy_index.row()], proxy_index.column())

    def mapFromSource(self, source_index: Index) -> QModelIndex:
        if not source_index.isValid():
            return QModelIndex()
        row = self._proxy_row(source_index.row())
        return QModelIndex() if row is None else self.index(row, source_index.column())

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if parent.isValid() or not (0 <= row < len(self._visible) and 0 <= column < _COLUMN_COUNT):
            return QModelIndex()
        return self.createIndex(row, column)

    def parent(self, child: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        return QModelIndex()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._visible)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else _COLUMN_COUNT
