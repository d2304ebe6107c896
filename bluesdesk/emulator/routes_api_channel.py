"""/api/channel/*: upstream channels, admin only (reference §7). Keys never leave the server."""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bluesdesk.emulator.routes_api_base import ROLE_ADMIN, Api, fail, ok
from bluesdesk.emulator.store import Row

_STATUS_FILTER = {"enabled": 1, "1": 1, "disabled": 0, "0": 0}
_EDITABLE = {
    "name": "name",
    "status": "status",
    "weight": "weight",
    "priority": "priority",
    "auto_ban": "auto_ban",
    "base_url": "base_url",
    "models": "models",
    "group": "grp",
    "model_mapping": "model_mapping",
    "tag": "tag",
    "remark": "remark",
    "type": "type",
}


def channel_json(c: Row) -> dict[str, Any]:
    return {
        "id": c["id"],
        "type": c["type"],
        "status": c["status"],
        "name": c["name"],
        "weight": c["weight"],
        "priority": c["priority"],
        "auto_ban": c["auto_ban"],
        "created_time": c["created_time"],
        "test_time": c["test_time"],
        "response_time": c["response_time"],
        "base_url": c["base_url"],
        "other": "",
        "balance": c["balance"],
        "balance_updated_time": c["balance_updated_time"],
        "models": c["models"],
        "group": c["grp"],
        "used_quota": c["used_quota"],
        "model_mapping": c["model_mapping"],
        "status_code_mapping": "",
        "tag": c["tag"],
        "setting": None,
        "settings": None,
        "param_override": None,
        "header_override": None,
        "remark": c["remark"],
        "channel_info": {"is_multi_key": False, "multi_key_size": 0},
    }


