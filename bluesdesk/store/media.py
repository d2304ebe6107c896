"""Generated media records: images and speech clips, over the `images`/`audio_clips` tables.

The files themselves live below the media folder; rows keep their paths relative to it so the
whole data folder can be moved. An image's cost and generation settings travel in `params_json`
(the schema has no cost column, and the settings differ per model family anyway).

A clip's speed and cost have no column in `audio_clips` (released schema); until a migration adds
one they live in a side table, `audio_clip_params`, created on the first write that needs it
(`CREATE TABLE IF NOT EXISTS`, so any process may create it) and read only where it exists.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from bluesdesk.store.db import Database
from bluesdesk.store.rows import fetch_all, fetch_one, json_object

_IMAGE_COLUMNS = (
    "id, profile_id, model, prompt, path, width, height, params_json, request_id, created_at"
)
_CLIP_COLUMNS = (
    "c.id, c.profile_id, c.model, c.voice, c.input_text, c.path, c.format, c.duration_s, "
    "c.request_id, c.created_at"
)
_CLIP_PARAMS_TABLE = """
CREATE TABLE IF NOT EXISTS audio_clip_params (
    clip_id     INTEGER PRIMARY KEY REFERENCES audio_clips(id) ON DELETE CASCADE,
    params_json TEXT NOT NULL DEFAULT '{}'
)"""


@dataclass(frozen=True, slots=True)
class NewImage:
    """An image file already written, about to be recorded."""

    path: str  # relative to the media folder
    model: str
    prompt: str
    created_at: float
    width: int = 0
    height: int = 0
    profile_id: str = ""
    request_id: str = ""
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ImageRecord:
    id: int
    profile_id: str
    model: str
    prompt: str
    path: str
    width: int
    height: int
    params: dict[str, Any]
    request_id: str
    created_at: float

    @property
    def cost(self) -> float | None:
        value = self.params.get("cost")
        return float(value) if isinstance(value, int | float) else None


@dataclass(frozen=True, slots=True)
class ClipRecord:
    id: int
    profile_id: str
    model: str
    voice: str
    input_text: str
    path: str
    format: str
    duration_s: float
    request_id: str
    created_at: float
    params: dict[str, Any] = field(default_factory=dict)  # speed, cost

    @property
    def speed(self) -> float:
        value = self.params.get("speed")
        return float(value) if isinstance(value, int | float) else 1.0

    @property
    def cost(self) -> float | None:
        value = self.params.get("cost")
        return float(value) if isinstance(value, int | float) else None


def _image(row: tuple[Any, ...]) -> ImageRecord:
    iid, profile_id, model, prompt, path, width, height, params_json, request_id, created = row
    return ImageRecord(
        id=int(iid),
        profile_id=str(profile_id),
        model=str(model),
        prompt=str(prompt),
        path=str(path),
        width=int(width),
        height=int(height),
        params=json_object(params_json),
        request_id=str(request_id),
        created_at=float(created),
    )


def _clip(row: tuple[Any, ...]) -> ClipRecord:
    cid, profile_id, model, voice, text, path, fmt, duration, request_id, created = row[:10]
    return ClipRecord(
        id=int(cid),
        profile_id=str(profile_id),
        model=str(model),
        voice=str(voice),
        input_text=str(text),
        path=str(path),
        format=str(fmt),
        duration_s=float(duration),
        request_id=str(request_id),
        created_at=float(created),
        params=json_object(row[10] if len(row) > 10 else None),
    )


def _has_clip_params(conn: sqlite3.Connection) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audio_clip_params'"
    ).fetchone()
    return row is not None


def _clip_select(conn: sqlite3.Connection) -> str:
    if _has_clip_params(conn):
        return (
            f"SELECT {_CLIP_COLUMNS}, p.params_json FROM audio_clips AS c "
            "LEFT JOIN audio_clip_params AS p ON p.clip_id = c.id"
        )
    return f"SELECT {_CLIP_COLUMNS} FROM audio_clips AS c"


class MediaStore:
    """Add, list and delete image and clip rows.

    Lists are newest first; the images of one batch keep the order the gateway sent them in.
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    # ---- images -------------------------------------------------------------------------------

    async def add_images(self, images: list[NewImage]) -> list[ImageRecord]:
        def insert(conn: sqlite3.Connection) -> list[ImageRecord]:
            out: list[ImageRecord] = []
            for img in images:
                params_json = json.dumps(img.params, sort_keys=True)
                cursor = conn.execute(
                    "INSERT INTO images (profile_id, model, prompt, path, width, height, "
                    "params_json, request_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        img.profile_id,
                        img.model,
                        img.prompt,
                        img.path,
                        img.width,
                        img.height,
                        params_json,
                        img.request_id,
                        img.created_at,
                    ),
                )
                out.append(
                    ImageRecord(
                        id=int(cursor.lastrowid or 0),
                        profile_id=img.profile_id,
                        model=img.model,
                        prompt=img.prompt,
                        path=img.path,
                        width=img.width,
                        height=img.height,
                        params=dict(img.params),
                        request_id=img.request_id,
                        created_at=img.created_at,
                    )
                )
            return out

        return await self._db.write(insert)

    async def images(self, limit: int = -1, offset: int = 0) -> list[ImageRecord]:
        sql = (
            f"SELECT {_IMAGE_COLUMNS} FROM images ORDER BY created_at DESC, id ASC LIMIT ? OFFSET ?"
        )
        return await fetch_all(self._db, sql, (limit, offset), _image)

    async def image(self, image_id: int) -> ImageRecord | None:
        sql = f"SELECT {_IMAGE_COLUMNS} FROM images WHERE id = ?"
        return await fetch_one(self._db, sql, (image_id,), _image)

    async def delete_image(self, image_id: int) -> ImageRecord | None:
        """Remove the row; returns it (so the caller can remove the file) or None if gone."""

        def delete(conn: sqlite3.Connection) -> ImageRecord | None:
            row = conn.execute(
                f"SELECT {_IMAGE_COLUMNS} FROM images WHERE id = ?", (image_id,)
            ).fetchone()
            if row is None:
                return None
            conn.execute("DELETE FROM images WHERE id = ?", (image_id,))
            return _image(row)

        return await self._db.write(delete)

    # ---- speech clips -------------------------------------------------------------------------

    async def add_clip(
        self,
        *,
        path: str,
        model: str,
        voice: str,
        input_text: str,
        fmt: str,
        created_at: float,
        duration_s: float = 0.0,
        profile_id: str = "",
        request_id: str = "",
        params: dict[str, Any] | None = None,
    ) -> ClipRecord:
        extra = dict(params or {})

        def insert(conn: sqlite3.Connection) -> ClipRecord:
            cursor = conn.execute(
                "INSERT INTO audio_clips (profile_id, model, voice, input_text, path, format, "
                "duration_s, request_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (profile_id, model, voice, input_text, path, fmt, duration_s, request_id,
                 created_at),
            )  # fmt: skip
            clip_id = int(cursor.lastrowid or 0)
            if extra:
                conn.execute(_CLIP_PARAMS_TABLE)
                conn.execute(
                    "INSERT OR REPLACE INTO audio_clip_params (clip_id, params_json) VALUES (?, ?)",
                    (clip_id, json.dumps(extra, sort_keys=True)),
                )
            return ClipRecord(
                id=int(cursor.lastrowid or 0),
                profile_id=profile_id,
                model=model,
                voice=voice,
                input_text=input_text,
                path=path,
                format=fmt,
                duration_s=duration_s,
                request_id=request_id,
                created_at=created_at,
                params=extra,
            )

        return await self._db.write(insert)

    async def clips(self, limit: int = -1) -> list[ClipRecord]:
        def select(conn: sqlite3.Connection) -> list[ClipRecord]:
            rows = conn.execute(
                f"{_clip_select(conn)} ORDER BY c.created_at DESC, c.id ASC LIMIT ?", (limit,)
            ).fetchall()
            return [_clip(r) for r in rows]

        return await self._db.read(select)

    async def delete_clip(self, clip_id: int) -> ClipRecord | None:
        def delete(conn: sqlite3.Connection) -> ClipRecord | None:
            row = conn.execute(f"{_clip_select(conn)} WHERE c.id = ?", (clip_id,)).fetchone()
            if row is None:
                return None
            if _has_clip_params(conn):
                conn.execute("DELETE FROM audio_clip_params WHERE clip_id = ?", (clip_id,))
            conn.execute("DELETE FROM audio_clips WHERE id = ?", (clip_id,))
            return _clip(row)

        return await self._db.write(delete)
