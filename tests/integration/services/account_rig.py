"""What the AccountService suites share: a profile for an emulator, one "app run" around a test
body (real settings file, profile service, pool and keystore) and a look into the keyring."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from bluesdesk.core.models import GatewayKind, GatewayProfile
from bluesdesk.core.redact import forget_secret
from bluesdesk.core.retry import RetryPolicy
from bluesdesk.emulator import EmulatorServer
from bluesdesk.emulator.accounts import DEMO, ROOT, SECURE
from bluesdesk.gateway import GatewayPool
from bluesdesk.secrets import KeyStore
from bluesdesk.services.account import AccountService
from bluesdesk.services.profiles import ProfileService
from bluesdesk.settings import SettingsStore

T = TypeVar("T")


def profile_for(
    server: EmulatorServer, pid: str = "p1", kind: GatewayKind = GatewayKind.BLUESMINDS
) -> GatewayProfile:
    return GatewayProfile(id=pid, name="test gw", base_url=server.relay_url, kind=kind)


async def saved_profile(
    tmp_path: Path, profile: GatewayProfile
) -> tuple[ProfileService, GatewayPool]:
    """The real profile service over a settings file in `tmp_path`, with `profile` saved under
    the demo user's API key. No retries: every call is seen once. Close the pool when done."""
    settings = SettingsStore(tmp_path / "settings.json")
    settings.load()
    pool = GatewayPool(policy=RetryPolicy(max_retries=0))
    profiles = ProfileService(settings, KeyStore(), pool)
    await profiles.save(profile, DEMO.api_key)
    return profiles, pool


def run(
    tmp_path: Path,
    profile: GatewayProfile,
    body: Callable[[AccountService, ProfileService], Awaitable[T]],
) -> T:
    """Run `body` with an AccountService over the real profile service (one "app run")."""

    async def main() -> T:
        profiles, pool = await saved_profile(tmp_path, profile)
        try:
            return await body(AccountService(profiles, KeyStore()), profiles)
        finally:
            await pool.aclose()

    return asyncio.run(main())


def run_account(
    tmp_path: Path, profile: GatewayProfile, body: Callable[[AccountService], Awaitable[T]]
) -> T:
    """`run` for a body that needs only the AccountService."""
    return run(tmp_path, profile, lambda account, _: body(account))


def stored(keyring: Any, profile: GatewayProfile, kind: str) -> str | None:
    """What the keyring holds for `profile` under `kind` (access token, user id), if anything."""
    value = keyring.get_password("bluesdesk", f"{profile.id}:{kind}")
    return None if value is None else str(value)


def forget_account_keys() -> None:
    """Drop the emulator users' keys from the redaction registry, so no test leaks into the next."""
    for key in (DEMO.api_key, ROOT.api_key, SECURE.api_key):
        forget_secret(key)
