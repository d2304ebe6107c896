"""The favourites table: its store, and the migration that moves the old model_cache rows in."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

from bluesdesk.store import Database, ModelCache
from bluesdesk.store.favourites import FavouriteStore
from bluesdesk.store.schema import LATEST, MIGRATIONS

# Found by content, so the test follows the migration wherever later ones push it.
STEP = next(i for i, m in enumerate(MIGRATIONS) if "EXISTS favourites" in m)


def old_database(path: Path, rows: list[tuple[str, str, float]]) -> None:
    """A file at the schema version before the favourites table, with model_cache rows."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for script in MIGRATIONS[:STEP]:
            conn.executescript(script)
        conn.execute(f"PRAGMA user_version = {STEP}")
        conn.executemany(
            "INSERT INTO model_cache (profile_id, json, fetched_at) VALUES (?, ?, ?)", rows
        )
    finally:
        conn.close()


def test_store_sets_clears_and_forgets_per_profile(tmp_path: Path) -> None:
    async def scenario() -> None:
        db = await Database.open(tmp_path / "f.db")
        try:
            stars = FavouriteStore(db)
            assert await stars.ids("p1") == frozenset()
            await stars.set("p1", "gpt-4o", True)
            await stars.set("p1", "gpt-4o", True)  # starring twice is harmless
            await stars.set("p1", "o3", True)
            await stars.set("p2", "claude", True)
            await stars.set("p1", "o3", False)
            await stars.set("p1", "never-starred", False)
            assert await stars.ids("p1") == {"gpt-4o"}
            await stars.forget("p1")
            assert await stars.ids("p1") == frozenset()
            assert await stars.ids("p2") == {"claude"}
        finally:
            await db.close()

    asyncio.run(scenario())


def test_migration_moves_old_favourite_rows_out_of_model_cache(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    catalog_json = json.dumps([{"format": 1, "relay_models": []}])
    old_database(
        path,
        [
            ("favourites:p1", json.dumps(["gpt-4o", "o3", 7, "", "gpt-4o"]), 100.0),
            ("favourites:p2", json.dumps(["claude-sonnet-4"]), 50.0),
            ("favourites:broken", "{not json", 1.0),  # skipped, not fatal
            ("favourites:object", json.dumps({"a": "gpt"}), 1.0),  # not a list: skipped
            ("catalog:p1", catalog_json, 100.0),
        ],
    )

    async def scenario() -> None:
        db = await Database.open(path)
        try:
            version = await db.read(lambda c: c.execute("PRAGMA user_version").fetchone()[0])
            assert version == LATEST
            stars = FavouriteStore(db)
            assert await stars.ids("p1") == {"gpt-4o", "o3"}
            assert await stars.ids("p2") == {"claude-sonnet-4"}
            assert await stars.ids("broken") == frozenset()
            assert await stars.ids("object") == frozenset()
            left = await db.read(
                lambda c: c.execute("SELECT profile_id FROM model_cache").fetchall()
            )
            assert [r[0] for r in left] == ["catalog:p1"]  # the catalog itself stays
            cached = await ModelCache(db).get("catalog:p1")
            assert cached is not None and cached.fetched_at == 100.0
        finally:
            await db.close()

    asyncio.run(scenario())


def test_migration_is_safe_to_run_twice(tmp_path: Path) -> None:
    path = tmp_path / "twice.db"
    old_database(path, [("favourites:p1", json.dumps(["gpt-4o"]), 5.0)])
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.executescript(MIGRATIONS[STEP])
        # A second run over the migrated file (as after a crash before user_version was
        # written, with the old row put back) neither fails nor duplicates.
        conn.execute(
            "INSERT INTO model_cache (profile_id, json, fetched_at) VALUES (?, ?, ?)",
            ("favourites:p1", json.dumps(["gpt-4o", "o1"]), 6.0),
        )
        conn.executescript(MIGRATIONS[STEP])
        rows = conn.execute(
            "SELECT profile_id, model_id, created_at FROM favourites ORDER BY model_id"
        ).fetchall()
        assert rows == [("p1", "gpt-4o", 5.0), ("p1", "o1", 6.0)]
        left = conn.execute("SELECT count(*) FROM model_cache").fetchone()[0]
        assert left == 0
    finally:
        conn.close()
