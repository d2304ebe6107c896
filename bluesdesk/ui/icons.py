"""Monochrome SVG icons recoloured for the current theme (Qt's SVG renderer has no currentColor)."""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QByteArray, QSize, Qt
from PySide6.QtGui import QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from bluesdesk.ui.theme import resource_text

_PLACEHOLDER = "#000000"


@lru_cache(maxsize=128)
def pixmap(name: str, colour: str, size: int, ratio: float = 1.0) -> QPixmap:
    svg = resource_text(f"icons/{name}.svg").replace(_PLACEHOLDER, colour)
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    side = round(size * ratio)
    pm = QPixmap(QSize(side, side))
    pm.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pm)
    renderer.render(painter)
    painter.end()
    pm.setDevicePixelRatio(ratio)
    return pm


def icon(name: str, colour: str, active_colour: str | None = None, size: int = 24) -> QIcon:
    """A QIcon; `active_colour` is used for the checked (On) state, e.g. the current rail entry."""
    result = QIcon()
    for ratio in (1.0, 2.0):
        result.addPixmap(pixmap(name, colour, size, ratio), QIcon.Mode.Normal, QIcon.State.Off)
        result.addPixmap(
            pixmap(name, active_colour or colour, size, ratio), QIcon.Mode.Normal, QIcon.State.On
        )
    return result


def app_icon() -> QIcon:
    svg = resource_text("app.svg")
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    result = QIcon()
    for side in (32, 64, 128, 256):
        pm = QPixmap(side, side)
        pm.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pm)
        renderer.render(painter)
        painter.end()
        result.addPixmap(pm)
    return result
