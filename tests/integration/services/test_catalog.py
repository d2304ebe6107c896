"""CatalogService against real gateways over loopback: the emulator's BluesMinds, new-api and
legacy shapes, a gateway with nothing but /v1/models, and the SQLite cache on a real file."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from bluesdesk.core.capabilities import Capability
from bluesdesk.core.models import ChatMessage, ChatParams, GatewayKind, GatewayProfile
from bluesdesk.core.pricing import DisplayType, PriceKind, format_amount, format_price
from bluesdesk.core.redact import forget_secret
from bluesdesk.core.retry import RetryPolicy
from bluesdesk.emulator import EmulatorServer, Flavor
from bluesdesk.emulator.accounts import DEMO, ROOT
from bluesdesk.emulator.catalog import GROUP_RATIOS, MODELS
from bluesdesk.errors import AuthFailed
from bluesdesk.gateway import GatewayPool, complete_chat
from bluesdesk.gateway.console import ConsoleAuth
from bluesdesk.secrets import KeyStore
from bluesdesk.services.catalog import CatalogService
from bluesdesk.services.profiles import ProfileService
from bluesdesk.settings import SettingsStore
from bluesdesk.store import Database, ModelCache
from tests.integration.conftest import EmulatorFleet, start_emulator

T = TypeVar("T")
SessionFn = Callable[[GatewayProfile], Awaitable[ConsoleAuth | None]]


@pytest.fixture(autouse=True)
def _keyring(memory_keyring: Any) -> Iterator[None]:
    yield
    for key in (DEMO.api_key, ROOT.api_key):
        forget_secret(key)


def profile_for(url: str, kind: GatewayKind, pid: str = "p1") -> GatewayProfile:
    return GatewayProfile(id=pid, name=f"test {kind}", base_url=url, kind=kind)


def run(
    tmp_path: Path,
    profile: GatewayProfile,
    key: str,
    body: Callable[[CatalogService, ProfileService], Awaitable[T]],
    *,
    sessions: SessionFn | None = None,
) -> T:
    """Run `body` with a CatalogService over the real profile service and a SQLite file."""

    async def main() -> T:
        settings = SettingsStore(tmp_path / "settings.json")
        settings.load()
        pool = GatewayPool(policy=RetryPolicy(max_retries=0))
        profiles = ProfileService(settings, KeyStore(), pool)
        await profiles.save(profile, key)
        db = await Database.open(tmp_path / "bluesdesk.db")
        try:
            return await body(CatalogService(profiles, ModelCache(db), sessions=sessions), profiles)
        finally:
            await pool.aclose()
            await db.close()

    return asyncio.run(main())


def visible(group: str) -> list[str]:
    return sorted(n for n, m in MODELS.items() if group in m.enable_groups)


def login(server: EmulatorServer, username: str, password: str) -> httpx.Response:
    return httpx.post(
        server.base_url + "/api/user/login", json={"username": username, "password": password}
    )


# ---- BluesMinds ---------------------------------------------------------------------------------


def test_bluesminds_catalog_prices_match_the_formulas(
    tmp_path: Path, emulators: EmulatorFleet
) -> None:
    server = emulators.get(Flavor.BLUESMINDS)
    profile = profile_for(server.relay_url, GatewayKind.BLUESMINDS)

    async def body(catalog: CatalogService, profiles: ProfileService) -> None:
        report = await catalog.refresh(profile)
        assert report.notes == ()
        models = await catalog.models(profile)
        assert sorted(m.id for m in models) == visible("default")
        assert report.model_count == report.priced_count == len(models)
        snap = catalog.loaded(profile)
        assert snap is not None and snap.settings is not None
        # BluesMinds shows credits: CUSTOM display, the ¤ symbol.
        assert snap.settings.display_type is DisplayType.CUSTOM
        assert snap.settings.quota_per_unit == 500_000
        # Hand-computed: gpt-4o ratio 1.25 → 1.25 × 1e6 / 500000 = 2.5 in, × 4 = 10 out,
        # × 0.5 = 1.25 cached; dall-e-3 0.04 per call.
        gpt = catalog.price("gpt-4o", profile=profile)
        assert gpt is not None
        assert (gpt.input_per_m, gpt.output_per_m, gpt.cached_per_m) == (2.5, 10.0, 1.25)
        assert format_amount(2.5, snap.settings) == "¤2.50"
        assert format_price(gpt, snap.settings).summary == "¤2.50 in · ¤10.00 out / 1M tokens"
        dall_e = catalog.price("dall-e-3", profile=profile)
        assert dall_e is not None and dall_e.kind is PriceKind.PER_REQUEST
        assert dall_e.per_request == 0.04
        # gpt-4.1 is the seeds' free promotional model.
        free = catalog.price("gpt-4.1", profile=profile)
        assert free is not None and free.free
        # Every model against the emulator's own table, independently of our parser.
        for model_id in visible("default"):
            row = MODELS[model_id]
            price = catalog.price(model_id, profile=profile)
            assert price is not None, model_id
            if row.quota_type == 1:
                assert price.per_request == pytest.approx(row.model_price)
            else:
                assert price.input_per_m == pytest.approx(row.model_ratio * 2)
                assert price.output_per_m == pytest.approx(
                    row.model_ratio * 2 * row.completion_ratio
                )
        # The vip group's ratio (0.8) applies when the key is in vip.
        vip = catalog.price("gpt-4o", "vip", profile=profile)
        assert vip is not None and vip.input_per_m == 2.5 * GROUP_RATIOS["vip"]
        estimate = catalog.estimate("gpt-4o", 1000, 500, profile=profile)
        assert estimate is not None and (estimate.low, estimate.high) == (0.0025, 0.0075)
        # /v1beta/models metadata and /api/pricing vendors were merged in.
        first = snap.model("gpt-4.1")
        assert first is not None
        assert first.context_length == MODELS["gpt-4.1"].context_length
        assert first.vendor == "OpenAI" and first.vendor_icon == "OpenAI"
        assert first.sources == {"relay", "gemini", "pricing"}
        claude = snap.model("claude-sonnet-4-5")
        assert claude is not None and claude.has(Capability.CLAUDE_NATIVE)
        assert claude.groups == ("default", "vip")

    run(tmp_path, profile, DEMO.api_key, body)


def test_logged_in_session_adds_user_models_and_groups(
    tmp_path: Path, emulators: EmulatorFleet
) -> None:
    server = emulators.get(Flavor.BLUESMINDS)
    token = login(server, ROOT.username, ROOT.password).json()["data"]["token"]
    profile = profile_for(server.relay_url, GatewayKind.BLUESMINDS)

    async def session(p: GatewayProfile) -> ConsoleAuth | None:
        return ConsoleAuth(token)  # BluesMinds takes its bare session token

    async def body(catalog: CatalogService, profiles: ProfileService) -> None:
        report = await catalog.refresh(profile)
        assert report.notes == ()
        snap = catalog.loaded(profile)
        assert snap is not None
        # The vip user's key lists vip-only models; /api/user/models names them too.
        vip_only = snap.model("gpt-5.1")
        assert vip_only is not None and {"relay", "user"} <= vip_only.sources
        assert snap.groups["vip"].ratio == 0.8 and snap.groups["vip"].usable
        assert catalog.key_group(profile) == "default"
        catalog.set_key_group(profile, "vip")
        gpt = catalog.price("gpt-4o", profile=profile)
        assert gpt is not None and gpt.group == "vip" and gpt.input_per_m == 2.0

    run(tmp_path, profile, ROOT.api_key, body, sessions=session)
    forget_secret(token)


def test_quoted_price_is_what_the_gateway_charges(tmp_path: Path, emulators: EmulatorFleet) -> None:
    """End to end: a real call's charge (the balance it took) equals our price × its usage."""
    server = emulators.get(Flavor.BLUESMINDS)
    token = login(server, DEMO.username, DEMO.password).json()["data"]["token"]
    profile = profile_for(server.relay_url, GatewayKind.BLUESMINDS)

    def balance() -> int:
        me = httpx.get(server.base_url + "/api/user/self", headers={"Authorization": token})
        return int(me.json()["data"]["quota"])

    async def body(catalog: CatalogService, profiles: ProfileService) -> None:
        await catalog.refresh(profile)
        snap = catalog.loaded(profile)
        assert snap is not None and snap.settings is not None
        client = await profiles.client(profile)
        for model in ("gpt-4o", "claude-haiku-4-5", "dall-e-3"):
            before = balance()
            if model == "dall-e-3":
                await client.request_json(
                    "POST",
                    "images/generations",
                    json={"model": model, "prompt": "a lighthouse", "size": "1024x1024"},
                )
                usage_cost = catalog.estimate(model, 0, 0, profile=profile)
                assert usage_cost is not None
                cost = usage_cost.high
            else:
                _, usage, _ = await complete_chat(
                    client,
                    [ChatMessage("user", "Say something about lighthouses.")],
                    ChatParams(model=model, max_tokens=40),
                )
                assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
                price = catalog.price(model, profile=profile)
                assert price is not None
                cost = (
                    usage.prompt_tokens * (price.input_per_m or 0)
                    + usage.completion_tokens * (price.output_per_m or 0)
                ) / 1e6
            charged = before - balance()
            assert charged == pytest.approx(cost * snap.settings.quota_per_unit, abs=1), model

    run(tmp_path, profile, DEMO.api_key, body)
    forget_secret(token)


