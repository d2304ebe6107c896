"""AccountService on the upstream new-api flavor, in both its modern and its legacy dialect
(0-based `p`, bare arrays, whole keys in lists): password login with the keyring, 2FA,
access-token login, a missing New-Api-User, session expiry, paging across more than 100
tokens and logs, CSV export contents, channels for admins only, and the reveal route's 429.

Each dialect gets its own emulator for this module (RPM raised so the paging calls fit)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from bluesdesk.core.models import GatewayKind
from bluesdesk.core.redact import forget_secret
from bluesdesk.emulator import EmulatorConfig, EmulatorServer, Flavor
from bluesdesk.emulator.accounts import DEMO, ROOT
from bluesdesk.errors import AuthFailed, ConsoleRejected, RateLimited, SettingsError
from bluesdesk.gateway.console import Console, ConsoleAuth, TokenSpec
from bluesdesk.services.account import (
    ACCESS_TOKEN_KIND,
    CSV_COLUMNS,
    REVEAL_LIMIT_MESSAGE,
    USER_ID_KIND,
    AccountService,
    SignedOut,
    logs_csv,
)
from bluesdesk.services.profiles import ProfileService
from tests.integration.services import account_rig
from tests.integration.services.account_rig import run, stored


@pytest.fixture(scope="module", params=[False, True], ids=["newapi", "legacy"])
def server(request: pytest.FixtureRequest) -> Iterator[EmulatorServer]:
    emulator = EmulatorServer(
        EmulatorConfig(
            flavor=Flavor.NEWAPI, port=0, tokens_per_second=0, rpm=100_000, legacy=request.param
        )
    )
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture(autouse=True)
def _clean(account_keyring: Any, server: EmulatorServer) -> Iterator[Any]:
    yield account_keyring
    server.reset_faults()


def legacy(server: EmulatorServer) -> bool:
    return bool(server.config.legacy)


# Every profile here is a new-api one.
profile_for = partial(account_rig.profile_for, kind=GatewayKind.NEWAPI)


def access_token_for(server: EmulatorServer, username: str, password: str, user_id: int) -> str:
    """A system access token made the way the web console makes one (a cookie session)."""
    with httpx.Client() as session:
        login = session.post(
            server.base_url + "/api/user/login", json={"username": username, "password": password}
        )
        assert login.json()["success"] is True
        answer = session.get(
            server.base_url + "/api/user/token", headers={"New-Api-User": str(user_id)}
        )
    return str(answer.json()["data"])


def test_password_login_is_kept_as_an_access_token_and_restored(
    tmp_path: Path, server: EmulatorServer, memory_keyring: Any
) -> None:
    profile = profile_for(server)

    async def first(account: AccountService, _: ProfileService) -> None:
        assert await account.sign_in("demo", "demo-password", profile) is True
        user = account.user(profile)
        assert user is not None and (user.id, user.username) == (DEMO.id, "demo")

    run(tmp_path, profile, first)
    token = stored(memory_keyring, profile, ACCESS_TOKEN_KIND)
    assert token and stored(memory_keyring, profile, USER_ID_KIND) == str(DEMO.id)
    assert "demo-password" not in memory_keyring.store.values()

    async def second(account: AccountService, _: ProfileService) -> None:
        assert not account.signed_in(profile)
        user = await account.restore(profile)
        assert user is not None and user.username == "demo" and account.signed_in(profile)

    run(tmp_path, profile, second)


def test_two_factor_login(tmp_path: Path, server: EmulatorServer) -> None:
    profile = profile_for(server)

    async def body(account: AccountService, _: ProfileService) -> None:
        assert await account.sign_in("secure", "secure-password", profile) is False
        assert account.awaiting_2fa(profile) and not account.signed_in(profile)
        with pytest.raises(ConsoleRejected):
            await account.submit_2fa("000000", profile)
        assert account.awaiting_2fa(profile)
        user = await account.submit_2fa("424242", profile)
        assert user.username == "secure" and account.signed_in(profile)

    run(tmp_path, profile, body)


def test_access_token_login_and_a_missing_new_api_user(
    tmp_path: Path, server: EmulatorServer, memory_keyring: Any
) -> None:
    profile = profile_for(server)
    token = access_token_for(server, "root", "root-password", ROOT.id)

    async def body(account: AccountService, profiles: ProfileService) -> None:
        # new-api refuses an access token without New-Api-User; the gateway's words come back.
        bare = Console(await profiles.client(profile), ConsoleAuth(token))
        with pytest.raises((ConsoleRejected, AuthFailed)) as refused:
            await bare.user_self()
        assert "New-Api-User" in refused.value.user_message
        # So the service will not even try without the user id…
        with pytest.raises(SettingsError):
            await account.sign_in_with_token(token, 0, profile)
        assert stored(memory_keyring, profile, ACCESS_TOKEN_KIND) is None
        # …and a keyring entry missing its user id means "sign in", not a crash.
        memory_keyring.set_password("bluesdesk", f"{profile.id}:{ACCESS_TOKEN_KIND}", token)
        assert await account.restore(profile) is None and not account.signed_in(profile)
        memory_keyring.delete_password("bluesdesk", f"{profile.id}:{ACCESS_TOKEN_KIND}")

        user = await account.sign_in_with_token(f"Bearer {token}", ROOT.id, profile)
        assert user.role_name == "root" and account.is_admin(profile)
        assert stored(memory_keyring, profile, ACCESS_TOKEN_KIND) == token
        await account.sign_out(profile)

    run(tmp_path, profile, body)
    assert stored(memory_keyring, profile, ACCESS_TOKEN_KIND) is None


def test_session_expiry_leads_back_to_sign_in(
    tmp_path: Path, server: EmulatorServer, memory_keyring: Any
) -> None:
    profile = profile_for(server)

    async def body(account: AccountService, _: ProfileService) -> None:
        await account.sign_in("demo", "demo-password", profile)
        # The web console asks for a new access token: ours stops working.
        access_token_for(server, "demo", "demo-password", DEMO.id)
        with pytest.raises(SignedOut) as caught:
            await account.logs(1, 10, {}, profile)
        assert "Sign in again" in caught.value.user_message
        assert not account.signed_in(profile) and "Sign in again" in account.message(profile)

    run(tmp_path, profile, body)
    assert stored(memory_keyring, profile, ACCESS_TOKEN_KIND) is None


def test_paging_over_100_tokens_and_logs_with_the_csv(
    tmp_path: Path, server: EmulatorServer
) -> None:
    profile = profile_for(server)
    tag = "legacy" if legacy(server) else "modern"

    async def body(account: AccountService, _: ProfileService) -> tuple[str, list[str], str]:
        await account.sign_in("demo", "demo-password", profile)
        made = [
            await account.create_token(TokenSpec(name=f"pg-{tag}-{n:03}"), profile)
            for n in range(105)
        ]
        created = made[-1]
        assert created is not None and all(made)
        seen: list[str] = []
        page = 1
        while True:
            batch = await account.tokens(page, 100, profile)
            assert len(batch.items) <= 100
            seen.extend(t.name for t in batch.items)
            if not batch.has_next:
                break
            page += 1
        assert page >= 2
        mine = [name for name in seen if name.startswith(f"pg-{tag}-")]
        assert sorted(mine) == [f"pg-{tag}-{n:03}" for n in range(105)]
        assert len(seen) == len(set(seen))  # no row on two pages
        key = await account.reveal_key(created.id, profile)

        async with httpx.AsyncClient() as http:
            request_ids = []
            for n in range(103):
                answer = await http.post(
                    server.relay_url + "/chat/completions",
                    headers={"Authorization": f"Bearer {key}"},
                    json={
                        "model": "gpt-4o-mini",
                        "messages": [{"role": "user", "content": f"echo:call {n}"}],
                    },
                )
                assert answer.status_code == 200, answer.text
                request_ids.append(answer.headers.get("x-request-id", ""))
        assert all(request_ids)

        filters = {"token_name": created.name, "type": 2}
        first = await account.logs(1, 100, filters, profile)
        second = await account.logs(2, 100, filters, profile)
        assert len(first.items) == 100 and first.has_next
        assert len(second.items) == 3 and not second.has_next
        both = {e.request_id for e in first.items + second.items}
        assert both == set(request_ids)
        everything = await account.all_logs(filters, profile=profile)
        settings = await account.quota_settings(profile)
        return key, request_ids, logs_csv(everything, settings)

    key, request_ids, text = run(tmp_path, profile, body)
    forget_secret(key)
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 104
    records = [dict(zip(CSV_COLUMNS, row, strict=True)) for row in rows[1:]]
    assert {r["request_id"] for r in records} == set(request_ids)
    for record in records:
        assert record["type"] == "Consume" and record["model"] == "gpt-4o-mini"
        assert record["token"] == f"pg-{tag}-104"
        assert int(record["quota"]) > 0 and int(record["prompt_tokens"]) > 0


def test_channels_for_admins_only(tmp_path: Path, server: EmulatorServer) -> None:
    profile = profile_for(server)

    async def body(account: AccountService, _: ProfileService) -> None:
        await account.sign_in("root", "root-password", profile)
        page = await account.channels(1, 5, profile=profile)
        assert page.items
        result = await account.test_channel(page.items[0].id, profile=profile)
        assert result.success and result.seconds > 0
        balance = await account.refresh_channel_balance(page.items[0].id, profile)
        assert balance == page.items[0].balance
        await account.sign_out(profile)

        await account.sign_in("demo", "demo-password", profile)
        assert not account.is_admin(profile)
        with pytest.raises(ConsoleRejected) as refused:
            await account.channels(1, 5, profile=profile)
        assert "insufficient privileges" in refused.value.user_message
        with pytest.raises(ConsoleRejected):
            await account.refresh_channel_balance(page.items[0].id, profile)
        assert account.signed_in(profile)  # a refusal is not a sign-out

    run(tmp_path, profile, body)


def test_reveal_route_429_is_explained(tmp_path: Path, server: EmulatorServer) -> None:
    profile = profile_for(server)

    async def body(account: AccountService, _: ProfileService) -> None:
        await account.sign_in("demo", "demo-password", profile)
        created = await account.create_token(TokenSpec(name="reveal-429"), profile)
        assert created is not None
        before = server.request_count(f"/api/token/{created.id}/key")
        server.arm_fault("429", 1, path_prefix=f"/api/token/{created.id}/key")
        with pytest.raises(RateLimited) as limited:
            await account.reveal_key(created.id, profile)
        assert limited.value.user_message == REVEAL_LIMIT_MESSAGE
        assert server.request_count(f"/api/token/{created.id}/key") == before + 1  # no retry
        assert account.signed_in(profile)
        key = await account.reveal_key(created.id, profile)  # the fault was one-shot
        assert key.startswith("sk-")
        forget_secret(key)

    run(tmp_path, profile, body)
