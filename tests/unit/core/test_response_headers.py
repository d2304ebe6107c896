"""Reading ResponseMeta from gateway headers."""

from __future__ import annotations

import pytest

from bluesdesk.core.headers import parse_reset, response_meta
from bluesdesk.core.models import ResponseMeta


@pytest.mark.parametrize(
    ("headers", "request_id"),
    [
        ({"X-Oneapi-Request-Id": "n1"}, "n1"),
        ({"x-request-id": "r1"}, "r1"),
        ({"X-TT-Request-ID": "tt1"}, "tt1"),
        ({"request-id": "req_1"}, "req_1"),
        ({"X-Request-ID": "r", "X-Oneapi-Request-Id": "n"}, "n"),
        ({"X-Request-ID": "  "}, ""),
        ({}, ""),
    ],
)
def test_request_id(headers: dict[str, str], request_id: str) -> None:
    assert response_meta(headers).request_id == request_id


def test_rate_limits_credits_and_hold() -> None:
    meta = response_meta(
        {
            "X-RateLimit-Limit": "20",
            "X-RateLimit-Remaining": "17",
            "X-RateLimit-Reset": "42",
            "X-Credits-Consumed": "0.0125",
            "X-Credits-Remaining": "499.5",
            "X-TT-Hold-ID": "hold_9",
        },
        status=200,
        elapsed_ms=12.5,
    )
    assert meta == ResponseMeta(
        request_id="",
        ratelimit_limit=20,
        ratelimit_remaining=17,
        ratelimit_reset=42.0,
        credits_consumed=0.0125,
        credits_remaining=499.5,
        hold_id="hold_9",
        status=200,
        elapsed_ms=12.5,
    )


def test_openai_style_request_limits() -> None:
    meta = response_meta(
        {
            "x-ratelimit-limit-requests": "60",
            "x-ratelimit-remaining-requests": "59",
            "x-ratelimit-reset-requests": "1s",
        }
    )
    assert (meta.ratelimit_limit, meta.ratelimit_remaining, meta.ratelimit_reset) == (60, 59, 1.0)


def test_garbage_values_are_none() -> None:
    meta = response_meta(
        {"X-RateLimit-Limit": "many", "X-Credits-Remaining": "inf", "X-RateLimit-Reset": "?"}
    )
    assert meta.ratelimit_limit is None
    assert meta.credits_remaining is None
    assert meta.ratelimit_reset is None


@pytest.mark.parametrize(
    ("value", "now", "expected"),
    [
        ("20", None, 20.0),
        ("0.5", None, 0.5),
        ("1m30s", None, 90.0),
        ("6m0s", None, 360.0),
        ("250ms", None, 0.25),
        ("1h", None, 3600.0),
        ("1760000030", 1760000000.0, 30.0),
        ("1760000030", None, None),
        ("1760000000", 1760000100.0, 0.0),
        ("abc", None, None),
        ("1x", None, None),
        ("", None, None),
        (None, None, None),
    ],
)
def test_parse_reset(value: str | None, now: float | None, expected: float | None) -> None:
    assert parse_reset(value, now) == expected
