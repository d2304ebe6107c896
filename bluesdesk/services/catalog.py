"""The model catalog per profile: fetched from the gateway, cached in SQLite, priced per group.

`refresh(profile)` asks the gateway for everything it will tell: `GET /v1/models` (required),
`GET /v1beta/models`, and on new-api gateways `/api/status` + `/api/pricing`, plus
`/api/user/models` + `/api/user/self/groups` when a console login is known. Only the relay list
is essential: a missing, HTML, 404 or `success:false` optional route leaves a note and the
models it would have described as "price unknown". A transient failure (network, 5xx, 429) of
an optional route keeps that part of the previous refresh instead.

What the gateway sent is stored as is (`RawCatalog`) in the `model_cache` table under
`catalog:<profile id>`, so `models()` answers at once and offline, and a better merge applies to
old data. Favourites live in the `favourites` table (`store.favourites`); pickers ask
`favourite_ids(profile)` or `models_for(profile, capability)`, which lists favourites first.

Prices are for the group of the active key (`set_key_group`; "default" until told otherwise).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from bluesdesk.core.capabilities import Capability
from bluesdesk.core.catalog_filter import FilterRow, make_rows
from bluesdesk.core.catalog_model import (
    DEFAULT_GROUP,
    CatalogModel,
    CatalogSnapshot,
    RawCatalog,
    merge_catalog,
)
from bluesdesk.core.models import ApiStyle, GatewayKind, GatewayProfile
from bluesdesk.core.pricing import Estimate, Price
from bluesdesk.core.pricing import estimate as estimate_cost
from bluesdesk.errors import (
    BadResponse,
    BluesdeskError,
    ConnectionFailed,
    GatewayError,
    RateLimited,
    ServerError,
    SettingsError,
)
from bluesdesk.gateway.console import Console, ConsoleAuth
from bluesdesk.gateway.http import GatewayClient
from bluesdesk.store.db import Database
from bluesdesk.store.favourites import FavouriteStore
from bluesdesk.store.model_cache import ModelCache

log = logging.getLogger(__name__)

T = TypeVar("T")

# Gateways that are not new-api: no /api console to ask.
_NO_CONSOLE = frozenset({GatewayKind.MINDPROXY, GatewayKind.BLUENEXUS})


class ClientSource(Protocol):
    """What the catalog needs from the profile service (`ProfileService` fits)."""

    def active(self) -> GatewayProfile | None: ...

    async def client(self, profile: GatewayProfile | None = None) -> GatewayClient: ...


class Favourites(Protocol):
    """Where stars are kept (`store.favourites.FavouriteStore` fits)."""

    async def ids(self, profile_id: str) -> frozenset[str]: ...

    async def set(self, profile_id: str, model_id: str, starred: bool) -> None: ...

    async def forget(self, profile_id: str) -> None: ...


class MemoryFavourites:
    """Stars for this session only: for a catalog whose cache has no database."""

    def __init__(self) -> None:
        self._ids: dict[str, set[str]] = {}

    async def ids(self, profile_id: str) -> frozenset[str]:
        return frozenset(self._ids.get(profile_id, ()))

    async def set(self, profile_id: str, model_id: str, starred: bool) -> None:
        found = self._ids.setdefault(profile_id, set())
        if starred:
            found.add(model_id)
        else:
            found.discard(model_id)

    async def forget(self, profile_id: str) -> None:
        self._ids.pop(profile_id, None)


SessionProvider = Callable[[GatewayProfile], Awaitable[ConsoleAuth | None]]


@dataclass(frozen=True, slots=True)
class RefreshReport:
    model_count: int
    priced_count: int
    fetched_at: float
    notes: tuple[str, ...]


def cache_key(profile_id: str) -> str:
    return f"catalog:{profile_id}"


class CatalogService:
    """Listeners are called with the profile id whenever its catalog or favourites change."""

    def __init__(
        self,
        profiles: ClientSource,
        cache: ModelCache,
        *,
        sessions: SessionProvider | None = None,
        clock: Callable[[], float] = time.time,
        favourites: Favourites | None = None,
    ) -> None:
        self._profiles = profiles
        self._cache = cache
        if favourites is None:
            # Stars go to the cache's database; a cache without one keeps them for the session.
            db = getattr(cache, "db", None)
            favourites = FavouriteStore(db) if isinstance(db, Database) else MemoryFavourites()
        self._stars: Favourites = favourites
        self._sessions = sessions
        self._clock = clock
        self._snapshots: dict[str, CatalogSnapshot] = {}
        self._raw: dict[str, RawCatalog] = {}
        self._favourites: dict[str, frozenset[str]] = {}
        self._key_groups: dict[str, str] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.listeners: list[Callable[[str], None]] = []

    # ---- Reading (cache first) ------------------------------------------------------------

    async def snapshot(self, profile: GatewayProfile | None = None) -> CatalogSnapshot | None:
        """The catalog as last fetched (memory, else the SQLite cache); None if never fetched."""
        profile = self._resolve(profile)
        found = self._snapshots.get(profile.id)
        if found is not None:
            return found
        raw = await self._load_raw(profile.id)
        if raw is None:
            return None
        snapshot = await asyncio.to_thread(merge_catalog, raw)  # ~0.2 s for 5,000 models
        self._snapshots.setdefault(profile.id, snapshot)
        await self.favourites(profile)
        return self._snapshots[profile.id]

    async def models(self, profile: GatewayProfile | None = None) -> list[CatalogModel]:
        """Every model, favourites first, then by id. Empty if the catalog was never fetched."""
        profile = self._resolve(profile)
        snapshot = await self.snapshot(profile)
        if snapshot is None:
            return []
        starred = await self.favourites(profile)
        return sorted(snapshot.models, key=lambda m: (m.id not in starred, m.id.lower()))

    async def favourite_ids(self, profile: GatewayProfile | None = None) -> set[str]:
        """The ids of the profile's favourite models (for pickers; a fresh, mutable set)."""
        return set(await self.favourites(profile))

    async def models_for(
        self, profile: GatewayProfile | None = None, capability: str | None = None
    ) -> list[CatalogModel]:
        """The models a picker offers: favourites first, then by id; with `capability` (a
        `Capability` value such as "image_generation") only the models known to have it, plus
        those whose capabilities are unknown altogether (a bare /v1/models gateway says
        nothing, and the user knows best). Empty if the catalog was never fetched."""
        found = await self.models(profile)
        if capability is None:
            return found
        wanted = Capability(capability)
        return [m for m in found if wanted in m.capabilities or not m.capabilities]

    async def last_refreshed(self, profile: GatewayProfile | None = None) -> float | None:
        snapshot = await self.snapshot(profile)
        return snapshot.fetched_at if snapshot is not None else None

    def loaded(self, profile: GatewayProfile | None = None) -> CatalogSnapshot | None:
        """The snapshot already in memory (after `snapshot`, `models` or `refresh`), no I/O."""
        return self._snapshots.get(self._resolve(profile).id)

    # ---- Prices (synchronous: from the loaded snapshot) -----------------------------------

    def key_group(self, profile: GatewayProfile | None = None) -> str:
        return self._key_groups.get(self._resolve(profile).id, DEFAULT_GROUP)

    def set_key_group(self, profile: GatewayProfile, group: str) -> None:
        """The group of the profile's API key (from the key list); "" = the default group."""
        self._key_groups[profile.id] = group or DEFAULT_GROUP
        self._notify(profile.id)

    def price(
        self, model: str, group: str | None = None, *, profile: GatewayProfile | None = None
    ) -> Price | None:
        """The effective price of `model` in `group` (default: the key's group), or None when
        it is unknown: not loaded, not priced by the gateway, or not enabled in that group."""
        profile = self._resolve(profile)
        snapshot = self._snapshots.get(profile.id)
        if snapshot is None:
            return None
        return snapshot.price(model, group or self.key_group(profile))

    def estimate(
        self,
        model: str,
        prompt_tokens: int,
        max_output_tokens: int,
        *,
        group: str | None = None,
        profile: GatewayProfile | None = None,
    ) -> Estimate | None:
        price = self.price(model, group, profile=profile)
        return None if price is None else estimate_cost(price, prompt_tokens, max_output_tokens)

    def rows(self, profile: GatewayProfile | None = None) -> list[FilterRow]:
        """Filter rows for the loaded catalog, priced in the key's group (for the Models pane)."""
        profile = self._resolve(profile)
        snapshot = self._snapshots.get(profile.id)
        if snapshot is None:
            return []
        group = self.key_group(profile)
        prices = {m.id: snapshot.price(m.id, group) for m in snapshot.models}
        return make_rows(snapshot.models, prices, self._favourites.get(profile.id, frozenset()))

    # ---- Favourites -------------------------------------------------------------------------

    async def favourites(self, profile: GatewayProfile | None = None) -> frozenset[str]:
        profile = self._resolve(profile)
        found = self._favourites.get(profile.id)
        if found is None:
            found = await self._stars.ids(profile.id)
            self._favourites.setdefault(profile.id, found)
        return self._favourites[profile.id]

    async def set_favourite(self, profile: GatewayProfile, model: str, starred: bool) -> None:
        current = set(await self.favourites(profile))
        if starred:
            current.add(model)
        else:
            current.discard(model)
        await self._stars.set(profile.id, model, starred)
        self._favourites[profile.id] = frozenset(current)
        self._notify(profile.id)

    async def forget(self, profile: GatewayProfile) -> None:
        """Drop a deleted profile's cached catalog and favourites."""
        await self._cache.forget(cache_key(profile.id))
        await self._stars.forget(profile.id)
        for table in (self._snapshots, self._raw, self._favourites, self._key_groups):
            table.pop(profile.id, None)

    # ---- Refreshing -------------------------------------------------------------------------

    async def refresh(self, profile: GatewayProfile | None = None) -> RefreshReport:
        """Fetch the catalog now. Raises the relay list's `GatewayError` (the cache is kept)."""
        profile = self._resolve(profile)
        lock = self._locks.setdefault(profile.id, asyncio.Lock())
        async with lock:
            previous = self._raw.get(profile.id) or await self._load_raw(profile.id)
            raw = await self._fetch(profile, previous)
            snapshot = await asyncio.to_thread(merge_catalog, raw)
            await self._cache.put(cache_key(profile.id), [raw.to_json()], fetched_at=raw.fetched_at)
            self._raw[profile.id] = raw
            self._snapshots[profile.id] = snapshot
        await self.favourites(profile)
        self._notify(profile.id)
        priced = (
            sum(1 for m in snapshot.models if m.pricing is not None) if snapshot.settings else 0
        )
        log.info(
            "catalog of %r: %d models, %d priced, %d notes",
            profile.name,
            len(snapshot.models),
            priced,
            len(snapshot.notes),
        )
        return RefreshReport(len(snapshot.models), priced, snapshot.fetched_at, snapshot.notes)

    async def _fetch(self, profile: GatewayProfile, previous: RawCatalog | None) -> RawCatalog:
        client = await self._profiles.client(profile)
        notes: list[str] = []
        relay = await _relay_models(client)
        gemini = await self._optional(
            "the Gemini model list", _gemini_models(client), notes, None, quiet=True
        )
        status: Mapping[str, Any] | None = None
        pricing: Mapping[str, Any] | None = None
        user_models: list[Any] | None = None
        self_groups: Mapping[str, Any] | None = None
        if profile.kind not in _NO_CONSOLE:
            auth = await self._session(profile, notes)
            console = Console(client, auth)
            status, pricing = await asyncio.gather(
                self._optional(
                    "/api/status", console.status(), notes, previous.status if previous else None
                ),
                self._optional(
                    "/api/pricing",
                    console.pricing(),
                    notes,
                    previous.pricing if previous else None,
                ),
            )
            if auth is not None:
                user_models, self_groups = await asyncio.gather(
                    self._optional(
                        "/api/user/models",
                        console.user_models(),
                        notes,
                        previous.user_models if previous else None,
                    ),
                    self._optional(
                        "/api/user/self/groups",
                        console.self_groups(),
                        notes,
                        previous.self_groups if previous else None,
                    ),
                )
        if pricing is None and not any("pricing" in n for n in notes):
            notes.append("This gateway publishes no prices; they are shown as unknown.")
        return RawCatalog(
            relay_models=relay,
            gemini_models=gemini,
            pricing=pricing,
            status=status,
            user_models=user_models,
            self_groups=self_groups,
            fetched_at=self._clock(),
            notes=tuple(notes),
        )

    async def _session(self, profile: GatewayProfile, notes: list[str]) -> ConsoleAuth | None:
        """The console login, if any; an unreadable one means "anonymous", with a note."""
        if self._sessions is None:
            return None
        try:
            return await self._sessions(profile)
        except BluesdeskError as exc:
            notes.append(f"Console login unavailable: {exc.user_message}")
            return None

    @staticmethod
    async def _optional(
        what: str,
        call: Awaitable[T],
        notes: list[str],
        fallback: T | None,
        *,
        quiet: bool = False,
    ) -> T | None:
        """`await call`, or on a gateway error a note and: the previous value if the failure is
        transient, else None."""
        try:
            return await call
        except GatewayError as exc:
            transient = isinstance(exc, ConnectionFailed | ServerError | RateLimited)
            log.info("catalog: %s unavailable (%s): %s", what, type(exc).__name__, exc)
            if transient and fallback is not None:
                notes.append(f"{what} could not be fetched; kept the previous copy.")
                return fallback
            if not quiet:
                notes.append(f"{what} unavailable: {exc.user_message}")
            return None

    # ---- Internals --------------------------------------------------------------------------

    def _resolve(self, profile: GatewayProfile | None) -> GatewayProfile:
        found = profile or self._profiles.active()
        if found is None:
            raise SettingsError(
                "No gateway profile is set up yet.",
                hint="Add a gateway in Settings, or start the demo.",
            )
        return found

    async def _load_raw(self, profile_id: str) -> RawCatalog | None:
        stored = await self._cache.get(cache_key(profile_id))
        if stored is None or len(stored.items) != 1:
            return None
        raw = RawCatalog.from_json(stored.items[0])
        if raw is not None:
            self._raw.setdefault(profile_id, raw)
        return raw

    def _notify(self, profile_id: str) -> None:
        for listener in list(self.listeners):
            listener(profile_id)


async def _relay_models(client: GatewayClient) -> list[Any]:
    """GET /models as JSON items: the OpenAI list object, or the bare array old servers send."""
    data, meta = await client.request_json("GET", "models")
    items = data.get("data") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise BadResponse(
            "The gateway's model list is not in the expected format.",
            profile=client.profile.name,
            request_id=meta.request_id,
        )
    return items


async def _gemini_models(client: GatewayClient) -> list[Any]:
    data, meta = await client.request_json("GET", "/v1beta/models", style=ApiStyle.GEMINI)
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, list):
        raise BadResponse(
            "The gateway's Gemini model list is not in the expected format.",
            profile=client.profile.name,
            request_id=meta.request_id,
        )
    return models
