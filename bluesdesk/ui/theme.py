"""Light/dark stylesheet following the OS colour scheme (or the user's choice in settings)."""

from __future__ import annotations

from importlib import resources

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

PREFERENCES = ("system", "light", "dark")


def resource_text(name: str) -> str:
    return (resources.files("bluesdesk") / "resources" / name).read_text(encoding="utf-8")


class ThemeManager(QObject):
    """Applies light.qss or dark.qss and re-applies when the OS switches.

    Signals:
        changed(bool): the theme was applied; True means dark.
    """

    changed = Signal(bool)

    def __init__(self, app: QApplication, preference: str = "system") -> None:
        super().__init__(app)
        self._app = app
        self._preference = preference
        self.dark = False
        app.setStyle("Fusion")  # the same metrics everywhere, so the stylesheet looks the same
        app.styleHints().colorSchemeChanged.connect(lambda *_: self.apply())

    @property
    def preference(self) -> str:
        """One of `PREFERENCES`: system, light or dark."""
        return self._preference

    def set_preference(self, preference: str) -> None:
        if preference not in PREFERENCES:
            raise ValueError(f"unknown theme preference {preference!r}")
        self._preference = preference
        self.apply()

    def wants_dark(self) -> bool:
        if self._preference in ("light", "dark"):
            return self._preference == "dark"
        return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark

    def apply(self) -> None:
        self.dark = self.wants_dark()
        palette = QPalette()
        if self.dark:
            for role, colour in (
                (QPalette.ColorRole.Window, "#1c1d20"),
                (QPalette.ColorRole.WindowText, "#e5e7eb"),
                (QPalette.ColorRole.Base, "#25272b"),
                (QPalette.ColorRole.Text, "#e5e7eb"),
                (QPalette.ColorRole.Button, "#2a2c31"),
                (QPalette.ColorRole.ButtonText, "#e5e7eb"),
                (QPalette.ColorRole.Highlight, "#3b7bf0"),
                (QPalette.ColorRole.PlaceholderText, "#7b818c"),
                # Rich text (the chat transcript's action links) takes links from the palette;
                # the default dark blue is unreadable on a dark background.
                (QPalette.ColorRole.Link, "#7aa7ff"),
                (QPalette.ColorRole.LinkVisited, "#b59cff"),
            ):
                palette.setColor(role, colour)
        else:
            palette = self._app.style().standardPalette()
            palette.setColor(QPalette.ColorRole.Highlight, "#2563eb")
        self._app.setPalette(palette)
        self._app.setStyleSheet(resource_text("dark.qss" if self.dark else "light.qss"))
        self.changed.emit(self.dark)
