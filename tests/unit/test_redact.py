"""Secrets never survive `redact`: keys, auth headers, query keys, JSON secret fields."""

from __future__ import annotations

import pytest

from bluesdesk.core.redact import forget_secret, redact, redact_known, register_secret

KEY = "sk-" + "a1B2c3D4" * 6


@pytest.mark.parametrize(
    ("text", "must_not_contain"),
    [
        (f"calling with {KEY} now", KEY),
        (f"Authorization: Bearer {KEY}", KEY),
        ("authorization: 0123456789abcdefsessiontoken", "0123456789abcdefsessiontoken"),
        (f"x-api-key: {KEY}", KEY),
        ("GET /v1beta/models?key=AIzaSecretValue123&alt=sse", "AIzaSecretValue123"),
        ('{"username": "bob", "password": "hunter2-long"}', "hunter2-long"),
        ('{"access_token":"abcdefghijklmnopqrstuvwxyz012"}', "abcdefghijklmnopqrstuvwxyz012"),
    ],
)
def test_redact_removes_secret(text: str, must_not_contain: str) -> None:
    out = redact(text)
    assert must_not_contain not in out
    assert "[redacted]" in out


def test_redact_keeps_ordinary_text() -> None:
    text = "The model gpt-4o answered in 812 ms (request id: 20261124abc)."
    assert redact(text) == text


def test_registered_secret_is_redacted_everywhere() -> None:
    token = "plainSessionToken0123456789"
    register_secret(token)
    try:
        assert token not in redact_known(f"login ok, token={token}!")
    finally:
        forget_secret(token)
    assert token in redact_known(f"token {token}")
