"""Token counting for the emulator: deterministic and close enough to a BPE tokenizer's counts."""

from __future__ import annotations

import re

_PIECE = re.compile(r"\w{1,4}|[^\w\s]|\s+(?=\S)")


def count_tokens(text: str) -> int:
    """Approximate tokens: word pieces of up to four characters, each punctuation mark one token."""
    return len(_PIECE.findall(text))


def split_tokens(text: str) -> list[str]:
    """Split text into the pieces streamed one per chunk; ''.join(result) == text."""
    pieces: list[str] = []
    pos = 0
    for m in re.finditer(r"\s*\S{1,4}", text):
        pieces.append(text[pos : m.end()])
        pos = m.end()
    if pos < len(text):
        if pieces:
            pieces[-1] += text[pos:]
        else:
            pieces.append(text[pos:])
    return pieces
