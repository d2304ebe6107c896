"""The first-run screen: try the built-in demo gateway, or connect to a real one."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from bluesdesk.ui import icons


class FirstRunPage(QWidget):
    """Signals:
    demo_requested(): "Try the demo" was clicked.
    connect_requested(): "Connect to a gateway" was clicked.
    """

    demo_requested = Signal()
    connect_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pane")
        card = QFrame()
        card.setObjectName("card")
        card.setFixedWidth(540)
        logo = QLabel()
        logo.setPixmap(icons.app_icon().pixmap(72, 72))
        logo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        logo.setMinimumHeight(76)
        title = QLabel(self.tr("Welcome to bluesdesk"))
        title.setObjectName("paneTitle")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        body = QLabel(
            self.tr(
                "A desktop client for OpenAI-compatible AI gateways such as BluesMinds, "
                "MindProxy and BlueNexus. Try everything against a built-in demo gateway that "
                "runs on this computer, or connect to your own gateway with an API key."
            )
        )
        body.setObjectName("emptyBody")
        body.setWordWrap(True)
        body.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.demo_button = QPushButton(self.tr("Try the demo"))
        self.demo_button.setProperty("primary", True)
        self.demo_button.clicked.connect(lambda *_: self.demo_requested.emit())
        self.connect_button = QPushButton(self.tr("Connect to a gateway"))
        self.connect_button.clicked.connect(lambda *_: self.connect_requested.emit())
        self.error_label = QLabel()
        self.error_label.setObjectName("errorText")
        self.error_label.setWordWrap(True)
        self.error_label.hide()

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.demo_button)
        buttons.addWidget(self.connect_button)
        buttons.addStretch(1)
        inner = QVBoxLayout(card)
        inner.setContentsMargins(36, 32, 36, 32)
        inner.setSpacing(14)
        inner.addWidget(logo)
        inner.addSpacing(4)
        inner.addWidget(title)
        inner.addWidget(body)
        inner.addSpacing(6)
        inner.addLayout(buttons)
        inner.addWidget(self.error_label)

        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(card)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)

    def set_busy(self, busy: bool) -> None:
        self.demo_button.setEnabled(not busy)
        self.connect_button.setEnabled(not busy)
        self.demo_button.setText(self.tr("Starting the demo…") if busy else self.tr("Try the demo"))

    def show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))
