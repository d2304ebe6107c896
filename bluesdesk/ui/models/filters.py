"""The Models pane's filter bar: search text, vendor, capability, group, price range, toggles.

It only builds a `ModelFilter`; the proxy applies it. Prices are entered in the gateway's display
currency and converted to USD, which is what `FilterRow.headline` holds.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from bluesdesk.core.capabilities import Capability
from bluesdesk.core.catalog_filter import ModelFilter
from bluesdesk.core.pricing import QuotaSettings
from bluesdesk.ui.models.badges import LABELS, ordered


class FilterBar(QWidget):
    """Signals:
    changed(): any control changed; read `current()`.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings: QuotaSettings | None = None
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("Search models, vendors, tags…"))
        self.search.setClearButtonEnabled(True)
        self.vendor = QComboBox()
        self.capability = QComboBox()
        self.group = QComboBox()
        for combo in (self.vendor, self.capability, self.group):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.capability.addItem(self.tr("Any capability"), "")
        for cap in ordered(Capability):
            self.capability.addItem(LABELS[cap], cap.value)
        self.set_choices([], [])
        self.free_only = QCheckBox(self.tr("Free only"))
        self.favourites_only = QCheckBox(self.tr("Favourites only"))
        self.price_min = _price_box(self.tr("min"))
        self.price_max = _price_box(self.tr("max"))
        self.price_label = QLabel(self.tr("Price"))
        self.price_label.setObjectName("muted")
        self.price_label.setToolTip(
            self.tr("Input price per 1M tokens (or per request), in the gateway's currency")
        )

        top = QHBoxLayout()
        top.setSpacing(8)
        top.addWidget(self.search, 1)
        top.addWidget(self.vendor)
        top.addWidget(self.capability)
        top.addWidget(self.group)
        bottom = QHBoxLayout()
        bottom.setSpacing(10)
        bottom.addWidget(self.free_only)
        bottom.addWidget(self.favourites_only)
        bottom.addSpacing(12)
        bottom.addWidget(self.price_label)
        bottom.addWidget(self.price_min)
        bottom.addWidget(QLabel("–"))
        bottom.addWidget(self.price_max)
        bottom.addStretch(1)
        self.count_label = QLabel()
        self.count_label.setObjectName("muted")
        bottom.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addLayout(bottom)

        self.search.textChanged.connect(lambda *_: self.changed.emit())
        for combo in (self.vendor, self.capability, self.group):
            combo.currentIndexChanged.connect(lambda *_: self.changed.emit())
        for box in (self.free_only, self.favourites_only):
            box.toggled.connect(lambda *_: self.changed.emit())
        for spin in (self.price_min, self.price_max):
            spin.valueChanged.connect(lambda *_: self.changed.emit())

    def set_choices(self, vendors: Iterable[str], groups: Iterable[str]) -> None:
        """Refill the vendor and group lists, keeping the current choice where it still exists."""
        for combo, anything, items in (
            (self.vendor, self.tr("All vendors"), sorted(set(vendors), key=str.lower)),
            (self.group, self.tr("Any group"), sorted(set(groups))),
        ):
            keep = combo.currentData() or ""
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(anything, "")
            for item in items:
                if item:
                    combo.addItem(item, item)
            found = combo.findData(keep)
            combo.setCurrentIndex(max(found, 0))
            combo.blockSignals(False)

    def set_currency(self, settings: QuotaSettings | None) -> None:
        self.settings = settings
        symbol = settings.symbol if settings is not None else ""
        for spin in (self.price_min, self.price_max):
            spin.setPrefix(symbol)
        usable = settings is not None
        for widget in (self.price_min, self.price_max, self.price_label):
            widget.setEnabled(usable)

    def current(self) -> ModelFilter:
        cap = self.capability.currentData() or ""
        vendor = self.vendor.currentData() or ""
        return ModelFilter(
            text=self.search.text(),
            vendors=frozenset({vendor}) if vendor else frozenset(),
            capabilities=frozenset({Capability(cap)}) if cap else frozenset(),
            group=self.group.currentData() or "",
            price_min=self._usd(self.price_min),
            price_max=self._usd(self.price_max),
            free_only=self.free_only.isChecked(),
            favourites_only=self.favourites_only.isChecked(),
        )

    def clear(self) -> None:
        self.blockSignals(True)
        self.search.clear()
        for combo in (self.vendor, self.capability, self.group):
            combo.setCurrentIndex(0)
        self.free_only.setChecked(False)
        self.favourites_only.setChecked(False)
        self.price_min.setValue(0)
        self.price_max.setValue(0)
        self.blockSignals(False)
        self.changed.emit()

    def _usd(self, spin: QDoubleSpinBox) -> float | None:
        # 0 shows "min"/"max": no bound. A bound needs a known currency to convert.
        if self.settings is None or spin.value() <= 0:
            return None
        per_usd = self.settings.convert(1.0)
        return spin.value() / per_usd if per_usd > 0 else None


def _price_box(special: str) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(0, 1_000_000)
    spin.setDecimals(2)
    spin.setSingleStep(0.5)
    spin.setSpecialValueText(special)
    spin.setKeyboardTracking(False)
    spin.setFixedWidth(96)
    return spin
