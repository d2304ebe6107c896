"""Clip speed and cost in MediaStore: kept beside the released `audio_clips` table."""

from __future__ import annotations

import asyncio
import sqlite3

from bluesdesk.store.db import Database
from bluesdesk.store.media import MediaStore


def test_speed_and_cost_survive_a_reopen_and_delete_removes_them(tmp_path):
    path = tmp_path / "bluesdesk.db"

    async def first():
        db = await Database.open(path)
        try:
            store = MediaStore(db)
            plain = await store.add_clip(
                path="speech/a.wav", model="tts-1", voice="nova", input_text="A", fmt="wav",
                created_at=1.0,
            )  # fmt: skip
            # Before any clip with params, listing works without the side table.
            listed = await store.clips()
            rich = await store.add_clip(
                path="speech/b.mp3", model="tts-1", voice="nova", input_text="B", fmt="mp3",
                created_at=2.0, params={"speed": 1.5, "cost": 0.015},
            )  # fmt: skip
            return plain, listed, rich
        finally:
            await db.close()

    async def second():
        db = await Database.open(path)
        try:
            store = MediaStore(db)
            before = await store.clips()
            gone = await store.delete_clip(before[0].id)
            return before, gone, await store.clips()
        finally:
            await db.close()

    plain, listed, rich = asyncio.run(first())
    assert listed == [plain] and plain.speed == 1.0 and plain.cost is None
    assert rich.speed == 1.5 and rich.cost == 0.015
    before, gone, after = asyncio.run(second())
    assert [c.input_text for c in before] == ["B", "A"]
    assert before[0].params == {"cost": 0.015, "speed": 1.5} and before[1].params == {}
    assert gone is not None and gone.cost == 0.015
    assert [c.id for c in after] == [plain.id]
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM audio_clip_params").fetchone() == (0,)
