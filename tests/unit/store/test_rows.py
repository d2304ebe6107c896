"""The shared row readers: a plain SELECT mapped to records, and lenient JSON columns."""

from __future__ import annotations

import asyncio

import pytest

from bluesdesk.store.db import Database
from bluesdesk.store.media import MediaStore, NewImage
from bluesdesk.store.rows import fetch_all, fetch_one, json_object


def test_fetch_all_and_fetch_one_map_rows_in_query_order(tmp_path):
    async def scenario():
        db = await Database.open(tmp_path / "bluesdesk.db")
        try:
            await MediaStore(db).add_images(
                [NewImage(path=f"images/{n}.png", model="m", prompt=n, created_at=t)
                 for n, t in (("old", 1.0), ("new", 2.0))]
            )  # fmt: skip
            sql = "SELECT prompt, created_at FROM images ORDER BY created_at DESC"
            every = await fetch_all(db, sql, (), lambda row: (row[0], float(row[1])))
            one = await fetch_one(
                db, "SELECT prompt FROM images WHERE prompt = ?", ("old",), lambda row: row[0]
            )
            none = await fetch_one(
                db, "SELECT prompt FROM images WHERE prompt = ?", ("gone",), lambda row: row[0]
            )
            return every, one, none
        finally:
            await db.close()

    every, one, none = asyncio.run(scenario())
    assert every == [("new", 2.0), ("old", 1.0)]
    assert one == "old"
    assert none is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"cost": 0.04, "size": "1024x1024"}', {"cost": 0.04, "size": "1024x1024"}),
        ("", {}),
        (None, {}),
        ("{not json", {}),
        ("[1, 2]", {}),
        ('"a string"', {}),
    ],
)
def test_json_object_reads_objects_and_defaults_anything_else_to_empty(text, expected):
    assert json_object(text) == expected
