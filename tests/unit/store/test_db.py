"""Database: migrations, backups, WAL, the writer thread and typed errors, on real files."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from pathlib import Path

import pytest

from bluesdesk.errors import MigrationFailed, StoreCorrupt, StoreUnavailable
from bluesdesk.store.db import Database, backup_path
from bluesdesk.store.schema import LATEST, MIGRATIONS

TABLES = {"conversations", "messages", "attachments", "images", "audio_clips", "model_cache"}


def _tables(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()


def test_fresh_database_is_migrated_without_backup(tmp_path: Path) -> None:
    path = tmp_path / "b.db"

    async def scenario() -> tuple[int, str, int, int]:
        db = await Database.open(path)
        try:
            version = await db.read(lambda c: c.execute("PRAGMA user_version").fetchone()[0])
            mode = await db.read(lambda c: c.execute("PRAGMA journal_mode").fetchone()[0])
            fk = await db.write(lambda c: c.execute("PRAGMA foreign_keys").fetchone()[0])
            sync = await db.write(lambda c: c.execute("PRAGMA synchronous").fetchone()[0])
            return version, mode, fk, sync
        finally:
            await db.close()

    version, mode, fk, sync = asyncio.run(scenario())
    assert version == LATEST
    assert mode == "wal"
    assert fk == 1
    assert sync == 1  # NORMAL
    assert _tables(path) >= TABLES
    assert "messages_fts" in _tables(path)
    assert list(tmp_path.glob("*.bak-v*")) == []


def test_old_database_is_backed_up_then_migrated(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0])
    conn.execute("PRAGMA user_version = 1")
    conn.execute(
        "INSERT INTO conversations (id, title, created_at, updated_at) VALUES ('c1', 'Old', 1, 1)"
    )
    conn.execute(
        "INSERT INTO messages (conversation_id, role, text, created_at, updated_at)"
        " VALUES ('c1', 'user', 'written before search existed', 1, 1)"
    )
    conn.commit()
    conn.close()

    async def scenario() -> list[int]:
        db = await Database.open(path)
        try:
            return await db.read(
                lambda c: [
                    r[0]
                    for r in c.execute(
                        "SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'search'"
                    )
                ]
            )
        finally:
            await db.close()

    assert asyncio.run(scenario()) == [1]  # the rebuild indexed the existing message
    backup = backup_path(path, 1)
    assert backup == tmp_path / "b.db.bak-v1"
    old = sqlite3.connect(backup)
    try:
        assert old.execute("PRAGMA user_version").fetchone()[0] == 1
        assert old.execute("SELECT title FROM conversations").fetchall() == [("Old",)]
        names = {r[0] for r in old.execute("SELECT name FROM sqlite_master")}
        assert "messages_fts" not in names
    finally:
        old.close()


def test_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    conn.close()
    with pytest.raises(MigrationFailed):
        asyncio.run(Database.open(path))


def test_garbage_file_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    path.write_bytes(b"this is not an sqlite database, just text" * 200)
    with pytest.raises(StoreCorrupt):
        asyncio.run(Database.open(path))


def test_unopenable_path_is_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    # Root can write anywhere, so use a path whose parent is a file rather than a chmod.
    with pytest.raises(StoreUnavailable):
        asyncio.run(Database.open(blocker / "b.db"))


def test_full_disk_is_unavailable_and_rolled_back(tmp_path: Path) -> None:
    async def scenario() -> int:
        db = await Database.open(tmp_path / "b.db")
        try:
            pages = await db.write(lambda c: c.execute("PRAGMA page_count").fetchone()[0])
            # A ceiling just above the current size stands in for a full disk.
            await db.write(lambda c: c.execute(f"PRAGMA max_page_count = {pages + 2}"))
            with pytest.raises(StoreUnavailable, match="full"):
                await db.write(
                    lambda c: c.execute(
                        "INSERT INTO model_cache VALUES ('p', ?, 0)", ("x" * 200_000,)
                    )
                )
            # The failed transaction left nothing behind and the writer still works.
            await db.write(lambda c: c.execute("INSERT INTO model_cache VALUES ('q', '[]', 0)"))
            return await db.read(
                lambda c: c.execute("SELECT count(*) FROM model_cache").fetchone()[0]
            )
        finally:
            await db.close()

    assert asyncio.run(scenario()) == 1


def test_failed_write_rolls_back(tmp_path: Path) -> None:
    async def scenario() -> int:
        db = await Database.open(tmp_path / "b.db")
        try:

            def half_then_fail(c: sqlite3.Connection) -> None:
                c.execute("INSERT INTO model_cache VALUES ('p', '[]', 0)")
                raise ValueError("bug in the callback")

            with pytest.raises(ValueError):
                await db.write(half_then_fail)
            # A constraint violation is our bug, not an environment fault: re-raised as is.
            with pytest.raises(sqlite3.IntegrityError):
                await db.write(
                    lambda c: c.execute(
                        "INSERT INTO messages (conversation_id, role, created_at, updated_at)"
                        " VALUES ('missing', 'user', 0, 0)"
                    )
                )
            return await db.read(
                lambda c: c.execute("SELECT count(*) FROM model_cache").fetchone()[0]
            )
        finally:
            await db.close()

    assert asyncio.run(scenario()) == 0


def test_concurrent_writes_are_serialised_on_one_thread(tmp_path: Path) -> None:
    writers: set[int] = set()
    loop_thread = threading.get_ident()

    def bump(c: sqlite3.Connection) -> None:
        writers.add(threading.get_ident())
        # Read-modify-write: lost updates would show if two ran at once.
        (n,) = c.execute("SELECT count(*) FROM model_cache").fetchone()
        c.execute("INSERT INTO model_cache VALUES (?, '[]', 0)", (f"p{n}",))

    async def scenario() -> tuple[int, list[int]]:
        db = await Database.open(tmp_path / "b.db")
        try:
            counts: list[int] = []

            async def reader() -> None:
                for _ in range(20):
                    counts.append(
                        await db.read(
                            lambda c: c.execute("SELECT count(*) FROM model_cache").fetchone()[0]
                        )
                    )

            await asyncio.gather(reader(), *(db.write(bump) for _ in range(100)))
            total = await db.read(
                lambda c: c.execute("SELECT count(*) FROM model_cache").fetchone()[0]
            )
            return total, counts
        finally:
            await db.close()

    total, counts = asyncio.run(scenario())
    assert total == 100
    assert len(writers) == 1
    assert loop_thread not in writers
    assert counts == sorted(counts)  # a reader only ever sees committed, growing snapshots


def test_reader_cannot_write(tmp_path: Path) -> None:
    async def scenario() -> None:
        db = await Database.open(tmp_path / "b.db")
        try:
            with pytest.raises(StoreUnavailable):
                await db.read(lambda c: c.execute("INSERT INTO model_cache VALUES ('p', '', 0)"))
        finally:
            await db.close()

    asyncio.run(scenario())


def test_closed_database_refuses_work(tmp_path: Path) -> None:
    async def scenario() -> None:
        db = await Database.open(tmp_path / "b.db")
        await db.close()
        await db.close()
        with pytest.raises(RuntimeError):
            await db.read(lambda c: 1)

    asyncio.run(scenario())


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores file permissions"
)
def test_read_only_folder_is_unavailable(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()

    async def create() -> None:
        db = await Database.open(folder / "b.db")
        await db.close()

    asyncio.run(create())
    (folder / "b.db").chmod(0o444)
    folder.chmod(0o555)
    try:
        with pytest.raises(StoreUnavailable):
            asyncio.run(create())
    finally:
        folder.chmod(0o755)
