"""The emulator's ASGI app: relay routes (wrapped by the platform), /api, and /emulator controls.

Relay handler modules are collected by name and skipped when absent, so the platform runs with
whatever handlers exist. A pure-ASGI middleware gives every request its id headers, counts it,
enforces the /api IP limit and applies faults that do not need the handler.
"""

from __future__ import annotations

import asyncio
import importlib
import json
from collections.abc import Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bluesdesk.emulator import (
    routes_api_channel,
    routes_api_log,
    routes_api_misc,
    routes_api_token,
    routes_api_user,
)
from bluesdesk.emulator.config import Flavor
from bluesdesk.emulator.faults import (
    HEADER,
    HTML_502,
    IN_BODY,
    PRE_RESPONSE,
    STATUS_KINDS,
    DroppedConnectionError,
    Fault,
    FaultError,
    parse_header,
    status_fault,
)
from bluesdesk.emulator.platform import RelayPlatform, openai_error_body
from bluesdesk.emulator.relay import RelayError, RelayRoute
from bluesdesk.emulator.routes_api_base import Api
from bluesdesk.emulator.state import VERSION, EmulatorState, new_request_id

RELAY_MODULES = (
    "routes_chat",
    "routes_claude",
    "routes_gemini",
    "routes_responses",
    "routes_models",
    "routes_images",
    "routes_audio",
    "routes_tasks",
)
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def relay_routes() -> list[RelayRoute]:
    """ROUTES of every relay module that exists; a module being written may not exist yet."""
    found: list[RelayRoute] = []
    for name in RELAY_MODULES:
        full = f"bluesdesk.emulator.{name}"
        try:
            module = importlib.import_module(full)
        except ModuleNotFoundError as exc:
            if exc.name == full:
                continue
            raise
        found.extend(getattr(module, "ROUTES", []))
    return found


def mounted_paths(route: RelayRoute, config_prefix: str, flavor: Flavor) -> list[str]:
    """Where a relay route lives on this flavor ("/v1/x" → "/api/v1/x" on BlueNexus)."""
    if route.path.startswith("/v1/"):
        paths = [config_prefix + route.path[len("/v1") :]]
    else:
        paths = [route.path]
    if flavor is Flavor.MINDPROXY and route.path.startswith("/v1/messages"):
        paths.append("/anthropic" + route.path)
    return paths


def is_relay_path(path: str, prefix: str) -> bool:
    return path.startswith((prefix + "/", "/v1/", "/v1beta/", "/anthropic/"))


