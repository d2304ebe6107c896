"""The composer: multi-line input where Enter sends and Shift+Enter starts a new line."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget


class ComposerEdit(QPlainTextEdit):
    """Signals: submit(): Enter without Shift; stop(): Escape."""

    submit = Signal()
    stop = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                self.insertPlainText("\n")
            else:
                self.submit.emit()
            return
        if key == Qt.Key.Key_Escape:
            self.stop.emit()
            return
        super().keyPressEvent(event)


class Composer(QWidget):
    """Signals: send_requested(str): the user sent this text; stop_requested()."""

    send_requested = Signal(str)
    stop_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = ComposerEdit()
        self.edit.setObjectName("composer")
        self.edit.setPlaceholderText(self.tr("Message… (Enter sends, Shift+Enter for a new line)"))
        self.edit.setFixedHeight(84)
        self.send_button = QPushButton(self.tr("Send"))
        self.send_button.setProperty("primary", True)
        self.stop_button = QPushButton(self.tr("Stop"))
        self.stop_button.setToolTip(self.tr("Stop the answer (Esc); the text so far is kept"))
        self.stop_button.hide()
        self.edit.submit.connect(self._submit)
        self.edit.stop.connect(self.stop_requested)
        self.send_button.clicked.connect(lambda *_: self._submit())
        self.stop_button.clicked.connect(lambda *_: self.stop_requested.emit())
        buttons = QVBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addLayout(buttons)
        self._busy = False

    def _submit(self) -> None:
        text = self.edit.toPlainText().strip()
        if not text or self._busy:
            return
        self.edit.clear()
        self.send_requested.emit(text)

    def set_busy(self, busy: bool) -> None:
        """While an answer streams, Send turns into Stop."""
        self._busy = busy
        self.send_button.setVisible(not busy)
        self.stop_button.setVisible(busy)
