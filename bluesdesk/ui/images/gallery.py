"""The gallery's list model: one row per stored image, thumbnails decoded off the GUI thread.

A QListView in IconMode over this model stays fast with thousands of rows: rows are plain
records, a thumbnail is decoded (scaled, on the thread pool) only when a row is first painted,
and decoded thumbnails live in a bounded cache.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRunnable,
    QSize,
    Qt,
    QThreadPool,
    Signal,
)
from PySide6.QtGui import QColor, QImage, QImageReader, QPixmap

from bluesdesk.store.media import ImageRecord

THUMB = QSize(160, 160)
CACHE_LIMIT = 600
RecordRole = Qt.ItemDataRole.UserRole + 1


class _Done(QObject):
    loaded = Signal(int, QImage)  # image id, scaled image (null on failure)


class _ThumbJob(QRunnable):
    def __init__(self, image_id: int, path: Path, done: _Done) -> None:
        super().__init__()
        self.image_id = image_id
        self.path = path
        self.done = done

    def run(self) -> None:
        reader = QImageReader(str(self.path))
        size = reader.size()
        if size.isValid():
            # Decoding straight to the small size is much cheaper for formats that support it.
            reader.setScaledSize(size.scaled(THUMB, Qt.AspectRatioMode.KeepAspectRatio))
        image = reader.read()
        self.done.loaded.emit(self.image_id, image)


class GalleryModel(QAbstractListModel):
    def __init__(self, media_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.media_dir = media_dir
        self._records: list[ImageRecord] = []
        self._thumbs: OrderedDict[int, QPixmap] = OrderedDict()
        self._pending: set[int] = set()
        self._done = _Done()
        self._done.loaded.connect(self._on_loaded)
        # Our own pool, owned by the model: its destructor waits for running decodes.
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        self._placeholder = QPixmap(THUMB)
        self._placeholder.fill(QColor(128, 128, 128, 40))

    # ---- contents -----------------------------------------------------------------------------

    def set_records(self, records: list[ImageRecord]) -> None:
        self.beginResetModel()
        self._records = list(records)
        self.endResetModel()

    def prepend(self, records: list[ImageRecord]) -> None:
        if not records:
            return
        self.beginInsertRows(QModelIndex(), 0, len(records) - 1)
        self._records[0:0] = records
        self.endInsertRows()

    def remove(self, image_id: int) -> None:
        for row, record in enumerate(self._records):
            if record.id == image_id:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._records[row]
                self.endRemoveRows()
                self._thumbs.pop(image_id, None)
                return

    def record(self, row: int) -> ImageRecord | None:
        return self._records[row] if 0 <= row < len(self._records) else None

    def records(self) -> list[ImageRecord]:
        return list(self._records)

    def thumbnail_ready(self, image_id: int) -> bool:
        return image_id in self._thumbs

    # ---- QAbstractListModel -------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        if parent is not None and parent.isValid():
            return 0
        return len(self._records)

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        record = self.record(index.row()) if index.isValid() else None
        if record is None:
            return None
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumbnail(record)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{record.prompt}\n{record.model} · {record.width}×{record.height}"
        if role == Qt.ItemDataRole.DisplayRole:
            return ""  # the picture says it; the prompt is in the tooltip
        if role == RecordRole:
            return record
        return None

    # ---- thumbnails ---------------------------------------------------------------------------

    def _thumbnail(self, record: ImageRecord) -> QPixmap:
        cached = self._thumbs.get(record.id)
        if cached is not None:
            self._thumbs.move_to_end(record.id)
            return cached
        if record.id not in self._pending:
            self._pending.add(record.id)
            self._pool.start(_ThumbJob(record.id, self.media_dir / record.path, self._done))
        return self._placeholder

    def _on_loaded(self, image_id: int, image: QImage) -> None:
        self._pending.discard(image_id)
        pixmap = QPixmap.fromImage(image) if not image.isNull() else self._placeholder
        self._thumbs[image_id] = pixmap
        while len(self._thumbs) > CACHE_LIMIT:
            self._thumbs.popitem(last=False)
        for row, record in enumerate(self._records):
            if record.id == image_id:
                index = self.index(row)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])
                break
