"""HTTP error responses → the typed error tree (pure mapping, no I/O)."""

from __future__ import annotations

import json

import pytest

from bluesdesk.core.redact import register_secret
from bluesdesk.errors import (
    AuthFailed,
    BadRequest,
    ConsoleRejected,
    Forbidden,
    NotFound,
    RateLimited,
    ServerError,
    StatusError,
    TimedOut,
)
from bluesdesk.gateway.errors import (
    WEB_PAGE_MESSAGE,
    bad_response,
    error_fields,
    ok_body_error,
    split_request_id,
    status_error,
)

OPENAI_401 = json.dumps(
    {
        "error": {
            "message": "Invalid token (request id: 20260101abc)",
            "type": "new_api_error",
            "code": "",
        }
    }
)
CLAUDE_400 = json.dumps(
    {"type": "error", "error": {"type": "invalid_request_error", "message": "max_tokens: required"}}
)
GEMINI_404 = json.dumps({"error": {"code": 404, "message": "model gone", "status": "NOT_FOUND"}})
NEWAPI_403 = json.dumps(
    {"success": False, "message": "insufficient quota", "code": "insufficient_user_quota"}
)


@pytest.mark.parametrize(
    ("status", "body", "cls", "message_part", "code"),
    [
        (400, CLAUDE_400, BadRequest, "max_tokens: required", "invalid_request_error"),
        (401, OPENAI_401, AuthFailed, "Invalid token", "new_api_error"),
        (403, NEWAPI_403, Forbidden, "insufficient quota", "insufficient_user_quota"),
        (402, "{}", Forbidden, "payment", ""),
        (404, GEMINI_404, NotFound, "model gone", "404"),
        (422, "", BadRequest, "could not process", ""),
        (429, "", RateLimited, "rate limiting", ""),
        (500, '{"error": {"message": "db down", "code": "x"}}', ServerError, "db down", "x"),
        (502, "<html><body>502 Bad Gateway</body></html>", ServerError, "web page", ""),
        (
            503,
            json.dumps({"error": {"message": "no channel", "code": "model_not_found"}}),
            ServerError,
            "no channel",
            "model_not_found",
        ),
        (418, "teapot", BadRequest, "HTTP 418", ""),
    ],
)
def test_status_error_classes(
    status: int, body: str, cls: type, message_part: str, code: str
) -> None:
    err = status_error(status, body, "application/json", profile="p")
    assert type(err) is cls
    assert isinstance(err, StatusError)
    assert err.status == status
    assert message_part.lower() in err.user_message.lower()
    assert err.code == code
    assert err.profile == "p"
    assert err.hint  # every error carries advice


def test_408_is_a_timeout() -> None:
    assert isinstance(status_error(408, "", ""), TimedOut)


def test_request_id_from_suffix_and_header() -> None:
    err = status_error(401, OPENAI_401, "application/json")
    assert err.request_id == "20260101abc"
    assert "(request id" not in err.user_message
    from_header = status_error(401, OPENAI_401, "application/json", request_id="hdr")
    assert from_header.request_id == "hdr"
    assert "Request id: hdr" in from_header.describe()


def test_retry_after_on_429() -> None:
    err = status_error(429, "", "", retry_after=7.0)
    assert isinstance(err, RateLimited)
    assert err.retry_after == 7.0


def test_key_in_body_is_redacted() -> None:
    key = "sk-" + "Z" * 48
    register_secret(key)
    body = json.dumps({"error": {"message": f"bad key {key}"}})
    err = status_error(401, body, "application/json")
    assert isinstance(err, AuthFailed)
    assert key not in err.user_message
    assert key not in err.body_excerpt
    assert key not in err.describe()


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Invalid token (request id: X1)", ("Invalid token", "X1")),
        ("no suffix", ("no suffix", "")),
        ("x (Request ID: abc-2) ", ("x", "abc-2")),
    ],
)
def test_split_request_id(message: str, expected: tuple[str, str]) -> None:
    assert split_request_id(message) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"error": {"message": "m", "code": "c"}}, ("m", "c")),
        ({"error": {"message": "m", "type": "t"}}, ("m", "t")),
        ({"error": "plain"}, ("plain", "")),
        ({"success": False, "message": "nope"}, ("nope", "")),
        ([1, 2], ("", "")),
        ({"other": 1}, ("", "")),
    ],
)
def test_error_fields(body: object, expected: tuple[str, str]) -> None:
    assert error_fields(body) == expected


def test_success_false_in_a_200_is_console_rejected() -> None:
    err = ok_body_error(
        {"success": False, "message": "denied"}, status=200, request_id="r", profile=""
    )
    assert isinstance(err, ConsoleRejected)
    assert "denied" in err.user_message
    assert err.request_id == "r"


def test_error_object_in_a_200_json() -> None:
    err = ok_body_error(
        {"error": {"message": "The model '' does not exist", "code": "model_not_found"}},
        status=200,
        request_id="",
        profile="",
    )
    assert isinstance(err, NotFound)


def test_good_bodies_are_not_errors() -> None:
    assert (
        ok_body_error({"object": "list", "data": []}, status=200, request_id="", profile="") is None
    )
    assert (
        ok_body_error({"success": True, "data": 1}, status=200, request_id="", profile="") is None
    )
    assert ok_body_error([1], status=200, request_id="", profile="") is None


def test_bad_response_messages() -> None:
    page = bad_response(
        "text/html", "<!DOCTYPE html><html>", what="json", request_id="", profile=""
    )
    assert page.user_message == WEB_PAGE_MESSAGE
    sniffed = bad_response("text/plain", "  <html>", what="stream", request_id="", profile="")
    assert sniffed.user_message == WEB_PAGE_MESSAGE
    junk = bad_response("application/json", "{oops", what="json", request_id="", profile="")
    assert "not valid JSON" in junk.user_message
    plain = bad_response("application/json", "{}", what="stream", request_id="", profile="")
    assert "event stream" in plain.user_message
