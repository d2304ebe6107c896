"""Timing a widget to its first paint, for the benchmarks that open something in Qt."""

from __future__ import annotations

import asyncio
import time

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget


class PaintWaiter(QObject):
    """Resolves a future, armed by `arm()`, with the `perf_counter` time of the widget's next
    Paint event."""

    def __init__(self, widget: QWidget) -> None:
        super().__init__()
        self.future: asyncio.Future[float] | None = None
        widget.installEventFilter(self)

    def arm(self) -> asyncio.Future[float]:
        self.future = asyncio.get_running_loop().create_future()
        return self.future

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self.future and not self.future.done():
            self.future.set_result(time.perf_counter())
        return False
