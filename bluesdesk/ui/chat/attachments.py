"""Images attached to the next message: loaded from a file, the clipboard or a drop, downscaled
so a phone photo does not become a 10 MB request, and kept as base64 data URLs.

Scaling: the longest side is capped at `MAX_SIDE` (what vision models look at anyway); opaque
images are sent as JPEG, images with transparency as PNG.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMimeData, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

MAX_SIDE = 1568
MAX_IMAGES = 8
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp")
THUMB = 56


def to_data_url(image: QImage) -> str:
    """Downscale (if needed) and encode as a base64 data URL."""
    if max(image.width(), image.height()) > MAX_SIDE:
        image = image.scaled(
            MAX_SIDE,
            MAX_SIDE,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    fmt, mime = ("PNG", "image/png") if image.hasAlphaChannel() else ("JPEG", "image/jpeg")
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    # The stubs ask for bytes, but PySide6 6.11 accepts only str here.
    image.save(buffer, fmt, 85 if fmt == "JPEG" else -1)  # type: ignore[call-overload]
    buffer.close()
    return f"data:{mime};base64," + bytes(data.toBase64().data()).decode("ascii")


def load_image(path: Path) -> QImage | None:
    image = QImage(str(path))
    return None if image.isNull() else image


def images_from_mime(mime: QMimeData) -> list[QImage]:
    """Images in pasted or dropped data: image data itself, or local image files."""
    found: list[QImage] = []
    if mime.hasImage():
        image = QImage(mime.imageData())
        if not image.isNull():
            found.append(image)
    elif mime.hasUrls():
        for url in mime.urls():
            if url.isLocalFile() and url.toLocalFile().lower().endswith(IMAGE_SUFFIXES):
                loaded = load_image(Path(url.toLocalFile()))
                if loaded is not None:
                    found.append(loaded)
    return found


def has_images(mime: QMimeData) -> bool:
    if mime.hasImage():
        return True
    return mime.hasUrls() and any(
        u.isLocalFile() and u.toLocalFile().lower().endswith(IMAGE_SUFFIXES) for u in mime.urls()
    )


class AttachmentStrip(QWidget):
    """Thumbnails of the attached images, each with a remove button.

    Signals: changed(): an image was added or removed.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._urls: list[str] = []
        self._row = QHBoxLayout(self)
        self._row.setContentsMargins(0, 0, 0, 0)
        self._row.setSpacing(6)
        self._row.addStretch(1)
        self.hide()

    def urls(self) -> tuple[str, ...]:
        return tuple(self._urls)

    def add_image(self, image: QImage) -> bool:
        """Attach an image; False when the strip is full."""
        if len(self._urls) >= MAX_IMAGES:
            return False
        url = to_data_url(image)
        self._urls.append(url)
        tile = self._tile(image, url)
        self._row.insertWidget(self._row.count() - 1, tile)
        tile.show()  # a child added to a visible widget stays hidden unless shown
        self.show()
        self.changed.emit()
        return True

    def _tile(self, image: QImage, url: str) -> QWidget:
        tile = QWidget()
        tile.setObjectName("attachment")
        thumb = QLabel()
        thumb.setPixmap(
            QPixmap.fromImage(image).scaled(
                THUMB,
                THUMB,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )
        thumb.setToolTip(f"{image.width()}×{image.height()}")
        remove = QToolButton()
        remove.setText("×")
        remove.setToolTip(self.tr("Remove this image"))
        remove.clicked.connect(lambda *_: self._remove(tile, url))
        column = QVBoxLayout(tile)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(remove, 0, Qt.AlignmentFlag.AlignRight)
        column.addWidget(thumb)
        return tile

    def _remove(self, tile: QWidget, url: str) -> None:
        if url in self._urls:
            self._urls.remove(url)
        tile.deleteLater()
        self.setVisible(bool(self._urls))
        self.changed.emit()

    def clear(self) -> None:
        self._urls.clear()
        while self._row.count() > 1:
            item = self._row.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.hide()
        self.changed.emit()

    def count(self) -> int:
        return len(self._urls)
