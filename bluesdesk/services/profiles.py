"""Gateway profiles: listed in the settings file, keys in the keyring, and a connection test.

A profile's key is written only to the `KeyStore`, under the profile's id; the settings file never
sees it. Every change calls the `listeners` so the UI can refresh.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

from bluesdesk.core.models import ApiStyle, GatewayKind, GatewayProfile
from bluesdesk.core.redact import register_secret
from bluesdesk.errors import SettingsError
from bluesdesk.gateway import GatewayClient, GatewayPool, list_models
from bluesdesk.secrets.keystore import KeyStore
from bluesdesk.settings import Settings, SettingsStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ProfilePreset:
    """A known gateway: fills in the profile form."""

    label: str
    kind: GatewayKind
    base_url: str
    management_url: str = ""
    api_style: ApiStyle = ApiStyle.OPENAI
    rpm_limit: int = 0
    styles: tuple[ApiStyle, ...] = (ApiStyle.OPENAI,)  # the API styles the gateway serves
    note: str = ""

    def to_profile(self, name: str = "", base_url: str = "") -> GatewayProfile:
        return GatewayProfile(
            id=new_profile_id(),
            name=name or self.label,
            base_url=base_url or self.base_url,
            kind=self.kind,
            management_url=self.management_url,
            api_style=self.api_style,
            rpm_limit=self.rpm_limit,
        )


PRESETS: tuple[ProfilePreset, ...] = (
    ProfilePreset(
        label="BluesMinds",
        kind=GatewayKind.BLUESMINDS,
        base_url="https://api.bluesminds.com/v1",
        management_url="https://api.bluesminds.com",
        rpm_limit=20,  # the Free plan; paid plans allow more
        note="new-api based; account and usage under /api.",
    ),
    ProfilePreset(
        label="MindProxy",
        kind=GatewayKind.MINDPROXY,
        base_url="https://gateway.mindproxy.ai/v1",
        rpm_limit=60,
        styles=(ApiStyle.OPENAI, ApiStyle.CLAUDE, ApiStyle.GEMINI),
        note="OpenAI, Claude and Gemini wire styles.",
    ),
    ProfilePreset(
        label="BlueNexus",
        kind=GatewayKind.BLUENEXUS,
        base_url="https://api.bluenexus.ai/api/v1",
        rpm_limit=30,
        note="OpenAI surface under /api/v1.",
    ),
    ProfilePreset(
        label="Custom OpenAI-compatible",
        kind=GatewayKind.CUSTOM,
        base_url="http://127.0.0.1:8000/v1",
        note="Any OpenAI-compatible base URL, e.g. a local server.",
    ),
)


def new_profile_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class ConnectionReport:
    model_count: int
    latency_ms: float
    request_id: str
    models: tuple[str, ...]


class ProfileService:
    """Create, edit, duplicate and delete gateway profiles; hand out clients with their keys.

    Works on `settings.current`, so the composition root calls `settings.load()` first.
    """

    def __init__(self, settings: SettingsStore, keys: KeyStore, pool: GatewayPool) -> None:
        self._settings = settings
        self._keys = keys
        self._pool = pool
        self.listeners: list[Callable[[], None]] = []
        self._lock = asyncio.Lock()  # one profile change at a time: keyring and file stay in step

    # ---- Reading ------------------------------------------------------------------------------

    def profiles(self) -> list[GatewayProfile]:
        return list(self._settings.current.profiles)

    def profile(self, profile_id: str) -> GatewayProfile | None:
        return self._settings.current.profile(profile_id)

    def active(self) -> GatewayProfile | None:
        """The active profile; the first one if the active id is stale; None if there are none."""
        current = self._settings.current
        return current.profile(current.active_profile_id) or next(iter(current.profiles), None)

    async def api_key(self, profile_id: str) -> str | None:
        return await self._keys.get(profile_id)

    async def client(self, profile: GatewayProfile | None = None) -> GatewayClient:
        """The pooled client for `profile` (default: the active one) with its key."""
        profile = profile or self.active()
        if profile is None:
            raise SettingsError(
                "No gateway profile is set up yet.",
                hint="Add a gateway in Settings, or start the demo.",
            )
        return self._pool.client(profile, await self._keys.get(profile.id))

    # ---- Changing -----------------------------------------------------------------------------

    async def save(self, profile: GatewayProfile, api_key: str | None = None) -> None:
        """Add or replace `profile`. `api_key`: None keeps the stored key, "" deletes it.

        The key is stored first: if the keyring fails, nothing has changed and the caller can
        offer "keep for this run only" and save again.
        """
        if not profile.id:
            raise ValueError("a profile needs an id (see new_profile_id)")
        async with self._lock:
            if api_key == "":
                await self._keys.delete(profile.id)
            elif api_key is not None:
                await self._keys.set(profile.id, api_key)

            def change(s: Settings) -> Settings:
                exists = s.profile(profile.id) is not None
                profiles = (
                    tuple(profile if p.id == profile.id else p for p in s.profiles)
                    if exists
                    else (*s.profiles, profile)
                )
                active = s.active_profile_id if s.profile(s.active_profile_id) else profile.id
                return replace(s, profiles=profiles, active_profile_id=active)

            await self._update(change)
        self._notify()

    async def delete(self, profile_id: str) -> None:
        """Remove a profile and its key. The key goes first, so no key is left orphaned."""
        async with self._lock:
            await self._keys.delete(profile_id)
            await self._keys.delete(profile_id, "session")

            def change(s: Settings) -> Settings:
                profiles = tuple(p for p in s.profiles if p.id != profile_id)
                active = s.active_profile_id
                if active == profile_id or not any(p.id == active for p in profiles):
                    active = profiles[0].id if profiles else ""
                return replace(s, profiles=profiles, active_profile_id=active)

            await self._update(change)
        self._notify()

    async def duplicate(self, profile_id: str) -> GatewayProfile:
        """Copy a profile (and its key) under a new id, named "… (copy)"; placed after it."""
        async with self._lock:
            original = self._require(profile_id)
            copy = replace(
                original, id=new_profile_id(), name=f"{original.name} (copy)", demo=False
            )
            key = await self._keys.get(profile_id)
            if key:
                await self._keys.set(copy.id, key)

            def change(s: Settings) -> Settings:
                profiles: list[GatewayProfile] = []
                for p in s.profiles:
                    profiles.append(p)
                    if p.id == profile_id:
                        profiles.append(copy)
                return replace(s, profiles=tuple(profiles))

            await self._update(change)
        self._notify()
        return copy

    async def set_active(self, profile_id: str) -> None:
        async with self._lock:
            self._require(profile_id)
            await self._update(lambda s: replace(s, active_profile_id=profile_id))
        self._notify()

    # ---- Testing ------------------------------------------------------------------------------

    async def test_connection(self, profile: GatewayProfile, api_key: str) -> ConnectionReport:
        """List the gateway's models with `api_key` (which need not be saved yet).

        Uses a client of its own, so testing an edited profile never disturbs the pooled one.
        Raises the gateway layer's `GatewayError` subclasses.
        """
        if api_key:
            register_secret(api_key)
        client = GatewayClient(profile, api_key or None)
        try:
            started = time.perf_counter()
            models = await list_models(client)
            latency_ms = (time.perf_counter() - started) * 1000.0
            request_id = client.last_meta.request_id
        finally:
            await client.aclose()
        log.info(
            "connection test of %r: %d models in %.0f ms", profile.name, len(models), latency_ms
        )
        return ConnectionReport(
            model_count=len(models),
            latency_ms=latency_ms,
            request_id=request_id,
            models=tuple(sorted(m.id for m in models)),
        )

    # ---- Internals ----------------------------------------------------------------------------

    def _require(self, profile_id: str) -> GatewayProfile:
        profile = self._settings.current.profile(profile_id)
        if profile is None:
            raise KeyError(f"no profile with id {profile_id!r}")
        return profile

    async def _update(self, change: Callable[[Settings], Settings]) -> None:
        # The file write includes an fsync; keep it off the event loop.
        await asyncio.to_thread(self._settings.update, change)

    def _notify(self) -> None:
        for listener in list(self.listeners):
            listener()
