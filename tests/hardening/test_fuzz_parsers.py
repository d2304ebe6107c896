"""Fuzzing the parsers of what gateways and disks hand us: /api/pricing and /api/status
(core/pricing.py), the settings file (settings.py), and the new-api console's envelope and paging
(gateway/console.py, reached through an httpx MockTransport since it parses inside its calls).

Contract under test: only the typed errors come out — `PricingParseError`, `SettingsError` (and
for the file loader nothing at all: it falls back to defaults), `GatewayError` for the console.
"""

from __future__ import annotations

import asyncio
import json
import random
import tempfile
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given

from bluesdesk.core.models import GatewayProfile
from bluesdesk.core.pricing import (
    Price,
    PricingParseError,
    QuotaSettings,
    format_price,
    parse_pricing,
    parse_status,
    prices_by_group,
)
from bluesdesk.core.retry import RetryPolicy
from bluesdesk.errors import GatewayError, SettingsError
from bluesdesk.gateway import GatewayClient
from bluesdesk.gateway.console import Console, ConsoleAuth
from bluesdesk.settings import Settings, SettingsStore, settings_from_json
from tests.hardening.fuzzing import (
    byte_mutations,
    dumps,
    fuzz,
    fuzz_half,
    json_values,
    mutate,
    mutate_bytes,
    mutated_json,
    random_bytes,
    random_json,
    seeds,
)

# ---- pricing ------------------------------------------------------------------------------------

PRICING: dict[str, Any] = {
    "success": True,
    "data": [
        {
            "model_name": "gpt-4o-mini",
            "quota_type": 0,
            "model_ratio": 0.075,
            "model_price": 0,
            "completion_ratio": 4,
            "cache_ratio": 0.5,
            "enable_groups": ["default", "vip"],
            "supported_endpoint_types": ["openai"],
            "vendor_id": 1,
            "tags": "chat,cheap",
            "owner_by": "openai",
        },
        {"model_name": "dall-e-3", "quota_type": 1, "model_price": "0.04", "enable_groups": []},
    ],
    "group_ratio": {"default": 1, "vip": 0.8},
    "usable_group": {"default": "Default", "vip": "VIP"},
    "vendors": [{"id": 1, "name": "OpenAI", "icon": "OpenAI"}],
    "supported_endpoint": {"openai": {"method": "POST", "path": "/v1/chat/completions"}},
    "auto_groups": ["default"],
    "pricing_version": "v2",
}
PRICING_KEYS = ["data", "group_ratio", "model_ratio", "quota_type", "vendors", "success", "tags"]
STATUS: dict[str, Any] = {
    "success": True,
    "data": {
        "quota_per_unit": 500000,
        "quota_display_type": "CNY",
        "usd_exchange_rate": 7.3,
        "custom_currency_symbol": "¤",
        "custom_currency_exchange_rate": 2,
        "display_in_currency": True,
        "system_name": "New API",
        "version": "v0.9",
    },
}
STATUS_KEYS = ["quota_per_unit", "quota_display_type", "usd_exchange_rate", "data", "success"]
DEFAULT_MONEY = QuotaSettings(quota_per_unit=500_000)


def _use_pricing(payload: Any) -> None:
    try:
        table = parse_pricing(payload)
    except PricingParseError:
        return
    # What the Models pane does next with a table it accepted must not fail either.
    for model in list(table.entries)[:5]:
        for price in prices_by_group(table, DEFAULT_MONEY, model):
            if _absurd(price):
                continue  # a known, reported formatting bug: test_absurd_prices_format
            assert isinstance(format_price(price, DEFAULT_MONEY).summary, str)


def _absurd(price: Price) -> bool:
    figures = (price.input_per_m, price.output_per_m, price.cached_per_m, price.per_request)
    return any(f is not None and abs(f) >= ABSURD_USD for f in figures)


# Above this many dollars (per 1M tokens or per request) `format_price` overflows Decimal's
# default 28-digit precision: a ratio of 1e300 parses but cannot be shown.
ABSURD_USD = 1e15


def test_absurd_prices_format() -> None:
    table = parse_pricing(
        {
            "data": [{"model_name": "m", "model_ratio": 1, "enable_groups": ["vip"]}],
            "group_ratio": {"vip": 1e300},
        }
    )
    for price in prices_by_group(table, DEFAULT_MONEY, "m"):
        assert format_price(price, DEFAULT_MONEY).summary


def _use_status(payload: Any) -> None:
    try:
        money = parse_status(payload)
    except PricingParseError:
        return
    assert money.quota_per_unit > 0
    assert isinstance(money.symbol, str)


@fuzz_half
@given(json_values)
def test_pricing_parser_on_arbitrary_json(payload: Any) -> None:
    _use_pricing(payload)
    _use_status(payload)


@fuzz_half
@given(mutated_json(PRICING, PRICING_KEYS, finite=True))
def test_pricing_parser_on_mutated_answers(payload: Any) -> None:
    _use_pricing(payload)


