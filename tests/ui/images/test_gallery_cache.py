"""Gallery thumbnails cached on disk: written once, read back on the next start, remade when
the picture is newer, and not written at all with the cache off."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from bluesdesk.services.images import thumb_path
from bluesdesk.store.media import ImageRecord
from bluesdesk.ui.images.gallery import THUMB, GalleryModel

pytestmark = pytest.mark.gui


def record(media: Path, image_id: int, size=(640, 320), color=(20, 90, 200)) -> ImageRecord:
    rel = f"images/pic-{image_id}.png"
    (media / "images").mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(media / rel)
    return ImageRecord(
        id=image_id, profile_id="", model="dall-e-2", prompt=f"prompt {image_id}", path=rel,
        width=size[0], height=size[1], params={}, request_id="", created_at=1.0,
    )  # fmt: skip


def thumbnail(qtbot, model: GalleryModel, row: int):
    index = model.index(row)
    model.data(index, Qt.ItemDataRole.DecorationRole)  # asks for it, as a paint would
    rec = model.record(row)
    assert rec is not None
    qtbot.waitUntil(lambda: model.thumbnail_ready(rec.id), timeout=5000)
    return model.data(index, Qt.ItemDataRole.DecorationRole).toImage()


def test_thumbnail_is_written_once_and_read_back(qtbot, tmp_path):
    media = tmp_path / "media"
    rec = record(media, 1)
    first = GalleryModel(media)
    first.set_records([rec])
    image = thumbnail(qtbot, first, 0)
    assert (image.width(), image.height()) == (THUMB.width(), THUMB.height() // 2)
    cached = thumb_path(media, rec, THUMB.width())
    with Image.open(cached) as img:
        assert img.size == (160, 80)

    # Mark the cached file so a second model can only show it if it read the cache.
    Image.new("RGB", (160, 80), (255, 0, 0)).save(cached)
    later = os.stat(media / rec.path).st_mtime + 5
    os.utime(cached, (later, later))
    second = GalleryModel(media)
    second.set_records([rec])
    assert QColor(thumbnail(qtbot, second, 0).pixel(5, 5)).red() == 255

    # A picture newer than its thumbnail is decoded again.
    os.utime(media / rec.path, (later + 5, later + 5))
    third = GalleryModel(media)
    third.set_records([rec])
    assert QColor(thumbnail(qtbot, third, 0).pixel(5, 5)).blue() == 200
    with Image.open(cached) as img:
        assert img.convert("RGB").getpixel((5, 5)) == (20, 90, 200)


def test_without_the_disk_cache_nothing_is_written(qtbot, tmp_path):
    media = tmp_path / "media"
    recs = [record(media, i) for i in range(1, 4)]
    model = GalleryModel(media, disk_cache=False)
    model.set_records(recs)
    for row in range(3):
        assert not thumbnail(qtbot, model, row).isNull()
    assert not (media / "thumbs").exists()


def test_unreadable_picture_gets_the_placeholder_and_no_cache_file(qtbot, tmp_path):
    media = tmp_path / "media"
    rec = record(media, 7)
    (media / rec.path).write_bytes(b"not a png")
    model = GalleryModel(media)
    model.set_records([rec])
    image = thumbnail(qtbot, model, 0)
    assert image.size() == THUMB  # the grey placeholder
    assert not thumb_path(media, rec, THUMB.width()).exists()
