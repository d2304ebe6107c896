"""The speech → transcription registry kept in the emulator's database.

Audio made by `/v1/audio/speech` transcribes back to its text. Formats that cannot carry the text
inside the file (mp3 from some encoders, opus…) are recognised by their sha256 instead; keeping
those hashes in SQLite means audio saved during one demo session still transcribes after a
restart when `data_dir` is set.
"""

from __future__ import annotations

import hashlib

from bluesdesk.emulator.media.audio import TranscriptRegistry
from bluesdesk.emulator.store import Store

CAPACITY = 512


class StoredTranscripts(TranscriptRegistry):
    """sha256(audio) → text in the `transcripts` table; the oldest rows go past `capacity`."""

    def __init__(self, store: Store, capacity: int = CAPACITY) -> None:
        super().__init__(capacity)
        self._store = store
        self._capacity_rows = capacity

    def remember(self, data: bytes, text: str) -> None:
        digest = hashlib.sha256(data).hexdigest()
        seq = int(self._store.scalar("SELECT COALESCE(MAX(seq), 0) + 1 FROM transcripts"))
        self._store.execute(
            "INSERT OR REPLACE INTO transcripts (digest, text, seq) VALUES (?, ?, ?)",
            (digest, text, seq),
        )
        self._store.execute("DELETE FROM transcripts WHERE seq <= ?", (seq - self._capacity_rows,))

    def lookup(self, data: bytes) -> str | None:
        digest = hashlib.sha256(data).hexdigest()
        text = self._store.scalar("SELECT text FROM transcripts WHERE digest = ?", (digest,))
        return None if text is None else str(text)
