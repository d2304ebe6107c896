"""The transcript's per-message caches stay bounded across conversations."""

from __future__ import annotations

from bluesdesk.ui.chat import transcript
from bluesdesk.ui.chat.transcript import CACHE_MESSAGES, _bounded


def test_bounded_drops_the_oldest_entries_of_other_conversations_first() -> None:
    shown = set(range(10))  # the open conversation: messages 0..9, cached first (oldest)
    cache = {i: f"html {i}" for i in range(CACHE_MESSAGES + 50)}
    out = _bounded(cache, lambda k: k in shown)
    assert len(out) == CACHE_MESSAGES
    assert shown <= out.keys()  # the open conversation's entries stay, however old
    dropped = cache.keys() - out.keys()
    assert dropped == set(range(10, 60))  # the 50 oldest of the others
    small = {1: "a"}
    assert _bounded(small, lambda k: False) is small  # under the bound: untouched
    assert transcript.CACHE_THUMBNAILS > 0
