"""/api/token/*: API key management (reference §5), modern shapes or `legacy` ones.

Modern: 1-based pages of masked keys, reveal via POST /api/token/:id/key. Legacy (2025-04):
0-based `p`, `size`, bare arrays, full keys in lists, substring search.
"""

from __future__ import annotations

import json
import secrets
import string
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bluesdesk.emulator.routes_api_base import Api, fail, ok, too_many
from bluesdesk.emulator.state import mask_key
from bluesdesk.emulator.store import Row

MAX_TOKENS_PER_USER = 1000
_ALPHABET = string.ascii_letters + string.digits


def new_key() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(48))


def token_json(t: Row, *, masked: bool) -> dict[str, Any]:
    return {
        "id": t["id"],
        "user_id": t["user_id"],
        "key": mask_key(t["key"]) if masked else t["key"],
        "status": t["status"],
        "name": t["name"],
        "created_time": t["created_time"],
        "accessed_time": t["accessed_time"],
        "expired_time": t["expired_time"],
        "remain_quota": t["remain_quota"],
        "unlimited_quota": bool(t["unlimited_quota"]),
        "model_limits_enabled": bool(t["model_limits_enabled"]),
        "model_limits": t["model_limits"],
        "allow_ips": t["allow_ips"],
        "used_quota": t["used_quota"],
        "group": t["grp"],
        "cross_group_retry": bool(t["cross_group_retry"]),
        "DeletedAt": None,
    }


def _like_pattern(value: str) -> str | None:
    """new-api's search rule: exact unless `%` is used; at most 2 `%`, at least 2 other chars."""
    if "%" not in value:
        return None
    if value.count("%") > 2 or len(value.replace("%", "")) < 2:
        raise ValueError("invalid search pattern")
    return value


def _token_fields(body: dict[str, Any]) -> dict[str, Any]:
    """Columns from a token JSON body (create/update), type-checked loosely as Go would."""
    out: dict[str, Any] = {}
    if isinstance(body.get("name"), str):
        out["name"] = body["name"]
    for field, column in (("remain_quota", "remain_quota"), ("expired_time", "expired_time")):
        if isinstance(body.get(field), int) and not isinstance(body.get(field), bool):
            out[column] = body[field]
    for field in ("unlimited_quota", "model_limits_enabled", "cross_group_retry"):
        if isinstance(body.get(field), bool):
            out[field] = int(body[field])
    if isinstance(body.get("model_limits"), str):
        out["model_limits"] = body["model_limits"]
    if "allow_ips" in body and (body["allow_ips"] is None or isinstance(body["allow_ips"], str)):
        out["allow_ips"] = body["allow_ips"]
    if isinstance(body.get("group"), str):
        out["grp"] = body["group"]
    return out