@fuzz_half
@given(mutated_json(STATUS, STATUS_KEYS))
def test_status_parser_on_mutated_answers(payload: Any) -> None:
    _use_status(payload)




@pytest.mark.parametrize(
    "number",
    [
        "1e400",
        "NaN",
        "-Infinity",
        pytest.param("1" + "0" * 400),
        pytest.param("-1" + "0" * 400),
    ],
)
def test_pricing_parser_on_extreme_numbers(number: str) -> None:
    body = json.loads(
        f'{{"data": [{{"model_name": "m", "model_ratio": {number}, "completion_ratio": {number}}}],'
        f' "group_ratio": {{"default": {number}}}}}'
    )
    _use_pricing(body)
    _use_status(json.loads(f'{{"quota_per_unit": {number}, "usd_exchange_rate": {number}}}'))


# ---- settings -------------------------------------------------------------------------------

SETTINGS_V2: dict[str, Any] = {
    "schema_version": 2,
    "ui": {"geometry": "AAAA", "last_pane": "models", "theme": "dark"},
    "profiles": [
        {
            "id": "p1",
            "name": "Main",
            "base_url": "https://api.example.com/v1",
            "kind": "newapi",
            "management_url": "",
            "api_style": "openai",
            "rpm_limit": 20,
            "timeout_s": 60.0,
            "demo": False,
        }
    ],
    "active_profile_id": "p1",
    "first_run_done": True,
}
SETTINGS_V1: dict[str, Any] = {
    "schema_version": 1,
    "profiles": {"p1": {"name": "Main", "base_url": "https://api.example.com/v1"}},
}
SETTINGS_KEYS = ["schema_version", "profiles", "ui", "active_profile_id", "id", "kind"]


def _parse_settings(doc: Any) -> None:
    try:
        settings = settings_from_json(doc)
    except SettingsError as exc:
        assert exc.user_message
        return
    assert isinstance(settings, Settings)


@fuzz_half
@given(
    json_values
    | mutated_json(SETTINGS_V2, SETTINGS_KEYS)
    | mutated_json(SETTINGS_V1, SETTINGS_KEYS)
)
def test_settings_parser_only_raises_settings_error(doc: Any) -> None:
    _parse_settings(doc)


settings_bytes = (
    random_bytes()
    | byte_mutations(dumps(SETTINGS_V2).encode())
    | byte_mutations(dumps(SETTINGS_V1).encode())
    | mutated_json(SETTINGS_V2, SETTINGS_KEYS).map(lambda d: dumps(d).encode())
)