# ---- new-api -----------------------------------------------------------------------------------


def test_newapi_custom_quota_per_unit_and_access_token_login(tmp_path: Path) -> None:
    server = start_emulator(Flavor.NEWAPI, quota_per_unit=1_000_000)
    try:
        with httpx.Client(base_url=server.base_url) as web:
            user = web.post(
                "/api/user/login", json={"username": DEMO.username, "password": DEMO.password}
            ).json()["data"]
            access = web.get("/api/user/token", headers={"New-Api-User": str(user["id"])})
            token = access.json()["data"]
        profile = profile_for(server.relay_url, GatewayKind.NEWAPI)

        async def session(p: GatewayProfile) -> ConsoleAuth | None:
            return ConsoleAuth(token, user_id=user["id"], bearer=True)

        async def body(catalog: CatalogService, profiles: ProfileService) -> None:
            report = await catalog.refresh(profile)
            assert report.notes == ()
            snap = catalog.loaded(profile)
            assert snap is not None and snap.settings is not None
            assert snap.settings.display_type is DisplayType.USD
            # Q = 1,000,000: 1.25 × 1e6 / 1e6 = 1.25 $/1M in, × 4 = 5 out.
            gpt = catalog.price("gpt-4o", profile=profile)
            assert gpt is not None and (gpt.input_per_m, gpt.output_per_m) == (1.25, 5.0)
            assert format_price(gpt, snap.settings).input == "$1.25"
            user_model = snap.model("gpt-4o-mini")
            assert user_model is not None and "user" in user_model.sources

        run(tmp_path, profile, DEMO.api_key, body, sessions=session)
        forget_secret(token)
    finally:
        server.stop()


