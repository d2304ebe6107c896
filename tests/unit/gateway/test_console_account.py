"""Console account calls over httpx.MockTransport: the legacy paging dialect is detected and the
right page asked for, token/log shapes parse, and create bodies always carry every field."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest

from bluesdesk.core.models import GatewayProfile
from bluesdesk.core.redact import forget_secret
from bluesdesk.core.retry import RetryPolicy
from bluesdesk.gateway.console import ApiToken, Console, ConsoleAuth, LogEntry, TokenSpec
from bluesdesk.gateway.http import GatewayClient

T = TypeVar("T")
TOKEN = "access-tok-123456789"


@pytest.fixture(autouse=True)
def _forget() -> Any:
    yield
    for secret in (TOKEN, "K" * 48, "sk-" + "K" * 48):
        forget_secret(secret)


def run(
    handler: Callable[[httpx.Request], httpx.Response], body: Callable[[Console], Awaitable[T]]
) -> T:
    async def main() -> T:
        client = GatewayClient(
            GatewayProfile(id="p", name="gw", base_url="https://gw.example/v1"),
            None,
            policy=RetryPolicy(max_retries=0),
            transport=httpx.MockTransport(handler),
        )
        try:
            return await body(Console(client, ConsoleAuth(TOKEN, 7)))
        finally:
            await client.aclose()

    return asyncio.run(main())


def token_item(i: int) -> dict[str, Any]:
    return {
        "id": i,
        "name": f"t{i}",
        "status": 1,
        "key": "abcd**********wxyz",
        "expired_time": -1,
        "unlimited_quota": True,
        "model_limits": "a,b",
        "allow_ips": "1.2.3.4\n10.0.0.0/8",
    }


def test_legacy_bare_arrays_are_re_asked_zero_based() -> None:
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        seen.append(params)
        assert request.headers["New-Api-User"] == "7"
        assert request.headers["Authorization"] == TOKEN
        start = int(params["p"]) * 2 if "size" in params else (int(params["p"]) - 1) * 2
        return httpx.Response(200, json={"success": True, "data": [token_item(start + 1)]})

    async def body(console: Console) -> Any:
        first = await console.tokens(1, 2)
        second = await console.tokens(2, 2)
        return first, second, console.legacy

    first, second, legacy = run(handler, body)
    assert legacy is True
    assert seen[0] == {"p": "1", "page_size": "2"}  # modern first, then the legacy dialect
    assert seen[1] == {"p": "0", "size": "2"}
    assert seen[2] == {"p": "1", "size": "2"}  # no second probe
    assert first.items[0].id == 1 and first.total is None
    assert second.items[0].id == 3


def test_modern_pages_and_token_fields() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        data = {"page": 1, "page_size": 10, "total": 11, "items": [token_item(5)]}
        return httpx.Response(200, json={"success": True, "data": data})

    page = run(handler, lambda c: c.tokens())
    assert page.total == 11 and page.has_next
    token = page.items[0]
    assert token.masked and token.model_limits == ("a", "b")
    assert token.allow_ips == ("1.2.3.4", "10.0.0.0/8")
    assert token.spec().body()["allow_ips"] == "1.2.3.4\n10.0.0.0/8"


def test_create_sends_every_field() -> None:
    sent: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json={"success": True, "message": ""})

    run(handler, lambda c: c.create_token(TokenSpec(name="x", model_limits=("m",))))
    assert sent[0] == {
        "name": "x",
        "remain_quota": 0,
        "unlimited_quota": True,
        "expired_time": -1,
        "model_limits_enabled": True,
        "model_limits": "m",
        "allow_ips": "",
        "group": "",
        "cross_group_retry": False,
    }


def test_log_other_is_parsed_and_reveal_adds_sk() -> None:
    entry = LogEntry.from_json(
        {"created_at": 5, "type": 2, "other": '{"frt": 120, "model_ratio": 1.5}'}
    )
    assert entry.other["frt"] == 120
    assert LogEntry.from_json({"type": 2, "other": "not json"}).other == {}
    assert ApiToken.from_json({"id": 1, "status": 2}).enabled is False

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "POST" and request.url.path == "/api/token/9/key"
        return httpx.Response(200, json={"success": True, "data": {"key": "K" * 48}})

    assert run(handler, lambda c: c.reveal_key(9)) == "sk-" + "K" * 48
