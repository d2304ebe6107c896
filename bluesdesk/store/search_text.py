"""Ranking and snippets for message search, done in Python over a bounded set of candidates.

FTS5 finds the matching rows; its own `bm25()` and `snippet()` cost too much at scale: bm25
visits every row of every phrase in the query (2.8 s for a word in 780,000 of a million
messages, and still 60 ms when that word is AND-ed with a rare one), and `snippet()` over a
list of rowids scans the whole match instead of seeking (25-50 ms for 50 rows). The search
reads at most a few thousand candidate rows, so scoring and cutting snippets here is bounded.

Words are matched the way the FTS5 table tokenizes them (`unicode61 remove_diacritics 2`):
letters and digits, case folded, accents removed.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

_TOKEN = re.compile(r"\w+", re.UNICODE)
# bm25's usual constants: how fast repeated words stop counting, and how much length matters.
_K1 = 1.2
_B = 0.75
# Scoring reads the start of each candidate (about 300 words), snippets a longer stretch: ranking
# must stay bounded over thousands of candidates, and a 1 MB answer must not make a search slow.
SCORE_CHARS = 2_000
SNIPPET_CHARS = 20_000
SNIPPET_TOKENS = 12


def fold(word: str) -> str:
    """Case-folded, accents removed: "Café" → "cafe"."""
    if word.isascii():  # the common case, at C speed
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True, slots=True)
class Terms:
    """The user's words, folded; the last one is a prefix (search as you type)."""

    words: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Terms:
        return cls(tuple(w for w in (fold(t) for t in _TOKEN.findall(text)) if w))

    def patterns(self) -> list[re.Pattern[str]]:
        """One pattern per word over folded text: whole words, the last one as a prefix."""
        last = len(self.words) - 1
        return [
            re.compile(rf"(?<!\w){re.escape(w)}" + ("" if i == last else r"(?!\w)"))
            for i, w in enumerate(self.words)
        ]

    def hit(self, token: str) -> int:
        """Index of the query word `token` (already folded) matches, or -1."""
        for i, word in enumerate(self.words):
            last = i == len(self.words) - 1
            if token == word or (last and token.startswith(word)):
                return i
        return -1


def folded_text(text: str) -> str:
    """`text`'s words folded, one space apart: what the term patterns are matched against."""
    if text.isascii():
        return text.lower()
    return " ".join(fold(t) for t in _TOKEN.findall(text))


def score(
    patterns: Sequence[re.Pattern[str]], folded: str, length: int, average_length: float
) -> float:
    """bm25's term-frequency part, each query word weighted alike.

    Every candidate contains every word (the FTS5 query is an AND), so the words' rarity would
    scale all candidates alike for a one-word query; for several words equal weights are the
    simplification.
    """
    if not length:
        return 0.0
    norm = _K1 * (1 - _B + _B * length / max(average_length, 1.0))
    total = 0.0
    for pattern in patterns:
        tf = len(pattern.findall(folded))
        if tf:
            total += math.log1p(tf * (_K1 + 1) / (tf + norm))
    return total


def rank(terms: Terms, rows: Sequence[tuple[int, str]], limit: int) -> list[int]:
    """Ids of `rows` (id, text), best first; ties go to the newer (larger) id."""
    if not rows:
        return []
    # Length in whitespace-separated words: close to the token count, at C speed.
    folded = [(row_id, f, len(f.split())) for row_id, f in _folded_rows(rows)]
    average = sum(n for _, _, n in folded) / len(folded)
    patterns = terms.patterns()
    scored = sorted(folded, key=lambda r: (-score(patterns, r[1], r[2], average), -r[0]))
    return [row_id for row_id, _, _ in scored[:limit]]


def _folded_rows(rows: Sequence[tuple[int, str]]) -> list[tuple[int, str]]:
    return [(row_id, folded_text(text[:SCORE_CHARS])) for row_id, text in rows]


def snippet(terms: Terms, text: str, *, tokens: int = SNIPPET_TOKENS) -> str:
    """About `tokens` words around the first hit, hits in [brackets], "…" where cut."""
    spans = [m.span() for m in _TOKEN.finditer(text[:SNIPPET_CHARS])]
    if not spans:
        return text[:80]
    hits = [i for i, (a, b) in enumerate(spans) if terms.hit(fold(text[a:b])) >= 0]
    first = hits[0] if hits else 0
    start = max(0, min(first - tokens // 4, len(spans) - tokens))
    end = min(len(spans), start + tokens)
    wanted = set(hits)
    parts: list[str] = []
    cursor = spans[start][0]
    for i in range(start, end):
        a, b = spans[i]
        parts.append(text[cursor:a])
        parts.append(f"[{text[a:b]}]" if i in wanted else text[a:b])
        cursor = b
    body = " ".join("".join(parts).split())  # newlines and runs of spaces as one space
    before = "…" if start > 0 else ""
    after = "…" if end < len(spans) or len(text) > SNIPPET_CHARS else ""
    return before + body + after
