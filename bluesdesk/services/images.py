"""Image generation and the gallery behind it: ask the gateway, keep every picture as a PNG.

`ImageService.generate` posts to /v1/images/generations, takes each result as base64 or fetches
its URL (through the same client, so the same retries and typed errors apply), converts it to
PNG below ``media/images`` and records a row per picture. Edits go to /v1/images/edits as
multipart. Async jobs go through /v1/tasks: `run_task` submits, polls (long-polling with
``?wait=`` where the gateway supports it, else at a steady interval) and keeps the result like
any other picture. No Qt here.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import io
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from bluesdesk.core.capabilities import Capability, infer_capabilities
from bluesdesk.core.models import ModelInfo, ResponseMeta
from bluesdesk.errors import BadResponse
from bluesdesk.gateway.http import GatewayClient
from bluesdesk.store.db import Database
from bluesdesk.store.media import ImageRecord, MediaStore, NewImage

log = logging.getLogger(__name__)

IMAGES_SUBDIR = "images"
THUMBS_SUBDIR = "thumbs"  # the gallery's cached thumbnails, one folder per thumbnail size
SIZES = ("1024x1024", "1792x1024", "1024x1792", "1536x1024", "1024x1536", "512x512", "256x256")
QUALITIES = ("standard", "hd", "low", "medium", "high", "auto")
STYLES = ("vivid", "natural")
RESPONSE_FORMATS = ("b64_json", "url")
TASK_TERMINAL = frozenset({"succeeded", "failed", "cancelled"})
TASK_POLL_WAIT_S = 1.0  # how long a poll asks the gateway to hold its answer
TASK_MIN_INTERVAL_S = 1.0  # gateways that ignore ?wait= are still polled only this often
# When the gateway names no endpoint types, these name fragments mark an image model.
_IMAGE_NAME_HINTS = (
    "dall-e", "gpt-image", "flux", "imagen", "midjourney", "mj-", "stable-diffusion", "sdxl",
    "-image",
)  # fmt: skip


def image_models(models: Iterable[ModelInfo]) -> list[str]:
    """Ids of the models that can make images, by the gateway's word or by their name."""
    out: list[str] = []
    for model in models:
        caps = infer_capabilities(model.id, model.endpoint_types)
        name = model.id.lower()
        if caps.has(Capability.IMAGE_GENERATION) or any(h in name for h in _IMAGE_NAME_HINTS):
            out.append(model.id)
    return sorted(out)


@dataclass(frozen=True, slots=True)
class ImageRequest:
    model: str
    prompt: str
    size: str = "1024x1024"
    n: int = 1
    quality: str = ""  # "" = the gateway's default
    style: str = ""
    response_format: str = "b64_json"

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "prompt": self.prompt,
            "n": self.n,
            "size": self.size,
            "response_format": self.response_format,
        }
        if self.quality:
            body["quality"] = self.quality
        if self.style:
            body["style"] = self.style
        return body

    def params(self) -> dict[str, Any]:
        """What the gallery keeps to re-run this request."""
        return {
            "size": self.size,
            "n": self.n,
            "quality": self.quality,
            "style": self.style,
            "response_format": self.response_format,
        }


@dataclass(frozen=True, slots=True)
class EditRequest:
    model: str
    prompt: str
    image: bytes
    mask: bytes | None = None
    size: str = ""  # "" = the source image's size
    n: int = 1
    response_format: str = "b64_json"

    def form(self) -> dict[str, str]:
        form = {
            "model": self.model,
            "prompt": self.prompt,
            "n": str(self.n),
            "response_format": self.response_format,
        }
        if self.size:
            form["size"] = self.size
        return form


