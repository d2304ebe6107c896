"""The SQLite database: WAL, schema migrations with a backup, one writer thread, typed errors.

Every write runs on one dedicated thread with its own connection, inside ``BEGIN IMMEDIATE`` …
``COMMIT``, so writes are serialised and the event loop only awaits a future. Reads run on a
second thread with a query-only connection; WAL lets them proceed while a write is in flight.

Faults of the environment become `StoreUnavailable` (disk full, I/O error, read-only, locked) or
`StoreCorrupt` (a malformed file); any other sqlite error is a bug in our SQL and is re-raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from bluesdesk.errors import MigrationFailed, StoreCorrupt, StoreError, StoreUnavailable
from bluesdesk.store.schema import LATEST, MIGRATIONS

log = logging.getLogger(__name__)

T = TypeVar("T")

# Primary result codes (the low byte of an extended code), from sqlite3.h.
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY = 5, 6, 8
_SQLITE_IOERR, _SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN = 10, 11, 13, 14
_SQLITE_NOTADB = 26
_UNAVAILABLE_CODES = {
    _SQLITE_BUSY,
    _SQLITE_LOCKED,
    _SQLITE_READONLY,
    _SQLITE_IOERR,
    _SQLITE_FULL,
    _SQLITE_CANTOPEN,
}
_UNAVAILABLE_TEXT = (
    "disk i/o error",
    "database or disk is full",
    "readonly",
    "unable to open",
    "is locked",
)


def translate_error(exc: sqlite3.Error, path: Path) -> StoreError | None:
    """The typed error for an environment fault, or None if `exc` is a bug of ours."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc).lower()
    if primary in (_SQLITE_CORRUPT, _SQLITE_NOTADB) or "malformed" in text:
        return StoreCorrupt(f"The database {path.name} is damaged ({exc}).")
    if primary in _UNAVAILABLE_CODES or any(marker in text for marker in _UNAVAILABLE_TEXT):
        return StoreUnavailable(f"The database {path.name} cannot be used right now ({exc}).")
    return None


def backup_path(path: Path, version: int) -> Path:
    return path.with_name(f"{path.name}.bak-v{version}")


def _connect(path: Path) -> sqlite3.Connection:
    # Autocommit mode: transactions are explicit (BEGIN IMMEDIATE in `write`), never implicit.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA busy_timeout = 5000")
        conn.execute("PRAGMA foreign_keys = ON")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            log.warning("sqlite refused WAL mode for %s (got %s)", path, mode)
        conn.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        conn.close()
        raise
    return conn


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Run the migrations the file has not seen, after copying it aside if it holds data."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > LATEST:
        raise MigrationFailed(
            f"The database {path.name} was written by a newer bluesdesk (schema {version}).",
            hint="Update bluesdesk, or move the database aside to start afresh.",
        )
    if version == LATEST:
        return
    has_data = version > 0 or conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if has_data:
        target = backup_path(path, version)
        with contextlib.suppress(FileNotFoundError):
            target.unlink()  # a leftover of an earlier failed attempt at the same version
        dest = sqlite3.connect(target)
        try:
            conn.backup(dest)
        finally:
            dest.close()
        log.info("database backed up to %s before migrating from v%d", target, version)
    for index in range(version, LATEST):
        script = (
            f"BEGIN IMMEDIATE;\n{MIGRATIONS[index]}\nPRAGMA user_version = {index + 1};\nCOMMIT;"
        )
        try:
            conn.executescript(script)
        except sqlite3.Error as exc:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            mapped = translate_error(exc, path)
            if mapped is not None:
                raise mapped from exc
            raise MigrationFailed(
                f"Updating the database {path.name} to version {index + 1} failed: {exc}"
            ) from exc
        log.info("database %s migrated to v%d", path.name, index + 1)


def _open_writer(path: Path) -> sqlite3.Connection:
    conn = _connect(path)
    try:
        _migrate(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def _open_reader(path: Path) -> sqlite3.Connection:
    conn = _connect(path)
    conn.execute("PRAGMA query_only = ON")  # a read callback can never write by mistake
    return conn


class Database:
    """One SQLite file: `await db.write(fn)` and `await db.read(fn)` run `fn(connection)`."""

    def __init__(
        self,
        path: Path,
        writer: sqlite3.Connection,
        reader: sqlite3.Connection,
        write_thread: ThreadPoolExecutor,
        read_thread: ThreadPoolExecutor,
    ) -> None:
        self.path = path
        self._writer = writer
        self._reader = reader
        self._write_thread = write_thread
        self._read_thread = read_thread
        self._closed = False

    @classmethod
    async def open(cls, path: Path) -> Database:
        """Open (creating if needed) and migrate the database at `path`."""
        loop = asyncio.get_running_loop()
        write_thread = ThreadPoolExecutor(1, thread_name_prefix="bluesdesk-db-writer")
        read_thread = ThreadPoolExecutor(1, thread_name_prefix="bluesdesk-db-reader")
        writer: sqlite3.Connection | None = None
        try:
            writer = await loop.run_in_executor(
                write_thread, _guarded, path, lambda: _open_writer(path)
            )
            reader = await loop.run_in_executor(
                read_thread, _guarded, path, lambda: _open_reader(path)
            )
        except BaseException:
            if writer is not None:
                await loop.run_in_executor(write_thread, writer.close)
            write_thread.shutdown(wait=False)
            read_thread.shutdown(wait=False)
            raise
        return cls(path, writer, reader, write_thread, read_thread)

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` in one transaction on the writer thread; rolled back if it raises."""
        self._check_open()

        def run() -> T:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
                conn.execute("COMMIT")
            except BaseException:
                # After some errors (disk full) sqlite has already rolled back by itself.
                if conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise
            return result

        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._write_thread, _guarded, self.path, run)

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` on the reader thread against one consistent snapshot."""
        self._check_open()

        def run() -> T:
            conn = self._reader
            conn.execute("BEGIN")
            try:
                return fn(conn)
            finally:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("COMMIT")

        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._read_thread, _guarded, self.path, run)

    async def close(self) -> None:
        """Finish queued work, then close both connections (the last close checkpoints WAL)."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._read_thread, self._reader.close)
        await loop.run_in_executor(self._write_thread, self._writer.close)
        self._read_thread.shutdown(wait=True)
        self._write_thread.shutdown(wait=True)

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the database is closed")


def _guarded(path: Path, op: Callable[[], T]) -> T:
    """Run `op`, turning sqlite's environment faults into our typed errors."""
    try:
        return op()
    except sqlite3.Error as exc:
        mapped = translate_error(exc, path)
        if mapped is None:
            raise
        raise mapped from exc