def test_legacy_pricing_shape(tmp_path: Path) -> None:
    server = start_emulator(Flavor.NEWAPI, legacy=True)
    try:
        profile = profile_for(server.relay_url, GatewayKind.NEWAPI)

        async def body(catalog: CatalogService, profiles: ProfileService) -> None:
            await catalog.refresh(profile)
            snap = catalog.loaded(profile)
            assert snap is not None
            assert sorted(m.id for m in snap.models) == visible("default")
            gpt = catalog.price("gpt-4o", profile=profile)
            # No cache_ratio in the 2025-04 shape: no cached price rather than a guess.
            assert gpt is not None and (gpt.input_per_m, gpt.cached_per_m) == (2.5, None)
            model = snap.model("claude-haiku-4-5")
            assert model is not None
            assert model.vendor == "Anthropic"  # from the family table: no vendors here
            assert model.vendor_icon == ""

        run(tmp_path, profile, DEMO.api_key, body)
    finally:
        server.stop()


# ---- degraded gateways --------------------------------------------------------------------------


class OnlyModelsGateway:
    """A plain OpenAI-compatible server: /v1/models, and a web page for everything else."""

    def __init__(self) -> None:
        async def models(request: Request) -> Response:
            if request.headers.get("authorization") != f"Bearer {DEMO.api_key}":
                return JSONResponse({"error": {"message": "bad key"}}, status_code=401)
            return JSONResponse(
                {
                    "object": "list",
                    "data": [
                        {"id": "llama-3.1-8b-instruct", "object": "model", "owned_by": "meta"},
                        {"id": "my-finetune", "object": "model", "owned_by": "me"},
                        {"id": "whisper-1", "object": "model", "owned_by": "openai"},
                    ],
                }
            )

        async def gemini(request: Request) -> Response:
            return JSONResponse({"error": {"message": "Not Found"}}, status_code=404)

        async def page(request: Request) -> Response:
            return HTMLResponse("<!doctype html><html><body>Welcome</body></html>")

        started = threading.Event()

        async def lifespan(app: Starlette) -> Any:
            started.set()
            yield

        from contextlib import asynccontextmanager

        app = Starlette(
            routes=[
                Route("/v1/models", models),
                Route("/v1beta/models", gemini),
                Route("/{path:path}", page),
            ],
            lifespan=asynccontextmanager(lifespan),
        )
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="on"))
        self.thread = threading.Thread(
            target=lambda: asyncio.run(self.server.serve(sockets=[self.sock])), daemon=True
        )
        self.thread.start()
        assert started.wait(10)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@pytest.fixture
def only_models() -> Iterator[OnlyModelsGateway]:
    gateway = OnlyModelsGateway()
    try:
        yield gateway
    finally:
        gateway.stop()


