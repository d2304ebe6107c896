"""Logs, usage data and OpenAI-style billing (reference §6, §6b)."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bluesdesk.emulator.routes_api_base import ROLE_ADMIN, Api, Page, fail, int_param, ok, too_many
from bluesdesk.emulator.store import Row

TOTAL_CAP = 10_000  # upstream stops counting log totals here
MAX_DATA_SPAN = 2_592_000  # 30 days


def log_json(row: Row, *, position: int | None, admin: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": position if position is not None else row["id"],
        "user_id": row["user_id"],
        "created_at": row["created_at"],
        "type": row["type"],
        "content": row["content"],
        "username": row["username"],
        "token_name": row["token_name"],
        "model_name": row["model_name"],
        "quota": row["quota"],
        "prompt_tokens": row["prompt_tokens"],
        "completion_tokens": row["completion_tokens"],
        "use_time": row["use_time"],
        "is_stream": bool(row["is_stream"]),
        "channel": row["channel"],
        "channel_name": row["channel_name"] if admin else "",
        "token_id": row["token_id"],
        "group": row["grp"],
        "ip": row["ip"],
        "other": row["other"],
    }
    if row["request_id"]:
        out["request_id"] = row["request_id"]
    return out


def _filters(request: Request, *, admin: bool) -> tuple[list[str], list[Any]]:
    q = request.query_params
    where: list[str] = []
    params: list[Any] = []
    log_type = int_param(request, "type", 0)
    if log_type:
        where.append("type = ?")
        params.append(log_type)
    for name, column in (
        ("model_name", "model_name"),
        ("token_name", "token_name"),
        ("group", "grp"),
        ("request_id", "request_id"),
    ):
        value = q.get(name, "")
        if value:
            where.append(
                f"{column} LIKE ?" if name == "model_name" and "%" in value else f"{column} = ?"
            )
            params.append(value)
    start, end = int_param(request, "start_timestamp"), int_param(request, "end_timestamp")
    if start:
        where.append("created_at >= ?")
        params.append(start)
    if end:
        where.append("created_at <= ?")
        params.append(end)
    if admin:
        if q.get("username"):
            where.append("username = ?")
            params.append(q["username"])
        if q.get("channel"):
            where.append("channel = ?")
            params.append(int_param(request, "channel"))
    return where, params


def routes(api: Api) -> list[BaseRoute]:
    store = api.store
    qpu = api.config.quota_per_unit

    def page_of_logs(request: Request, where: list[str], params: list[Any], *, admin: bool) -> Any:
        page: Page = api.page(request, legacy=api.config.legacy)
        clause = " AND ".join(where) or "1 = 1"
        total = int(
            store.scalar(
                f"SELECT COUNT(*) FROM (SELECT 1 FROM logs WHERE {clause} LIMIT {TOTAL_CAP})",
                params,
            )
        )
        rows = store.all(
            f"SELECT * FROM logs WHERE {clause} ORDER BY id DESC LIMIT ? OFFSET ?",
            [*params, page.size, page.offset],
        )
        items = [
            log_json(r, position=None if admin else page.offset + i + 1, admin=admin)
            for i, r in enumerate(rows)
        ]
        return api.paged(page, items, total)

    def stat_of(where: list[str], params: list[Any]) -> dict[str, int]:
        clause = " AND ".join([*where, "type = 2"])
        quota = int(
            store.scalar(f"SELECT COALESCE(SUM(quota), 0) FROM logs WHERE {clause}", params)
        )
        # rpm/tpm ignore the window: the last 60 s only, as upstream.
        recent_where = [w for w in where if not w.startswith("created_at")]
        recent_params = [
            p for w, p in zip(where, params, strict=True) if not w.startswith("created_at")
        ]
        recent = " AND ".join([*recent_where, "type = 2", "created_at >= ?"])
        row = store.one(
            f"SELECT COUNT(*) AS rpm, COALESCE(SUM(prompt_tokens + completion_tokens), 0) AS tpm"
            f" FROM logs WHERE {recent}",
            [*recent_params, int(time.time()) - 60],
        )
        assert row is not None
        return {"quota": quota, "rpm": int(row["rpm"]), "tpm": int(row["tpm"])}

    async def self_logs(request: Request) -> Response:
        user = api.user_auth(request)
        if isinstance(user, Response):
            return user
        where, params = _filters(request, admin=False)
        return ok(
            page_of_logs(request, ["user_id = ?", *where], [user["id"], *params], admin=False)
        )

    async def self_stat(request: Request) -> Response:
        user = api.user_auth(request)
        if isinstance(user, Response):
            return user
        where, params = _filters(request, admin=False)
        return ok(stat_of(["user_id = ?", *where], [user["id"], *params]))

    async def self_search(request: Request) -> Response:
        user = api.user_auth(request)
        if isinstance(user, Response):
            return user
        return fail("该接口已废弃")

    async def all_logs(request: Request) -> Response:
        user = api.user_auth(request, ROLE_ADMIN)
        if isinstance(user, Response):
            return user
        where, params = _filters(request, admin=True)
        return ok(page_of_logs(request, where, params, admin=True))

    async def all_stat(request: Request) -> Response:
        user = api.user_auth(request, ROLE_ADMIN)
        if isinstance(user, Response):
            return user
        where, params = _filters(request, admin=True)
        return ok(stat_of(where, params))

    async def token_logs(request: Request) -> Response:
        if not api.critical(request):
            return too_many()
        found = api.key_auth(request)
        if isinstance(found, Response):
            return found
        token, _user = found
        rows = store.all(
            "SELECT * FROM logs WHERE token_id = ? ORDER BY id DESC LIMIT 100", (token["id"],)
        )
        return ok([log_json(r, position=None, admin=False) for r in rows])

    async def token_usage(request: Request) -> Response:
        if not api.critical(request):
            return too_many()
        found = api.key_auth(request)
        if isinstance(found, Response):
            return found
        token, _user = found
        limits = {m: True for m in token["model_limits"].split(",") if m}
        return JSONResponse(
            {
                "code": True,
                "message": "ok",
                "data": {
                    "object": "token_usage",
                    "name": token["name"],
                    "total_granted": token["remain_quota"] + token["used_quota"],
                    "total_used": token["used_quota"],
                    "total_available": token["remain_quota"],
                    "unlimited_quota": bool(token["unlimited_quota"]),
                    "model_limits": limits if token["model_limits_enabled"] else {},
                    "model_limits_enabled": bool(token["model_limits_enabled"]),
                    "expires_at": max(0, token["expired_time"]),
                },
            }
        )

    async def subscription(request: Request) -> Response:
        found = api.key_auth(request)
        if isinstance(found, Response):
            return found
        _token, user = found
        amount = (user["quota"] + user["used_quota"]) / qpu
        return JSONResponse(
            {
                "object": "billing_subscription",
                "has_payment_method": True,
                "soft_limit_usd": amount,
                "hard_limit_usd": amount,
                "system_hard_limit_usd": amount,
                "access_until": 0,
            }
        )

    async def usage(request: Request) -> Response:
        found = api.key_auth(request)
        if isinstance(found, Response):
            return found
        _token, user = found
        return JSONResponse({"object": "list", "total_usage": user["used_quota"] / qpu * 100})

    def data_window(request: Request) -> Response | tuple[Row, int, int]:
        """User, start, end for the /api/data routes, or the answer that ends the request
        (auth failure, a bad or over-30-day window, or [] when data export is off)."""
        user = api.user_auth(request)
        if isinstance(user, Response):
            return user
        start, end = int_param(request, "start_timestamp"), int_param(request, "end_timestamp")
        if not start or not end or end < start:
            return fail("Invalid parameters")
        if end - start > MAX_DATA_SPAN:
            return fail("时间跨度不能超过 1 个月")
        if not api.config.enable_data_export:
            return ok([])
        return user, start, end

    async def data_self(request: Request) -> Response:
        found = data_window(request)
        if isinstance(found, Response):
            return found
        user, start, end = found
        rows = store.all(
            "SELECT model_name, (created_at / 3600) * 3600 AS bucket, COUNT(*) AS count,"
            " SUM(quota) AS quota, SUM(prompt_tokens + completion_tokens) AS token_used"
            " FROM logs WHERE user_id = ? AND type = 2 AND created_at >= ? AND created_at <= ?"
            " GROUP BY model_name, bucket ORDER BY bucket, model_name",
            (user["id"], start, end),
        )
        return ok(
            [
                {
                    "id": 0,
                    "user_id": user["id"],
                    "username": user["username"],
                    "model_name": r["model_name"],
                    "created_at": r["bucket"],
                    "token_used": r["token_used"],
                    "count": r["count"],
                    "quota": r["quota"],
                    "use_group": "",
                    "token_id": 0,
                    "channel_id": 0,
                    "node_name": "",
                }
                for r in rows
            ]
        )

    async def data_flow_self(request: Request) -> Response:
        """`/api/data/flow/self` (newer servers): the same window rules as /api/data/self, but one
        row per hour over all models (the shape is the emulator's reading; see docs)."""
        found = data_window(request)
        if isinstance(found, Response):
            return found
        user, start, end = found
        rows = store.all(
            "SELECT (created_at / 3600) * 3600 AS bucket, COUNT(*) AS count,"
            " SUM(quota) AS quota, SUM(prompt_tokens + completion_tokens) AS token_used"
            " FROM logs WHERE user_id = ? AND type = 2 AND created_at >= ? AND created_at <= ?"
            " GROUP BY bucket ORDER BY bucket",
            (user["id"], start, end),
        )
        return ok(
            [
                {
                    "created_at": r["bucket"],
                    "count": r["count"],
                    "quota": r["quota"],
                    "token_used": r["token_used"],
                }
                for r in rows
            ]
        )

    billing_roots = sorted({"/dashboard", "/v1/dashboard", api.config.relay_prefix + "/dashboard"})
    billing = []
    for root in billing_roots:
        billing += [
            Route(f"{root}/billing/subscription", subscription, methods=["GET"]),
            Route(f"{root}/billing/usage", usage, methods=["GET"]),
        ]
    return [
        Route("/api/log/self", self_logs, methods=["GET"]),
        Route("/api/log/self/stat", self_stat, methods=["GET"]),
        Route("/api/log/self/search", self_search, methods=["GET"]),
        Route("/api/log/", all_logs, methods=["GET"]),
        Route("/api/log/stat", all_stat, methods=["GET"]),
        Route("/api/log/token", token_logs, methods=["GET"]),
        Route("/api/usage/token/", token_usage, methods=["GET"]),
        Route("/api/data/self", data_self, methods=["GET"]),
        Route("/api/data/flow/self", data_flow_self, methods=["GET"]),
        *billing,
    ]
