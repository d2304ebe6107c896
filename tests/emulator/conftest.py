"""Emulator fixtures: one real server per flavor for the session, plus tiny relay handlers.

The handlers below are registered as `extra_routes` so the platform (auth, billing, faults,
replay) is tested on its own, with known usage numbers, whatever the real handlers do.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.responses import JSONResponse, Response

from bluesdesk.emulator import EmulatorConfig, EmulatorServer, Flavor
from bluesdesk.emulator.accounts import DEMO, ROOT, SECURE
from bluesdesk.emulator.relay import RelayCall, RelayRoute

PROMPT, COMPLETION = 10, 20


async def echo(call: RelayCall) -> Response:
    body = await call.json()
    model = call.model(str(body.get("model", "")))
    if body.get("stream"):
        count = int(body.get("events", 5))

        async def events() -> AsyncIterator[str]:
            for i in range(count):
                await call.pace(1)
                yield f"data: {json.dumps({'i': i})}\n\n"
            call.usage(model.name, PROMPT, COMPLETION, requests=int(body.get("n", 1)))
            yield "data: [DONE]\n\n"

        return call.sse(events())
    call.usage(model.name, PROMPT, COMPLETION, requests=int(body.get("n", 1)))
    url = call.serve(b"blob-bytes", "application/octet-stream", ".bin")
    return JSONResponse({"model": model.name, "request_id": call.request_id, "url": url,
                         "group": call.key.group})


async def free_models(call: RelayCall) -> Response:
    return JSONResponse({"ok": True, "user": call.key.username})


TEST_ROUTES = [
    RelayRoute("/v1/test/echo", echo),
    RelayRoute("/v1/messages/test-echo", echo, style="claude"),
    RelayRoute("/v1beta/test-echo", echo, style="gemini"),
    RelayRoute("/v1/test/free", free_models, methods=("GET",), billable=False),
]

_servers: dict[str, EmulatorServer] = {}


def _server(name: str, config: EmulatorConfig) -> EmulatorServer:
    if name not in _servers:
        server = EmulatorServer(config, extra_routes=TEST_ROUTES)
        server.start()
        _servers[name] = server
    return _servers[name]


@pytest.fixture(scope="session", autouse=True)
def _stop_servers() -> Iterator[None]:
    yield
    for server in _servers.values():
        server.stop()
    _servers.clear()


@pytest.fixture(autouse=True)
def _reset_servers() -> Iterator[None]:
    yield
    for server in _servers.values():
        server.reset_faults()


@pytest.fixture
def make_server() -> Callable[..., EmulatorServer]:
    """A session-shared server for a flavor and options (same options → same server)."""

    def make(flavor: Flavor = Flavor.BLUESMINDS, **options: Any) -> EmulatorServer:
        name = f"{flavor.value}:{sorted(options.items())}"
        return _server(name, EmulatorConfig(flavor=flavor, port=0, **options))

    return make


@pytest.fixture
def bm(make_server: Callable[..., EmulatorServer]) -> EmulatorServer:
    return make_server(Flavor.BLUESMINDS)


@pytest.fixture
def newapi(make_server: Callable[..., EmulatorServer]) -> EmulatorServer:
    return make_server(Flavor.NEWAPI)


@pytest.fixture(params=list(Flavor), ids=[f.value for f in Flavor])
def any_flavor(request: pytest.FixtureRequest,
               make_server: Callable[..., EmulatorServer]) -> EmulatorServer:
    return make_server(request.param)


@pytest.fixture
def legacy(make_server: Callable[..., EmulatorServer]) -> EmulatorServer:
    return make_server(Flavor.NEWAPI, legacy=True)


def key_headers(key: str = DEMO.api_key) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def login(server: EmulatorServer, username: str = "demo") -> httpx.Client:
    """A client logged in by password (cookie) that sends New-Api-User like a careful client."""
    account = {"demo": DEMO, "root": ROOT, "secure": SECURE}[username]
    client = httpx.Client(base_url=server.base_url, timeout=10)
    r = client.post("/api/user/login",
                    json={"username": account.username, "password": account.password})
    assert r.json()["success"], r.text
    if account.twofa_code:
        r = client.post("/api/user/login/2fa", json={"code": account.twofa_code})
        assert r.json()["success"], r.text
    client.headers["New-Api-User"] = str(account.id)
    return client


def user_row(server: EmulatorServer, user_id: int) -> dict[str, Any]:
    assert server.state is not None
    row = server.state.user(user_id)
    assert row is not None
    return row
