"""AccountService against the emulator over loopback: password login (with 2FA), the access
token kept in the keyring (never the password, never settings.json), restore after a restart,
logout, expiry, the overview in the display currency, and API token management in the new-api
and legacy shapes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from bluesdesk.core.pricing import DisplayType
from bluesdesk.core.redact import forget_secret
from bluesdesk.emulator import Flavor
from bluesdesk.emulator.accounts import DEMO, ROOT
from bluesdesk.errors import ConsoleRejected
from bluesdesk.gateway.console import TokenSpec
from bluesdesk.services.account import (
    ACCESS_TOKEN_KIND,
    USER_ID_KIND,
    AccountService,
    SignedOut,
    quota_from_display,
)
from tests.integration.conftest import EmulatorFleet
from tests.integration.services.account_rig import profile_for, run_account, stored

pytestmark = pytest.mark.usefixtures("account_keyring")


def test_password_login_keeps_an_access_token_in_the_keyring_and_restores(
    tmp_path: Path, emulators: EmulatorFleet, memory_keyring: Any
) -> None:
    server = emulators.get(Flavor.BLUESMINDS)
    profile = profile_for(server)

    async def first_run(account: AccountService) -> None:
        seen: list[str] = []
        account.listeners.append(seen.append)
        assert await account.sign_in("demo", "demo-password", profile) is True
        assert account.signed_in(profile) and seen == [profile.id]
        user = account.user(profile)
        assert user is not None and (user.id, user.username) == (DEMO.id, "demo")

    run_account(tmp_path, profile, first_run)
    token = stored(memory_keyring, profile, ACCESS_TOKEN_KIND)
    assert token and len(token) >= 29
    assert stored(memory_keyring, profile, USER_ID_KIND) == str(DEMO.id)
    # Never the password, anywhere we keep things.
    assert "demo-password" not in memory_keyring.store.values()
    settings_text = (tmp_path / "settings.json").read_text()
    assert "demo-password" not in settings_text and token not in settings_text

    # The token alone works against the gateway (header auth, New-Api-User).
    answer = httpx.get(
        server.base_url + "/api/user/self",
        headers={"Authorization": token, "New-Api-User": str(DEMO.id)},
    ).json()
    assert answer["success"] is True and answer["data"]["username"] == "demo"

    async def second_run(account: AccountService) -> None:
        assert not account.signed_in(profile)
        user = await account.restore(profile)
        assert user is not None and user.username == "demo"
        assert account.signed_in(profile)

    run_account(tmp_path, profile, second_run)


def test_two_factor_login_needs_the_code(tmp_path: Path, emulators: EmulatorFleet) -> None:
    server = emulators.get(Flavor.NEWAPI)
    profile = profile_for(server)

    async def body(account: AccountService) -> None:
        assert await account.sign_in("secure", "secure-password", profile) is False
        assert account.awaiting_2fa(profile) and not account.signed_in(profile)
        with pytest.raises(ConsoleRejected) as wrong:
            await account.submit_2fa("000000", profile)
        assert "refused" in wrong.value.user_message
        assert account.awaiting_2fa(profile)  # a wrong code can be corrected
        user = await account.submit_2fa(" 424242 ", profile)
        assert user.username == "secure" and user.group == "vip"
        assert account.signed_in(profile) and not account.awaiting_2fa(profile)

    run_account(tmp_path, profile, body)


def test_wrong_password_is_the_gateways_message(tmp_path: Path, emulators: EmulatorFleet) -> None:
    profile = profile_for(emulators.get(Flavor.BLUESMINDS))

    async def body(account: AccountService) -> None:
        with pytest.raises(ConsoleRejected) as caught:
            await account.sign_in("demo", "not-the-password", profile)
        assert "Username or password is incorrect" in caught.value.user_message
        assert not account.signed_in(profile)

    run_account(tmp_path, profile, body)


def test_paste_token_login_and_logout_clears_the_keyring(
    tmp_path: Path, emulators: EmulatorFleet, memory_keyring: Any
) -> None:
    server = emulators.get(Flavor.NEWAPI)
    profile = profile_for(server)
    session = httpx.Client()
    session.post(
        server.base_url + "/api/user/login",
        json={"username": "root", "password": "root-password"},
    )
    token = session.get(
        server.base_url + "/api/user/token", headers={"New-Api-User": str(ROOT.id)}
    ).json()["data"]
    session.close()

    async def body(account: AccountService) -> None:
        with pytest.raises(ConsoleRejected):
            await account.sign_in_with_token(token, DEMO.id, profile)  # wrong user id
        assert stored(memory_keyring, profile, ACCESS_TOKEN_KIND) is None
        user = await account.sign_in_with_token(f"Bearer {token}", ROOT.id, profile)
        assert user.role_name == "root"
        assert stored(memory_keyring, profile, ACCESS_TOKEN_KIND) == token
        await account.sign_out(profile)
        assert not account.signed_in(profile)
        assert account.message(profile) == ""
        with pytest.raises(SignedOut):
            await account.tokens(profile=profile)

    run_account(tmp_path, profile, body)
    assert stored(memory_keyring, profile, ACCESS_TOKEN_KIND) is None
    assert stored(memory_keyring, profile, USER_ID_KIND) is None


def test_a_replaced_access_token_signs_out_with_a_message(
    tmp_path: Path, emulators: EmulatorFleet, memory_keyring: Any
) -> None:
    server = emulators.get(Flavor.NEWAPI)
    profile = profile_for(server)

    async def body(account: AccountService) -> None:
        await account.sign_in("demo", "demo-password", profile)
        # A login elsewhere asks for a new access token: ours stops working.
        async with httpx.AsyncClient() as other:
            await other.post(
                server.base_url + "/api/user/login",
                json={"username": "demo", "password": "demo-password"},
            )
            await other.get(
                server.base_url + "/api/user/token", headers={"New-Api-User": str(DEMO.id)}
            )
        with pytest.raises(SignedOut) as caught:
            await account.tokens(profile=profile)
        assert "Sign in again" in caught.value.user_message
        assert not account.signed_in(profile)
        assert "Sign in again" in account.message(profile)

    run_account(tmp_path, profile, body)
    assert stored(memory_keyring, profile, ACCESS_TOKEN_KIND) is None


def test_overview_shows_money_in_the_display_currency(
    tmp_path: Path, emulators: EmulatorFleet
) -> None:
    profile = profile_for(emulators.get(Flavor.BLUESMINDS))

    async def body(account: AccountService) -> None:
        await account.sign_in("demo", "demo-password", profile)
        overview = await account.overview(profile)
        assert overview.quota is not None
        assert overview.quota.display_type is DisplayType.CUSTOM
        qpu = overview.quota.quota_per_unit
        assert overview.balance_text == f"¤{overview.user.quota / qpu:,.2f}"
        assert overview.used_text.startswith("¤")
        assert overview.user.request_count > 0  # 30 days of seeded logs
        assert overview.group_ratio == 1.0
        assert overview.stat is not None

    run_account(tmp_path, profile, body)


@pytest.mark.parametrize("legacy", [False, True], ids=["newapi", "legacy"])
def test_token_lifecycle(tmp_path: Path, emulators: EmulatorFleet, legacy: bool) -> None:
    if legacy:
        from tests.integration.conftest import start_emulator

        server = start_emulator(Flavor.NEWAPI, legacy=True)
    else:
        server = emulators.get(Flavor.NEWAPI)
    profile = profile_for(server)

    async def body(account: AccountService) -> None:
        await account.sign_in("demo", "demo-password", profile)
        settings = await account.quota_settings(profile)
        spec = TokenSpec(
            name=f"lifecycle-{legacy}",
            unlimited_quota=False,
            remain_quota=quota_from_display(2.5, settings),
            model_limits=("gpt-4o-mini",),
            allow_ips=("127.0.0.1",),
        )
        created = await account.create_token(spec, profile)
        assert created is not None and created.enabled
        assert created.remain_quota == 1_250_000 and not created.unlimited_quota
        assert created.expired_time == -1 and created.model_limits == ("gpt-4o-mini",)
        assert created.allow_ips == ("127.0.0.1",)
        assert created.masked is not legacy  # legacy lists carry whole keys

        first = await account.tokens(1, 2, profile)
        assert first.items[0].id == created.id  # newest first, on page 1 in both dialects
        assert len(first.items) == 2 and first.has_next
        assert (first.total is None) is legacy

        disabled = await account.set_token_enabled(created.id, False, profile)
        assert not disabled.enabled
        again = await account.set_token_enabled(created.id, True, profile)
        assert again.enabled

        await account.delete_token(created.id, profile)
        names = [t.name for t in (await account.tokens(1, 100, profile)).items]
        assert spec.name not in names
        with pytest.raises(ConsoleRejected) as gone:
            await account.delete_token(created.id, profile)
        assert "record not found" in gone.value.user_message
        assert account.signed_in(profile)  # a refusal is not a sign-out

    try:
        run_account(tmp_path, profile, body)
    finally:
        if legacy:
            server.stop()


def test_a_created_key_works_on_the_relay(tmp_path: Path, emulators: EmulatorFleet) -> None:
    server = emulators.get(Flavor.NEWAPI)
    profile = profile_for(server)

    async def body(account: AccountService) -> str:
        await account.sign_in("demo", "demo-password", profile)
        created = await account.create_token(TokenSpec(name="works"), profile)
        assert created is not None and created.unlimited_quota
        return await account.reveal_key(created.id, profile)

    key = run_account(tmp_path, profile, body)
    answer = httpx.post(
        server.relay_url + "/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "echo:hi"}]},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"] == "hi"
    forget_secret(key)


def test_name_only_specs_are_refused_before_sending() -> None:
    with pytest.raises(ValueError):
        TokenSpec(name="dead", unlimited_quota=False).body()
    with pytest.raises(ValueError):
        TokenSpec(name="").body()
    body = TokenSpec(name="ok").body()
    assert body["unlimited_quota"] is True and body["expired_time"] == -1
