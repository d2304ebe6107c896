"""Read what a gateway says about a call in its response headers (ids, rate limits, credits)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from bluesdesk.core.models import ResponseMeta

# First match wins: new-api's own id, then the generic and MindProxy spellings, then Anthropic's.
REQUEST_ID_HEADERS = ("x-oneapi-request-id", "x-request-id", "x-tt-request-id", "request-id")

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
# Reset values above this are Unix timestamps rather than a number of seconds.
_EPOCH_THRESHOLD = 1_000_000_000.0


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}


def _first(h: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = h.get(name)
        if value is not None and value.strip():
            return value.strip()
    return None


def _as_int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(float(value))
    except (ValueError, OverflowError):
        return None


def _as_float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def parse_reset(value: str | None, now: float | None = None) -> float | None:
    """Seconds until a rate-limit window resets.

    Accepts plain seconds ("20"), Go durations as OpenAI sends them ("1m30s", "250ms") and,
    when `now` is given, Unix timestamps.
    """
    if value is None:
        return None
    number = _as_float(value)
    if number is not None:
        if number >= _EPOCH_THRESHOLD:
            return max(0.0, number - now) if now is not None else None
        return max(0.0, number)
    text = value.strip().lower()
    total = 0.0
    pos = 0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            return None
        pos = match.end()
        amount = float(match.group(1))
        unit = match.group(2)
        total += amount * {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}[unit]
    if pos == 0 or pos != len(text):
        return None
    return total


def response_meta(
    headers: Mapping[str, str],
    status: int = 0,
    elapsed_ms: float = 0.0,
    *,
    now: float | None = None,
) -> ResponseMeta:
    """Collect request id, X-RateLimit-*, X-Credits-* and the hold id from `headers`."""
    h = _lower(headers)
    return ResponseMeta(
        request_id=_first(h, *REQUEST_ID_HEADERS) or "",
        ratelimit_limit=_as_int(_first(h, "x-ratelimit-limit", "x-ratelimit-limit-requests")),
        ratelimit_remaining=_as_int(
            _first(h, "x-ratelimit-remaining", "x-ratelimit-remaining-requests")
        ),
        ratelimit_reset=parse_reset(
            _first(h, "x-ratelimit-reset", "x-ratelimit-reset-requests"), now
        ),
        credits_consumed=_as_float(_first(h, "x-credits-consumed")),
        credits_remaining=_as_float(_first(h, "x-credits-remaining")),
        hold_id=_first(h, "x-tt-hold-id") or "",
        status=status,
        elapsed_ms=elapsed_ms,
    )
