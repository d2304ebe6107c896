"""KeyStore against keyring backends selected through keyring's documented `set_keyring`."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from typing import Any

import keyring
import pytest
from keyring.backends import chainer, fail

from bluesdesk.core.redact import forget_secret, redact_known
from bluesdesk.errors import KeyringUnavailable
from bluesdesk.secrets import KeyStore, backend_usable
from tests.helpers.memkeyring import MemoryKeyring

KEY = "sk-" + "k" * 48


@pytest.fixture
def forget_key() -> Iterator[None]:
    yield
    forget_secret(KEY)


@pytest.fixture
def failing_keyring() -> Iterator[Any]:
    previous = keyring.get_keyring()
    backend = fail.Keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


def test_set_get_delete(memory_keyring: MemoryKeyring, forget_key: None) -> None:
    store = KeyStore()

    async def scenario() -> None:
        assert await store.get("p1") is None
        await store.set("p1", KEY)
        await store.set("p1", "session-token-value", kind="session")
        assert await store.get("p1") == KEY
        assert await store.get("p1", "session") == "session-token-value"
        await store.delete("p1")
        assert await store.get("p1") is None
        assert await store.get("p1", "session") == "session-token-value"
        await store.delete("p1")  # deleting what is not there is fine

    asyncio.run(scenario())
    # The naming scheme other tools (and the user's keyring manager) see.
    assert memory_keyring.store == {("bluesdesk", "p1:session"): "session-token-value"}


def test_keys_are_registered_for_redaction(memory_keyring: MemoryKeyring) -> None:
    secret = "plain-session-token-1234567"
    memory_keyring.store[("bluesdesk", "p9:session")] = secret
    try:
        assert asyncio.run(KeyStore().get("p9", "session")) == secret
        assert secret not in redact_known(f"token={secret} in a message")
    finally:
        forget_secret(secret)


def test_failing_backend_raises_keyring_unavailable(failing_keyring: Any) -> None:
    store = KeyStore()
    with pytest.raises(KeyringUnavailable) as info:
        asyncio.run(store.set("p1", KEY))
    assert KEY not in str(info.value)
    with pytest.raises(KeyringUnavailable):
        asyncio.run(store.get("p1"))
    assert asyncio.run(store.check()) is False
    forget_secret(KEY)


def test_memory_only_after_unavailable(failing_keyring: Any, forget_key: None) -> None:
    store = KeyStore()
    store.use_memory_only()
    assert store.memory_only

    async def scenario() -> None:
        assert await store.check() is True
        await store.set("p1", KEY)
        assert await store.get("p1") == KEY
        await store.delete("p1")
        assert await store.get("p1") is None

    asyncio.run(scenario())
    # A second store (the next run) sees nothing: the key never left this process.
    with pytest.raises(KeyringUnavailable):
        asyncio.run(KeyStore().get("p1"))


def test_check_true_with_a_working_backend(memory_keyring: MemoryKeyring) -> None:
    assert asyncio.run(KeyStore().check()) is True


class _LockedKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")


def test_locked_keyring_is_unavailable() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(_LockedKeyring())
    try:
        with pytest.raises(KeyringUnavailable, match="locked"):
            asyncio.run(KeyStore().get("p1"))
        assert asyncio.run(KeyStore().check()) is False
    finally:
        keyring.set_keyring(previous)


def test_backend_usable() -> None:
    assert not backend_usable(fail.Keyring())
    assert backend_usable(MemoryKeyring())
    empty_chain = chainer.ChainerBackend()
    assert backend_usable(empty_chain) == any(backend_usable(b) for b in empty_chain.backends)


@pytest.mark.skipif(shutil.which("dbus-run-session") is None, reason="no dbus-run-session")
@pytest.mark.skipif(
    os.environ.get("BLUESDESK_SECRET_SERVICE") != "1",
    reason="needs the private D-Bus session with an unlocked gnome-keyring (make test)",
)
def test_real_secret_service(forget_key: None) -> None:
    from keyring.backends import SecretService

    backend = SecretService.Keyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    profile = "secret-service-test"
    try:
        backend.set_password("bluesdesk", f"{profile}:api_key", KEY)
        store = KeyStore()
        assert asyncio.run(store.check()) is True
        assert asyncio.run(store.get(profile)) == KEY
        asyncio.run(store.set(profile, KEY + "2"))
        assert backend.get_password("bluesdesk", f"{profile}:api_key") == KEY + "2"
        asyncio.run(store.delete(profile))
        assert backend.get_password("bluesdesk", f"{profile}:api_key") is None
    finally:
        keyring.set_keyring(previous)
        forget_secret(KEY + "2")
