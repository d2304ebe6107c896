"""The gallery's list model: one row per stored image, thumbnails decoded off the GUI thread.

A QListView in IconMode over this model stays fast with thousands of rows: rows are plain
records, a thumbnail is made (on the thread pool) only when a row is first painted, and made
thumbnails live in a bounded memory cache. They are also kept on disk (`thumb_path`: a small
PNG per image), so the next start decodes a 160-pixel file instead of a full-size picture; a
thumbnail older than its picture is made again. Writing one is best-effort: a read-only or full
disk only costs speed.
"""

from __future__ import annotations

import contextlib
import os
import uuid
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
from PySide6.QtWidgets import QListView

from bluesdesk.services.images import thumb_path
from bluesdesk.store.media import ImageRecord

THUMB = QSize(160, 160)
CACHE_LIMIT = 600
RecordRole = Qt.ItemDataRole.UserRole + 1


class _Done(QObject):
    loaded = Signal(int, QImage)  # image id, scaled image (null on failure)


def make_thumbnail(source: Path, cached: Path | None) -> QImage:
    """The thumbnail of `source`: from `cached` when it is there and not older, else decoded
    from the picture and written to `cached`. A null image if the picture cannot be read."""
    if cached is not None:
        try:
            fresh = cached.stat().st_mtime >= source.stat().st_mtime
        except OSError:
            fresh = False
        if fresh:
            image = QImageReader(str(cached)).read()
            if not image.isNull():
                return image
    reader = QImageReader(str(source))
    size = reader.size()
    if size.isValid():
        # Decoding straight to the small size is much cheaper for formats that support it.
        reader.setScaledSize(size.scaled(THUMB, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        return image
    if image.size().width() > THUMB.width() or image.size().height() > THUMB.height():
        image = image.scaled(
            THUMB, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
    if cached is not None:
        with contextlib.suppress(OSError):
            cached.parent.mkdir(parents=True, exist_ok=True)
            # Written aside and renamed, so a reader never sees half a file.
            partial = cached.with_name(f".{cached.stem}.{uuid.uuid4().hex[:8]}.png")
            # PNG by the suffix; a light compression level: writing must not cost more than reading
            if image.save(str(partial), quality=80):
                os.replace(partial, cached)
            else:
                partial.unlink(missing_ok=True)
    return image


class _ThumbJob(QRunnable):
    def __init__(self, image_id: int, path: Path, cached: Path | None, done: _Done) -> None:
        super().__init__()
        self.image_id = image_id
        self.path = path
        self.cached = cached
        self.done = done

    def run(self) -> None:
        self.done.loaded.emit(self.image_id, make_thumbnail(self.path, self.cached))


class GalleryModel(QAbstractListModel):
    """`disk_cache=False` decodes every thumbnail from its picture (the benchmark's baseline)."""

    def __init__(
        self, media_dir: Path, parent: QObject | None = None, *, disk_cache: bool = True
    ) -> None:
        super().__init__(parent)
        self.media_dir = media_dir
        self.disk_cache = disk_cache
        self._records: list[ImageRecord] = []
        self._rows: dict[int, int] | None = {}  # image id -> row; None = rebuild when needed
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
        self._rows = None
        self.endResetModel()

    def prepend(self, records: list[ImageRecord]) -> None:
        if not records:
            return
        self.beginInsertRows(QModelIndex(), 0, len(records) - 1)
        self._records[0:0] = records
        self._rows = None
        self.endInsertRows()

    def remove(self, image_id: int) -> None:
        for row, record in enumerate(self._records):
            if record.id == image_id:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._records[row]
                self._rows = None
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
            on_disk = thumb_path(self.media_dir, record, THUMB.width()) if self.disk_cache else None
            self._pool.start(
                _ThumbJob(record.id, self.media_dir / record.path, on_disk, self._done)
            )
        return self._placeholder

    def _on_loaded(self, image_id: int, image: QImage) -> None:
        self._pending.discard(image_id)
        pixmap = QPixmap.fromImage(image) if not image.isNull() else self._placeholder
        self._thumbs[image_id] = pixmap
        while len(self._thumbs) > CACHE_LIMIT:
            self._thumbs.popitem(last=False)
        if self._rows is None:
            self._rows = {record.id: row for row, record in enumerate(self._records)}
        row = self._rows.get(image_id)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


def make_gallery_view(model: GalleryModel) -> QListView:
    """The gallery grid over `model`: fixed-size cells laid out in batches, so opening thousands
    of rows costs one layout pass and only the visible thumbnails are asked for."""
    view = QListView()
    view.setViewMode(QListView.ViewMode.IconMode)
    view.setIconSize(THUMB)
    view.setGridSize(QSize(THUMB.width() + 12, THUMB.height() + 12))
    view.setResizeMode(QListView.ResizeMode.Adjust)
    view.setMovement(QListView.Movement.Static)
    view.setUniformItemSizes(True)
    view.setLayoutMode(QListView.LayoutMode.Batched)
    view.setBatchSize(200)
    view.setSelectionMode(QListView.SelectionMode.SingleSelection)
    view.setModel(model)
    return view
