"""Files the emulator serves under /emulator/files/ (image urls, task results), kept bounded.

A long demo session keeps generating images; without a bound the server would grow until it
falls over. Blobs are evicted least-recently-used first once their total size passes a byte
budget, and any blob older than the age limit is dropped on the next access. Evicted URLs answer
404, as an expired upstream CDN link would. Blobs live in memory only: they are derived data.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
DEFAULT_MAX_AGE_S = 3600.0


@dataclass(slots=True)
class _Blob:
    data: bytes
    media_type: str
    stored_at: float


class BlobStore:
    """An LRU map name → (bytes, media type), bounded by total bytes and by age."""

    def __init__(
        self,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_age_s: float = DEFAULT_MAX_AGE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_bytes = max_bytes
        self.max_age_s = max_age_s
        self._clock = clock
        self._items: OrderedDict[str, _Blob] = OrderedDict()
        self._size = 0
        # Handlers run in the server's loop, but images are drawn in worker threads and tests
        # read from their own thread.
        self._lock = threading.Lock()

    def put(self, name: str, data: bytes, media_type: str) -> None:
        with self._lock:
            old = self._items.pop(name, None)
            if old is not None:
                self._size -= len(old.data)
            self._items[name] = _Blob(data, media_type, self._clock())
            self._size += len(data)
            self._evict()

    def get(self, name: str) -> tuple[bytes, str] | None:
        with self._lock:
            self._evict()
            blob = self._items.get(name)
            if blob is None:
                return None
            self._items.move_to_end(name)
            return blob.data, blob.media_type

    def __contains__(self, name: object) -> bool:
        with self._lock:
            self._evict()
            return name in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    @property
    def total_bytes(self) -> int:
        with self._lock:
            return self._size

    def _evict(self) -> None:
        """Drop expired blobs, then the least recently used until the budget fits.

        The newest blob is kept even when it alone exceeds the budget, so a URL just handed
        out always works at least once.
        """
        cutoff = self._clock() - self.max_age_s
        for name in [n for n, b in self._items.items() if b.stored_at < cutoff]:
            self._size -= len(self._items.pop(name).data)
        while self._size > self.max_bytes and len(self._items) > 1:
            _, blob = self._items.popitem(last=False)
            self._size -= len(blob.data)
