"""The model catalog cache: each profile's last model list, so the Models pane opens instantly."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from bluesdesk.store.db import Database


@dataclass(frozen=True, slots=True)
class CachedModels:
    items: list[Any]  # the models as the gateway sent them (JSON values)
    fetched_at: float  # time.time() of the fetch

    def age(self, now: float | None = None) -> float:
        return (time.time() if now is None else now) - self.fetched_at


class ModelCache:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def put(self, profile_id: str, items: list[Any], fetched_at: float | None = None) -> None:
        text = json.dumps(items, ensure_ascii=False, separators=(",", ":"))
        when = time.time() if fetched_at is None else fetched_at
        await self.db.write(
            lambda c: c.execute(
                "INSERT INTO model_cache (profile_id, json, fetched_at) VALUES (?, ?, ?)"
                " ON CONFLICT (profile_id) DO UPDATE SET json = excluded.json,"
                " fetched_at = excluded.fetched_at",
                (profile_id, text, when),
            )
        )

    async def get(self, profile_id: str) -> CachedModels | None:
        """The cached list, or None if there is none (or it cannot be parsed any more)."""
        row = await self.db.read(
            lambda c: c.execute(
                "SELECT json, fetched_at FROM model_cache WHERE profile_id = ?", (profile_id,)
            ).fetchone()
        )
        if row is None:
            return None
        try:
            items = json.loads(row[0])
        except json.JSONDecodeError:
            return None
        return CachedModels(items if isinstance(items, list) else [], float(row[1]))

    async def forget(self, profile_id: str) -> None:
        await self.db.write(
            lambda c: c.execute("DELETE FROM model_cache WHERE profile_id = ?", (profile_id,))
        )
