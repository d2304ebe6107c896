"""A full-size view of one gallery image with zoom; its actions are the pane's to carry out."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QPixmap, QWheelEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from bluesdesk.store.media import ImageRecord

ZOOM_STEPS = (0.1, 0.25, 0.33, 0.5, 0.67, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)


class _ZoomArea(QScrollArea):
    """Ctrl+wheel zooms instead of scrolling."""

    zoom_requested = Signal(int)  # +1 in, -1 out

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom_requested.emit(1 if event.angleDelta().y() > 0 else -1)
            event.accept()
            return
        super().wheelEvent(event)


class ImageViewer(QDialog):
    """Signals: save_as, copy_image, copy_prompt, rerun, delete — each with the image id."""

    save_as = Signal(int)
    copy_image = Signal(int)
    copy_prompt = Signal(int)
    rerun = Signal(int)
    delete = Signal(int)

    def __init__(self, record: ImageRecord, pixmap: QPixmap, parent: QWidget | None = None):
        super().__init__(parent)
        self.record = record
        self.pixmap = pixmap
        self.setWindowTitle(record.prompt[:80] or self.tr("Image"))
        self.resize(900, 760)
        self.zoom = 1.0

        self.image_label = QLabel()
        self.image_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.area = _ZoomArea()
        self.area.setWidget(self.image_label)
        self.area.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.area.zoom_requested.connect(self.step_zoom)

        self.zoom_label = QLabel()
        self.zoom_label.setObjectName("muted")
        zoom_out = QPushButton("−")
        zoom_out.setToolTip(self.tr("Zoom out (Ctrl+-)"))
        zoom_out.setShortcut(QKeySequence.StandardKey.ZoomOut)
        zoom_out.clicked.connect(lambda *_: self.step_zoom(-1))
        zoom_in = QPushButton("+")
        zoom_in.setToolTip(self.tr("Zoom in (Ctrl++)"))
        zoom_in.setShortcut(QKeySequence.StandardKey.ZoomIn)
        zoom_in.clicked.connect(lambda *_: self.step_zoom(1))
        fit = QPushButton(self.tr("Fit"))
        fit.clicked.connect(lambda *_: self.fit())
        actual = QPushButton(self.tr("100%"))
        actual.clicked.connect(lambda *_: self.set_zoom(1.0))

        caption = QLabel(record.prompt)
        caption.setWordWrap(True)
        caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        details = QLabel(
            f"{record.model} · {record.width}×{record.height}"
            + (f" · request {record.request_id}" if record.request_id else "")
        )
        details.setObjectName("muted")
        details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        buttons = QHBoxLayout()
        for text, signal in (
            (self.tr("Save as…"), self.save_as),
            (self.tr("Copy image"), self.copy_image),
            (self.tr("Copy prompt"), self.copy_prompt),
            (self.tr("Re-run"), self.rerun),
        ):
            button = QPushButton(text)
            button.clicked.connect(lambda *_, s=signal: s.emit(self.record.id))
            buttons.addWidget(button)
        delete = QPushButton(self.tr("Delete"))
        delete.clicked.connect(lambda *_: self._delete())
        buttons.addStretch(1)
        buttons.addWidget(zoom_out)
        buttons.addWidget(self.zoom_label)
        buttons.addWidget(zoom_in)
        buttons.addWidget(fit)
        buttons.addWidget(actual)
        buttons.addStretch(1)
        buttons.addWidget(delete)

        layout = QVBoxLayout(self)
        layout.addWidget(self.area, 1)
        layout.addWidget(caption)
        layout.addWidget(details)
        layout.addLayout(buttons)
        self.fit()

    def _delete(self) -> None:
        self.delete.emit(self.record.id)
        self.accept()

    def set_zoom(self, zoom: float) -> None:
        self.zoom = max(ZOOM_STEPS[0], min(ZOOM_STEPS[-1], zoom))
        size = self.pixmap.size() * self.zoom
        self.image_label.setPixmap(
            self.pixmap.scaled(
                size,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )
        self.image_label.resize(size)
        self.zoom_label.setText(f"{round(self.zoom * 100)}%")

    def step_zoom(self, direction: int) -> None:
        if direction > 0:
            bigger = [z for z in ZOOM_STEPS if z > self.zoom + 1e-6]
            self.set_zoom(bigger[0] if bigger else ZOOM_STEPS[-1])
        else:
            smaller = [z for z in ZOOM_STEPS if z < self.zoom - 1e-6]
            self.set_zoom(smaller[-1] if smaller else ZOOM_STEPS[0])

    def fit(self) -> None:
        view = self.area.viewport().size()
        image = self.pixmap.size()
        if image.isEmpty():
            return
        scale = min(view.width() / image.width(), view.height() / image.height(), 1.0)
        self.set_zoom(scale)
