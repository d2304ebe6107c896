"""A channel test that fails keeps its time: `GET /api/channel/test/:id` answers
`success:false` with `message` and `time`, and AccountService hands back a failed ChannelTest
instead of an error. A `success:false` without `time` (no such channel) is still an error, and
so is the same failed test through the plain client."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bluesdesk.core.models import GatewayKind, GatewayProfile
from bluesdesk.core.redact import forget_secret
from bluesdesk.core.retry import RetryPolicy
from bluesdesk.emulator import EmulatorServer, Flavor
from bluesdesk.emulator.accounts import DEMO, ROOT
from bluesdesk.errors import ConsoleRejected, GatewayError
from bluesdesk.gateway.console import ChannelTest, ConsoleAuth, ConsoleExtras, management_root
from bluesdesk.gateway.http import GatewayClient
from bluesdesk.secrets import KeyStore
from bluesdesk.services.account import AccountService, SignedOut
from bluesdesk.services.profiles import ProfileService
from tests.integration.conftest import EmulatorFleet
from tests.integration.services.account_rig import saved_profile

T = TypeVar("T")
AUTO_DISABLED = 3  # new-api's "disabled by the system" status; the emulator's upstream fails


@pytest.fixture(autouse=True)
def _keyring(memory_keyring: Any) -> Iterator[Any]:
    yield memory_keyring
    for key in (DEMO.api_key, ROOT.api_key):
        forget_secret(key)


def run(tmp_path: Path, server: EmulatorServer,
        body: Callable[[AccountService, GatewayProfile, ProfileService], Awaitable[T]]) -> T:
    profile = GatewayProfile(id="p1", name="gw", base_url=server.relay_url,
                             kind=GatewayKind.NEWAPI)

    async def main() -> T:
        profiles, pool = await saved_profile(tmp_path, profile)
        account = AccountService(profiles, KeyStore())
        await account.sign_in(ROOT.username, ROOT.password, profile)
        try:
            return await body(account, profile, profiles)
        finally:
            await pool.aclose()

    return asyncio.run(main())


async def set_status(account: AccountService, profile: GatewayProfile, channel_id: int,
                     status: int) -> None:
    """PUT /api/channel/ as the web console would (the app only sends 1 and 2)."""
    auth = await account.session(profile)
    assert auth is not None
    async with httpx.AsyncClient() as client:
        answer = await client.put(management_root(profile) + "/api/channel/",
                                  headers=auth.headers(),
                                  json={"id": channel_id, "status": status})
    assert answer.json()["success"], answer.text


def test_a_failed_upstream_keeps_time_and_reason(tmp_path: Path, emulators: EmulatorFleet):
    server = emulators.get(Flavor.NEWAPI)

    async def body(account: AccountService, profile: GatewayProfile, _: Any) -> None:
        channel = (await account.channels(1, 1, profile=profile)).items[0]
        await set_status(account, profile, channel.id, AUTO_DISABLED)
        try:
            result = await account.test_channel(channel.id, profile=profile)
            assert not result.success and not result.ok
            assert 0.2 <= result.seconds <= 1.8
            assert result.message == "upstream returned 401"
            assert result.error_code == "bad_response_status_code"
            # The gateway records the failed test's time too, as new-api does.
            again = next(c for c in (await account.channels(1, 100, profile=profile)).items
                         if c.id == channel.id)
            assert again.response_time == int(result.seconds * 1000)
            assert account.signed_in(profile)
        finally:
            await set_status(account, profile, channel.id, 1)
        passed = await account.test_channel(channel.id, profile=profile)
        assert passed.success and passed.ok and passed.seconds == result.seconds
        assert passed.message == "" and passed.error_code == ""

    run(tmp_path, server, body)


def test_a_test_that_never_reached_the_upstream_has_no_time(tmp_path: Path,
                                                            emulators: EmulatorFleet):
    server = emulators.get(Flavor.NEWAPI)

    async def body(account: AccountService, profile: GatewayProfile, _: Any) -> None:
        channel = (await account.channels(1, 1, profile=profile)).items[0]
        result = await account.test_channel(channel.id, "no-such-model", profile=profile)
        assert not result.success and result.seconds == 0.0
        assert "not in channel" in result.message and result.error_code == "model_not_found"

    run(tmp_path, server, body)


def test_success_false_without_time_is_still_an_error(tmp_path: Path, emulators: EmulatorFleet):
    server = emulators.get(Flavor.NEWAPI)

    async def body(account: AccountService, profile: GatewayProfile,
                   profiles: ProfileService) -> None:
        with pytest.raises(ConsoleRejected) as missing:
            await account.test_channel(999_999, profile=profile)
        assert "record not found" in missing.value.user_message
        assert account.signed_in(profile)  # a refused call is not a lost login
        # Elsewhere success:false is untouched: the plain client raises on the failed test.
        channel = (await account.channels(1, 1, profile=profile)).items[0]
        await set_status(account, profile, channel.id, AUTO_DISABLED)
        try:
            auth = await account.session(profile)
            assert auth is not None
            client = await profiles.client(profile)
            with pytest.raises(ConsoleRejected) as refused:
                await client.request_json(
                    "GET", management_root(profile) + f"/api/channel/test/{channel.id}",
                    headers=auth.headers(), send_key=False,
                )
            assert "upstream returned 401" in refused.value.user_message
        finally:
            await set_status(account, profile, channel.id, 1)

    run(tmp_path, server, body)


def test_a_session_the_gateway_dropped_is_still_signed_out(tmp_path: Path,
                                                          emulators: EmulatorFleet):
    """The test route's own auth failure has no `time`: it must end the login as before."""
    server = emulators.get(Flavor.NEWAPI)

    async def body(account: AccountService, profile: GatewayProfile, _: Any) -> None:
        channel = (await account.channels(1, 1, profile=profile)).items[0]
        auth = await account.session(profile)
        assert auth is not None
        async with httpx.AsyncClient() as client:  # a new access token revokes the old one
            fresh = await client.get(management_root(profile) + "/api/user/token",
                                     headers=auth.headers())
        assert fresh.json()["success"], fresh.text
        with pytest.raises(ConsoleRejected) as ended:
            await account.test_channel(channel.id, profile=profile)
        assert isinstance(ended.value, SignedOut)
        assert not account.signed_in(profile)

    run(tmp_path, server, body)


