"""ProfileService: keys only in the keyring, profile bookkeeping, and connection tests against
the real emulator over loopback."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import keyring
import pytest
from keyring.backends import fail

from bluesdesk.core.models import GatewayKind, GatewayProfile
from bluesdesk.core.redact import forget_secret
from bluesdesk.errors import AuthFailed, ConnectionFailed, KeyringUnavailable, SettingsError
from bluesdesk.gateway import GatewayPool, list_models
from bluesdesk.secrets import KeyStore
from bluesdesk.services.profiles import PRESETS, ConnectionReport, ProfileService
from bluesdesk.settings import SettingsStore
from tests.helpers.memkeyring import MemoryKeyring

T = TypeVar("T")
KEY = "sk-" + "P" * 48
OTHER_KEY = "sk-" + "Q" * 48


@pytest.fixture(autouse=True)
def _forget_keys() -> Any:
    yield
    for key in (KEY, OTHER_KEY):
        forget_secret(key)


def _run(tmp_path: Path, body: Callable[[ProfileService], Awaitable[T]]) -> T:
    """Run `body` with a service over a settings file in `tmp_path`, closing the pool after."""

    async def main() -> T:
        store = SettingsStore(tmp_path / "settings.json")
        store.load()
        pool = GatewayPool()
        try:
            return await body(ProfileService(store, KeyStore(), pool))
        finally:
            await pool.aclose()

    return asyncio.run(main())


def _profile(name: str = "Work", base_url: str = "https://api.bluesminds.com/v1") -> GatewayProfile:
    return PRESETS[0].to_profile(name=name, base_url=base_url)


def test_key_goes_to_the_keyring_never_the_settings_file(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    profile = _profile()
    changes: list[int] = []

    async def body(service: ProfileService) -> None:
        service.listeners.append(lambda: changes.append(1))
        await service.save(profile, KEY)
        assert await service.api_key(profile.id) == KEY

    _run(tmp_path, body)
    text = (tmp_path / "settings.json").read_text()
    assert KEY not in text
    assert KEY[3:20] not in text
    assert profile.id in text
    assert memory_keyring.store == {("bluesdesk", f"{profile.id}:api_key"): KEY}
    assert changes == [1]
    # A fresh service (the next start) finds the profile active with its key.
    reloaded = SettingsStore(tmp_path / "settings.json").load()
    assert reloaded.profiles == (profile,)
    assert reloaded.active_profile_id == profile.id


def test_none_keeps_the_key_and_empty_deletes_it(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    profile = _profile()

    async def body(service: ProfileService) -> None:
        await service.save(profile, KEY)
        renamed = replace(profile, name="Renamed", rpm_limit=5)
        await service.save(renamed)
        assert await service.api_key(profile.id) == KEY
        assert service.profiles() == [renamed]
        await service.save(renamed, "")
        assert await service.api_key(profile.id) is None

    _run(tmp_path, body)
    assert memory_keyring.store == {}


def test_duplicate_copies_the_key_and_delete_removes_it(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    first, second = _profile("First"), _profile("Second")

    async def body(service: ProfileService) -> None:
        await service.save(first, KEY)
        await service.save(second, OTHER_KEY)
        copy = await service.duplicate(first.id)
        assert re.fullmatch(r"[0-9a-f]{32}", copy.id)
        assert copy.id not in (first.id, second.id)
        assert copy.name == "First (copy)"
        assert copy.base_url == first.base_url
        assert [p.name for p in service.profiles()] == ["First", "First (copy)", "Second"]
        assert await service.api_key(copy.id) == KEY

        assert service.active() == first
        await service.set_active(second.id)
        assert service.active() == second
        await service.delete(second.id)
        assert service.active() == first  # the active profile moved on
        assert await service.api_key(second.id) is None
        await service.delete(first.id)
        assert [p.id for p in service.profiles()] == [copy.id]
        assert service.active() == copy
        with pytest.raises(KeyError):
            await service.set_active(first.id)

    _run(tmp_path, body)
    assert set(memory_keyring.store) == {
        ("bluesdesk", f"{copy_id}:api_key") for copy_id in _ids(tmp_path)
    }


def _ids(tmp_path: Path) -> list[str]:
    return [p.id for p in SettingsStore(tmp_path / "settings.json").load().profiles]


def test_unavailable_keyring_saves_nothing_until_memory_only(tmp_path: Path) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    profile = _profile()
    try:

        async def body(service: ProfileService) -> None:
            with pytest.raises(KeyringUnavailable):
                await service.save(profile, KEY)
            assert service.profiles() == []
            service._keys.use_memory_only()  # what the UI's "this run only" button does
            await service.save(profile, KEY)
            assert await service.api_key(profile.id) == KEY

        _run(tmp_path, body)
    finally:
        keyring.set_keyring(previous)
    assert KEY not in (tmp_path / "settings.json").read_text()


def test_client_without_profiles_is_a_settings_error(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    async def body(service: ProfileService) -> None:
        assert service.active() is None
        with pytest.raises(SettingsError):
            await service.client()

    _run(tmp_path, body)


def test_presets_match_the_gateways() -> None:
    by_kind = {p.kind: p for p in PRESETS}
    assert by_kind[GatewayKind.BLUESMINDS].base_url == "https://api.bluesminds.com/v1"
    assert by_kind[GatewayKind.BLUESMINDS].management_url == "https://api.bluesminds.com"
    assert by_kind[GatewayKind.MINDPROXY].base_url == "https://gateway.mindproxy.ai/v1"
    assert by_kind[GatewayKind.BLUENEXUS].base_url == "https://api.bluenexus.ai/api/v1"
    assert GatewayKind.CUSTOM in by_kind
    a, b = PRESETS[0].to_profile(), PRESETS[0].to_profile()
    assert a.id != b.id


# ---- Against the emulator -----------------------------------------------------------------------


def _emulator_profile(emulator: Any) -> GatewayProfile:
    return _profile("Emulator", base_url=emulator.relay_url)


def test_connection_ok(tmp_path: Path, memory_keyring: MemoryKeyring, emulator: Any) -> None:
    from bluesdesk.emulator.accounts import DEMO

    profile = _emulator_profile(emulator)

    async def body(service: ProfileService) -> ConnectionReport:
        return await service.test_connection(profile, DEMO.api_key)

    report = _run(tmp_path, body)
    assert report.model_count > 0
    assert report.model_count == len(report.models)
    assert report.latency_ms > 0
    assert report.request_id
    assert list(report.models) == sorted(report.models)
    forget_secret(DEMO.api_key)


def test_connection_wrong_key(tmp_path: Path, memory_keyring: MemoryKeyring, emulator: Any) -> None:
    profile = _emulator_profile(emulator)

    async def body(service: ProfileService) -> None:
        with pytest.raises(AuthFailed) as info:
            await service.test_connection(profile, KEY)
        assert KEY not in info.value.describe()
        assert info.value.status == 401

    _run(tmp_path, body)


def test_connection_refused(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    import socket

    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    profile = _profile("Nowhere", base_url=f"http://127.0.0.1:{port}/v1")

    async def body(service: ProfileService) -> None:
        with pytest.raises(ConnectionFailed):
            await service.test_connection(profile, KEY)

    _run(tmp_path, body)


def test_saved_profile_client_lists_models(
    tmp_path: Path, memory_keyring: MemoryKeyring, emulator: Any
) -> None:
    from bluesdesk.emulator.accounts import DEMO

    profile = _emulator_profile(emulator)

    async def body(service: ProfileService) -> int:
        await service.save(profile, DEMO.api_key)
        client = await service.client()
        assert client is await service.client(profile)  # pooled, reused
        return len(await list_models(client))

    assert _run(tmp_path, body) > 0
    forget_secret(DEMO.api_key)
