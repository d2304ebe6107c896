"""Public and summary routes: status, pricing, /api/models and BluesMinds' /api/dashboard/."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bluesdesk.emulator.catalog import GROUP_RATIOS, MODELS, CatalogModel
from bluesdesk.emulator.config import Flavor
from bluesdesk.emulator.routes_api_base import Api, ok
from bluesdesk.emulator.state import GROUP_DESC, SYSTEM_NAMES, VERSION

ENDPOINT_PATHS: dict[str, dict[str, str]] = {
    "openai": {"path": "/v1/chat/completions", "method": "POST"},
    "openai-response": {"path": "/v1/responses", "method": "POST"},
    "anthropic": {"path": "/v1/messages", "method": "POST"},
    "gemini": {"path": "/v1beta/models/{model}:generateContent", "method": "POST"},
    "image-generation": {"path": "/v1/images/generations", "method": "POST"},
    "embeddings": {"path": "/v1/embeddings", "method": "POST"},
    "openai-video": {"path": "/v1/tasks", "method": "POST"},
}
_VENDOR_ICONS = {
    "OpenAI": "OpenAI",
    "Anthropic": "Claude.Color",
    "Google": "Gemini.Color",
    "DeepSeek": "DeepSeek.Color",
    "xAI": "XAI",
    "Alibaba": "Qwen.Color",
    "Mistral": "Mistral.Color",
    "Meta": "Meta.Color",
}


def vendor_ids() -> dict[str, int]:
    names: list[str] = []
    for model in MODELS.values():
        if model.vendor not in names:
            names.append(model.vendor)
    return {name: i + 1 for i, name in enumerate(names)}


def pricing_item(model: CatalogModel, vendor_id: int, *, legacy: bool) -> dict[str, Any]:
    item: dict[str, Any] = {
        "model_name": model.name,
        "quota_type": model.quota_type,
        "model_ratio": model.model_ratio,
        "model_price": model.model_price,
        "owner_by": "",
        "completion_ratio": model.completion_ratio,
        "enable_groups": list(model.enable_groups),
    }
    if legacy:
        return item
    item.update(
        {
            "cache_ratio": model.cache_ratio,
            "supported_endpoint_types": list(model.endpoint_types),
            "vendor_id": vendor_id,
            "description": model.description,
            "tags": model.tags,
            "billing_mode": "",
        }
    )
    return item


def routes(api: Api) -> list[BaseRoute]:
    config = api.config
    store = api.store

    async def status(request: Request) -> Response:
        bluesminds = config.flavor is Flavor.BLUESMINDS
        return ok(
            {
                "version": VERSION,
                "start_time": api.state.start_time,
                "system_name": SYSTEM_NAMES[config.flavor],
                "logo": "",
                "footer_html": "",
                "server_address": api.state.base_url,
                "quota_per_unit": config.quota_per_unit,
                "quota_display_type": "CUSTOM" if bluesminds else "USD",
                "display_in_currency": True,
                "usd_exchange_rate": 7.3,
                "custom_currency_symbol": "¤" if bluesminds else "",
                "custom_currency_exchange_rate": 1.0,
                "price": 7.3,
                "turnstile_check": False,
                "turnstile_site_key": "",
                "password_login_enabled": True,
                "password_register_enabled": True,
                "register_enabled": True,
                "email_verification": False,
                "github_oauth": False,
                "oidc_enabled": False,
                "passkey_login": False,
                "telegram_oauth": False,
                "wechat_login": False,
                "linuxdo_oauth": False,
                "enable_data_export": config.enable_data_export,
                "data_export_default_time": "hour",
                "docs_link": "",
                "chats": [],
                "HeaderNavModules": "",
                "checkin_enabled": False,
                "setup": True,
                "self_use_mode_enabled": False,
                "demo_site_enabled": False,
                "default_collapse_sidebar": False,
                "mj_notify_enabled": False,
                "enable_drawing": True,
                "enable_task": True,
                "enable_online_topup": False,
            }
        )

    async def pricing(request: Request) -> Response:
        user = api.session_user(request)
        groups = api.state.usable_groups(user["grp"] if user else None)
        ids = vendor_ids()
        items = [
            pricing_item(m, ids[m.vendor], legacy=config.legacy)
            for m in MODELS.values()
            if any(g in m.enable_groups for g in groups) or "all" in m.enable_groups
        ]
        usable = {g: GROUP_DESC.get(g, g) for g in groups}
        if config.legacy:
            return JSONResponse(
                {
                    "success": True,
                    "data": items,
                    "group_ratio": GROUP_RATIOS,
                    "usable_group": usable,
                }
            )
        return JSONResponse(
            {
                "success": True,
                "data": items,
                "vendors": [
                    {"id": i, "name": n, "description": "", "icon": _VENDOR_ICONS.get(n, n)}
                    for n, i in ids.items()
                ],
                "group_ratio": GROUP_RATIOS,
                "usable_group": usable,
                "supported_endpoint": ENDPOINT_PATHS,
                "auto_groups": ["default"],
                "pricing_version": f"emulator-{len(MODELS)}",
            }
        )

    async def models(request: Request) -> Response:
        user = api.user_auth(request)
        if isinstance(user, Response):
            return user
        by_type: dict[str, list[str]] = {}
        for channel in store.all("SELECT type, models FROM channels"):
            names = by_type.setdefault(str(channel["type"]), [])
            names += [m for m in channel["models"].split(",") if m and m not in names]
        return ok(by_type)

    async def dashboard(request: Request) -> Response:
        user = api.user_auth(request)
        if isinstance(user, Response):
            return user
        now = int(time.time())
        today = now - now % 86400
        since = now - 30 * 86400

        def window(start: int) -> dict[str, int]:
            row = store.one(
                "SELECT COUNT(*) AS requests, COALESCE(SUM(quota), 0) AS quota,"
                " COALESCE(SUM(prompt_tokens + completion_tokens), 0) AS tokens FROM logs"
                " WHERE user_id = ? AND type = 2 AND created_at >= ?",
                (user["id"], start),
            )
            assert row is not None
            return {k: int(v) for k, v in row.items()}

        top = store.all(
            "SELECT model_name, COUNT(*) AS requests, SUM(quota) AS quota FROM logs"
            " WHERE user_id = ? AND type = 2 AND created_at >= ? GROUP BY model_name"
            " ORDER BY quota DESC, requests DESC LIMIT 5",
            (user["id"], since),
        )
        daily = store.all(
            "SELECT (created_at / 86400) * 86400 AS day, COUNT(*) AS requests,"
            " SUM(quota) AS quota FROM logs WHERE user_id = ? AND type = 2 AND created_at >= ?"
            " GROUP BY day ORDER BY day",
            (user["id"], since),
        )
        qpu = config.quota_per_unit
        return ok(
            {
                "balance": user["quota"],
                "balance_usd": round(user["quota"] / qpu, 6),
                "used_quota": user["used_quota"],
                "request_count": user["request_count"],
                "quota_per_unit": qpu,
                "group": user["grp"],
                "rpm_limit": config.effective_rpm,
                "today": window(today),
                "last_30_days": window(since),
                "top_models": top,
                "daily": daily,
            }
        )

    found: list[BaseRoute] = [
        Route("/api/status", status, methods=["GET"]),
        Route("/api/pricing", pricing, methods=["GET"]),
        Route("/api/models", models, methods=["GET"]),
    ]
    if config.flavor is Flavor.BLUESMINDS:
        found.append(Route("/api/dashboard/", dashboard, methods=["GET"]))
    return found