def _load_file(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "settings.json"
        path.write_bytes(raw)
        store = SettingsStore(path)
        settings = store.load()  # never raises: a bad file is moved aside, defaults load
        assert isinstance(settings, Settings)
        if store.last_error is not None:
            assert settings == Settings()
            assert store.bad_path.read_bytes() == raw  # the user's file is kept, byte for byte
        else:
            assert store.load() == settings  # a file accepted once is accepted again


@fuzz_half
@given(settings_bytes)
def test_settings_file_loader_never_raises(raw: bytes) -> None:
    _load_file(raw)


@pytest.mark.parametrize(
    "raw", [b"[" * 100_000, b'{"profiles": ' + b"[" * 5_000, b"\xff\xfe{}", b"1" * 10_000]
)
def test_settings_file_loader_on_pathological_files(raw: bytes) -> None:
    _load_file(raw)


# ---- the new-api console, through its HTTP client -------------------------------------------

LOGIN = {
    "success": True,
    "message": "",
    "data": {"id": 1, "username": "u", "role": 1, "token": "t0k"},
}
USER = {
    "success": True,
    "data": {"id": 1, "username": "u", "quota": 5, "used_quota": 1, "group": "default"},
}
TOKENS_PAGE = {
    "success": True,
    "data": {
        "page": 1,
        "page_size": 10,
        "total": 2,
        "items": [
            {
                "id": 1,
                "name": "a",
                "status": 1,
                "key": "abcd**********wxyz",
                "remain_quota": 5,
                "model_limits": "gpt-4o,gpt-4o-mini",
                "allow_ips": "1.2.3.4\n5.6.7.8",
                "expired_time": -1,
            },
            {"id": 2, "name": "b", "status": 2, "key": "k2", "unlimited_quota": True},
        ],
    },
}
TOKENS_LEGACY = {"success": True, "data": [{"id": 1, "name": "a", "status": 1}]}
LOGS_PAGE = {
    "success": True,
    "data": {
        "page": 1,
        "total": 1,
        "items": [
            {
                "created_at": 1,
                "type": 2,
                "model_name": "m",
                "quota": 3,
                "other": '{"a": 1}',
                "is_stream": True,
            },
        ],
    },
}
STAT = {"success": True, "data": {"quota": 1, "rpm": 2, "tpm": 3}}
REJECTED = {"success": False, "message": "no"}
CONSOLE_BODIES = [
    LOGIN,
    USER,
    TOKENS_PAGE,
    TOKENS_LEGACY,
    LOGS_PAGE,
    STAT,
    REJECTED,
    {"success": True, "data": "access-token-x"},
    {"success": True, "data": ["m1"]},
    {"success": True, "data": {"key": "sk-abc"}},
    STATUS,
    PRICING,
]
CONSOLE_KEYS = ["success", "data", "items", "total", "page", "id", "message", "key", "other"]

Call = Callable[[Console], Coroutine[Any, Any, Any]]
CALLS: dict[str, Call] = {
    "status": lambda c: c.status(),
    "pricing": lambda c: c.pricing(),
    "user_models": lambda c: c.user_models(),
    "self_groups": lambda c: c.self_groups(),
    "login": lambda c: c.login("user", "pw"),
    "login_2fa": lambda c: c.login_2fa("123456"),
    "access_token": lambda c: c.access_token(),
    "user_self": lambda c: c.user_self(),
    "tokens": lambda c: c.tokens(1, 10),
    "token": lambda c: c.token(1),
    "find_token": lambda c: c.find_token("a"),
    "set_token_status": lambda c: c.set_token_status(1, True),
    "reveal_key": lambda c: c.reveal_key(1),
    "logs": lambda c: c.logs(1, 10),
    "log_stat": lambda c: c.log_stat(),
}


class _Answer:
    def __init__(self) -> None:
        self.body = b""
        self.status = 200
        self.content_type = "application/json"

    def handler(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            self.status, content=self.body, headers={"content-type": self.content_type}
        )


@pytest.fixture(scope="module")
def console_wire() -> Iterator[tuple[_Answer, asyncio.Runner, GatewayClient]]:
    answer = _Answer()
    runner = asyncio.Runner()
    profile = GatewayProfile(id="fuzz", name="Fuzz", base_url="http://127.0.0.1:9/v1")
    client = GatewayClient(
        profile,
        None,
        policy=RetryPolicy(max_retries=0, base_delay=0.0, max_delay=0.0, jitter=0.0),
        transport=httpx.MockTransport(answer.handler),
    )
    try:
        yield answer, runner, client
    finally:
        runner.run(client.aclose())
        runner.close()


def _console_call(
    wire: tuple[_Answer, asyncio.Runner, GatewayClient], name: str, legacy: bool
) -> None:
    _, runner, client = wire
    console = Console(client, ConsoleAuth("fuzz-access-token", user_id=1))
    console.legacy = legacy
    try:
        runner.run(CALLS[name](console))
    except GatewayError as exc:
        assert exc.user_message


CALL_NAMES = sorted(CALLS)


def console_case(r: random.Random) -> tuple[str, bool, bytes, int, str]:
    name = r.choice(CALL_NAMES)
    kind = r.randint(0, 3)
    if kind == 0:
        body = r.randbytes(r.randint(0, 200))
    elif kind == 1:
        body = dumps(random_json(r, CONSOLE_KEYS, finite=True)).encode()
    elif kind == 2:
        body = mutate_bytes(dumps(r.choice(CONSOLE_BODIES)).encode(), r)
    else:
        body = dumps(mutate(r.choice(CONSOLE_BODIES), r, CONSOLE_KEYS, finite=True)).encode()
    status = r.choice([200, 200, 200, 200, 201, 204, 302, 400, 401, 403, 429, 500])
    ctype = r.choice(["application/json", "text/html", "text/plain", ""])
    return name, r.random() < 0.5, body, status, ctype


@fuzz
@given(seeds.map(console_case))
def test_console_only_raises_gateway_errors(
    console_wire: tuple[_Answer, asyncio.Runner, GatewayClient],
    case: tuple[str, bool, bytes, int, str],
) -> None:
    name, legacy, body, status, ctype = case
    answer = console_wire[0]
    answer.body, answer.status, answer.content_type = body, status, ctype
    _console_call(console_wire, name, legacy)


# Calls that read an integer field out of the non-finite bodies below.
_READS_INTS = {"find_token", "logs", "set_token_status", "token", "tokens"}


def _console_params() -> list[Any]:
    bodies = {
        "deep": b"[" * 100_000,
        "nonfinite-object": b'{"success": true, "data": {"id": 1e400,'
        b' "items": [{"id": NaN, "quota": Infinity}]}}',
        "nonfinite-page": b'{"success": true, "data": {"items": [{"id": 1e400,'
        b' "created_at": -Infinity}], "total": 1e400}}',
    }
    params = []
    for label, body in bodies.items():
        for name in sorted(CALLS):
            params.append(pytest.param(name, body, id=f"{label}-{name}"))
    return params


@pytest.mark.parametrize(("name", "body"), _console_params())
def test_console_on_pathological_answers(
    console_wire: tuple[_Answer, asyncio.Runner, GatewayClient], name: str, body: bytes
) -> None:
    answer = console_wire[0]
    answer.body, answer.status, answer.content_type = body, 200, "application/json"
    _console_call(console_wire, name, False)
