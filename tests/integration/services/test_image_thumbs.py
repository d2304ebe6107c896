"""Deleting a gallery image also removes its cached thumbnails."""

from __future__ import annotations

import asyncio

from PIL import Image

from bluesdesk.services.images import ImageService, thumb_path
from bluesdesk.store.db import Database
from bluesdesk.store.media import NewImage


def test_delete_removes_the_picture_and_its_thumbnails(tmp_path):
    media = tmp_path / "media"

    async def main():
        db = await Database.open(tmp_path / "bluesdesk.db")
        try:
            service = ImageService(db, media)
            (media / "images").mkdir(parents=True)
            Image.new("RGB", (64, 64)).save(media / "images" / "a.png")
            [rec] = await service.store.add_images(
                [NewImage(path="images/a.png", model="m", prompt="p", created_at=1.0)]
            )
            thumbs = [thumb_path(media, rec, edge) for edge in (160, 256)]
            for thumb in thumbs:
                thumb.parent.mkdir(parents=True)
                thumb.write_bytes(b"x")
            return thumbs, await service.delete(rec.id), await service.gallery()
        finally:
            await db.close()

    thumbs, deleted, gallery = asyncio.run(main())
    assert deleted and gallery == []
    assert not (media / "images" / "a.png").exists()
    assert not any(t.exists() for t in thumbs)
