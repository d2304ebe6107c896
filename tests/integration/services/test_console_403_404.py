"""403 and 404 on the console actions, through AccountService with a retrying client pool:
each answer is one request on the emulator (never retried, even with the fault armed for
more), the typed error is Forbidden / NotFound, and the console login survives it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bluesdesk.core.models import GatewayKind, GatewayProfile
from bluesdesk.core.redact import forget_secret
from bluesdesk.core.retry import RetryPolicy
from bluesdesk.emulator import EmulatorServer, Flavor
from bluesdesk.emulator.accounts import DEMO, ROOT
from bluesdesk.errors import Forbidden, NotFound, StatusError
from bluesdesk.gateway import GatewayPool
from bluesdesk.gateway.console import TokenSpec
from bluesdesk.secrets import KeyStore
from bluesdesk.services.account import AccountService
from bluesdesk.services.profiles import ProfileService
from bluesdesk.settings import SettingsStore
from tests.integration.conftest import EmulatorFleet

Action = Callable[[AccountService, GatewayProfile], Awaitable[Any]]
RETRIES = 2  # the app's default policy; a retried 403/404 would show as 3 requests


@pytest.fixture(autouse=True)
def _keyring(memory_keyring: Any) -> Iterator[Any]:
    yield memory_keyring
    for key in (DEMO.api_key, ROOT.api_key):
        forget_secret(key)


async def _first_channel(account: AccountService, profile: GatewayProfile) -> int:
    return (await account.channels(1, 1, profile=profile)).items[0].id


# (name, who signs in first (None: nobody), path the fault is armed on, the call)
ACTIONS: list[tuple[str, str | None, str, Action | None]] = [
    ("sign-in", None, "/api/user/login",
     lambda a, p: a.sign_in(DEMO.username, DEMO.password, p)),
    ("token list", "demo", "/api/token/", lambda a, p: a.tokens(1, 20, p)),
    ("token create", "demo", "/api/token/",
     lambda a, p: a.create_token(TokenSpec(name="never-made"), p)),
    ("logs", "demo", "/api/log/self", lambda a, p: a.logs(1, 20, None, p)),
    ("dashboard", "demo", "/api/dashboard/", lambda a, p: a.dashboard(p)),
    ("channel list", "root", "/api/channel/", lambda a, p: a.channels(1, 20, profile=p)),
    ("channel test", "root", "/api/channel/test/", None),  # the path gets a channel id
]


def run_case(tmp_path: Path, server: EmulatorServer, user: str | None, prefix: str,
             kind: str, action: Action | None) -> tuple[BaseException | Any, int, bool, str]:
    """Sign in, arm `kind` on `prefix` for 3 requests, run the action once: (what it raised
    or returned, requests that reached the exact path, still signed in, the exact path)."""
    profile = GatewayProfile(id="p1", name="gw", base_url=server.relay_url,
                             kind=GatewayKind.BLUESMINDS)

    async def main() -> tuple[BaseException | Any, int, bool, str]:
        settings = SettingsStore(tmp_path / "settings.json")
        settings.load()
        pool = GatewayPool(policy=RetryPolicy(max_retries=RETRIES, base_delay=0.01))
        profiles = ProfileService(settings, KeyStore(), pool)
        await profiles.save(profile, DEMO.api_key)
        account = AccountService(profiles, KeyStore())
        try:
            if user == "demo":
                await account.sign_in(DEMO.username, DEMO.password, profile)
            elif user == "root":
                await account.sign_in(ROOT.username, ROOT.password, profile)
            call = action
            path = prefix
            if call is None:  # the channel test needs a real channel id in its path
                channel_id = await _first_channel(account, profile)
                path = f"{prefix}{channel_id}"

                def call(a: AccountService, p: GatewayProfile) -> Awaitable[Any]:
                    return a.test_channel(channel_id, profile=p)

            server.reset_faults()  # counters from the sign-in above
            server.arm_fault(kind, count=RETRIES + 1, path_prefix=path)
            try:
                outcome: BaseException | Any = await call(account, profile)
            except Exception as exc:  # the outcome is what the test looks at
                outcome = exc
            count = server.request_count(path)
            server.reset_faults()  # nothing armed may leak to the next case
            return outcome, count, account.signed_in(profile), path
        finally:
            await pool.aclose()

    return asyncio.run(main())


@pytest.mark.parametrize(("name", "user", "prefix", "action"), ACTIONS,
                         ids=[a[0] for a in ACTIONS])
@pytest.mark.parametrize(("kind", "error"), [("403", Forbidden), ("404", NotFound)],
                         ids=["403", "404"])
def test_console_action_gets_the_typed_error_once(tmp_path: Path, emulators: EmulatorFleet,
                                                  name, user, prefix, action, kind, error):
    server = emulators.get(Flavor.BLUESMINDS)
    outcome, count, signed_in, path = run_case(tmp_path, server, user, prefix, kind, action)
    assert count == 1, f"{name}: {count} requests reached {path}"
    if name == "dashboard" and kind == "404":
        # By design: a gateway without BluesMinds' /api/dashboard/ simply has no dashboard.
        assert outcome is None
    else:
        assert isinstance(outcome, error), f"{name}: {outcome!r}"
        assert isinstance(outcome, StatusError) and outcome.status == int(kind)
        assert f"emulated {kind}" in outcome.user_message and outcome.request_id
        assert outcome.describe()
    # A 403/404 says nothing about the login: it is kept (sign-in never had one).
    assert signed_in is (user is not None)


def test_overview_survives_a_refused_dashboard(tmp_path: Path, emulators: EmulatorFleet):
    """The dashboard is an optional figure of the overview: a 403 on it leaves the rest."""
    server = emulators.get(Flavor.BLUESMINDS)

    async def overview(account: AccountService, profile: GatewayProfile) -> Any:
        return await account.overview(profile)

    outcome, count, signed_in, _ = run_case(tmp_path, server, "demo", "/api/dashboard/", "403",
                                            overview)
    assert count == 1 and signed_in
    assert not isinstance(outcome, BaseException), outcome
    assert outcome.dashboard is None and outcome.user.username == DEMO.username