def routes(api: Api) -> list[BaseRoute]:
    store = api.store

    def where_of(request: Request, *, search: bool) -> tuple[list[str], list[Any]]:
        q = request.query_params
        where: list[str] = []
        params: list[Any] = []
        status = q.get("status", "")
        if status in _STATUS_FILTER:
            if _STATUS_FILTER[status] == 1:
                where.append("status = 1")
            else:
                where.append("status != 1")
        if q.get("type", "").isdigit():
            where.append("type = ?")
            params.append(int(q["type"]))
        if q.get("group"):
            where.append("(',' || grp || ',') LIKE ?")
            params.append(f"%,{q['group']},%")
        if search:
            keyword = q.get("keyword", "")
            if keyword:
                where.append("(name LIKE ? OR base_url LIKE ? OR CAST(id AS TEXT) = ?)")
                params += [f"%{keyword}%", f"%{keyword}%", keyword]
            if q.get("model"):
                where.append("(',' || models || ',') LIKE ?")
                params.append(f"%{q['model']}%")
        return where, params

    def listing(request: Request, *, search: bool) -> Response:
        user = api.user_auth(request, ROLE_ADMIN)
        if isinstance(user, Response):
            return user
        where, params = where_of(request, search=search)
        clause = " AND ".join(where) or "1 = 1"
        page = api.page(request, default_size=20 if search else 10, legacy=api.config.legacy)
        order = "id DESC" if request.query_params.get("id_sort") == "true" else "priority DESC, id"
        total = int(store.scalar(f"SELECT COUNT(*) FROM channels WHERE {clause}", params))
        rows = store.all(
            f"SELECT * FROM channels WHERE {clause} ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, page.size, page.offset],
        )
        items = [channel_json(r) for r in rows]
        if page.legacy:
            return ok(items)
        types = Counter(str(r["type"]) for r in store.all("SELECT type FROM channels"))
        return ok(
            {
                "items": items,
                "total": total,
                "page": page.page,
                "page_size": page.size,
                "type_counts": dict(types),
            }
        )

    async def list_channels(request: Request) -> Response:
        return listing(request, search=False)

    async def search_channels(request: Request) -> Response:
        return listing(request, search=True)

    async def get_channel(request: Request) -> Response:
        user = api.user_auth(request, ROLE_ADMIN)
        if isinstance(user, Response):
            return user
        row = store.one("SELECT * FROM channels WHERE id = ?", (request.path_params["id"],))
        if row is None:
            return fail("record not found")
        return ok(channel_json(row))

    async def test_channel(request: Request) -> Response:
        user = api.user_auth(request, ROLE_ADMIN)
        if isinstance(user, Response):
            return user
        row = store.one("SELECT * FROM channels WHERE id = ?", (request.path_params["id"],))
        if row is None:
            return fail("record not found")
        model = request.query_params.get("model") or row["models"].split(",")[0]
        if model not in row["models"].split(","):
            return JSONResponse(
                {
                    "success": False,
                    "message": f"model {model} not in channel",
                    "time": 0.0,
                    "error_code": "model_not_found",
                }
            )
        # Deterministic "latency" per channel and model, so UIs show stable numbers.
        digest = hashlib.sha256(f"{row['id']}:{model}".encode()).digest()
        elapsed = round(0.2 + digest[0] / 255 * 1.6, 2)
        store.update(
            "channels",
            row["id"],
            {"test_time": int(time.time()), "response_time": int(elapsed * 1000)},
        )
        if row["status"] == 3:
            return JSONResponse(
                {
                    "success": False,
                    "message": "upstream returned 401",
                    "time": elapsed,
                    "error_code": "bad_response_status_code",
                }
            )
        return JSONResponse({"success": True, "message": "", "time": elapsed})

    async def update_channel(request: Request) -> Response:
        user = api.user_auth(request, ROLE_ADMIN)
        if isinstance(user, Response):
            return user
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return fail("Invalid parameters")
        if not isinstance(body, dict) or not isinstance(body.get("id"), int):
            return fail("Invalid parameters")
        row = store.one("SELECT * FROM channels WHERE id = ?", (body["id"],))
        if row is None:
            return fail("record not found")
        changes = {col: body[field] for field, col in _EDITABLE.items() if field in body}
        if "status" in changes and changes["status"] not in (1, 2, 3):
            return fail("Invalid parameters")
        store.update("channels", row["id"], changes)
        updated = store.one("SELECT * FROM channels WHERE id = ?", (row["id"],))
        assert updated is not None
        return ok(channel_json(updated))

    async def create_channel(request: Request) -> Response:
        """`POST /api/channel/` with `{"mode":"single"|"batch","channel":{...}}`.

        As upstream, success carries no data. `batch` makes one channel per line of `key`.
        """
        user = api.user_auth(request, ROLE_ADMIN)
        if isinstance(user, Response):
            return user
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return fail("Invalid parameters")
        channel = body.get("channel") if isinstance(body, dict) else None
        mode = body.get("mode", "single") if isinstance(body, dict) else ""
        if not isinstance(channel, dict) or mode not in ("single", "batch"):
            return fail("Invalid parameters")
        key = channel.get("key")
        if not isinstance(key, str) or not key.strip():
            return fail("channel key cannot be empty")
        if not isinstance(channel.get("name"), str) or not channel["name"].strip():
            return fail("channel name cannot be empty")
        if not isinstance(channel.get("type", 1), int):
            return fail("Invalid parameters")
        keys = [k.strip() for k in key.splitlines() if k.strip()] if mode == "batch" else [key]
        values = {col: channel[f] for f, col in _EDITABLE.items() if f in channel}
        values.setdefault("type", 1)
        values.setdefault("status", 1)
        if values["status"] not in (1, 2, 3):
            return fail("Invalid parameters")
        for one_key in keys:
            store.insert("channels", {**values, "key": one_key, "created_time": int(time.time())})
        return ok(omit_data=True)

    async def delete_channel(request: Request) -> Response:
        user = api.user_auth(request, ROLE_ADMIN)
        if isinstance(user, Response):
            return user
        if not store.execute("DELETE FROM channels WHERE id = ?", (request.path_params["id"],)):
            return fail("record not found")
        return ok(omit_data=True)

    async def balance(request: Request) -> Response:
        user = api.user_auth(request, ROLE_ADMIN)
        if isinstance(user, Response):
            return user
        row = store.one("SELECT * FROM channels WHERE id = ?", (request.path_params["id"],))
        if row is None:
            return fail("record not found")
        store.update("channels", row["id"], {"balance_updated_time": int(time.time())})
        return JSONResponse({"success": True, "message": "", "balance": row["balance"]})

    return [
        Route("/api/channel/", list_channels, methods=["GET"]),
        Route("/api/channel/", update_channel, methods=["PUT"]),
        Route("/api/channel/", create_channel, methods=["POST"]),
        Route("/api/channel/search", search_channels, methods=["GET"]),
        Route("/api/channel/test/{id:int}", test_channel, methods=["GET"]),
        Route("/api/channel/update_balance/{id:int}", balance, methods=["GET"]),
        Route("/api/channel/{id:int}", get_channel, methods=["GET"]),
        Route("/api/channel/{id:int}", delete_channel, methods=["DELETE"]),
    ]
