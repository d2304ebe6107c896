"""The Models table: one row per catalog model, and a proxy that filters with `filter_rows`.

The source model never creates a widget per row; display texts (prices need Decimal formatting)
are computed on first paint and kept. The proxy does not test rows itself: on every filter change
it asks the pure `filter_rows` once for the accepted indexes and only looks them up per row.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

from bluesdesk.core.catalog_filter import FilterRow, ModelFilter, filter_rows
from bluesdesk.core.catalog_model import CatalogModel
from bluesdesk.core.pricing import Price, PriceKind, QuotaSettings, format_price

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
        return 0 if parent.isValid() else len(Column)

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
        if not index.isValid() or index.row() >= len(self.models):
            return None
        r = index.row()
        model = self.models[r]
        column = Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(r, model, column)
        if role == SORT_ROLE:
            return self._sort_key(r, model, column)
        if role == MODEL_ROLE:
            return model
        if role == CAPS_ROLE:
            return model.capabilities
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


class ModelsProxy(QSortFilterProxyModel):
    """Sorts by `SORT_ROLE`; accepts the rows `filter_rows` picked for the current filter."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(False)  # re-sorted on demand; a star click must not jump rows
        self.filter = ModelFilter()
        self._accepted: set[int] | None = None  # None: everything

    def source(self) -> ModelsTableModel:
        found = self.sourceModel()
        assert isinstance(found, ModelsTableModel)
        return found

    def set_filter(self, flt: ModelFilter) -> None:
        self.filter = flt
        self.refilter()

    def refilter(self) -> None:
        """Recompute the accepted rows (after a filter or catalog change)."""
        self.beginFilterChange()
        rows = self.source().rows
        self._accepted = None if self.filter.empty else set(filter_rows(rows, self.filter))
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        return self._accepted is None or source_row in self._accepted
