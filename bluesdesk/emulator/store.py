"""SQLite persistence for the emulator: one database, in memory or in `data_dir/emulator.sqlite3`.

Everything the gateway would keep in its database lives here (users, API keys, logs, channels,
access tokens). Using SQLite for the in-memory case too keeps one code path for both.
The server runs one event loop in one thread, so a single connection with a lock is enough;
the lock only matters for the few calls made from the test thread.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

Row = dict[str, Any]

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY, username TEXT UNIQUE NOT NULL, password TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '', email TEXT NOT NULL DEFAULT '',
    role INTEGER NOT NULL DEFAULT 1, status INTEGER NOT NULL DEFAULT 1,
    grp TEXT NOT NULL DEFAULT 'default', quota INTEGER NOT NULL DEFAULT 0,
    used_quota INTEGER NOT NULL DEFAULT 0, request_count INTEGER NOT NULL DEFAULT 0,
    aff_code TEXT NOT NULL DEFAULT '', access_token TEXT, twofa_code TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS session_tokens (
    token TEXT PRIMARY KEY, user_id INTEGER NOT NULL, created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER NOT NULL, key TEXT UNIQUE NOT NULL,
    status INTEGER NOT NULL DEFAULT 1, name TEXT NOT NULL DEFAULT '',
    created_time INTEGER NOT NULL, accessed_time INTEGER NOT NULL,
    expired_time INTEGER NOT NULL DEFAULT -1, remain_quota INTEGER NOT NULL DEFAULT 0,
    unlimited_quota INTEGER NOT NULL DEFAULT 0, used_quota INTEGER NOT NULL DEFAULT 0,
    model_limits_enabled INTEGER NOT NULL DEFAULT 0, model_limits TEXT NOT NULL DEFAULT '',
    allow_ips TEXT, grp TEXT NOT NULL DEFAULT '', cross_group_retry INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER NOT NULL, created_at INTEGER NOT NULL,
    type INTEGER NOT NULL, content TEXT NOT NULL DEFAULT '', username TEXT NOT NULL DEFAULT '',
    token_name TEXT NOT NULL DEFAULT '', model_name TEXT NOT NULL DEFAULT '',
    quota INTEGER NOT NULL DEFAULT 0, prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0, use_time INTEGER NOT NULL DEFAULT 0,
    is_stream INTEGER NOT NULL DEFAULT 0, channel INTEGER NOT NULL DEFAULT 0,
    channel_name TEXT NOT NULL DEFAULT '', token_id INTEGER NOT NULL DEFAULT 0,
    grp TEXT NOT NULL DEFAULT '', ip TEXT NOT NULL DEFAULT '', request_id TEXT NOT NULL DEFAULT '',
    other TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS logs_user_time ON logs (user_id, created_at);
CREATE TABLE IF NOT EXISTS channels (
    id INTEGER PRIMARY KEY AUTOINCREMENT, type INTEGER NOT NULL, key TEXT NOT NULL DEFAULT '',
    status INTEGER NOT NULL DEFAULT 1, name TEXT NOT NULL, weight INTEGER NOT NULL DEFAULT 0,
    priority INTEGER NOT NULL DEFAULT 0, auto_ban INTEGER NOT NULL DEFAULT 1,
    created_time INTEGER NOT NULL, test_time INTEGER NOT NULL DEFAULT 0,
    response_time INTEGER NOT NULL DEFAULT 0, base_url TEXT NOT NULL DEFAULT '',
    balance REAL NOT NULL DEFAULT 0, balance_updated_time INTEGER NOT NULL DEFAULT 0,
    models TEXT NOT NULL DEFAULT '', grp TEXT NOT NULL DEFAULT 'default',
    used_quota INTEGER NOT NULL DEFAULT 0, model_mapping TEXT NOT NULL DEFAULT '',
    tag TEXT NOT NULL DEFAULT '', remark TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS tasks (
    id TEXT PRIMARY KEY, user_id INTEGER NOT NULL, token_id INTEGER NOT NULL DEFAULT 0,
    model TEXT NOT NULL, kind TEXT NOT NULL, prompt TEXT NOT NULL,
    width INTEGER NOT NULL, height INTEGER NOT NULL, duration_s REAL NOT NULL,
    created_at REAL NOT NULL, will_fail INTEGER NOT NULL DEFAULT 0,
    cancelled_after REAL, quota INTEGER NOT NULL DEFAULT 0,
    refunded INTEGER NOT NULL DEFAULT 0, result_names TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS transcripts (
    digest TEXT PRIMARY KEY, text TEXT NOT NULL, seq INTEGER NOT NULL
);
"""

DB_NAME = "emulator.sqlite3"


class Store:
    """A thin, locked wrapper over one sqlite3 connection that returns rows as dicts."""

    def __init__(self, data_dir: Path | None) -> None:
        if data_dir is None:
            target = ":memory:"
        else:
            data_dir.mkdir(parents=True, exist_ok=True)
            target = str(data_dir / DB_NAME)
        self.persistent = data_dir is not None
        # The connection is created in the caller's thread and used from the server thread.
        self._conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        with self._lock:
            self._conn.executescript(SCHEMA)
            if self.persistent:
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._lock:
            return [dict(r) for r in self._conn.execute(sql, params).fetchall()]

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        with self._lock:
            row = self._conn.execute(sql, params).fetchone()
        return dict(row) if row is not None else None

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self._lock:
            row = self._conn.execute(sql, params).fetchone()
        return row[0] if row is not None else None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; returns lastrowid for inserts, else the changed row count."""
        with self._lock:
            cur = self._conn.execute(sql, params)
            if sql.lstrip().upper().startswith("INSERT"):
                return int(cur.lastrowid or 0)
            return int(cur.rowcount)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                self._conn.executemany(sql, rows)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def insert(self, table: str, values: Row) -> int:
        cols = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        return self.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", list(values.values()))

    def update(self, table: str, row_id: int, values: Row) -> int:
        if not values:
            return 0
        sets = ", ".join(f"{c} = ?" for c in values)
        return self.execute(f"UPDATE {table} SET {sets} WHERE id = ?", [*values.values(), row_id])

    def meta(self, key: str) -> str | None:
        value = self.scalar("SELECT value FROM meta WHERE key = ?", (key,))
        return None if value is None else str(value)

    def set_meta(self, key: str, value: str) -> None:
        self.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
