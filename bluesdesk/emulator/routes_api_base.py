"""What every /api route shares: the envelope, UserAuth exactly as new-api, paging, key auth.

UserAuth follows reference §2 in order: session cookie, else `Authorization` as an access token
(one `Bearer ` stripped) → `New-Api-User` present, numeric and equal → user enabled → role.
BluesMinds extension: the login's `data.token` (a session token) sent as a bare `Authorization`
header works without `New-Api-User`, as the seeds' curl examples do.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bluesdesk.emulator.config import Flavor
from bluesdesk.emulator.state import EmulatorState
from bluesdesk.emulator.store import Row

ROLE_USER, ROLE_ADMIN, ROLE_ROOT = 1, 10, 100


def ok(data: Any = None, message: str = "", *, omit_data: bool = False) -> JSONResponse:
    body: dict[str, Any] = {"success": True, "message": message}
    if not omit_data:
        body["data"] = data
    return JSONResponse(body)


def fail(message: str, status: int = 200) -> JSONResponse:
    return JSONResponse({"success": False, "message": message}, status_code=status)


def too_many() -> Response:
    """new-api's rate-limit answer: 429 with an empty body."""
    return Response(status_code=429)


@dataclass(frozen=True, slots=True)
class Page:
    page: int  # as the client sent it (1-based modern, 0-based legacy)
    size: int
    offset: int
    legacy: bool


class Api:
    """Shared services for the /api route modules."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.config = state.config
        self.store = state.store

    @property
    def bluesminds(self) -> bool:
        return self.config.flavor is Flavor.BLUESMINDS

    # -- auth -------------------------------------------------------------------------------

    def user_auth(self, request: Request, min_role: int = ROLE_USER) -> Row | Response:
        """The authenticated user row, or the exact upstream failure response."""
        user_id: int | None = None
        bare_token = False
        cookie = request.cookies.get("session")
        session = self.state.unsign(cookie) if cookie else None
        if session is not None and isinstance(session.get("id"), int):
            user_id = session["id"]
        else:
            auth = request.headers.get("authorization", "").strip()
            if not auth:
                return fail("Unauthorized, not logged in and no access token provided", 401)
            token = auth[7:].strip() if auth[:7].lower() == "bearer " else auth
            row = self.store.one("SELECT id FROM users WHERE access_token = ?", (token,))
            if row is None:
                row = self.store.one(
                    "SELECT user_id AS id FROM session_tokens WHERE token = ?", (token,)
                )
                bare_token = row is not None and self.bluesminds
            if row is None:
                return fail("Unauthorized, invalid access token")
            user_id = int(row["id"])
            bare_token = bare_token or self.bluesminds
        header = request.headers.get("new-api-user")
        if not header:
            if not bare_token:
                return fail("Unauthorized, New-Api-User header not provided", 401)
        elif not header.strip().lstrip("-").isdigit():
            return fail("Unauthorized, New-Api-User header format error", 401)
        elif int(header) != user_id:
            return fail("Unauthorized, New-Api-User does not match logged in user", 401)
        user = self.state.user(user_id)
        if user is None:
            return fail("Unauthorized, invalid access token")
        if user["status"] != 1:
            return fail("User has been banned")
        if user["role"] < min_role:
            return fail("Unauthorized, insufficient privileges")
        return user

    def session_user(self, request: Request) -> Row | None:
        """TryUserAuth for /api/pricing: only the session cookie counts."""
        cookie = request.cookies.get("session")
        session = self.state.unsign(cookie) if cookie else None
        if session is None or not isinstance(session.get("id"), int):
            return None
        return self.state.user(session["id"])

    def key_auth(self, request: Request) -> tuple[Row, Row] | Response:
        """(token, user) for key-auth /api routes and /dashboard/billing, else the OpenAI 401."""
        auth = request.headers.get("authorization", "")
        presented = auth[7:].strip() if auth[:7].lower() == "bearer " else auth.strip()
        token = self.store.one(
            "SELECT * FROM tokens WHERE key = ?", (presented.removeprefix("sk-"),)
        )
        now = int(time.time())
        if (
            token is None
            or token["status"] != 1
            or (token["expired_time"] != -1 and token["expired_time"] < now)
        ):
            rid = request.scope.get("state", {}).get("request_id", "")
            return JSONResponse(
                {
                    "error": {
                        "message": f"Invalid token (request id: {rid})",
                        "type": "new_api_error",
                        "code": "",
                    }
                },
                status_code=401,
            )
        user = self.state.user(token["user_id"])
        assert user is not None
        return token, user

    def critical(self, request: Request) -> bool:
        """The reference's critical limit (20 per 20 min per IP); True when allowed."""
        if not self.config.api_rate_limit:
            return True
        host = request.client.host if request.client else ""
        return self.state.limits.critical.hit(f"ip:{host}").allowed

    # -- paging -----------------------------------------------------------------------------

    def page(self, request: Request, *, default_size: int = 10, legacy: bool = False) -> Page:
        q = request.query_params
        raw_size = q.get("page_size") or q.get("ps") or q.get("size") or ""
        size = int(raw_size) if raw_size.isdigit() and int(raw_size) > 0 else default_size
        size = min(size, 100)
        raw_p = q.get("p", "")
        if legacy:
            p = int(raw_p) if raw_p.isdigit() else 0
            return Page(p, size, p * size, True)
        p = int(raw_p) if raw_p.isdigit() and int(raw_p) > 0 else 1
        return Page(p, size, (p - 1) * size, False)

    @staticmethod
    def paged(page: Page, items: list[Any], total: int) -> Any:
        if page.legacy:
            return items
        return {"page": page.page, "page_size": page.size, "total": total, "items": items}


def int_param(request: Request, name: str, default: int = 0) -> int:
    raw = request.query_params.get(name, "")
    try:
        return int(raw)
    except ValueError:
        return default
