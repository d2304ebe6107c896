"""ImageService against the emulator over loopback: generate, download, keep, edit, errors.

Also covers the binary/multipart additions to GatewayClient (retry on 429, no key to other hosts).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from PIL import Image

from bluesdesk.core.models import GatewayProfile, ModelInfo
from bluesdesk.core.retry import RetryPolicy
from bluesdesk.emulator import EmulatorServer, Flavor
from bluesdesk.emulator.accounts import DEMO
from bluesdesk.errors import BadRequest, BadResponse, RateLimited
from bluesdesk.gateway import GatewayClient
from bluesdesk.services.images import EditRequest, ImageRequest, ImageService, image_models, to_png
from bluesdesk.store.db import Database
from tests.integration.conftest import EmulatorFleet

T = TypeVar("T")
FAST = RetryPolicy(max_retries=2, base_delay=0.0, max_delay=0.0, jitter=0.0)
NO_RETRY = RetryPolicy(max_retries=0, base_delay=0.0, max_delay=0.0, jitter=0.0)


@pytest.fixture
def server(emulators: EmulatorFleet) -> EmulatorServer:
    return emulators.get(Flavor.BLUESMINDS)


def with_service(
    tmp_path: Path,
    server: EmulatorServer,
    body: Callable[[ImageService, GatewayClient], Awaitable[T]],
    policy: RetryPolicy = FAST,
) -> T:
    async def main() -> T:
        db = await Database.open(tmp_path / "bluesdesk.db")
        profile = GatewayProfile(id="emu", name="Emulator", base_url=server.relay_url)
        client = GatewayClient(profile, DEMO.api_key, policy=policy)
        try:
            return await body(ImageService(db, tmp_path / "media"), client)
        finally:
            await client.aclose()
            await db.close()

    return asyncio.run(main())


def png_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as img:
        assert img.format == "PNG"
        return img.size


@pytest.mark.parametrize("response_format", ["b64_json", "url"])
def test_generate_one_image_is_kept_as_png_with_its_row(tmp_path, server, response_format):
    request = ImageRequest(
        model="dall-e-3", prompt="A lighthouse at dusk", size="1024x1024",
        quality="hd", style="natural", response_format=response_format,
    )  # fmt: skip

    async def body(service: ImageService, client: GatewayClient):
        made = await service.generate(client, request, price_per_image=0.04)
        return made, await service.gallery()

    made, gallery = with_service(tmp_path, server, body)
    assert len(made) == 1
    assert gallery == made
    record = made[0]
    assert png_size(tmp_path / "media" / record.path) == (1024, 1024)
    assert (record.width, record.height) == (1024, 1024)
    assert record.model == "dall-e-3" and record.prompt == "A lighthouse at dusk"
    assert record.params["quality"] == "hd" and record.params["style"] == "natural"
    assert record.params["response_format"] == response_format
    assert "rendered in a natural style" in record.params["revised_prompt"]
    assert record.cost == pytest.approx(0.04)
    assert record.request_id
    assert record.profile_id == "emu"


@pytest.mark.parametrize("response_format", ["b64_json", "url"])
def test_generate_n_images_gives_n_distinct_files(tmp_path, server, response_format):
    request = ImageRequest(
        model="gpt-image-1", prompt="Three cats", size="512x512", n=3,
        response_format=response_format,
    )  # fmt: skip

    async def body(service: ImageService, client: GatewayClient):
        return await service.generate(client, request, price_per_image=0.06)

    made = with_service(tmp_path, server, body)
    assert len(made) == 3
    files = [tmp_path / "media" / r.path for r in made]
    assert len({f.read_bytes() for f in files}) == 3
    assert all(png_size(f) == (512, 512) for f in files)
    assert made[0].cost == pytest.approx(0.18)


def test_gallery_survives_a_new_service_on_the_same_database(tmp_path, server):
    request = ImageRequest(model="dall-e-2", prompt="Persisted", size="256x256", n=2)

    async def first(service: ImageService, client: GatewayClient):
        return await service.generate(client, request)

    async def second(service: ImageService, client: GatewayClient):
        return await service.gallery()

    made = with_service(tmp_path, server, first)
    again = with_service(tmp_path, server, second)
    assert {r.id for r in again} == {r.id for r in made}
    assert all((tmp_path / "media" / r.path).is_file() for r in again)


def test_delete_removes_row_and_file(tmp_path, server):
    request = ImageRequest(model="dall-e-2", prompt="Short-lived", size="256x256")

    async def body(service: ImageService, client: GatewayClient):
        [record] = await service.generate(client, request)
        path = service.file_of(record)
        existed = path.is_file()
        deleted = await service.delete(record.id)
        return existed, path, deleted, await service.gallery(), await service.delete(record.id)

    existed, path, deleted, gallery, again = with_service(tmp_path, server, body)
    assert existed and deleted and not again
    assert not path.exists()
    assert gallery == []


def test_edit_with_mask_repaints_only_the_masked_area(tmp_path, server):
    source = Image.new("RGB", (256, 256), (10, 200, 10))
    mask = Image.new("RGBA", (256, 256), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (0, 0, 128, 128))  # transparent = repaint the top-left quarter
    src_buf, mask_buf = io.BytesIO(), io.BytesIO()
    source.save(src_buf, "PNG")
    mask.save(mask_buf, "PNG")
    request = EditRequest(
        model="dall-e-2", prompt="Add a red sun", image=src_buf.getvalue(),
        mask=mask_buf.getvalue(), response_format="url",
    )  # fmt: skip

    async def body(service: ImageService, client: GatewayClient):
        return await service.edit(client, request)

    [record] = with_service(tmp_path, server, body)
    assert record.params["edit"] is True and record.params["masked"] is True
    with Image.open(tmp_path / "media" / record.path) as out:
        rgb = out.convert("RGB")
        assert rgb.size == (256, 256)
        assert rgb.getpixel((200, 20)) == (10, 200, 10)  # outside the mask: untouched
        assert rgb.getpixel((20, 20)) != (10, 200, 10)  # inside: repainted


def test_refused_prompt_is_a_bad_request_with_the_gateway_reason(tmp_path, server):
    request = ImageRequest(model="dall-e-3", prompt="Something forbidden")

    async def body(service: ImageService, client: GatewayClient):
        with pytest.raises(BadRequest) as caught:
            await service.generate(client, request)
        return caught.value, await service.gallery()

    error, gallery = with_service(tmp_path, server, body)
    assert "safety system" in error.user_message
    assert gallery == []
    assert not (tmp_path / "media" / "images").exists() or not any(
        (tmp_path / "media" / "images").iterdir()
    )


def test_429_is_retried_then_succeeds(tmp_path, server):
    server.arm_fault("429", 1, retry_after=0, path_prefix="/v1/images/edits")
    buf = io.BytesIO()
    Image.new("RGB", (256, 256), "white").save(buf, "PNG")
    request = EditRequest(model="dall-e-2", prompt="Retry me", image=buf.getvalue())

    async def body(service: ImageService, client: GatewayClient):
        return await service.edit(client, request)

    made = with_service(tmp_path, server, body)
    assert len(made) == 1
    assert server.request_count("/v1/images/edits") == 2


def test_429_without_retries_left_is_rate_limited(tmp_path, server):
    server.arm_fault("429", 1, retry_after=7, path_prefix="/v1/images/generations")
    request = ImageRequest(model="dall-e-2", prompt="Too fast", size="256x256")

    async def body(service: ImageService, client: GatewayClient):
        with pytest.raises(RateLimited) as caught:
            await service.generate(client, request)
        return caught.value

    error = with_service(tmp_path, server, body, policy=NO_RETRY)
    assert error.retry_after == pytest.approx(7, abs=1)


def test_request_bytes_sends_the_key_only_to_the_gateway_origin():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"\x89PNG...", headers={"content-type": "image/png"})

    async def main() -> None:
        profile = GatewayProfile(id="p", name="P", base_url="https://gw.example/v1")
        client = GatewayClient(profile, "sk-" + "K" * 40, transport=httpx.MockTransport(handler))
        try:
            await client.request_bytes("GET", "https://gw.example/files/a.png")
            await client.request_bytes("GET", "https://cdn.example/a.png")
        finally:
            await client.aclose()

    asyncio.run(main())
    assert seen[0].headers.get("authorization", "").startswith("Bearer sk-")
    assert "authorization" not in seen[1].headers


def test_request_bytes_turns_an_ok_json_error_into_a_typed_error():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"error": {"message": "no audio for you", "code": "x"}})

    async def main() -> None:
        profile = GatewayProfile(id="p", name="P", base_url="https://gw.example/v1")
        client = GatewayClient(profile, None, transport=httpx.MockTransport(handler))
        try:
            await client.request_bytes("POST", "audio/speech", json={})
        finally:
            await client.aclose()

    with pytest.raises(BadRequest, match="no audio for you"):
        asyncio.run(main())


def test_image_models_filter_uses_endpoints_and_names():
    models = [
        ModelInfo(id="gpt-4o-mini", endpoint_types=("openai",)),
        ModelInfo(id="dall-e-3", endpoint_types=("image-generation",)),
        ModelInfo(id="flux-schnell"),
        ModelInfo(id="custom-painter", endpoint_types=("image-generation",)),
        ModelInfo(id="tts-1"),
    ]
    assert image_models(models) == ["custom-painter", "dall-e-3", "flux-schnell"]


def test_non_png_answers_are_stored_as_png():
    buf = io.BytesIO()
    Image.new("RGB", (64, 32), (200, 30, 30)).save(buf, "JPEG")
    png, width, height = to_png(buf.getvalue())
    assert (width, height) == (64, 32)
    with Image.open(io.BytesIO(png)) as img:
        assert img.format == "PNG" and img.size == (64, 32)
    with pytest.raises(BadResponse):
        to_png(b"not an image")
