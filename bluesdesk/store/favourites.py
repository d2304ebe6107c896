"""Favourite models per profile, in the `favourites` table (one row per starred model).

Before the table existed the catalog kept each profile's stars as a JSON list in `model_cache`
under `favourites:<profile id>`; the migration that created the table moved those rows here.
"""

from __future__ import annotations

import time

from bluesdesk.store.db import Database


class FavouriteStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def ids(self, profile_id: str) -> frozenset[str]:
        rows = await self.db.read(
            lambda c: c.execute(
                "SELECT model_id FROM favourites WHERE profile_id = ?", (profile_id,)
            ).fetchall()
        )
        return frozenset(str(r[0]) for r in rows)

    async def set(self, profile_id: str, model_id: str, starred: bool) -> None:
        if starred:
            now = time.time()
            await self.db.write(
                lambda c: c.execute(
                    "INSERT OR IGNORE INTO favourites (profile_id, model_id, created_at)"
                    " VALUES (?, ?, ?)",
                    (profile_id, model_id, now),
                )
            )
        else:
            await self.db.write(
                lambda c: c.execute(
                    "DELETE FROM favourites WHERE profile_id = ? AND model_id = ?",
                    (profile_id, model_id),
                )
            )

    async def forget(self, profile_id: str) -> None:
        await self.db.write(
            lambda c: c.execute("DELETE FROM favourites WHERE profile_id = ?", (profile_id,))
        )