def test_gateway_with_only_v1_models_gives_a_full_list_with_unknown_prices(
    tmp_path: Path, only_models: OnlyModelsGateway
) -> None:
    profile = profile_for(only_models.url + "/v1", GatewayKind.CUSTOM)

    async def body(catalog: CatalogService, profiles: ProfileService) -> None:
        report = await catalog.refresh(profile)
        assert report.model_count == 3 and report.priced_count == 0
        # The HTML answers of /api/* became notes, not failures.
        assert any("/api/status" in n for n in report.notes)
        assert any("/api/pricing" in n for n in report.notes)
        models = await catalog.models(profile)
        assert [m.id for m in models] == ["llama-3.1-8b-instruct", "my-finetune", "whisper-1"]
        assert all(catalog.price(m.id, profile=profile) is None for m in models)
        assert catalog.estimate("my-finetune", 10, 10, profile=profile) is None
        whisper = models[2]
        assert whisper.capabilities == {Capability.TRANSCRIPTION}
        assert models[0].vendor == "Meta" and models[1].vendor == "me"

    run(tmp_path, profile, DEMO.api_key, body)


def test_optional_route_faults_degrade_and_transient_ones_keep_the_last_prices(
    tmp_path: Path, emulators: EmulatorFleet
) -> None:
    server = emulators.get(Flavor.BLUESMINDS)
    profile = profile_for(server.relay_url, GatewayKind.BLUESMINDS)

    async def body(catalog: CatalogService, profiles: ProfileService) -> None:
        # success:false on /api/pricing with nothing cached: prices unknown, list complete.
        server.arm_fault("success_false", path_prefix="/api/pricing")
        report = await catalog.refresh(profile)
        assert report.priced_count == 0 and report.model_count == len(visible("default"))
        assert any("/api/pricing unavailable" in n for n in report.notes)
        assert catalog.price("gpt-4o", profile=profile) is None
        # A clean refresh prices everything.
        await catalog.refresh(profile)
        assert catalog.price("gpt-4o", profile=profile) is not None
        # A 502 web page is transient: the previous prices stay.
        server.arm_fault("html502", path_prefix="/api/pricing")
        report = await catalog.refresh(profile)
        assert any("kept the previous copy" in n for n in report.notes)
        gpt = catalog.price("gpt-4o", profile=profile)
        assert gpt is not None and gpt.input_per_m == 2.5

    run(tmp_path, profile, DEMO.api_key, body)


def test_relay_failure_raises_and_keeps_the_cache(tmp_path: Path, emulators: EmulatorFleet) -> None:
    server = emulators.get(Flavor.BLUESMINDS)
    profile = profile_for(server.relay_url, GatewayKind.BLUESMINDS)

    async def body(catalog: CatalogService, profiles: ProfileService) -> None:
        first = await catalog.refresh(profile)
        server.arm_fault("401", path_prefix="/v1/models")
        with pytest.raises(AuthFailed):
            await catalog.refresh(profile)
        assert await catalog.last_refreshed(profile) == first.fetched_at
        assert len(await catalog.models(profile)) == first.model_count

    run(tmp_path, profile, DEMO.api_key, body)


# ---- the cache ----------------------------------------------------------------------------------


def test_cache_and_favourites_survive_a_new_service_offline(
    tmp_path: Path, emulators: EmulatorFleet
) -> None:
    server = emulators.get(Flavor.BLUESMINDS)
    profile = profile_for(server.relay_url, GatewayKind.BLUESMINDS)
    seen: list[str] = []

    async def first(catalog: CatalogService, profiles: ProfileService) -> tuple[list[str], float]:
        catalog.listeners.append(seen.append)
        report = await catalog.refresh(profile)
        await catalog.set_favourite(profile, "gpt-4o-mini", True)
        await catalog.set_favourite(profile, "o3", True)
        await catalog.set_favourite(profile, "o3", False)
        return [m.id for m in await catalog.models(profile)], report.fetched_at

    ids, fetched_at = run(tmp_path, profile, DEMO.api_key, first)
    assert ids[0] == "gpt-4o-mini"  # favourites first
    assert seen.count(profile.id) == 4  # one refresh, three favourite changes
    # Same DB file, a new service, and a profile whose gateway is unreachable.
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    offline = profile_for(f"http://127.0.0.1:{dead.getsockname()[1]}/v1", profile.kind)
    dead.close()

    async def second(catalog: CatalogService, profiles: ProfileService) -> None:
        assert await catalog.last_refreshed(offline) == fetched_at
        assert [m.id for m in await catalog.models(offline)] == ids
        assert await catalog.favourites(offline) == {"gpt-4o-mini"}
        gpt = catalog.price("gpt-4o", profile=offline)
        assert gpt is not None and gpt.input_per_m == 2.5
        rows = catalog.rows(offline)
        assert len(rows) == len(ids) and sum(r.favourite for r in rows) == 1

    run(tmp_path, offline, DEMO.api_key, second)
