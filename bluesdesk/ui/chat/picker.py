"""The chat model picker: an editable combo box fed by the catalog (favourites first), searched
by any part of the id, with capability badges in its list and a cost line for the composer.

Item text stays the bare model id (what `currentText()` returns and the conversation stores);
badges and the favourite star live in item data and are drawn by `BadgeDelegate`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QComboBox, QCompleter, QStyledItemDelegate, QStyleOptionViewItem

from bluesdesk.core.capabilities import NON_CHAT, Capability
from bluesdesk.core.catalog_model import CatalogModel
from bluesdesk.core.pricing import Estimate, Price, PriceKind

BADGE_ROLE = Qt.ItemDataRole.UserRole + 10
_BADGES = (
    (Capability.VISION, "vision"),
    (Capability.TOOLS, "tools"),
    (Capability.JSON, "json"),
    (Capability.REASONING, "reasoning"),
    (Capability.CLAUDE_NATIVE, "claude"),
    (Capability.GEMINI_NATIVE, "gemini"),
)


@dataclass(frozen=True, slots=True)
class PickerEntry:
    id: str
    starred: bool = False
    badges: tuple[str, ...] = ()
    vision: bool | None = None  # None: capabilities unknown (no catalog)
    style: str = ""  # the API style the catalog suggests ("" unknown)


def is_chat_model(model: CatalogModel) -> bool:
    caps = model.capabilities
    if caps & {Capability.CHAT, Capability.CLAUDE_NATIVE, Capability.GEMINI_NATIVE}:
        return True
    return not (caps & NON_CHAT) and not caps  # unknown: let the user try it


def entry_for(model: CatalogModel, starred: bool) -> PickerEntry:
    caps = model.capabilities
    style = "openai"
    if Capability.CLAUDE_NATIVE in caps:
        style = "claude"
    elif Capability.GEMINI_NATIVE in caps:
        style = "gemini"
    return PickerEntry(
        id=model.id,
        starred=starred,
        badges=tuple(label for cap, label in _BADGES if cap in caps),
        vision=Capability.VISION in caps,
        style=style,
    )


def badge_text(entry: PickerEntry) -> str:
    star = "★ " if entry.starred else ""
    badges = "  ·  " + " · ".join(entry.badges) if entry.badges else ""
    return f"{star}{entry.id}{badges}"


class BadgeDelegate(QStyledItemDelegate):
    """Draws "★ id · vision · tools" in the list while the item text stays the bare id."""

    def initStyleOption(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        super().initStyleOption(option, index)
        label = index.data(BADGE_ROLE)
        if isinstance(label, str) and label:
            option.text = label


def fill_picker(box: QComboBox, entries: list[PickerEntry], keep: str) -> None:
    box.blockSignals(True)
    box.clear()
    for entry in entries:
        box.addItem(entry.id)
        box.setItemData(box.count() - 1, badge_text(entry), BADGE_ROLE)
        if entry.badges:
            box.setItemData(box.count() - 1, ", ".join(entry.badges), Qt.ItemDataRole.ToolTipRole)
    box.setCurrentText(keep)
    box.blockSignals(False)
    fit_list_width(box, [badge_text(entry) for entry in entries])


POPUP_MAX_WIDTH = 640
POPUP_SPARE = 48  # the item's padding and the list's scroll bar


def fit_list_width(box: QComboBox, labels: list[str]) -> None:
    """Open the list wide enough for its longest label: at the box's width, model ids with
    their badges were cut to "claude-sonnet…ning · claude"."""
    metrics = box.view().fontMetrics()
    widest = max((metrics.horizontalAdvance(label) for label in labels), default=0)
    box.view().setMinimumWidth(min(POPUP_MAX_WIDTH, widest + POPUP_SPARE))


def make_searchable(box: QComboBox) -> None:
    """Typing filters by any part of the id (not only the start), case-insensitively."""
    box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    completer = QCompleter(box.model(), box)
    completer.setFilterMode(Qt.MatchFlag.MatchContains)
    completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
    box.setCompleter(completer)
    box.setItemDelegate(BadgeDelegate(box))


def money(usd: float) -> str:
    """Two significant digits, never in exponent form: $0.0031, $0.012, $0.0000062, $1.25."""
    if usd <= 0:
        return "$0"
    if usd >= 1:
        return f"${usd:,.2f}"
    places = max(2, 1 - math.floor(math.log10(usd)))
    return f"${usd:.{places}f}"


def cost_text(price: Price | None, est: Estimate | None, max_tokens_known: bool) -> str:
    """ "≈ $0.0031 in, ≤ $0.012 out" (or the per-request price); "" when no price is known."""
    if price is None or est is None:
        return ""
    if price.kind is PriceKind.PER_REQUEST:
        return f"{money(price.per_request or 0.0)} per request"
    out = est.high - est.low
    bound = "≤" if max_tokens_known else "≈ up to"
    return f"≈ {money(est.low)} in, {bound} {money(out)} out"
