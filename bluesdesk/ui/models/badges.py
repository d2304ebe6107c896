"""Capabilities as compact rounded badges, painted by a delegate (no widget per row)."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from bluesdesk.core.capabilities import Capability
from bluesdesk.ui.models.table import CAPS_ROLE

C = Capability

# Short label and hue per capability, in display order. Mid-lightness hues read on both themes.
BADGES: dict[Capability, tuple[str, str]] = {
    C.CHAT: ("chat", "#3b82f6"),
    C.VISION: ("vision", "#8b5cf6"),
    C.TOOLS: ("tools", "#0ea5e9"),
    C.JSON: ("json", "#14b8a6"),
    C.REASONING: ("reason", "#f59e0b"),
    C.IMAGE_GENERATION: ("image", "#ec4899"),
    C.SPEECH: ("tts", "#22c55e"),
    C.TRANSCRIPTION: ("stt", "#84cc16"),
    C.CLAUDE_NATIVE: ("claude", "#d97706"),
    C.GEMINI_NATIVE: ("gemini", "#6366f1"),
    C.EMBEDDING: ("embed", "#64748b"),
    C.VIDEO: ("video", "#ef4444"),
}

LABELS: dict[Capability, str] = {
    C.CHAT: "Chat",
    C.VISION: "Vision",
    C.TOOLS: "Tools",
    C.JSON: "JSON output",
    C.REASONING: "Reasoning",
    C.IMAGE_GENERATION: "Image generation",
    C.SPEECH: "Speech (TTS)",
    C.TRANSCRIPTION: "Transcription (STT)",
    C.CLAUDE_NATIVE: "Claude-native",
    C.GEMINI_NATIVE: "Gemini-native",
    C.EMBEDDING: "Embeddings",
    C.VIDEO: "Video",
}


def ordered(capabilities: Iterable[Capability]) -> list[Capability]:
    have = set(capabilities)
    return [c for c in BADGES if c in have]


class BadgeDelegate(QStyledItemDelegate):
    """Paints one small rounded label per capability, left to right, clipped to the cell."""

    PAD_X = 5
    GAP = 3

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cache: dict[tuple[object, ...], QPixmap] = {}

    def _font(self, option: QStyleOptionViewItem) -> QFont:
        font = QFont(option.font)
        size = font.pointSizeF()
        if size > 0:
            font.setPointSizeF(max(6.5, size * 0.8))
        return font

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        # The background (selection, hover) as the style draws it, then the badges on top.
        self.initStyleOption(option, index)
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()  # type: ignore[redundant-expr]
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, widget)
        caps = index.data(CAPS_ROLE) or frozenset()
        if not caps:
            return
        rect = option.rect
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        ratio = widget.devicePixelRatioF() if widget is not None else 1.0  # type: ignore[redundant-expr]
        # Rows share a handful of capability sets: each is painted once into a pixmap, then
        # blitted, which keeps a repaint while typing in the search box cheap.
        key = (caps, selected, _dark(option), rect.width(), rect.height(), ratio, option.font.key())
        pixmap = self._cache.get(key)
        if pixmap is None:
            if len(self._cache) > 256:
                self._cache.clear()
            pixmap = self._render(option, caps, selected, rect.width(), rect.height(), ratio)
            self._cache[key] = pixmap
        painter.drawPixmap(rect.topLeft(), pixmap)

    def _render(
        self,
        option: QStyleOptionViewItem,
        caps: frozenset[Capability],
        selected: bool,
        width_px: int,
        height_px: int,
        ratio: float,
    ) -> QPixmap:
        pixmap = QPixmap(max(1, round(width_px * ratio)), max(1, round(height_px * ratio)))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        rect = QRect(0, 0, width_px, height_px)
        font = self._font(option)
        metrics = QFontMetrics(font)
        height = metrics.height() + 2
        top = rect.top() + (rect.height() - height) / 2
        x = float(rect.left() + 4)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setFont(font)
        painter.setClipRect(rect)
        for cap in ordered(caps):
            text, hue = BADGES[cap]
            width = metrics.horizontalAdvance(text) + 2 * self.PAD_X
            if x + width > rect.right() - 2:
                painter.setPen(option.palette.text().color())
                painter.drawText(QRectF(x, top, 14, height), Qt.AlignmentFlag.AlignCenter, "…")
                break
            box = QRectF(x, top, width, height)
            # On the selection colour the hues vanish: white labels on a light wash instead.
            fill = QColor("#ffffff" if selected else hue)
            fill.setAlpha(40 if selected else 48)
            edge = QColor("#ffffff" if selected else hue)
            edge.setAlpha(150 if selected else 140)
            painter.setPen(edge)
            painter.setBrush(fill)
            painter.drawRoundedRect(box, height / 2, height / 2)
            if selected:
                painter.setPen(QColor("#ffffff"))
            else:
                painter.setPen(
                    QColor(hue).lighter(135) if _dark(option) else QColor(hue).darker(130)
                )
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
            x += width + self.GAP
        painter.restore()
        painter.end()
        return pixmap

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        caps = index.data(CAPS_ROLE) or frozenset()
        metrics = QFontMetrics(self._font(option))
        width = sum(
            metrics.horizontalAdvance(BADGES[c][0]) + 2 * self.PAD_X + self.GAP
            for c in ordered(caps)
        )
        return QSize(width + 8, metrics.height() + 8)


def _dark(option: QStyleOptionViewItem) -> bool:
    return bool(option.palette.base().color().lightness() < 128)