# ---- any answer: a ChannelTest with a sane time, or a typed error -----------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=8,
)
_answers = st.fixed_dictionaries(
    {},
    optional={
        "success": st.booleans() | st.none() | st.integers(),
        "message": st.text(max_size=30) | st.integers(),
        "time": st.floats() | st.integers(min_value=-(10**400), max_value=10**400)
        | st.text(max_size=5) | st.booleans(),
        "error_code": st.text(max_size=10) | st.none(),
        "error": _json,
    },
)


@settings(max_examples=150, deadline=None)
@given(body=_answers)
def test_any_answer_is_a_sane_result_or_a_typed_error(body: dict[str, Any]) -> None:
    profile = GatewayProfile(id="fz", name="fz", base_url="http://127.0.0.1:9/v1")
    raw = json.dumps(body).encode()  # NaN / Infinity / huge ints as Python writes them

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=raw, headers={"content-type": "application/json"})

    async def main() -> ChannelTest | GatewayError:
        client = GatewayClient(profile, None, policy=RetryPolicy(max_retries=0),
                               transport=httpx.MockTransport(answer))
        try:
            return await ConsoleExtras(client, ConsoleAuth("fz-token", 1)).test_channel(7)
        except GatewayError as exc:
            return exc
        finally:
            await client.aclose()

    outcome = asyncio.run(main())
    if isinstance(outcome, GatewayError):
        assert outcome.user_message
        assert body.get("success") is False or isinstance(body.get("error"), dict)
        return
    assert math.isfinite(outcome.seconds) and outcome.seconds >= 0
    assert outcome.success is (body.get("success") is not False)
    if not outcome.success:
        assert "time" in body
