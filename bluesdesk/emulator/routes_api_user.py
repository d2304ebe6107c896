"""/api/user/*: login (with 2FA), logout, self, access tokens, models, groups (reference §3–4)."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bluesdesk.emulator.catalog import GROUP_RATIOS, MODELS
from bluesdesk.emulator.routes_api_base import Api, fail, ok, too_many
from bluesdesk.emulator.state import GROUP_DESC
from bluesdesk.emulator.store import Row

SESSION_MAX_AGE = 30 * 86400


def _set_session(response: Response, api: Api, payload: dict[str, Any]) -> None:
    response.set_cookie(
        "session",
        api.state.sign(payload),
        max_age=SESSION_MAX_AGE,
        path="/",
        httponly=True,
        samesite="strict",
    )


def _public_user(user: Row) -> dict[str, Any]:
    return {
        "id": user["id"],
        "username": user["username"],
        "display_name": user["display_name"],
        "role": user["role"],
        "status": user["status"],
        "group": user["grp"],
    }


def self_fields(user: Row) -> dict[str, Any]:
    """GET /api/user/self `data`, field for field (never the access token)."""
    return {
        "id": user["id"],
        "username": user["username"],
        "display_name": user["display_name"],
        "role": user["role"],
        "status": user["status"],
        "email": user["email"],
        "group": user["grp"],
        "quota": user["quota"],
        "used_quota": user["used_quota"],
        "request_count": user["request_count"],
        "aff_code": user["aff_code"],
        "aff_count": 0,
        "aff_quota": 0,
        "aff_history_quota": 0,
        "inviter_id": 0,
        "github_id": "",
        "discord_id": "",
        "oidc_id": "",
        "wechat_id": "",
        "telegram_id": "",
        "linux_do_id": "",
        "setting": json.dumps({"accept_unset_model_ratio_model": False}),
        "stripe_customer": "",
        "sidebar_modules": "",
        "permissions": {"sidebar_settings": True},
    }


def group_map(groups: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        g: {"ratio": GROUP_RATIOS.get(g, 1.0), "desc": GROUP_DESC.get(g, g)} for g in groups
    }
    out["auto"] = {"ratio": "自动", "desc": GROUP_DESC["auto"]}
    return out


def routes(api: Api) -> list[BaseRoute]:
    store = api.store

    def complete_login(user: Row) -> JSONResponse:
        data = _public_user(user)
        if api.bluesminds:
            token = secrets.token_urlsafe(24)
            store.execute(
                "INSERT INTO session_tokens (token, user_id, created) VALUES (?, ?, ?)",
                (token, user["id"], int(time.time())),
            )
            data["token"] = token
        response = ok(data)
        _set_session(
            response,
            api,
            {
                "id": user["id"],
                "username": user["username"],
                "role": user["role"],
                "status": user["status"],
                "group": user["grp"],
            },
        )
        return response

    async def login(request: Request) -> Response:
        if not api.critical(request):
            return too_many()
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return fail("Invalid parameters")
        if not isinstance(body, dict):
            return fail("Invalid parameters")
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not isinstance(password, str) or not username:
            return fail("Invalid parameters")
        user = api.state.user_by_name(username)
        if user is None or user["password"] != password or user["status"] != 1:
            return fail("Username or password is incorrect, or user has been banned")
        if user["twofa_code"]:
            response = ok({"require_2fa": True}, "Please enter two-factor authentication code")
            _set_session(response, api, {"pending_user_id": user["id"]})
            return response
        return complete_login(user)

    async def login_2fa(request: Request) -> Response:
        if not api.critical(request):
            return too_many()
        cookie = request.cookies.get("session")
        session = api.state.unsign(cookie) if cookie else None
        pending = session.get("pending_user_id") if session else None
        user = api.state.user(pending) if isinstance(pending, int) else None
        if user is None:
            return fail("会话已过期，请重新登录")
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            body = {}
        code = body.get("code") if isinstance(body, dict) else None
        if not isinstance(code, str) or code.strip() != user["twofa_code"]:
            return fail("验证码或备用码错误，请重试")
        return complete_login(user)

    async def logout(request: Request) -> Response:
        auth = request.headers.get("authorization", "").strip()
        if auth:
            token = auth[7:].strip() if auth[:7].lower() == "bearer " else auth
            store.execute("DELETE FROM session_tokens WHERE token = ?", (token,))
        response = ok(omit_data=True)
        response.delete_cookie("session", path="/")
        return response

    async def get_self(request: Request) -> Response:
        user = api.user_auth(request)
        if isinstance(user, Response):
            return user
        return ok(self_fields(user))

    async def access_token(request: Request) -> Response:
        user = api.user_auth(request)
        if isinstance(user, Response):
            return user
        token = secrets.token_hex(16)  # 32 characters
        store.update("users", user["id"], {"access_token": token})
        return ok(token)

    async def user_models(request: Request) -> Response:
        user = api.user_auth(request)
        if isinstance(user, Response):
            return user
        groups = api.state.usable_groups(user["grp"])
        wanted = request.query_params.get("group")
        if wanted:
            groups = [g for g in groups if g == wanted]
        names = [m.name for m in MODELS.values() if any(g in m.enable_groups for g in groups)]
        return ok(names)

    async def self_groups(request: Request) -> Response:
        user = api.user_auth(request)
        if isinstance(user, Response):
            return user
        return ok(group_map(api.state.usable_groups(user["grp"])))

    async def all_groups(request: Request) -> Response:
        return ok(group_map(list(GROUP_RATIOS)))

    return [
        Route("/api/user/login", login, methods=["POST"]),
        Route("/api/user/login/2fa", login_2fa, methods=["POST"]),
        Route("/api/user/logout", logout, methods=["GET"]),
        Route("/api/user/self", get_self, methods=["GET"]),
        Route("/api/user/token", access_token, methods=["GET"]),
        Route("/api/user/models", user_models, methods=["GET"]),
        Route("/api/user/self/groups", self_groups, methods=["GET"]),
        Route("/api/user/groups", all_groups, methods=["GET"]),
    ]
