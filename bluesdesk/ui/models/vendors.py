"""Vendor marks in the Models table, where the gateway's /api/pricing names a vendor icon.

new-api stores an icon *name* per vendor (from an icon set: "OpenAI", "Claude.Color",
"Gemini.Color", "Qwen.Color", …), not an image. `icon_key` maps the common names to one of our
own monochrome marks in `vendor_icons/` (letter-in-circle strokes, recoloured to the text
colour); a name we do not know gets a plain circle with the vendor's initial, drawn here. Models
whose vendor has no icon name get no mark.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from PySide6.QtCore import QByteArray, QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPen, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

_PLACEHOLDER = "#000000"
ICON_SIZE = 16
VENDOR_ICON_ROLE = Qt.ItemDataRole.UserRole + 4  # the row's mark key, from `icon_key`

# Icon-set names (and vendor names) → our mark. Compared lower-cased, letters and digits only,
# after dropping the icon set's style suffix (".Color", ".Text", …).
ALIASES: dict[str, str] = {
    **dict.fromkeys(("openai", "chatgpt", "gpt", "dalle"), "openai"),
    **dict.fromkeys(("anthropic", "claude"), "anthropic"),
    **dict.fromkeys(("google", "gemini", "gemma", "vertexai", "googlecloud", "palm"), "google"),
    **dict.fromkeys(("deepseek",), "deepseek"),
    **dict.fromkeys(("xai", "grok"), "xai"),
    **dict.fromkeys(("qwen", "alibaba", "alibabacloud", "aliyun", "bailian", "tongyi"), "qwen"),
    **dict.fromkeys(("mistral", "mistralai"), "mistral"),
    **dict.fromkeys(("meta", "metaai", "llama"), "meta"),
    **dict.fromkeys(("zhipu", "zhipuai", "chatglm", "glm", "zai", "bigmodel"), "zhipu"),
    **dict.fromkeys(("moonshot", "kimi"), "moonshot"),
    **dict.fromkeys(("cohere",), "cohere"),
    **dict.fromkeys(("baidu", "wenxin", "ernie", "baiducloud"), "baidu"),
}
MARKS = frozenset(ALIASES.values())
_STYLE_SUFFIX = re.compile(r"\.(color|text|avatar|combine|brand|brandcolor|mono)$", re.IGNORECASE)


def _normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", _STYLE_SUFFIX.sub("", name.strip()).lower())


@lru_cache(maxsize=256)
def icon_key(icon: str, vendor: str = "") -> str:
    """The mark for a vendor's icon name: one of MARKS, "letter:X" for an icon name we do not
    know (X: the vendor's initial), or "" when the gateway gave no icon name."""
    if not icon.strip():
        return ""
    for name in (icon, vendor):
        found = ALIASES.get(_normal(name))
        if found:
            return found
    initial = next((c for c in vendor or icon if c.isalnum()), "?")
    return f"letter:{initial.upper()}"


def _svg(mark: str) -> str | None:
    try:
        return (resources.files("bluesdesk.ui.models") / "vendor_icons" / f"{mark}.svg").read_text(
            encoding="utf-8"
        )
    except (FileNotFoundError, OSError):  # a bundle without the marks: fall back to the initial
        return None


@lru_cache(maxsize=256)
def vendor_pixmap(key: str, colour: str, size: int = ICON_SIZE, ratio: float = 1.0) -> QPixmap:
    """The mark for `key` (from `icon_key`) in `colour`, `size` logical pixels square."""
    side = round(size * ratio)
    pm = QPixmap(QSize(side, side))
    pm.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pm)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    svg = _svg(key) if key in MARKS else None
    if svg is not None:
        QSvgRenderer(QByteArray(svg.replace(_PLACEHOLDER, colour).encode("utf-8"))).render(painter)
    else:
        # The same frame as the SVG marks (24-unit grid), with the initial as text.
        scale = side / 24.0
        pen = QPen(QColor(colour), 1.7 * scale)
        painter.setPen(pen)
        painter.drawEllipse(QRectF(1.8 * scale, 1.8 * scale, 20.4 * scale, 20.4 * scale))
        font = QFont()
        font.setPixelSize(max(6, round(11 * scale)))
        font.setBold(True)
        painter.setFont(font)
        letter = key.removeprefix("letter:")[:1] or "?"
        painter.drawText(QRectF(0, 0, side, side), Qt.AlignmentFlag.AlignCenter, letter)
    painter.end()
    pm.setDevicePixelRatio(ratio)
    return pm


@lru_cache(maxsize=256)
def _vendor_icon(key: str, colour: str, ratio: float) -> QIcon:
    return QIcon(vendor_pixmap(key, colour, ICON_SIZE, ratio))


class VendorDelegate(QStyledItemDelegate):
    """The vendor column: the style's usual cell, with the vendor's mark as its decoration."""

    def initStyleOption(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        super().initStyleOption(option, index)
        key = index.data(VENDOR_ICON_ROLE) or ""
        if not key:
            return
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        palette = option.palette
        colour = (palette.highlightedText() if selected else palette.text()).color().name()
        widget = option.widget
        ratio = widget.devicePixelRatioF() if widget is not None else 1.0  # type: ignore[redundant-expr]
        option.icon = _vendor_icon(key, colour, ratio)
        option.decorationSize = QSize(ICON_SIZE, ICON_SIZE)
        option.features |= QStyleOptionViewItem.ViewItemFeature.HasDecoration
