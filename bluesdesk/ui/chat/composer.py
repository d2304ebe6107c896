"""The composer: multi-line input where Enter sends and Shift+Enter starts a new line.

Up in an empty composer edits the last message you sent; images can be attached from a file,
pasted or dropped; a line under the input shows what the next request will cost.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage, QKeyEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from bluesdesk.ui.chat.attachments import AttachmentStrip, has_images, images_from_mime, load_image


class ComposerEdit(QPlainTextEdit):
    """Signals: submit(): Enter without Shift; stop(): Escape; edit_last(): Up while empty;
    images(list): images pasted or dropped into the text."""

    submit = Signal()
    stop = Signal()
    edit_last = Signal()
    images = Signal(list)

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
        if key == Qt.Key.Key_Up and not self.toPlainText():
            self.edit_last.emit()
            return
        super().keyPressEvent(event)

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        return has_images(source) or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:
        # Paste and drop both land here: images become attachments, text stays text.
        found = images_from_mime(source)
        if found:
            self.images.emit(found)
            return
        super().insertFromMimeData(source)


class Composer(QWidget):
    """Signals:
    send_requested(str): the user sent this text (attachments: `attachments.urls()`).
    edit_submitted(int, str): the user resent an edited message (its id, the new text).
    edit_last_requested(): Up in an empty composer.
    stop_requested().
    """

    send_requested = Signal(str)
    edit_submitted = Signal(int, str)
    edit_last_requested = Signal()
    stop_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = ComposerEdit()
        self.edit.setObjectName("composer")
        self.edit.setPlaceholderText(
            self.tr("Message… (Enter sends, Shift+Enter for a new line, Up edits the last one)")
        )
        self.edit.setFixedHeight(84)
        self.send_button = QPushButton(self.tr("Send"))
        self.send_button.setProperty("primary", True)
        self.stop_button = QPushButton(self.tr("Stop"))
        self.stop_button.setToolTip(self.tr("Stop the answer (Esc); the text so far is kept"))
        self.stop_button.hide()
        self.attach_button = QPushButton(self.tr("Attach…"))
        self.attach_button.setToolTip(self.tr("Attach images (or paste / drop them here)"))
        self.attachments = AttachmentStrip()
        self.editing_banner = QLabel()
        self.editing_banner.setObjectName("mutedText")
        self.editing_banner.hide()
        self.cost_label = QLabel()
        self.cost_label.setObjectName("mutedText")
        self.cost_label.setToolTip(
            self.tr("Estimated from the catalog prices, the conversation so far and max tokens")
        )
        self.cost_label.hide()  # until there is an estimate (an empty line would take room)
        self.edit.submit.connect(self._submit)
        self.edit.stop.connect(self._escape)
        self.edit.edit_last.connect(self.edit_last_requested)
        self.edit.images.connect(self.add_images)
        self.send_button.clicked.connect(lambda *_: self._submit())
        self.stop_button.clicked.connect(lambda *_: self.stop_requested.emit())
        self.attach_button.clicked.connect(lambda *_: self._pick_files())
        buttons = QVBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.attach_button)
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        row = QHBoxLayout()
        row.addWidget(self.edit, 1)
        row.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.editing_banner)
        layout.addWidget(self.attachments)
        layout.addLayout(row)
        layout.addWidget(self.cost_label)
        self.setAcceptDrops(True)
        self._busy = False
        self.editing_id = 0

    # ---- sending and editing

    def _submit(self) -> None:
        text = self.edit.toPlainText().strip()
        if not text or self._busy:
            return
        if self.editing_id:
            message_id = self.editing_id
            self.cancel_edit()
            self.edit_submitted.emit(message_id, text)
            return
        self.edit.clear()
        self.send_requested.emit(text)

    def start_edit(self, message_id: int, text: str) -> None:
        """Put a sent message back in the composer; Enter resends it, Esc cancels."""
        self.editing_id = message_id
        self.edit.setPlainText(text)
        self.edit.setFocus()
        self.edit.moveCursor(self.edit.textCursor().MoveOperation.End)
        self.editing_banner.setText(
            self.tr(
                "Editing your message: Enter resends it (what followed is replaced), Esc cancels"
            )
        )
        self.editing_banner.show()

    def cancel_edit(self) -> None:
        if self.editing_id:
            self.editing_id = 0
            self.edit.clear()
            self.editing_banner.hide()

    def _escape(self) -> None:
        if self.editing_id and not self._busy:
            self.cancel_edit()
        else:
            self.stop_requested.emit()

    def set_busy(self, busy: bool) -> None:
        """While an answer streams, Send turns into Stop."""
        self._busy = busy
        self.send_button.setVisible(not busy)
        self.stop_button.setVisible(busy)

    # ---- attachments

    def add_images(self, images: list[QImage]) -> None:
        for image in images:
            if not self.attachments.add_image(image):
                break

    def _pick_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self,
            self.tr("Attach images"),
            "",
            self.tr("Images (*.png *.jpg *.jpeg *.gif *.webp *.bmp)"),
        )
        self.add_images([i for p in paths if (i := load_image(Path(p))) is not None])

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if has_images(event.mimeData()):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        found = images_from_mime(event.mimeData())
        if found:
            self.add_images(found)
            event.acceptProposedAction()
        else:
            super().dropEvent(event)