class EmulatorMiddleware:
    """Request ids, counters, the /api IP limit and whole-response faults, for every route."""

    def __init__(self, app: ASGIApp, state: EmulatorState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = self.state
        path: str = scope["path"]
        rid = new_request_id()
        scope_state: MutableMapping[str, Any] = scope.setdefault("state", {})
        scope_state["request_id"] = rid
        id_headers = [(b"x-oneapi-request-id", rid.encode()), (b"x-request-id", rid.encode())]
        if state.config.flavor in (Flavor.NEWAPI, Flavor.BLUESMINDS):
            id_headers.append((b"x-new-api-version", VERSION.encode()))

        async def send_ids(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in id_headers if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        if path.startswith("/emulator/"):
            await self.app(scope, receive, send_ids)
            return
        state.count(path)
        relay = is_relay_path(path, state.config.relay_prefix)
        request = Request(scope)
        if not relay and path.startswith("/api/") and state.config.api_rate_limit:
            host = request.client.host if request.client else ""
            if not state.limits.api.hit(f"ip:{host}").allowed:
                await Response(status_code=429, headers={"Retry-After": "180"})(
                    scope, receive, send_ids
                )
                return
        fault: Fault | None
        raw = request.headers.get(HEADER)
        try:
            fault = parse_header(raw) if raw else state.faults.take(path)
        except FaultError as exc:
            await JSONResponse({"success": False, "message": str(exc)}, status_code=400)(
                scope, receive, send_ids
            )
            return
        scope_state["fault"] = fault
        downstream: Send = send_ids
        if fault is not None:
            if fault.kind == "slow_headers":
                await asyncio.sleep(fault.seconds)
            elif fault.kind in PRE_RESPONSE:
                await fault_response(fault, relay, rid)(scope, receive, send_ids)
                return
            elif fault.kind in IN_BODY:
                downstream = body_fault_sender(send_ids, fault, rid)
        await self.app(scope, receive, downstream)


def fault_response(fault: Fault, relay: bool, rid: str) -> Response:
    if fault.kind in STATUS_KINDS:
        status, body = status_fault(fault.kind, relay, rid)
        return JSONResponse(body, status_code=status)
    if fault.kind == "html502":
        return Response(HTML_502, status_code=502, media_type="text/html")
    if fault.kind == "success_false":
        return JSONResponse({"success": False, "message": "Emulated failure (fault injection)"})
    if fault.kind == "429":
        retry = {"Retry-After": str(fault.retry_after)}
        if not relay:
            return Response(status_code=429, headers=retry)
        err = RelayError(
            429,
            "Too many requests, please retry later",
            code="rate_limit_exceeded",
            type_="rate_limit_error",
        )
        return JSONResponse(openai_error_body(err, rid), status_code=429, headers=retry)
    if fault.kind == "401":
        if not relay:
            return JSONResponse(
                {
                    "success": False,
                    "message": "Unauthorized, not logged in and no access token provided",
                },
                status_code=401,
            )
        return JSONResponse(openai_error_body(RelayError(401, "Invalid token"), rid), 401)
    # "500"
    if not relay:
        return JSONResponse({"success": False, "message": "Internal server error"}, 500)
    err = RelayError(500, "Internal server error (emulated)", code="internal_error")
    return JSONResponse(openai_error_body(err, rid), status_code=500)


def body_fault_sender(send: Send, fault: Fault, rid: str) -> Send:
    """Apply an in-body fault to a plain (non-SSE) response; SSE bodies pass through because
    the relay platform injects those faults between events itself."""
    held: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            ctype = dict(message.get("headers", [])).get(b"content-type", b"")
            if b"text/event-stream" in ctype:
                held["passthrough"] = True
                await send(message)
            else:
                held["start"] = message
            return
        if held.get("passthrough") or message["type"] != "http.response.body":
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = b"".join(chunks)
        start: Message = held["start"]
        if fault.kind == "drop":
            await send(start)
            await send(
                {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
            )
            raise DroppedConnectionError("fault: drop mid-body")
        if fault.kind == "stall":
            await send(start)
            await asyncio.sleep(fault.seconds)
            await send({"type": "http.response.body", "body": body, "more_body": False})
            return
        if fault.kind == "malformed":
            body = body[: max(1, len(body) // 2)]
            status = start["status"]
        else:  # stream_error: an error object in a 200 body
            err = RelayError(500, "upstream error", code="bad_response", type_="upstream_error")
            body = json.dumps(openai_error_body(err, rid)).encode()
            status = 200
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    return wrapped


def emulator_routes(state: EmulatorState) -> list[BaseRoute]:
    def loopback(request: Request) -> bool:
        return request.client is not None and request.client.host in LOOPBACK

    async def arm(request: Request) -> Response:
        if not loopback(request):
            return JSONResponse({"success": False, "message": "loopback only"}, 403)
        try:
            body = json.loads(await request.body() or b"{}")
            state.faults.arm(
                str(body.get("kind", "")),
                int(body.get("count", 1)),
                body.get("params") or {},
                str(body.get("path_prefix", "")),
            )
        except (ValueError, TypeError, AttributeError) as exc:
            return JSONResponse({"success": False, "message": str(exc)}, 400)
        return JSONResponse({"success": True, "message": "", "data": state.faults.pending()})

    async def clear(request: Request) -> Response:
        if not loopback(request):
            return JSONResponse({"success": False, "message": "loopback only"}, 403)
        state.faults.clear()
        return JSONResponse({"success": True, "message": ""})

    async def pending(request: Request) -> Response:
        return JSONResponse({"success": True, "message": "", "data": state.faults.pending()})

    async def stats(request: Request) -> Response:
        return JSONResponse({"success": True, "message": "", "data": state.counts()})

    async def recorded(request: Request) -> Response:
        path = request.query_params.get("path", "")
        data = state.recorded_requests(path)
        return JSONResponse({"success": True, "message": "", "data": data})

    async def streams(request: Request) -> Response:
        path = request.query_params.get("path", "")
        data = {
            "open": state.open_streams,
            "ended": [asdict(o) for o in state.stream_outcomes(path)],
        }
        return JSONResponse({"success": True, "message": "", "data": data})

    async def files(request: Request) -> Response:
        blob = state.blobs.get(request.path_params["name"])
        if blob is None:
            return JSONResponse({"error": {"message": "file not found"}}, 404)
        return Response(blob[0], media_type=blob[1])

    return [
        Route("/emulator/faults", arm, methods=["POST"]),
        Route("/emulator/faults", clear, methods=["DELETE"]),
        Route("/emulator/faults", pending, methods=["GET"]),
        Route("/emulator/requests", recorded, methods=["GET"]),
        Route("/emulator/stats", stats, methods=["GET"]),
        Route("/emulator/streams", streams, methods=["GET"]),
        Route("/emulator/files/{name}", files, methods=["GET"]),
    ]


def build_app(
    state: EmulatorState,
    *,
    extra_routes: list[RelayRoute] | None = None,
    on_startup: Callable[[], Awaitable[None]] | None = None,
) -> Starlette:
    """The whole emulator. `extra_routes` lets tests add relay handlers of their own."""
    config = state.config
    platform = RelayPlatform(state)
    routes: list[BaseRoute] = list(emulator_routes(state))
    for relay_route in [*relay_routes(), *(extra_routes or [])]:
        for path in mounted_paths(relay_route, config.relay_prefix, config.flavor):
            routes.append(
                Route(path, platform.endpoint(relay_route, path), methods=list(relay_route.methods))
            )
    api = Api(state)
    for module in (
        routes_api_misc,
        routes_api_user,
        routes_api_token,
        routes_api_log,
        routes_api_channel,
    ):
        routes.extend(module.routes(api))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        if on_startup is not None:
            await on_startup()
        yield

    app = Starlette(
        routes=routes,
        middleware=[Middleware(EmulatorMiddleware, state=state)],
        lifespan=lifespan,
    )
    app.state.emulator = state
    return app
