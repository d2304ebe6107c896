"""The error tree: messages for people, request ids shown, secrets never in the text."""

from __future__ import annotations

from bluesdesk.errors import (
    AuthFailed,
    BluesdeskError,
    ConnectionFailed,
    GatewayError,
    RateLimited,
    StatusError,
    StreamInterrupted,
    TimedOut,
)

KEY = "sk-" + "Z9y8X7w6" * 6


def test_tree_shape() -> None:
    assert issubclass(TimedOut, ConnectionFailed)
    assert issubclass(AuthFailed, StatusError)
    assert issubclass(StatusError, GatewayError)
    assert issubclass(GatewayError, BluesdeskError)


def test_describe_has_message_hint_and_request_id() -> None:
    err = RateLimited("Too many requests", retry_after=2.0, request_id="req-42")
    text = err.describe()
    assert "Too many requests" in text
    assert "retries" in text  # the default hint says what bluesdesk does about it
    assert "req-42" in text
    assert err.retry_after == 2.0
    assert err.status == 429


def test_key_never_in_error_text() -> None:
    err = AuthFailed(f"Invalid token {KEY}", status=401, body_excerpt=f'{{"key": "{KEY}"}}')
    assert KEY not in str(err)
    assert KEY not in err.describe()
    assert KEY not in err.body_excerpt


def test_partial_text_kept() -> None:
    err = StreamInterrupted("The connection dropped", partial_text="Hello, wor")
    assert err.partial_text == "Hello, wor"
