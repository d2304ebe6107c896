"""Async image tasks through ImageService against the emulator: to completion, and cancelled."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from PIL import Image

from bluesdesk.core.models import GatewayProfile
from bluesdesk.core.retry import RetryPolicy
from bluesdesk.emulator import EmulatorServer, Flavor
from bluesdesk.emulator.accounts import DEMO
from bluesdesk.errors import BadRequest
from bluesdesk.gateway import GatewayClient
from bluesdesk.services.images import ImageService, TaskRequest, TaskState
from bluesdesk.store.db import Database
from tests.integration.conftest import EmulatorFleet

FAST = RetryPolicy(max_retries=1, base_delay=0.0, max_delay=0.0, jitter=0.0)


@pytest.fixture
def server(emulators: EmulatorFleet) -> EmulatorServer:
    return emulators.get(Flavor.BLUESMINDS)


async def open_service(tmp_path: Path, server: EmulatorServer):
    db = await Database.open(tmp_path / "bluesdesk.db")
    profile = GatewayProfile(id="emu", name="Emulator", base_url=server.relay_url)
    client = GatewayClient(profile, DEMO.api_key, policy=FAST)
    return db, client, ImageService(db, tmp_path / "media")


def test_task_runs_to_completion_and_lands_in_the_gallery(tmp_path, server):
    request = TaskRequest(
        model="mj-imagine", prompt="A castle in fog", size="256x256", extra={"duration_s": 0.6}
    )
    seen: list[TaskState] = []

    async def main():
        db, client, service = await open_service(tmp_path, server)
        try:
            state, made = await service.run_task(
                client, request, on_update=seen.append, price_per_image=0.1, poll_wait=0.2,
                min_interval=0.0,
            )  # fmt: skip
            return state, made, await service.gallery()
        finally:
            await client.aclose()
            await db.close()

    state, made, gallery = asyncio.run(main())
    assert state.status == "succeeded" and state.progress == 100
    assert seen[0].status in ("queued", "in_progress") and seen[-1] == state
    progress = [s.progress for s in seen]
    assert progress == sorted(progress), "progress never goes back"
    assert len(made) == 1 and gallery == made
    record = made[0]
    assert record.model == "mj-imagine" and record.prompt == "A castle in fog"
    assert record.params["task_id"] == state.id and record.cost == pytest.approx(0.1)
    with Image.open(tmp_path / "media" / record.path) as img:
        assert img.format == "PNG" and img.size == (256, 256)


def test_cancelled_task_keeps_nothing(tmp_path, server):
    request = TaskRequest(model="mj-imagine", prompt="Never mind", extra={"duration_s": 30})

    async def main():
        db, client, service = await open_service(tmp_path, server)
        started = asyncio.Event()
        task_ids: list[str] = []

        def on_update(state: TaskState) -> None:
            task_ids.append(state.id)
            started.set()

        try:
            running = asyncio.ensure_future(
                service.run_task(client, request, on_update=on_update, poll_wait=0.2)
            )
            await started.wait()
            cancelled = await service.cancel_task(client, task_ids[0])
            final, made = await running
            again = await service.cancel_task(client, task_ids[0])  # harmless twice
            return cancelled, final, made, again, await service.gallery()
        finally:
            await client.aclose()
            await db.close()

    cancelled, final, made, again, gallery = asyncio.run(main())
    assert cancelled.status == "cancelled" and final.status == "cancelled"
    assert again.status == "cancelled"
    assert made == [] and gallery == []
    assert not (tmp_path / "media" / "images").exists()


def test_failed_task_reports_the_gateway_reason(tmp_path, server):
    request = TaskRequest(model="mj-imagine", prompt="please fail", extra={"duration_s": 0.2})

    async def main():
        db, client, service = await open_service(tmp_path, server)
        try:
            # The gateway's answer carries an error object, so the client raises it typed.
            with pytest.raises(BadRequest) as caught:
                await service.run_task(client, request, poll_wait=0.5, min_interval=0.0)
            return caught.value, await service.gallery()
        finally:
            await client.aclose()
            await db.close()

    error, gallery = asyncio.run(main())
    assert "failed while generating" in error.user_message and gallery == []


def test_a_model_without_tasks_is_refused(tmp_path, server):
    async def main():
        db, client, service = await open_service(tmp_path, server)
        try:
            with pytest.raises(BadRequest) as caught:
                await service.submit_task(client, TaskRequest(model="gpt-4o", prompt="x"))
            return caught.value
        finally:
            await client.aclose()
            await db.close()

    assert "does not run async tasks" in asyncio.run(main()).user_message