def routes(api: Api) -> list[BaseRoute]:
    store = api.store
    legacy = api.config.legacy

    def own(user: Row, token_id: int) -> Row | None:
        return store.one(
            "SELECT * FROM tokens WHERE id = ? AND user_id = ?", (token_id, user["id"])
        )

    async def body_of(request: Request) -> dict[str, Any] | None:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    async def list_tokens(request: Request) -> Response:
        user = api.user_auth(request)
        if isinstance(user, Response):
            return user
        page = api.page(request, legacy=legacy)
        total = int(store.scalar("SELECT COUNT(*) FROM tokens WHERE user_id = ?", (user["id"],)))
        rows = store.all(
            "SELECT * FROM tokens WHERE user_id = ? ORDER BY id DESC LIMIT ? OFFSET ?",
            (user["id"], page.size, page.offset),
        )
        items = [token_json(t, masked=not legacy) for t in rows]
        return ok(api.paged(page, items, total))

    async def search(request: Request) -> Response:
        user = api.user_auth(request)
        if isinstance(user, Response):
            return user
        if (
            api.config.api_rate_limit
            and not api.state.limits.search.hit(f"user:{user['id']}").allowed
        ):
            return too_many()
        keyword = request.query_params.get("keyword", "")
        fragment = request.query_params.get("token", "").removeprefix("sk-")
        where, params = ["user_id = ?"], [user["id"]]
        try:
            for column, value in (("name", keyword), ("key", fragment)):
                if not value:
                    continue
                if legacy:
                    where.append(f"{column} LIKE ?")
                    params.append(f"%{value}%")
                    continue
                pattern = _like_pattern(value)
                where.append(f"{column} LIKE ?" if pattern else f"{column} = ?")
                params.append(pattern or value)
        except ValueError as exc:
            return fail(str(exc))
        clause = " AND ".join(where)
        page = api.page(request, legacy=legacy)
        total = int(store.scalar(f"SELECT COUNT(*) FROM tokens WHERE {clause}", params))
        rows = store.all(
            f"SELECT * FROM tokens WHERE {clause} ORDER BY id DESC LIMIT ? OFFSET ?",
            [*params, page.size, page.offset],
        )
        return ok(api.paged(page, [token_json(t, masked=not legacy) for t in rows], total))

    async def get_token(request: Request) -> Response:
        user = api.user_auth(request)
        if isinstance(user, Response):
            return user
        token = own(user, request.path_params["id"])
        if token is None:
            return fail("record not found")
        return ok(token_json(token, masked=not legacy))

    async def reveal(request: Request) -> Response:
        if not api.critical(request):
            return too_many()
        user = api.user_auth(request)
        if isinstance(user, Response):
            return user
        token = own(user, request.path_params["id"])
        if token is None:
            return fail("record not found")
        return ok({"key": token["key"]})

    async def batch_keys(request: Request) -> Response:
        if not api.critical(request):
            return too_many()
        user = api.user_auth(request)
        if isinstance(user, Response):
            return user
        body = await body_of(request)
        ids = body.get("ids") if body else None
        if not isinstance(ids, list) or not ids or not all(isinstance(i, int) for i in ids):
            return fail("Invalid parameters")
        if len(ids) > 100:
            return fail("At most 100 tokens at a time")
        keys: dict[str, str] = {}
        for token_id in ids:
            token = own(user, token_id)
            if token is not None:
                keys[str(token_id)] = token["key"]
        return ok({"keys": keys})

    async def create(request: Request) -> Response:
        user = api.user_auth(request)
        if isinstance(user, Response):
            return user
        body = await body_of(request)
        if body is None:
            return fail("Invalid parameters")
        fields = _token_fields(body)
        if len(fields.get("name", "")) > 50:
            return fail("Token name is too long")
        count = int(store.scalar("SELECT COUNT(*) FROM tokens WHERE user_id = ?", (user["id"],)))
        if count >= MAX_TOKENS_PER_USER:
            return fail(f"A user may have at most {MAX_TOKENS_PER_USER} tokens")
        now = int(time.time())
        # Go zero values for what the body leaves out: that is why a name-only token is dead
        # (remain_quota 0, not unlimited, expired_time 0 = already expired).
        row = {
            "name": "",
            "remain_quota": 0,
            "unlimited_quota": 0,
            "expired_time": 0,
            "model_limits_enabled": 0,
            "model_limits": "",
            "allow_ips": "",
            "grp": "",
            "cross_group_retry": 0,
            **fields,
        }
        store.insert(
            "tokens",
            {
                **row,
                "user_id": user["id"],
                "key": new_key(),
                "created_time": now,
                "accessed_time": now,
                "status": 1,
            },
        )
        return ok(omit_data=True)

    async def update(request: Request) -> Response:
        user = api.user_auth(request)
        if isinstance(user, Response):
            return user
        body = await body_of(request)
        if body is None or not isinstance(body.get("id"), int):
            return fail("Invalid parameters")
        token = own(user, body["id"])
        if token is None:
            return fail("record not found")
        status_only = request.query_params.get("status_only", "") in ("true", "1")
        changes = {} if status_only else _token_fields(body)
        if isinstance(body.get("status"), int):
            changes["status"] = body["status"]
        merged = {**token, **changes}
        if changes.get("status") == 1:
            now = int(time.time())
            if merged["expired_time"] != -1 and merged["expired_time"] <= now:
                return fail("The token has expired and cannot be enabled; change its expiry first")
            if not merged["unlimited_quota"] and merged["remain_quota"] <= 0:
                return fail("The token's quota is used up and cannot be enabled; add quota first")
        if len(str(merged.get("name", ""))) > 50:
            return fail("Token name is too long")
        store.update("tokens", token["id"], changes)
        updated = own(user, token["id"])
        assert updated is not None
        return ok(token_json(updated, masked=not legacy))

    async def delete(request: Request) -> Response:
        user = api.user_auth(request)
        if isinstance(user, Response):
            return user
        deleted = store.execute(
            "DELETE FROM tokens WHERE id = ? AND user_id = ?",
            (request.path_params["id"], user["id"]),
        )
        if not deleted:
            return fail("record not found")
        return ok(omit_data=True)

    async def batch_delete(request: Request) -> Response:
        user = api.user_auth(request)
        if isinstance(user, Response):
            return user
        body = await body_of(request)
        ids = body.get("ids") if body else None
        if not isinstance(ids, list) or not ids or not all(isinstance(i, int) for i in ids):
            return fail("Invalid parameters")
        marks = ",".join("?" for _ in ids)
        count = store.execute(
            f"DELETE FROM tokens WHERE user_id = ? AND id IN ({marks})", [user["id"], *ids]
        )
        return ok(count)

    return [
        Route("/api/token/", list_tokens, methods=["GET"]),
        Route("/api/token/", create, methods=["POST"]),
        Route("/api/token/", update, methods=["PUT"]),
        Route("/api/token/search", search, methods=["GET"]),
        Route("/api/token/batch", batch_delete, methods=["POST"]),
        Route("/api/token/batch/keys", batch_keys, methods=["POST"]),
        Route("/api/token/{id:int}", get_token, methods=["GET"]),
        Route("/api/token/{id:int}", delete, methods=["DELETE"]),
        Route("/api/token/{id:int}/key", reveal, methods=["POST"]),
    ]
