"""An honest empty state: icon, title, and one or two sentences of what is coming."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from bluesdesk.ui import icons


class EmptyState(QWidget):
    def __init__(self, icon_name: str, title: str, body: str, parent: QWidget | None = None):
        super().__init__(parent)
        self._icon_name = icon_name
        self.icon_label = QLabel()
        self.icon_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title_label = QLabel(title)
        self.title_label.setObjectName("emptyTitle")
        self.title_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body_label = QLabel(body)
        self.body_label.setObjectName("emptyBody")
        self.body_label.setWordWrap(True)
        self.body_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # A word-wrapped label gets no sensible height from a centred layout; fix its width.
        self.body_label.setFixedWidth(440)
        self.body_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QVBoxLayout(self)
        layout.addStretch(2)
        layout.addWidget(self.icon_label)
        layout.addSpacing(6)
        layout.addWidget(self.title_label)
        # Centred by stretches, not an alignment flag: only then does the layout ask the
        # word-wrapped label for its height at this width.
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.body_label)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(3)
        self.recolor(dark=False)

    def recolor(self, dark: bool) -> None:
        colour = "#6b7280" if dark else "#9ca3af"
        self.icon_label.setPixmap(
            icons.pixmap(self._icon_name, colour, 64, self.devicePixelRatioF() or 1.0)
        )
