"""Reading rows into records: one query on the reader thread, each row through a mapper.

The stores keep their SQL and their row → record functions; these helpers hold the part every
plain SELECT repeats (run it on `Database.read`, fetch, map), and the lenient JSON-column reader.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from bluesdesk.store.db import Database

T = TypeVar("T")

Row = tuple[Any, ...]


async def fetch_all(
    db: Database, sql: str, params: Sequence[Any], to_record: Callable[[Row], T]
) -> list[T]:
    """Every row `sql` selects, mapped by `to_record`, in the query's order."""

    def query(conn: sqlite3.Connection) -> list[T]:
        return [to_record(row) for row in conn.execute(sql, params).fetchall()]

    return await db.read(query)


async def fetch_one(
    db: Database, sql: str, params: Sequence[Any], to_record: Callable[[Row], T]
) -> T | None:
    """The first row `sql` selects, mapped by `to_record`; None when it selects none."""

    def query(conn: sqlite3.Connection) -> T | None:
        row = conn.execute(sql, params).fetchone()
        return None if row is None else to_record(row)

    return await db.read(query)


def json_object(text: Any) -> dict[str, Any]:
    """A JSON-object column as a dict; {} for NULL, empty, malformed or non-object values (a
    damaged row still lists, with default settings)."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
