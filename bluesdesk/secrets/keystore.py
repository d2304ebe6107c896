"""API keys and session tokens in the OS keyring, one entry per profile and kind.

Entries live under the service name ``bluesdesk`` with the user name ``<profile_id>:<kind>``.
keyring's backends block (Secret Service is D-Bus round trips, and may pop up an unlock prompt),
so every call runs in a worker thread through `asyncio.to_thread`.

There is never a plaintext fallback. With no usable backend every call raises
`KeyringUnavailable`; the UI may then call `use_memory_only()` and the keys are kept in this
process's memory for this run only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import keyring
import keyring.backend
import keyring.errors
from keyring.backends import chainer, fail

from bluesdesk.core.redact import register_secret
from bluesdesk.errors import KeyringUnavailable

log = logging.getLogger(__name__)

SERVICE = "bluesdesk"
T = TypeVar("T")


def _backend_failures() -> tuple[type[BaseException], ...]:
    """What a keyring backend raises when the keyring, not our code, is at fault."""
    kinds: list[type[BaseException]] = [keyring.errors.KeyringError, OSError]
    try:  # Secret Service's own errors (a dead daemon, a dismissed prompt) are not KeyringErrors.
        from secretstorage.exceptions import SecretStorageException

        kinds.append(SecretStorageException)
    except ImportError:  # pragma: no cover - secretstorage is only present on Linux
        pass
    try:
        from jeepney.wrappers import DBusErrorResponse

        kinds.append(DBusErrorResponse)
    except ImportError:  # pragma: no cover
        pass
    return tuple(kinds)


_FAILURES = _backend_failures()


def backend_usable(backend: keyring.backend.KeyringBackend) -> bool:
    """False for keyring's "fail"/"null" backends, an empty chain, and plaintext file stores."""
    if isinstance(backend, chainer.ChainerBackend):
        return any(backend_usable(b) for b in backend.backends)
    if isinstance(backend, fail.Keyring):
        return False
    module = type(backend).__module__
    # keyrings.alt writes keys to disk in plaintext (or weakly encrypted); null stores nothing.
    return not (module.startswith("keyrings.alt") or module == "keyring.backends.null")


def _username(profile_id: str, kind: str) -> str:
    return f"{profile_id}:{kind}"


class KeyStore:
    """Secrets by profile id and kind (``api_key``, ``session``, …), off the event loop."""

    def __init__(self, service: str = SERVICE) -> None:
        self.service = service
        self.memory_only = False
        self._memory: dict[tuple[str, str], str] = {}

    def use_memory_only(self) -> None:
        """Keep secrets in memory for this run only (the user chose so after KeyringUnavailable)."""
        self.memory_only = True

    async def get(self, profile_id: str, kind: str = "api_key") -> str | None:
        if self.memory_only:
            secret = self._memory.get((profile_id, kind))
        else:
            secret = await self._call(
                lambda kr: kr.get_password(self.service, _username(profile_id, kind))
            )
        if secret:
            register_secret(secret)
        return secret

    async def set(self, profile_id: str, secret: str, kind: str = "api_key") -> None:
        register_secret(secret)
        if self.memory_only:
            self._memory[(profile_id, kind)] = secret
            return
        await self._call(
            lambda kr: kr.set_password(self.service, _username(profile_id, kind), secret)
        )

    async def delete(self, profile_id: str, kind: str = "api_key") -> None:
        """Remove a secret; removing one that is not there is not an error."""
        if self.memory_only:
            self._memory.pop((profile_id, kind), None)
            return

        def remove(kr: keyring.backend.KeyringBackend) -> None:
            try:
                kr.delete_password(self.service, _username(profile_id, kind))
            except keyring.errors.PasswordDeleteError:
                # Backends raise this for "no such entry" as well as for real failures; tell
                # them apart by looking the entry up again.
                if kr.get_password(self.service, _username(profile_id, kind)) is not None:
                    raise

        await self._call(remove)

    async def check(self) -> bool:
        """Is a usable backend present (and unlocked)? Never raises."""
        if self.memory_only:
            return True
        try:
            await self._call(lambda kr: kr.get_password(self.service, "__bluesdesk_probe__"))
        except KeyringUnavailable as exc:
            log.info("keyring unusable: %s", exc)
            return False
        return True

    async def _call(self, op: Callable[[keyring.backend.KeyringBackend], T]) -> T:
        return await asyncio.to_thread(self._run, op)

    def _run(self, op: Callable[[keyring.backend.KeyringBackend], T]) -> T:
        """Runs in a worker thread: resolve the backend at call time, map its failures."""
        backend: Any = keyring.get_keyring()
        if not backend_usable(backend):
            raise KeyringUnavailable(
                f"No usable system keyring was found (backend: {type(backend).__name__})."
            )
        try:
            return op(backend)
        except keyring.errors.KeyringLocked as exc:
            raise KeyringUnavailable(
                f"The system keyring is locked: {exc}",
                hint="Unlock your keyring (log in to the desktop session) and try again, "
                "or keep the key in memory for this run only.",
            ) from None
        except _FAILURES as exc:
            raise KeyringUnavailable(
                f"The system keyring failed: {type(exc).__name__}: {exc}"
            ) from None
