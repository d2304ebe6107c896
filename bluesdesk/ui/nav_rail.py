"""The left navigation rail: one checkable button per pane, icon above label."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QButtonGroup, QToolButton, QVBoxLayout, QWidget

from bluesdesk.ui import icons


class NavRail(QWidget):
    """Signals:
    selected(str): the user picked the pane with this key.
    """

    selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("navRail")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setFixedWidth(84)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 10, 0, 10)
        self._layout.setSpacing(2)
        self._layout.addStretch(1)
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        self.buttons: dict[str, QToolButton] = {}
        self._dark = False

    def add(self, key: str, label: str, shortcut_hint: str, *, bottom: bool = False) -> QToolButton:
        button = QToolButton()
        button.setObjectName("navButton")
        button.setText(label)
        button.setToolTip(f"{label} ({shortcut_hint})")
        button.setCheckable(True)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        button.setIconSize(QSize(22, 22))
        button.setMinimumWidth(72)
        button.setProperty("paneKey", key)
        button.clicked.connect(lambda *_, k=key: self.selected.emit(k))
        self._group.addButton(button)
        stretch_index = self._layout.count() - 1
        if bottom:
            self._layout.addWidget(button, 0, Qt.AlignmentFlag.AlignHCenter)
        else:
            self._layout.insertWidget(stretch_index, button, 0, Qt.AlignmentFlag.AlignHCenter)
        self.buttons[key] = button
        self._set_icon(key)
        return button

    def set_current(self, key: str) -> None:
        button = self.buttons.get(key)
        if button is not None:
            button.setChecked(True)

    def recolor(self, dark: bool) -> None:
        self._dark = dark
        for key in self.buttons:
            self._set_icon(key)

    def _set_icon(self, key: str) -> None:
        normal, active = ("#9ca3af", "#bfd4ff") if self._dark else ("#4b5563", "#1d4ed8")
        self.buttons[key].setIcon(icons.icon(key, normal, active))
