"""Hypothesis settings for the fuzz suites: a quick tier for every run, a deep one for `-m slow`.

The tier comes from the BLUESDESK_FUZZ environment variable ("deep" or anything else), read when
the test module is imported; `test_fuzz_deep.py` re-runs the fuzz modules in subprocesses with
BLUESDESK_FUZZ=deep. Only these decorators carry the settings, never the global profile, so the
project's other hypothesis tests keep their own.
"""

from __future__ import annotations

import json
import math
import os
import random
from collections.abc import Sequence
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Examples per parser in the deep tier; BLUESDESK_FUZZ_EXAMPLES overrides it (to time a run).
DEEP_EXAMPLES = int(os.environ.get("BLUESDESK_FUZZ_EXAMPLES", "100000"))
QUICK_EXAMPLES = 60
DEEP = os.environ.get("BLUESDESK_FUZZ", "") == "deep"

_QUICK = settings(
    max_examples=QUICK_EXAMPLES,
    # The same examples every run: the default suite must not turn red on a lucky draw; finding
    # new inputs is the deep tier's job.
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
_DEEP = settings(
    deadline=None,
    # A deep run is about volume; the example database would only grow without bound.
    database=None,
    suppress_health_check=list(HealthCheck),
)


def fuzz_share(share: float) -> settings:
    """Settings for a test that gives `share` of its parser's deep-tier examples (the shares of
    one parser's tests add up to 1, so each parser sees DEEP_EXAMPLES in all)."""
    if not DEEP:
        return _QUICK
    return settings(_DEEP, max_examples=max(1, round(DEEP_EXAMPLES * share)))


fuzz = fuzz_share(1.0)
fuzz_half = fuzz_share(0.5)

# ---- strategies -------------------------------------------------------------------------------
# Hypothesis draws only a seed; the structure is built with `random.Random` from pools of the
# awkward values gateways really send. Drawing whole JSON trees through hypothesis costs tens of
# milliseconds an example, which a 100,000-example run cannot afford; a seed costs microseconds.

EDGE_INTS = [
    0,
    1,
    -1,
    2,
    7,
    100,
    255,
    2**31 - 1,
    2**31,
    -(2**31),
    2**53 + 1,
    2**63,
    -(2**63),
    2**70,
]
EDGE_FLOATS = [0.0, -0.0, 0.5, -2.5, 3.14159, 1e-300, 1e300, -1e300, 5e-324]
NON_FINITE = [math.inf, -math.inf, math.nan]
EDGE_STRINGS = [
    "",
    " ",
    "0",
    "-1",
    "1.5",
    "1e400",
    "NaN",
    "Infinity",
    "true",
    "null",
    "[DONE]",
    "\x00",
    "\ud7ff",
    "é",
    "😀",
    "\u202e",
    "sk-abcdefghijklmnop",
    "<html><body>502</body></html>",
    "{",
    "}",
    "[",
    "data: x",
    "\r\n",
    "\n\n",
    "stop",
    "end_turn",
    "STOP",
    "tool_use",
    "text",
    "text_delta",
    "input_json_delta",
    "message_stop",
    "message_start",
    "content_block_delta",
    "error",
    "default",
    "vip",
    "a" * 300,
]
_ALPHABET = "abcxyz019 _-:.,{}[]\"'\\/\n\r\t<>&;=é😀\x00\x7f\u2028"


def random_text(r: random.Random, max_len: int = 24) -> str:
    if r.random() < 0.5:
        return r.choice(EDGE_STRINGS)
    return "".join(r.choice(_ALPHABET) for _ in range(r.randint(0, max_len)))


def random_scalar(r: random.Random, *, finite: bool = False) -> Any:
    kind = r.randint(0, 9)
    if kind == 0:
        return None
    if kind == 1:
        return r.random() < 0.5
    if kind in (2, 3):
        return r.choice(EDGE_INTS) if r.random() < 0.5 else r.randint(-(10**6), 10**6)
    if kind == 4:
        pool = EDGE_FLOATS if finite else EDGE_FLOATS + NON_FINITE
        return r.choice(pool) if r.random() < 0.5 else r.uniform(-1e6, 1e6)
    return random_text(r)


def random_json(
    r: random.Random, keys: Sequence[str] = (), *, finite: bool = False, depth: int = 0
) -> Any:
    """A JSON value up to four levels deep; object keys come from `keys` or anywhere."""
    if depth >= 4 or r.random() < 0.45:
        return random_scalar(r, finite=finite)
    size = r.randint(0, 5)
    if r.random() < 0.5:
        return [random_json(r, keys, finite=finite, depth=depth + 1) for _ in range(size)]
    return {
        (r.choice(keys) if keys and r.random() < 0.6 else random_text(r, 10)): random_json(
            r, keys, finite=finite, depth=depth + 1
        )
        for _ in range(size)
    }


def mutate(doc: Any, r: random.Random, keys: Sequence[str], *, finite: bool = False) -> Any:
    """A copy of a valid document with fields dropped, replaced, added, or retyped."""
    if isinstance(doc, dict):
        out: dict[str, Any] = {}
        for key, value in doc.items():
            roll = r.random()
            if roll < 0.08:
                continue
            if roll < 0.18:
                out[key] = random_json(r, keys, finite=finite)
            else:
                out[key] = mutate(value, r, keys, finite=finite)
        if r.random() < 0.15:
            out[r.choice(list(keys) or ["x"])] = random_json(r, keys, finite=finite)
        return out
    if isinstance(doc, list):
        items = [mutate(v, r, keys, finite=finite) for v in doc if r.random() > 0.05]
        if r.random() < 0.15:
            items.insert(r.randint(0, len(items)), random_json(r, keys, finite=finite))
        if len(items) > 1 and r.random() < 0.1:
            r.shuffle(items)
        return items
    if r.random() < 0.12:
        return random_json(r, keys, finite=finite)
    return doc


def mutate_bytes(data: bytes, r: random.Random) -> bytes:
    """`data` truncated, with slices replaced by random bytes, or with bytes inserted."""
    buf = bytearray(data)
    for _ in range(r.randint(1, 4)):
        if not buf:
            break
        pos = r.randrange(len(buf))
        op = r.randint(0, 2)
        if op == 0:
            del buf[pos:]
        elif op == 1:
            buf[pos : pos + r.randint(1, 8)] = r.randbytes(r.randint(0, 8))
        else:
            buf[pos:pos] = r.randbytes(r.randint(1, 8))
    return bytes(buf)


# Seeds, shrinking toward small numbers; `use_true_random` keeps each random call cheap.
seeds = st.randoms(use_true_random=True)
json_values = seeds.map(lambda r: random_json(r))
# Without NaN/Infinity: for parsers with a known, reported bug on those (see the strict xfail
# regression tests beside them), so a deep run still fuzzes everything else.
finite_json_values = seeds.map(lambda r: random_json(r, finite=True))


def mutated_json(
    valid: Any, keys: Sequence[str], *, finite: bool = False
) -> st.SearchStrategy[Any]:
    return seeds.map(lambda r: mutate(valid, r, keys, finite=finite))


def byte_mutations(valid: bytes) -> st.SearchStrategy[bytes]:
    return seeds.map(lambda r: mutate_bytes(valid, r))


def random_bytes(max_len: int = 300) -> st.SearchStrategy[bytes]:
    return seeds.map(lambda r: r.randbytes(r.randint(0, max_len)))


def texts(max_len: int = 200) -> st.SearchStrategy[str]:
    """Text with the characters and fragments that trouble parsers."""
    return seeds.map(lambda r: "".join(random_text(r) for _ in range(r.randint(0, max_len // 20))))


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
