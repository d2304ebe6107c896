"""Retry policy as small pure functions: which failures to retry and how long to wait.

The gateway layer owns the loop and the sleeping; everything here is a function of status codes,
headers, the attempt number and an injected random source, so it is table-tested without I/O.
"""

from __future__ import annotations

import email.utils
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

# Transport failures worth another attempt: the request may never have reached the gateway,
# or the gateway was too slow this time.
RETRYABLE_EXC_KINDS = frozenset({"timeout", "connect", "network"})


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 2
    base_delay: float = 0.5
    max_delay: float = 8.0
    jitter: float = 0.25  # fraction of the delay removed at random, so clients do not retry in step
    max_retry_after: float = 60.0  # a server asking for longer than this is capped (not obeyed)


def should_retry(status: int | None, *, exc_kind: str | None = None) -> bool:
    """True for failures that may succeed on a later attempt.

    408/409/429 and every 5xx are transient; other 4xx (400/401/403/404) mean the request
    itself is wrong and repeating it only spends quota. `exc_kind` covers transport failures.
    """
    if exc_kind is not None:
        return exc_kind in RETRYABLE_EXC_KINDS
    if status is None:
        return False
    return status in (408, 409, 429) or 500 <= status <= 599


def _header(headers: Mapping[str, str], name: str) -> str | None:
    # Plain dicts in tests are case-sensitive; httpx.Headers is not. Accept both.
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, val in headers.items():
        if key.lower() == lowered:
            return val
    return None


def parse_retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds the server asks us to wait, from `retry-after-ms` or `retry-after`.

    `retry-after` may be seconds or an HTTP date (compared with `now`, a Unix time).
    Unparseable or negative values give None; a date in the past gives 0.
    """
    raw_ms = _header(headers, "retry-after-ms")
    if raw_ms is not None:
        try:
            ms = float(raw_ms.strip())
        except ValueError:
            ms = math.nan
        if math.isfinite(ms) and ms >= 0:
            return ms / 1000.0
    raw = _header(headers, "retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        return None
    return max(0.0, when.timestamp() - now)


def backoff_delay(
    attempt: int,
    policy: RetryPolicy,
    retry_after: float | None,
    rand: Callable[[], float],
) -> float:
    """Seconds to wait before retry number `attempt` (0 = the first retry).

    A server's Retry-After wins (capped at `policy.max_retry_after`); otherwise the delay doubles
    per attempt up to `max_delay`, minus up to `jitter` of it at random.
    """
    if retry_after is not None and retry_after >= 0:
        return min(retry_after, policy.max_retry_after)
    delay = min(policy.base_delay * (2.0 ** max(0, attempt)), policy.max_delay)
    factor = 1.0 - policy.jitter * min(1.0, max(0.0, rand()))
    return max(0.0, delay * factor)
