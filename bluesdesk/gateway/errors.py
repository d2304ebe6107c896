"""Turn what httpx and the gateway hand us into bluesdesk's typed errors (errors.py).

Everything here builds exceptions; nothing raises on its own. Messages are user-facing English.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bluesdesk.errors import (
    AuthFailed,
    BadRequest,
    BadResponse,
    ConsoleRejected,
    Forbidden,
    GatewayError,
    NotFound,
    RateLimited,
    ServerError,
    StatusError,
    TimedOut,
)

# new-api appends "(request id: X)" to relay error messages.
_REQUEST_ID_SUFFIX = re.compile(r"\s*\(request id:\s*([^)]+)\)\s*$", re.IGNORECASE)
EXCERPT_CHARS = 300

WEB_PAGE_MESSAGE = (
    "The gateway returned a web page instead of API data. The base URL probably points at the "
    "gateway's website rather than its API (it usually ends in /v1)."
)


def split_request_id(message: str) -> tuple[str, str]:
    """Return (message without the "(request id: X)" suffix, X or "")."""
    match = _REQUEST_ID_SUFFIX.search(message)
    if match is None:
        return message, ""
    return message[: match.start()], match.group(1).strip()


def looks_like_html(content_type: str, text: str) -> bool:
    if "html" in content_type.lower():
        return True
    head = text.lstrip()[:15].lower()
    return head.startswith(("<!doctype", "<html", "<head", "<body"))


def error_fields(body: Any) -> tuple[str, str]:
    """(message, code) from an error body in the OpenAI, Claude, Gemini or new-api shape."""
    if not isinstance(body, dict):
        return "", ""
    err = body.get("error")
    if isinstance(err, dict):
        message = err.get("message")
        code = err.get("code") or err.get("type") or err.get("status") or ""
        return (message if isinstance(message, str) else ""), str(code)
    if isinstance(err, str):
        return err, str(body.get("code") or "")
    message = body.get("message")
    if isinstance(message, str):
        return message, str(body.get("code") or "")
    return "", ""


def parse_json_text(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # deep nesting overflows the C scanner
        return None


_STATUS_TEXT = {
    400: "The gateway rejected the request",
    401: "The gateway did not accept the API key",
    402: "The gateway says payment is required",
    403: "The gateway refused access",
    404: "The gateway does not know this model or route",
    408: "The gateway timed out waiting for the request",
    409: "The gateway reported a conflict",
    413: "The request is too large for the gateway",
    422: "The gateway could not process the request",
    429: "The gateway is rate limiting requests",
}


def status_error(
    status: int,
    body_text: str,
    content_type: str,
    *,
    request_id: str = "",
    retry_after: float | None = None,
    profile: str = "",
) -> GatewayError:
    """The typed error for an HTTP error response."""
    body = parse_json_text(body_text)
    message, code = error_fields(body)
    message, suffix_id = split_request_id(message)
    request_id = request_id or suffix_id
    if status >= 500:
        base = f"The gateway had a server error (HTTP {status})"
    else:
        base = _STATUS_TEXT.get(status, f"The gateway answered HTTP {status}")
    if message:
        text = f"{base}: {message}"
    elif body is None and looks_like_html(content_type, body_text):
        text = f"{base} and sent an error web page instead of API data."
    else:
        text = f"{base}."
    excerpt = body_text[:EXCERPT_CHARS]
    common: dict[str, Any] = {
        "status": status,
        "body_excerpt": excerpt,
        "code": code,
        "profile": profile,
        "request_id": request_id,
    }
    if status == 408:
        return TimedOut(text, profile=profile, request_id=request_id)
    cls: type[StatusError]
    if status == 429:
        return RateLimited(text, retry_after=retry_after, **common)
    if status >= 500:
        cls = ServerError
    elif status == 401:
        cls = AuthFailed
    elif status in (402, 403):
        cls = Forbidden
    elif status == 404:
        cls = NotFound
    else:
        cls = BadRequest
    return cls(text, **common)


def ok_body_error(body: Any, *, status: int, request_id: str, profile: str) -> GatewayError | None:
    """An error hidden in a 2xx JSON body: new-api `success:false`, or a bare error object."""
    if not isinstance(body, dict):
        return None
    if body.get("success") is False:
        message, _ = error_fields(body)
        message, suffix_id = split_request_id(message)
        return ConsoleRejected(
            f"The gateway refused the request: {message or 'no reason given'}",
            status=status,
            profile=profile,
            request_id=request_id or suffix_id,
        )
    if isinstance(body.get("error"), dict) and not ({"choices", "data", "content"} & body.keys()):
        message, code = error_fields(body)
        message, suffix_id = split_request_id(message)
        cls: type[StatusError] = NotFound if code == "model_not_found" else BadRequest
        return cls(
            f"The gateway reported an error: {message or code or 'unknown error'}",
            status=status,
            code=code,
            body_excerpt=json.dumps(body)[:EXCERPT_CHARS],
            profile=profile,
            request_id=request_id or suffix_id,
        )
    return None


def bad_response(
    content_type: str, text: str, *, what: str, request_id: str, profile: str
) -> BadResponse:
    """A 2xx answer that is not the API data we asked for."""
    if looks_like_html(content_type, text):
        message = WEB_PAGE_MESSAGE
    elif what == "json":
        message = (
            "The gateway sent a reply that is not valid JSON"
            f" (content type {content_type or 'unknown'})."
        )
    else:
        message = (
            f"The gateway did not send an event stream (content type {content_type or 'unknown'})."
        )
    return BadResponse(message, profile=profile, request_id=request_id)


def redirect_error(location: str, *, request_id: str, profile: str) -> BadResponse:
    """API calls are never followed across redirects: a POST would silently turn into a GET."""
    where = f" to {location}" if location else ""
    return BadResponse(
        f"The gateway redirected the request{where}.",
        hint="Use the address it redirects to as the base URL in Settings.",
        profile=profile,
        request_id=request_id,
    )
