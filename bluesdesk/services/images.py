"""Image generation and the gallery behind it: ask the gateway, keep every picture as a PNG.

`ImageService.generate` posts to /v1/images/generations, takes each result as base64 or fetches
its URL (through the same client, so the same retries and typed errors apply), converts it to
PNG below ``media/images`` and records a row per picture. Edits go to /v1/images/edits as
multipart. No Qt here.
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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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
SIZES = ("1024x1024", "1792x1024", "1024x1792", "1536x1024", "1024x1536", "512x512", "256x256")
QUALITIES = ("standard", "hd", "low", "medium", "high", "auto")
STYLES = ("vivid", "natural")
RESPONSE_FORMATS = ("b64_json", "url")
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

    async def gallery(self, limit: int = -1, offset: int = 0) -> list[ImageRecord]:
        return await self.store.images(limit, offset)

    async def delete(self, image_id: int) -> bool:
        record = await self.store.delete_image(image_id)
        if record is None:
            return False
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(self.file_of(record).unlink)
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
