"""A checkable, searchable list of model ids: the key dialog's model whitelist.

The ids come from the catalog; ids already on a key but no longer in the catalog stay in the
list (checked) so that editing a key never drops part of its whitelist silently."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget


class ModelPicker(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText(self.tr("Search models"))
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.textChanged.connect(self.apply_search)
        self.list = QListWidget()
        self.list.setFixedHeight(140)
        self.list.itemChanged.connect(lambda *_: self._update_count())
        self.count_label = QLabel()
        self.count_label.setObjectName("muted")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.search_edit)
        layout.addWidget(self.list)
        layout.addWidget(self.count_label)
        self._update_count()

    def ids(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def set_models(self, ids: Iterable[str]) -> None:
        """Offer `ids` (the catalog), keeping whatever is already checked."""
        keep = self.checked()
        self.list.blockSignals(True)
        self.list.clear()
        for model in dict.fromkeys([*keep, *ids]):
            self._add(model, model in keep)
        self.list.blockSignals(False)
        self.apply_search(self.search_edit.text())
        self._update_count()

    def set_checked(self, ids: Iterable[str]) -> None:
        wanted = list(dict.fromkeys(ids))
        present = set(self.ids())
        self.list.blockSignals(True)
        for model in wanted:
            if model not in present:
                self._add(model, True)
        for i in range(self.list.count()):
            item = self.list.item(i)
            on = item.text() in wanted
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        self.list.blockSignals(False)
        self._update_count()

    def checked(self) -> tuple[str, ...]:
        return tuple(
            self.list.item(i).text()
            for i in range(self.list.count())
            if self.list.item(i).checkState() == Qt.CheckState.Checked
        )

    def apply_search(self, text: str) -> None:
        needle = text.strip().lower()
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setHidden(bool(needle) and needle not in item.text().lower())

    def visible_ids(self) -> list[str]:
        return [
            self.list.item(i).text()
            for i in range(self.list.count())
            if not self.list.item(i).isHidden()
        ]

    def _add(self, model: str, checked: bool) -> None:
        item = QListWidgetItem(model)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self.list.addItem(item)

    def _update_count(self) -> None:
        picked = len(self.checked())
        self.count_label.setText(
            self.tr("All models allowed")
            if not picked
            else self.tr("{0} model(s) allowed").format(picked)
        )
