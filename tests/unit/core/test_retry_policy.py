"""Table tests for the pure retry policy."""

from __future__ import annotations

import email.utils

import pytest

from bluesdesk.core.retry import RetryPolicy, backoff_delay, parse_retry_after, should_retry

NOW = 1_760_000_000.0


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (422, False),
        (408, True),
        (409, True),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (504, True),
        (599, True),
        (200, False),
        (None, False),
    ],
)
def test_should_retry_status(status: int | None, expected: bool) -> None:
    assert should_retry(status) is expected


@pytest.mark.parametrize(
    ("kind", "expected"), [("timeout", True), ("connect", True), ("network", True), ("tls", False)]
)
def test_should_retry_transport(kind: str, expected: bool) -> None:
    assert should_retry(None, exc_kind=kind) is expected


def http_date(ts: float) -> str:
    return email.utils.formatdate(ts, usegmt=True)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after": "0"}, 0.0),
        ({"Retry-After": "1.5"}, 1.5),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),  # the precise header wins
        ({"retry-after-ms": "junk", "retry-after": "9"}, 9.0),
        ({"Retry-After": http_date(NOW + 30)}, 30.0),
        ({"Retry-After": http_date(NOW - 30)}, 0.0),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "-5"}, None),
        ({"Retry-After": "nan"}, None),
        ({"Retry-After": "  7 "}, 7.0),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(headers, NOW) == expected


POLICY = RetryPolicy(max_retries=5, base_delay=0.5, max_delay=8.0, jitter=0.25)


@pytest.mark.parametrize(
    ("attempt", "rand", "expected"),
    [
        (0, 0.0, 0.5),
        (1, 0.0, 1.0),
        (2, 0.0, 2.0),
        (3, 0.0, 4.0),
        (4, 0.0, 8.0),
        (10, 0.0, 8.0),  # capped
        (0, 1.0, 0.375),  # full jitter removes a quarter
        (2, 0.5, 1.75),
        (4, 1.0, 6.0),
    ],
)
def test_backoff_exponential_with_jitter(attempt: int, rand: float, expected: float) -> None:
    assert backoff_delay(attempt, POLICY, None, lambda: rand) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("retry_after", "expected"), [(0.0, 0.0), (3.0, 3.0), (20.0, 20.0), (600.0, 60.0)]
)
def test_backoff_honours_retry_after_up_to_the_cap(retry_after: float, expected: float) -> None:
    assert backoff_delay(0, POLICY, retry_after, lambda: 0.9) == expected


def test_backoff_never_negative_with_odd_random_values() -> None:
    assert backoff_delay(0, POLICY, None, lambda: 7.0) == pytest.approx(0.375)
    assert backoff_delay(0, POLICY, None, lambda: -1.0) == pytest.approx(0.5)
