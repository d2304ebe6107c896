"""Issue 2 follow-ups over real sockets: single-model lookup, channel create, concurrent
Idempotency-Key, dry runs on multipart routes, bounded served files, tasks and transcripts in
SQLite, refunds of failed tasks and video tasks."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from PIL import Image

from bluesdesk.emulator import EmulatorConfig, EmulatorServer, Flavor
from bluesdesk.emulator.accounts import DEMO, ROOT
from bluesdesk.emulator.blobs import BlobStore
from bluesdesk.emulator.store import Store
from bluesdesk.emulator.transcripts import StoredTranscripts
from tests.emulator.conftest import TEST_ROUTES, key_headers, login, user_row

SPOKEN = "Persisted speech comes back after a restart."


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    """A private server: generous RPM, slow-ish streams, a tiny served-file budget."""
    config = EmulatorConfig(
        flavor=Flavor.BLUESMINDS,
        port=0,
        rpm=100_000,
        tokens_per_second=20,
        blob_max_bytes=1,
        seed_history_days=2,
    )
    with EmulatorServer(config, extra_routes=TEST_ROUTES) as srv:
        yield srv


@pytest.fixture
def http(server: EmulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, headers=key_headers(), timeout=30) as c:
        yield c


def _png(size: tuple[int, int] = (64, 64)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", size, (200, 40, 40, 255)).save(buf, "PNG")
    return buf.getvalue()


# --- GET /v1/models/{id} ---------------------------------------------------------------------


def test_sdk_retrieves_one_model(server: EmulatorServer) -> None:
    with openai.OpenAI(api_key=DEMO.api_key, base_url=server.relay_url, max_retries=0) as c:
        model = c.models.retrieve("gpt-4o")
    assert model.id == "gpt-4o"
    assert model.object == "model"
    assert model.owned_by


def test_unknown_model_is_200_with_model_not_found(http: httpx.Client) -> None:
    for name in ("no-such-model", "gpt-5.1"):  # gpt-5.1 is vip-only: unknown to a default key
        r = http.get(f"/v1/models/{name}")
        assert r.status_code == 200
        err = r.json()["error"]
        assert err["code"] == "model_not_found"
        assert err["message"] == f"The model '{name}' does not exist"


def test_anthropic_shape_for_one_model(server: EmulatorServer) -> None:
    r = httpx.get(
        server.relay_url + "/models/claude-haiku-4-5",
        headers={"x-api-key": DEMO.api_key, "anthropic-version": "2023-06-01"},
    )
    assert r.json()["id"] == "claude-haiku-4-5"
    assert r.json()["type"] == "model"


# --- channels and flow -----------------------------------------------------------------------


def test_channel_create_single_and_batch(server: EmulatorServer) -> None:
    root = login(server, "root")
    before = root.get("/api/channel/").json()["data"]["total"]
    single = {
        "name": "made-here",
        "type": 1,
        "key": "sk-upstream-1",
        "models": "gpt-4o",
        "group": "default",
        "base_url": "https://up.example",
    }
    r = root.post("/api/channel/", json={"mode": "single", "channel": single}).json()
    assert r == {"success": True, "message": ""}
    batch = {"name": "batch", "key": "k1\nk2\n\nk3", "models": "gpt-4o-mini"}
    assert root.post("/api/channel/", json={"mode": "batch", "channel": batch}).json()["success"]
    after = root.get("/api/channel/").json()["data"]["total"]
    assert after == before + 4
    found = root.get("/api/channel/search", params={"keyword": "made-here"}).json()["data"]
    item = found["items"][0]
    assert item["base_url"] == "https://up.example" and item["models"] == "gpt-4o"
    assert "key" not in item
    bad = root.post("/api/channel/", json={"mode": "single", "channel": {"name": "x"}}).json()
    assert bad["success"] is False
    weird = root.post("/api/channel/", json={"mode": "bogus", "channel": single}).json()
    assert weird["success"] is False
    denied = login(server).post("/api/channel/", json={"mode": "single", "channel": single})
    assert denied.json()["success"] is False


def test_channel_update_and_balance(server: EmulatorServer) -> None:
    root = login(server, "root")
    r = root.put("/api/channel/", json={"id": 2, "name": "renamed", "weight": 7}).json()
    assert r["success"] and r["data"]["name"] == "renamed" and r["data"]["weight"] == 7
    assert root.get("/api/channel/2").json()["data"]["name"] == "renamed"
    assert root.put("/api/channel/", json={"id": 99999, "name": "x"}).json()["success"] is False
    balance = root.get("/api/channel/update_balance/2").json()
    assert balance["success"] is True and isinstance(balance["balance"], int | float)
    assert root.get("/api/channel/2").json()["data"]["balance_updated_time"] > 0
    assert root.get("/api/channel/update_balance/99999").json()["success"] is False


def test_data_flow_self_sums_hours_over_models(server: EmulatorServer) -> None:
    demo = login(server)
    now = int(time.time())
    params = {"start_timestamp": now - 2 * 86400, "end_timestamp": now}
    flow = demo.get("/api/data/flow/self", params=params).json()["data"]
    per_model = demo.get("/api/data/self", params=params).json()["data"]
    assert flow, "seeded history should give hourly rows"
    assert sum(r["quota"] for r in flow) == sum(r["quota"] for r in per_model)
    assert len({r["created_at"] for r in flow}) == len(flow)
    too_long = {"start_timestamp": now - 40 * 86400, "end_timestamp": now}
    assert demo.get("/api/data/flow/self", params=too_long).json()["success"] is False


# --- Idempotency-Key while the first request is still running --------------------------------


def test_concurrent_duplicate_waits_and_is_charged_once(server: EmulatorServer) -> None:
    assert server.state is not None
    before = user_row(server, DEMO.id)["request_count"]
    body = {"model": "gpt-4o-mini", "stream": True, "events": 10}
    headers = {**key_headers(), "Idempotency-Key": f"dup-{time.time_ns()}"}

    async def scenario() -> tuple[bytes, httpx.Response, int]:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
            async with client.stream("POST", "/v1/test/echo", json=body, headers=headers) as first:
                lines = first.aiter_lines()
                assert (await anext(lines)).startswith("data: ")
                in_flight = len(server.state.inflight) if server.state else 0
                second = asyncio.ensure_future(
                    client.post("/v1/test/echo", json=body, headers=headers)
                )
                rest = [line async for line in lines]
            duplicate = await second
        text = "\n".join(rest)
        return text.encode(), duplicate, in_flight

    rest, duplicate, in_flight = asyncio.run(scenario())
    assert in_flight == 1  # the key was held while the first stream was still sending
    assert duplicate.status_code == 200
    assert duplicate.headers["idempotent-replayed"] == "true"
    assert duplicate.text.count("data: ") == 11  # ten events and [DONE], all replayed
    assert b"[DONE]" in rest
    assert user_row(server, DEMO.id)["request_count"] == before + 1
    assert not server.state.inflight


def test_duplicate_after_a_failed_first_runs_again(
    http: httpx.Client, server: EmulatorServer
) -> None:
    headers = {"Idempotency-Key": f"retry-{time.time_ns()}"}
    first = http.post("/v1/test/echo", json={"model": "no-such"}, headers=headers)
    assert first.status_code == 404
    second = http.post("/v1/test/echo", json={"model": "no-such"}, headers=headers)
    assert second.status_code == 404 and "idempotent-replayed" not in second.headers
    assert server.state is not None and not server.state.inflight


def test_duplicate_gets_409_when_the_first_outlasts_the_wait() -> None:
    config = EmulatorConfig(
        flavor=Flavor.NEWAPI, tokens_per_second=20, idempotency_wait_s=0.1, seed_history_days=0
    )
    body = {"model": "gpt-4o-mini", "stream": True, "events": 20}  # about a second
    headers = {**key_headers(), "Idempotency-Key": "slow"}

    async def scenario(base: str) -> tuple[httpx.Response, list[str]]:
        async with (
            httpx.AsyncClient(base_url=base, timeout=30) as client,
            client.stream("POST", "/v1/test/echo", json=body, headers=headers) as first,
        ):
            lines = first.aiter_lines()
            await anext(lines)
            duplicate = await client.post("/v1/test/echo", json=body, headers=headers)
            rest = [line async for line in lines]
        return duplicate, rest

    with EmulatorServer(config, extra_routes=TEST_ROUTES) as srv:
        duplicate, rest = asyncio.run(scenario(srv.base_url))
        replay = httpx.post(srv.relay_url + "/test/echo", json=body, headers=headers, timeout=30)
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "idempotency_key_in_use"
    assert "data: [DONE]" in rest
    assert replay.headers["idempotent-replayed"] == "true"  # once finished, it replays


# --- X-TT-Dry-Run on multipart routes --------------------------------------------------------


def test_dry_run_on_image_edits_estimates_from_form(
    http: httpx.Client, server: EmulatorServer
) -> None:
    quota = user_row(server, DEMO.id)["quota"]
    dry = {"X-TT-Dry-Run": "true"}
    files = {"image": ("in.png", _png(), "image/png")}
    one = http.post(
        "/v1/images/edits", data={"model": "dall-e-2", "prompt": "blue"}, files=files, headers=dry
    )
    two = http.post(
        "/v1/images/edits",
        data={"model": "dall-e-2", "prompt": "blue", "n": "2"},
        files=files,
        headers=dry,
    )
    assert one.status_code == 200, one.text
    assert one.json()["object"] == "dry_run" and one.json()["model"] == "dall-e-2"
    assert one.json()["charged"] == 0
    assert two.json()["estimated_quota"] == 2 * one.json()["estimated_quota"] > 0
    assert user_row(server, DEMO.id)["quota"] == quota


def test_dry_run_on_transcriptions(http: httpx.Client, server: EmulatorServer) -> None:
    quota = user_row(server, DEMO.id)["quota"]
    r = http.post(
        "/v1/audio/transcriptions",
        data={"model": "whisper-1"},
        files={"file": ("a.wav", b"RIFF0000WAVE")},
        headers={"X-TT-Dry-Run": "true"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["model"] == "whisper-1" and r.json()["estimated_quota"] > 0
    missing = http.post(
        "/v1/audio/transcriptions",
        files={"file": ("a.wav", b"x")},
        headers={"X-TT-Dry-Run": "true"},
    )
    assert missing.status_code == 400
    assert user_row(server, DEMO.id)["quota"] == quota


# --- served files are bounded ----------------------------------------------------------------


def test_blob_store_evicts_lru_by_size_and_by_age() -> None:
    now = [0.0]
    blobs = BlobStore(max_bytes=10, max_age_s=60, clock=lambda: now[0])
    blobs.put("a", b"1234", "x/a")
    blobs.put("b", b"1234", "x/b")
    assert blobs.get("a") == (b"1234", "x/a")  # a is now the most recently used
    blobs.put("c", b"1234", "x/c")  # 12 bytes > 10: b, the least recently used, goes
    assert "b" not in blobs and "a" in blobs and "c" in blobs
    assert blobs.total_bytes == 8
    now[0] = 61.0
    assert blobs.get("a") is None and len(blobs) == 0 and blobs.total_bytes == 0
    blobs.put("huge", b"x" * 100, "x/h")  # the newest is kept even over budget
    assert blobs.get("huge") is not None


def test_served_images_are_evicted_over_the_budget(http: httpx.Client) -> None:
    urls = []
    for prompt in ("first picture", "second picture"):
        r = http.post(
            "/v1/images/generations",
            json={"model": "dall-e-2", "prompt": prompt, "size": "256x256"},
        )
        urls.append(r.json()["data"][0]["url"])
    assert httpx.get(urls[1]).status_code == 200
    assert httpx.get(urls[0]).status_code == 404  # the 1-byte budget keeps only the newest


# --- tasks: refunds, video, persistence ------------------------------------------------------


def _logs(client: httpx.Client, log_type: int) -> list[dict[str, Any]]:
    r = client.get("/api/log/self", params={"type": log_type, "page_size": 50})
    items: list[dict[str, Any]] = r.json()["data"]["items"]
    return items


def test_failed_task_is_refunded_once(http: httpx.Client, server: EmulatorServer) -> None:
    before = user_row(server, DEMO.id)["quota"]
    task = http.post(
        "/v1/tasks", json={"model": "mj-imagine", "prompt": "this will fail", "duration_s": 0}
    ).json()
    charged = before - user_row(server, DEMO.id)["quota"]
    assert task["status"] == "failed" and charged > 0
    for _ in range(2):  # observing the failure twice refunds once
        assert http.get(f"/v1/tasks/{task['id']}").json()["status"] == "failed"
    assert user_row(server, DEMO.id)["quota"] == before
    refunds = [log for log in _logs(login(server), 6) if task["id"] in log["content"]]
    assert len(refunds) == 1
    assert refunds[0]["quota"] == charged and refunds[0]["model_name"] == "mj-imagine"


def test_video_task_makes_a_deterministic_animated_gif(http: httpx.Client) -> None:
    results = []
    for _ in range(2):
        task = http.post(
            "/v1/tasks",
            json={
                "model": "sora-2",
                "prompt": "a river at dawn",
                "size": "1792x1024",
                "duration_s": 0,
            },
        ).json()
        assert task["kind"] == "video"
        done = http.get(f"/v1/tasks/{task['id']}").json()
        assert done["status"] == "succeeded"
        video = done["result"]["video"]
        results.append(httpx.get(video["url"]).content)
    assert results[0] == results[1]
    with Image.open(io.BytesIO(results[0])) as gif:
        assert gif.format == "GIF" and getattr(gif, "is_animated", False)
        assert getattr(gif, "n_frames", 1) == video["frames"] == 12
        assert gif.size == (video["width"], video["height"]) == (256, 146)
    refused = http.post("/v1/tasks", json={"model": "dall-e-3", "prompt": "p", "kind": "video"})
    assert refused.status_code == 400


def test_tasks_and_transcripts_survive_a_restart(tmp_path: Path) -> None:
    config = EmulatorConfig(flavor=Flavor.NEWAPI, data_dir=tmp_path, seed_history_days=1)
    headers = key_headers(ROOT.api_key)
    with EmulatorServer(config) as first:
        c = httpx.Client(base_url=first.base_url, headers=headers, timeout=30)
        task = c.post(
            "/v1/tasks", json={"model": "mj-imagine", "prompt": "kept", "duration_s": 0}
        ).json()
        pcm = c.post(
            "/v1/audio/speech",
            json={"model": "tts-1", "voice": "onyx", "input": SPOKEN, "response_format": "pcm"},
        )
        c.close()
    with EmulatorServer(config) as second:
        c = httpx.Client(base_url=second.base_url, headers=headers, timeout=30)
        done = c.get(f"/v1/tasks/{task['id']}").json()
        assert done["status"] == "succeeded"
        assert httpx.get(done["result"]["url"]).status_code == 200  # drawn again after restart
        heard = c.post(
            "/v1/audio/transcriptions",
            data={"model": "whisper-1", "response_format": "text"},
            files={"file": ("s.pcm", pcm.content)},
        )
        assert heard.text == SPOKEN + "\n"
        c.close()


def test_stored_transcripts_are_bounded(tmp_path: Path) -> None:
    store = Store(tmp_path)
    registry = StoredTranscripts(store, capacity=2)
    for i in range(3):
        registry.remember(f"audio {i}".encode(), f"text {i}")
    assert registry.lookup(b"audio 0") is None
    assert registry.lookup(b"audio 2") == "text 2"
    store.close()
    reopened = Store(tmp_path)
    assert StoredTranscripts(reopened).lookup(b"audio 1") == "text 1"
    reopened.close()
