"""A small spinner for the status bar, shown while the TaskRunner has work in flight.

It appears only after a short delay: most tasks (a keyring read, a cached catalog) end within a
few frames, and a spinner that flickers on and off for those is noise, not information.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

SHOW_DELAY_MS = 250
FRAME_MS = 80  # ~12 frames a second is smooth enough for an arc and cheap to draw


class BusyIndicator(QWidget):
    """Hidden while idle; `set_busy(True)` shows a turning arc after `SHOW_DELAY_MS`."""

    def __init__(self, parent: QWidget | None = None, *, delay_ms: int = SHOW_DELAY_MS) -> None:
        super().__init__(parent)
        self.setObjectName("busyIndicator")
        self.setFixedSize(QSize(16, 16))
        self.setToolTip(self.tr("Working…"))
        self.setAccessibleName(self.tr("Working"))
        self.busy = False
        self.angle = 0
        self._delay = QTimer(self)
        self._delay.setSingleShot(True)
        self._delay.setInterval(delay_ms)
        self._delay.timeout.connect(self._appear)
        self._frames = QTimer(self)
        self._frames.setInterval(FRAME_MS)
        self._frames.timeout.connect(self._advance)
        self.hide()

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        if busy:
            if not self.isVisible() and not self._delay.isActive():
                self._delay.start()
        else:
            self._delay.stop()
            self._frames.stop()
            self.hide()

    def spinning(self) -> bool:
        return self.isVisible() and self._frames.isActive()

    def _appear(self) -> None:
        if self.busy:
            self.show()
            self._frames.start()

    def _advance(self) -> None:
        self.angle = (self.angle + 30) % 360
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        colour = QColor(self.palette().highlight().color())
        pen = QPen(colour, 2.0)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        rect = QRectF(self.rect()).adjusted(2, 2, -2, -2)
        # Qt angles are in 1/16 degree, counter-clockwise; a 270° arc that turns clockwise.
        painter.drawArc(rect, -self.angle * 16, 270 * 16)
        painter.end()
