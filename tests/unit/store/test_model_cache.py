"""ModelCache: one model list per profile, replaced on refresh, on a real SQLite file."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bluesdesk.store import Database
from bluesdesk.store.model_cache import ModelCache


def test_put_get_replace_forget(tmp_path: Path) -> None:
    async def scenario() -> None:
        db = await Database.open(tmp_path / "m.db")
        try:
            cache = ModelCache(db)
            assert await cache.get("p1") is None
            await cache.put("p1", [{"id": "gpt-4o-mini", "owned_by": "openai"}], fetched_at=100.0)
            await cache.put("p2", [{"id": "claude"}], fetched_at=50.0)
            first = await cache.get("p1")
            assert first is not None
            assert first.items == [{"id": "gpt-4o-mini", "owned_by": "openai"}]
            assert first.age(now=160.0) == 60.0
            await cache.put("p1", [{"id": "a"}, {"id": "b"}], fetched_at=200.0)
            again = await cache.get("p1")
            assert again is not None
            assert ([m["id"] for m in again.items], again.fetched_at) == (["a", "b"], 200.0)
            await cache.forget("p1")
            assert await cache.get("p1") is None
            assert await cache.get("p2") is not None
        finally:
            await db.close()

    asyncio.run(scenario())
