"""A pane that is not built yet: shows an `EmptyState` and is ready at once."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from bluesdesk.ui.widgets.empty_state import EmptyState
from bluesdesk.ui.widgets.pane import Pane


class PlaceholderPane(Pane):
    def __init__(self, icon_name: str, title: str, body: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.empty = EmptyState(icon_name, title, body)
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty)
        self._ready = True

    def on_theme_changed(self, dark: bool) -> None:
        self.empty.recolor(dark)
