"""Console reads over httpx.MockTransport: where they go, which credentials they carry (never
the API key), and the typed errors for success:false, web pages and wrong shapes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest

from bluesdesk.core.models import GatewayKind, GatewayProfile
from bluesdesk.core.redact import forget_secret, redact_known
from bluesdesk.core.retry import RetryPolicy
from bluesdesk.errors import BadResponse, ConsoleRejected
from bluesdesk.gateway.console import Console, ConsoleAuth, management_root
from bluesdesk.gateway.http import GatewayClient

T = TypeVar("T")
KEY = "sk-" + "C" * 48
SESSION = "session-token-abcdefgh"


@pytest.fixture(autouse=True)
def _forget() -> Any:
    yield
    forget_secret(KEY)
    forget_secret(SESSION)


def run(
    handler: Callable[[httpx.Request], httpx.Response],
    body: Callable[[GatewayClient], Awaitable[T]],
    profile: GatewayProfile | None = None,
) -> T:
    async def main() -> T:
        client = GatewayClient(
            profile or GatewayProfile(id="p", name="gw", base_url="https://gw.example/v1"),
            KEY,
            policy=RetryPolicy(max_retries=0),
            transport=httpx.MockTransport(handler),
        )
        try:
            return await body(client)
        finally:
            await client.aclose()

    return asyncio.run(main())


def test_management_root() -> None:
    plain = GatewayProfile(id="a", name="a", base_url="https://gw.example/v1")
    assert management_root(plain) == "https://gw.example"
    nexus = GatewayProfile(id="b", name="b", base_url="https://n.example/api/v1")
    assert management_root(nexus) == "https://n.example"
    console = GatewayProfile(
        id="c", name="c", base_url="https://api.x/v1", management_url="https://console.x/"
    )
    assert management_root(console) == "https://console.x"


def test_anonymous_reads_never_carry_the_api_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/status":
            return httpx.Response(200, json={"success": True, "data": {"quota_per_unit": 5}})
        return httpx.Response(200, json={"success": True, "data": [], "group_ratio": {}})

    profile = GatewayProfile(
        id="p",
        name="gw",
        base_url="https://api.gw.example/v1",
        kind=GatewayKind.NEWAPI,
        management_url="https://console.gw.example",
    )

    async def body(client: GatewayClient) -> tuple[Any, Any]:
        console = Console(client)
        return await console.status(), await console.pricing()

    status, pricing = run(handler, body, profile)
    assert status == {"quota_per_unit": 5}
    assert pricing["group_ratio"] == {}
    assert [str(r.url) for r in seen] == [
        "https://console.gw.example/api/status",
        "https://console.gw.example/api/pricing",
    ]
    for request in seen:
        assert "authorization" not in request.headers
        assert KEY not in str(request.headers)


def test_logged_in_reads_send_the_session_and_user_id() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/user/models":
            return httpx.Response(200, json={"success": True, "data": ["a", 3, "b"]})
        return httpx.Response(
            200, json={"success": True, "data": {"vip": {"ratio": 0.8, "desc": "VIP"}}}
        )

    async def body(client: GatewayClient) -> tuple[Any, Any]:
        console = Console(client, ConsoleAuth(SESSION, user_id=7, bearer=True))
        return await console.user_models(), await console.self_groups()

    models, groups = run(handler, body)
    assert models == ["a", "b"]
    assert groups == {"vip": {"ratio": 0.8, "desc": "VIP"}}
    assert {r.headers["authorization"] for r in seen} == {f"Bearer {SESSION}"}
    assert {r.headers["new-api-user"] for r in seen} == {"7"}
    bare = ConsoleAuth(SESSION).headers()
    assert bare == {"Authorization": SESSION}
    assert SESSION not in repr(ConsoleAuth(SESSION))
    assert SESSION not in redact_known(f"token {SESSION}")


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(200, json={"success": False, "message": "pricing is disabled"}),
         ConsoleRejected),
        (httpx.Response(200, html="<!doctype html><html>app</html>"), BadResponse),
        (httpx.Response(200, json={"success": True, "data": {"not": "a list"}}), BadResponse),
        (httpx.Response(200, json=[1, 2]), BadResponse),
    ],
)  # fmt: skip
def test_errors_are_typed(response: httpx.Response, error: type[Exception]) -> None:
    async def body(client: GatewayClient) -> Any:
        return await Console(client).pricing()

    with pytest.raises(error):
        run(lambda request: response, body)
