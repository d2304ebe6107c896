"""What the model pickers ask the catalog: `favourite_ids` and `models_for` (favourites first),
against the BluesMinds emulator with favourites in a real SQLite file."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bluesdesk.core.capabilities import Capability
from bluesdesk.core.models import GatewayKind, GatewayProfile
from bluesdesk.core.redact import forget_secret
from bluesdesk.emulator import Flavor
from bluesdesk.emulator.accounts import DEMO
from bluesdesk.services.catalog import CatalogService
from bluesdesk.store import Database, ModelCache
from bluesdesk.ui.models.memory_cache import MemoryModelCache
from tests.integration.conftest import EmulatorFleet
from tests.integration.services.account_rig import saved_profile

T = TypeVar("T")


@pytest.fixture(autouse=True)
def _keyring(memory_keyring: Any) -> Iterator[None]:
    yield
    forget_secret(DEMO.api_key)


def run(
    tmp_path: Path,
    profile: GatewayProfile,
    body: Callable[[CatalogService], Awaitable[T]],
    *,
    with_db: bool = True,
) -> T:
    async def main() -> T:
        profiles, pool = await saved_profile(tmp_path, profile)
        db = await Database.open(tmp_path / "bluesdesk.db")
        cache = ModelCache(db) if with_db else MemoryModelCache()
        try:
            return await body(CatalogService(profiles, cache))
        finally:
            await pool.aclose()
            await db.close()

    return asyncio.run(main())


def bluesminds(emulators: EmulatorFleet) -> GatewayProfile:
    server = emulators.get(Flavor.BLUESMINDS)
    return GatewayProfile(
        id="p1", name="BluesMinds", base_url=server.relay_url, kind=GatewayKind.BLUESMINDS
    )


def test_models_for_lists_favourites_first_and_filters_by_capability(
    tmp_path: Path, emulators: EmulatorFleet
) -> None:
    profile = bluesminds(emulators)

    async def body(catalog: CatalogService) -> None:
        assert await catalog.models_for(profile) == []  # never fetched: nothing, no error
        assert await catalog.favourite_ids(profile) == set()
        await catalog.refresh(profile)
        for model in ("o3", "gpt-image-1", "claude-haiku-4-5"):
            await catalog.set_favourite(profile, model, True)

        every = [m.id for m in await catalog.models_for(profile)]
        assert every[:3] == ["claude-haiku-4-5", "gpt-image-1", "o3"]  # starred, by id
        assert every[3:] == sorted(every[3:], key=str.lower)  # then the rest, by id
        assert every == [m.id for m in await catalog.models(profile)]

        images = await catalog.models_for(profile, "image_generation")
        ids = [m.id for m in images]
        assert ids[0] == "gpt-image-1"
        assert {"dall-e-3", "dall-e-2", "gemini-2.5-flash-image"} <= set(ids)
        assert "o3" not in ids and "gpt-4o" not in ids
        assert all(Capability.IMAGE_GENERATION in m.capabilities for m in images)

        speech = [m.id for m in await catalog.models_for(profile, Capability.SPEECH)]
        assert "tts-1" in speech and "whisper-1" not in speech

        with pytest.raises(ValueError):
            await catalog.models_for(profile, "telepathy")

    run(tmp_path, profile, body)


def test_favourite_ids_is_a_copy_and_persists_in_the_database(
    tmp_path: Path, emulators: EmulatorFleet
) -> None:
    profile = bluesminds(emulators)

    async def first(catalog: CatalogService) -> None:
        await catalog.set_favourite(profile, "gpt-4o", True)
        await catalog.set_favourite(profile, "o3", True)
        await catalog.set_favourite(profile, "o3", False)
        ids = await catalog.favourite_ids(profile)
        assert ids == {"gpt-4o"}
        ids.add("mutated")  # the caller's copy; the service is not changed by it
        assert await catalog.favourite_ids(profile) == {"gpt-4o"}

    run(tmp_path, profile, first)

    async def second(catalog: CatalogService) -> set[str]:
        # A fresh service over the same file: the stars come from the favourites table.
        return await catalog.favourite_ids(profile)

    assert run(tmp_path, profile, second) == {"gpt-4o"}

    async def forget(catalog: CatalogService) -> None:
        await catalog.forget(profile)  # a deleted profile takes its stars with it

    run(tmp_path, profile, forget)
    assert run(tmp_path, profile, second) == set()


def test_without_a_database_favourites_last_for_the_session(
    tmp_path: Path, emulators: EmulatorFleet
) -> None:
    profile = bluesminds(emulators)

    async def body(catalog: CatalogService) -> None:
        await catalog.refresh(profile)
        await catalog.set_favourite(profile, "tts-1", True)
        assert await catalog.favourite_ids(profile) == {"tts-1"}
        picked = await catalog.models_for(profile, "speech")
        assert picked[0].id == "tts-1"

    run(tmp_path, profile, body, with_db=False)

    async def later(catalog: CatalogService) -> set[str]:
        return await catalog.favourite_ids(profile)

    assert run(tmp_path, profile, later, with_db=False) == set()
