"""Long conversations written straight into a migrated SQLite file, for the chat benchmarks.

Going around `ConversationStore` keeps the set-up to seconds: 10,000 messages in one
`executemany`, instead of one store call (and one commit) each.
"""

from __future__ import annotations

import sqlite3
import time

# An answer with the markdown the transcript renders slowest: code, a list, a table, a link.
ANSWER = """Here is **step {i}**:

1. Read the `config` file
2. Check [the docs](https://example.com/{i})

```python
def step_{i}(x: int) -> int:
    return x * {i}
```

| key | value |
|-----|-------|
| n   | {i}   |
"""


def insert_conversation(
    conn: sqlite3.Connection, conv_id: str, count: int, title: str | None = None
) -> None:
    """Add conversation `conv_id` of `count` messages, alternating user questions and markdown
    answers (the caller commits). The schema must exist: open the file with `Database` first."""
    now = time.time()
    conn.execute(
        "INSERT INTO conversations (id, title, profile_id, model, created_at, updated_at)"
        " VALUES (?, ?, '', 'gpt-4o-mini', ?, ?)",
        (conv_id, title or f"Chat of {count}", now, now),
    )
    rows = []
    for i in range(count):
        user = i % 2 == 0
        text = f"Question {i}: how do I do step {i}?" if user else ANSWER.format(i=i)
        rows.append((conv_id, "user" if user else "assistant", text, "complete", now + i, now + i))
    conn.executemany(
        "INSERT INTO messages (conversation_id, role, text, state, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
