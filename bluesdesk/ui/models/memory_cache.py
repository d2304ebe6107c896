"""A ModelCache kept in memory, for an AppContext built without a database (some tests, tools).

The catalog then still works for the session; it just opens empty next time.
"""

from __future__ import annotations

import time
from typing import Any

from bluesdesk.store.model_cache import CachedModels, ModelCache


class MemoryModelCache(ModelCache):
    def __init__(self) -> None:  # no database: deliberately not calling ModelCache.__init__
        self._items: dict[str, CachedModels] = {}

    async def put(self, profile_id: str, items: list[Any], fetched_at: float | None = None) -> None:
        when = time.time() if fetched_at is None else fetched_at
        self._items[profile_id] = CachedModels(list(items), when)

    async def get(self, profile_id: str) -> CachedModels | None:
        return self._items.get(profile_id)

    async def forget(self, profile_id: str) -> None:
        self._items.pop(profile_id, None)
