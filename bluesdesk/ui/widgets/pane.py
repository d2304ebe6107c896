"""The base every pane derives from: a `ready` signal for --screenshot and tests, and hooks."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget


class Pane(QWidget):
    """A page of the main window.

    Signals:
        ready(): the pane finished loading what it shows first (data or an error).
    """

    ready = Signal()
    key = ""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pane")
        self._ready = False

    def is_ready(self) -> bool:
        return self._ready

    def mark_ready(self) -> None:
        self._ready = True
        self.ready.emit()

    def mark_loading(self) -> None:
        self._ready = False

    def on_shown(self) -> None:
        """The pane became the visible page."""

    def on_profile_changed(self) -> None:
        """The active gateway profile (or its settings) changed."""

    def on_theme_changed(self, dark: bool) -> None:
        """Re-colour anything the stylesheet cannot (icons)."""
