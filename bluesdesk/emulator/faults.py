"""Fault injection: what a flaky gateway does, on demand.

A fault comes from the `X-Emulator-Fault: <kind>[;param=value...]` request header, or from a
queue armed with `POST /emulator/faults` (for clients that cannot set headers). Pre-response
kinds are answered before any auth; stream kinds act between SSE events.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

KINDS = frozenset(
    {
        "429",
        "500",
        "html502",
        "drop",
        "stall",
        "malformed",
        "stream_error",
        "success_false",
        "slow_headers",
        "401",
        "403",
        "404",
    }
)
# Kinds that replace the whole response before the handler runs.
PRE_RESPONSE = frozenset({"429", "500", "html502", "success_false", "401", "403", "404"})
# Pre-response kinds answered by `status_fault` (an HTTP status with a JSON error body).
STATUS_KINDS = frozenset({"403", "404"})
# Kinds that act inside a response body (between SSE events for streams).
IN_BODY = frozenset({"drop", "stall", "malformed", "stream_error"})

HEADER = "x-emulator-fault"

HTML_502 = """<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx/1.24.0</center>
</body>
</html>
"""


# (envelope message on /api, OpenAI error message, OpenAI error code) per status kind: what
# new-api says when a user lacks the role for a route, and when a route does not exist.
_STATUS_TEXT = {
    "403": (
        "Unauthorized, insufficient privileges (emulated 403)",
        "Forbidden: this key or user may not use this route (emulated 403)",
        "access_denied",
    ),
    "404": (
        "Route not found (emulated 404)",
        "Invalid URL: the route does not exist (emulated 404)",
        "not_found",
    ),
}


def status_fault(kind: str, relay: bool, request_id: str) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body) of a status kind: new-api's envelope on /api paths, an
    OpenAI-style error on relay paths."""
    api_text, relay_text, code = _STATUS_TEXT[kind]
    if not relay:
        return int(kind), {"success": False, "message": api_text}
    return int(kind), {
        "error": {
            "message": f"{relay_text} (request id: {request_id})",
            "type": "new_api_error",
            "param": "",
            "code": code,
        }
    }


class FaultError(ValueError):
    """An unknown kind or a bad parameter in a fault request."""


@dataclass(frozen=True, slots=True)
class Fault:
    kind: str
    params: Mapping[str, str] = field(default_factory=dict)

    def number(self, name: str, default: float) -> float:
        raw = self.params.get(name)
        if raw is None:
            return default
        try:
            return float(raw)
        except ValueError:
            return default

    @property
    def retry_after(self) -> int:
        return max(0, int(self.number("retry_after", self.number("retry-after", 1))))

    @property
    def after(self) -> int:
        """Events (or, for plain bodies, a fraction of bytes) sent before the fault strikes."""
        return max(0, int(self.number("after", 2)))

    @property
    def seconds(self) -> float:
        return max(0.0, self.number("seconds", 2.0))


def parse_header(value: str) -> Fault:
    parts = [p.strip() for p in value.split(";") if p.strip()]
    if not parts:
        raise FaultError("empty fault header")
    kind = parts[0].lower()
    if kind not in KINDS:
        raise FaultError(f"unknown fault kind: {kind}")
    params: dict[str, str] = {}
    for part in parts[1:]:
        name, _, val = part.partition("=")
        params[name.strip().lower()] = val.strip()
    return Fault(kind, params)


@dataclass(slots=True)
class _Armed:
    fault: Fault
    remaining: int
    path_prefix: str


class FaultBoard:
    """Armed faults, consumed first-armed-first by matching requests. Thread-safe (tests arm
    from their own thread while the server consumes in its loop)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: list[_Armed] = []

    def arm(
        self,
        kind: str,
        count: int = 1,
        params: Mapping[str, Any] | None = None,
        path_prefix: str = "",
    ) -> None:
        if kind not in KINDS:
            raise FaultError(f"unknown fault kind: {kind}")
        if count < 1:
            raise FaultError("count must be at least 1")
        clean = {str(k).lower(): str(v) for k, v in (params or {}).items()}
        with self._lock:
            self._armed.append(_Armed(Fault(kind, clean), count, path_prefix))

    def take(self, path: str) -> Fault | None:
        with self._lock:
            for armed in self._armed:
                if path.startswith(armed.path_prefix):
                    armed.remaining -= 1
                    if armed.remaining <= 0:
                        self._armed.remove(armed)
                    return armed.fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {
                    "kind": a.fault.kind,
                    "count": a.remaining,
                    "params": dict(a.fault.params),
                    "path_prefix": a.path_prefix,
                }
                for a in self._armed
            ]


class DroppedConnectionError(Exception):
    """Raised inside a response body to make the server abort the connection mid-transfer."""


async def stall(fault: Fault) -> None:
    await asyncio.sleep(fault.seconds)