@dataclass(frozen=True, slots=True)
class TaskRequest:
    """An async image job. `extra` goes into the body as is (gateway-specific options)."""

    model: str
    prompt: str
    size: str = "1024x1024"
    extra: Mapping[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = dict(self.extra)
        body.update({"model": self.model, "prompt": self.prompt, "kind": "image"})
        if self.size:
            body["size"] = self.size
        return body


@dataclass(frozen=True, slots=True)
class TaskState:
    """What the gateway last said about a task."""

    id: str
    status: str  # queued, in_progress, succeeded, failed, cancelled
    progress: int = 0  # 0-100
    result_urls: tuple[str, ...] = ()
    error: str = ""
    request_id: str = ""

    @property
    def finished(self) -> bool:
        return self.status in TASK_TERMINAL


def parse_task(data: Any, client: GatewayClient, meta: ResponseMeta) -> TaskState:
    """A /v1/tasks answer as a TaskState; BadResponse when it names no task."""
    if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not data["id"]:
        raise BadResponse(
            "The gateway's task answer names no task.",
            profile=client.profile.name,
            request_id=meta.request_id,
        )
    status = data.get("status")
    progress = data.get("progress")
    urls: list[str] = []
    result = data.get("result")
    if isinstance(result, dict):
        items = result.get("images")
        if isinstance(items, list):
            urls = [
                i["url"] for i in items if isinstance(i, dict) and isinstance(i.get("url"), str)
            ]
        if not urls and isinstance(result.get("url"), str):
            urls = [result["url"]]
    error = data.get("error")
    message = ""
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        message = error["message"]
    elif isinstance(error, str):
        message = error
    return TaskState(
        id=data["id"],
        status=status if isinstance(status, str) else "in_progress",
        progress=max(0, min(100, int(progress))) if isinstance(progress, int | float) else 0,
        result_urls=tuple(urls),
        error=message,
        request_id=meta.request_id,
    )


def to_png(data: bytes) -> tuple[bytes, int, int]:
    """(PNG bytes, width, height) of any image Pillow reads; PNG input is kept byte for byte."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            width, height = img.size
            if img.format == "PNG":
                return data, width, height
            buf = io.BytesIO()
            img.save(buf, "PNG")
            return buf.getvalue(), width, height
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise BadResponse("The gateway sent an image that cannot be read.") from exc


def thumb_path(media_dir: Path, record: ImageRecord, edge: int) -> Path:
    """Where the gallery caches `record`'s thumbnail of `edge` pixels (a PNG)."""
    return media_dir / THUMBS_SUBDIR / str(edge) / (Path(record.path).stem + ".png")


def read_image_file(path: Path) -> bytes:
    """A picture file as PNG bytes for an upload (edits take PNG). Raises OSError when the file
    cannot be read and ValueError when it is not a picture."""
    data = path.read_bytes()
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            if img.format == "PNG":
                return data
            buf = io.BytesIO()
            img.save(buf, "PNG")
            return buf.getvalue()
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise ValueError(f"{path.name} is not a picture this app can read") from exc


class ImageService:
    """Generate and edit images through a gateway client; keep and list them."""

    def __init__(self, db: Database, media_dir: Path) -> None:
        self.store = MediaStore(db)
        self.media_dir = media_dir

    def file_of(self, record: ImageRecord) -> Path:
        return self.media_dir / record.path

    async def generate(
        self, client: GatewayClient, request: ImageRequest, *, price_per_image: float | None = None
    ) -> list[ImageRecord]:
        data, meta = await client.request_json("POST", "images/generations", json=request.body())
        pictures = await self._pictures(client, data, meta)
        params = request.params()
        if price_per_image is not None:
            params["cost"] = round(price_per_image * len(pictures), 6)
        return await self._keep(client, pictures, request.model, request.prompt, params, meta)

    async def edit(
        self, client: GatewayClient, request: EditRequest, *, price_per_image: float | None = None
    ) -> list[ImageRecord]:
        files = {"image": ("image.png", request.image, "image/png")}
        if request.mask is not None:
            files["mask"] = ("mask.png", request.mask, "image/png")
        data, meta = await client.request_multipart(
            "images/edits", data=request.form(), files=files
        )
        pictures = await self._pictures(client, data, meta)
        params: dict[str, Any] = {
            "edit": True,
            "masked": request.mask is not None,
            "size": request.size,
            "n": request.n,
            "response_format": request.response_format,
        }
        if price_per_image is not None:
            params["cost"] = round(price_per_image * len(pictures), 6)
        return await self._keep(client, pictures, request.model, request.prompt, params, meta)

    # ---- async tasks --------------------------------------------------------------------------

    async def submit_task(self, client: GatewayClient, request: TaskRequest) -> TaskState:
        data, meta = await client.request_json("POST", "tasks", json=request.body())
        return parse_task(data, client, meta)

    async def poll_task(
        self, client: GatewayClient, task_id: str, *, wait: float = 0.0
    ) -> TaskState:
        params = {"wait": f"{wait:g}"} if wait > 0 else None
        data, meta = await client.request_json("GET", f"tasks/{task_id}", params=params)
        return parse_task(data, client, meta)

    async def cancel_task(self, client: GatewayClient, task_id: str) -> TaskState:
        data, meta = await client.request_json("POST", f"tasks/{task_id}/cancel", json={})
        return parse_task(data, client, meta)

    async def run_task(
        self,
        client: GatewayClient,
        request: TaskRequest,
        *,
        on_update: Callable[[TaskState], None] | None = None,
        price_per_image: float | None = None,
        poll_wait: float = TASK_POLL_WAIT_S,
        min_interval: float = TASK_MIN_INTERVAL_S,
    ) -> tuple[TaskState, list[ImageRecord]]:
        """Submit, follow to the end, keep the result images. A cancelled or failed task
        returns its final state and no images; cancelling this coroutine leaves the gateway's
        task running (call `cancel_task` for that)."""
        loop = asyncio.get_running_loop()
        state = await self.submit_task(client, request)
        if on_update is not None:
            on_update(state)
        while not state.finished:
            started = loop.time()
            state = await self.poll_task(client, state.id, wait=poll_wait)
            if on_update is not None:
                on_update(state)
            left = min_interval - (loop.time() - started)
            if not state.finished and left > 0:
                # The gateway answered at once (no long-poll): pace the polling ourselves.
                await asyncio.sleep(left)
        if state.status != "succeeded":
            return state, []
        if not state.result_urls:
            raise BadResponse(
                "The gateway's finished task holds no images.",
                profile=client.profile.name,
                request_id=state.request_id,
            )
        pictures = [((await client.request_bytes("GET", url))[0], "") for url in state.result_urls]
        params: dict[str, Any] = {"task_id": state.id, "size": request.size, "n": len(pictures)}
        if price_per_image is not None:
            params["cost"] = round(price_per_image * len(pictures), 6)
        meta = ResponseMeta(request_id=state.request_id)
        records = await self._keep(client, pictures, request.model, request.prompt, params, meta)
        return state, records

    async def gallery(self, limit: int = -1, offset: int = 0) -> list[ImageRecord]:
        return await self.store.images(limit, offset)

    async def delete(self, image_id: int) -> bool:
        record = await self.store.delete_image(image_id)
        if record is None:
            return False

        def remove() -> None:
            with contextlib.suppress(FileNotFoundError):
                self.file_of(record).unlink()
            thumbs = self.media_dir / THUMBS_SUBDIR
            if thumbs.is_dir():
                for size in thumbs.iterdir():
                    (size / (Path(record.path).stem + ".png")).unlink(missing_ok=True)

        await asyncio.to_thread(remove)
        return True

    # ---- internals ----------------------------------------------------------------------------

    async def _pictures(
        self, client: GatewayClient, data: Any, meta: ResponseMeta
    ) -> list[tuple[bytes, str]]:
        """(image bytes, revised prompt) per result, downloading URL results."""
        items = data.get("data") if isinstance(data, dict) else None
        if not isinstance(items, list) or not items:
            raise BadResponse(
                "The gateway's image answer holds no images.",
                profile=client.profile.name,
                request_id=meta.request_id,
            )
        out: list[tuple[bytes, str]] = []
        for item in items:
            if not isinstance(item, dict):
                continue
            revised = item.get("revised_prompt")
            revised_text = revised if isinstance(revised, str) else ""
            if isinstance(item.get("b64_json"), str):
                try:
                    raw = base64.b64decode(item["b64_json"], validate=True)
                except (binascii.Error, ValueError) as exc:
                    raise BadResponse(
                        "The gateway sent an image that is not valid base64.",
                        profile=client.profile.name,
                        request_id=meta.request_id,
                    ) from exc
            elif isinstance(item.get("url"), str):
                raw, _, _ = await client.request_bytes("GET", item["url"])
            else:
                continue
            out.append((raw, revised_text))
        if not out:
            raise BadResponse(
                "The gateway's image answer holds no images.",
                profile=client.profile.name,
                request_id=meta.request_id,
            )
        return out

    async def _keep(
        self,
        client: GatewayClient,
        pictures: Sequence[tuple[bytes, str]],
        model: str,
        prompt: str,
        params: dict[str, Any],
        meta: ResponseMeta,
    ) -> list[ImageRecord]:
        folder = self.media_dir / IMAGES_SUBDIR
        now = time.time()
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))

        def write_all() -> list[NewImage]:
            folder.mkdir(parents=True, exist_ok=True)
            written: list[NewImage] = []
            try:
                for raw, revised in pictures:
                    png, width, height = to_png(raw)
                    name = f"{stamp}-{uuid.uuid4().hex[:10]}.png"
                    (folder / name).write_bytes(png)
                    extra = dict(params)
                    if revised:
                        extra["revised_prompt"] = revised
                    written.append(
                        NewImage(
                            path=f"{IMAGES_SUBDIR}/{name}",
                            model=model,
                            prompt=prompt,
                            created_at=now,
                            width=width,
                            height=height,
                            profile_id=client.profile.id,
                            request_id=meta.request_id,
                            params=extra,
                        )
                    )
            except BaseException:
                for done in written:
                    (self.media_dir / done.path).unlink(missing_ok=True)
                raise
            return written

        new = await asyncio.to_thread(write_all)
        try:
            return await self.store.add_images(new)
        except BaseException:
            for done in new:
                (self.media_dir / done.path).unlink(missing_ok=True)
            raise
