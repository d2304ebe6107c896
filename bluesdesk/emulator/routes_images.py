"""Relay routes for images: POST /v1/images/generations and POST /v1/images/edits.

Pictures come from `media.images` (deterministic per prompt); `url` results are served by the
emulator itself through `RelayCall.serve`. Billed per image: `usage(requests=n)`.
"""

from __future__ import annotations

import base64
import io
import time
from typing import Any

from PIL import Image
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import JSONResponse, Response

from bluesdesk.emulator.catalog import CatalogModel
from bluesdesk.emulator.media import images
from bluesdesk.emulator.relay import RelayCall, RelayError, RelayRoute
from bluesdesk.emulator.tokens import count_tokens

MAX_PROMPT_CHARS = 32_000
REFUSAL_WORDS = ("forbidden", "violence")
QUALITIES = frozenset({"standard", "hd", "low", "medium", "high", "auto"})
STYLES = frozenset({"vivid", "natural"})
RESPONSE_FORMATS = frozenset({"url", "b64_json"})


def bad_request(message: str, *, code: str = "invalid_request") -> RelayError:
    return RelayError(400, message, code=code, type_="invalid_request_error")


def check_prompt(prompt: object, *, field: str = "prompt") -> str:
    """A non-empty prompt that passes the (keyword) safety system; else a 400."""
    if not isinstance(prompt, str) or not prompt.strip():
        raise bad_request(f"Missing required parameter: '{field}'.")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise bad_request(f"'{field}' is too long: at most {MAX_PROMPT_CHARS} characters.")
    refuse_if_unsafe(prompt)
    return prompt


def refuse_if_unsafe(prompt: str) -> None:
    lowered = prompt.lower()
    if any(word in lowered for word in REFUSAL_WORDS):
        raise RelayError(
            400,
            "Your request was rejected as a result of our safety system. Your prompt may contain "
            "text that is not allowed by our safety system.",
            code="content_policy_violation",
            type_="invalid_request_error",
        )


def image_model(call: RelayCall, name: object, capability: str) -> CatalogModel:
    if not isinstance(name, str) or not name:
        raise bad_request("Missing required parameter: 'model'.")
    model = call.model(name)
    if not model.has(capability):
        what = "image editing" if capability == "image_edit" else "image generation"
        raise bad_request(
            f"The model '{name}' does not support {what}.", code="model_not_supported"
        )
    return model


def max_images(model: CatalogModel) -> int:
    # DALL·E 3 renders one image per request upstream; the others allow a small batch.
    return 1 if model.name.startswith("dall-e-3") else 4


def parse_n(raw: object, model: CatalogModel) -> int:
    if raw is None or raw == "":
        return 1
    try:
        n = int(str(raw)) if not isinstance(raw, bool) else -1
    except ValueError:
        n = -1
    limit = max_images(model)
    if not 1 <= n <= limit:
        raise bad_request(f"Invalid 'n': {raw}. '{model.name}' makes between 1 and {limit} images.")
    return n


def parse_choice(raw: object, allowed: frozenset[str], default: str, field: str) -> str:
    if raw is None or raw == "":
        return default
    if not isinstance(raw, str) or raw not in allowed:
        raise bad_request(
            f"Invalid '{field}': {raw!r}. Supported values are: {', '.join(sorted(allowed))}."
        )
    return raw


def parse_size(raw: object) -> tuple[int, int]:
    if raw is not None and not isinstance(raw, str):
        raise bad_request(f"Invalid 'size': {raw!r}.")
    try:
        return images.parse_size(raw)
    except images.ImageInputError as exc:
        raise bad_request(str(exc)) from exc


def revised(prompt: str, model: CatalogModel, style: str, quality: str) -> str | None:
    """What DALL·E 3 reports as its rewritten prompt; other models send none."""
    if not model.name.startswith("dall-e-3"):
        return None
    detail = "fine" if quality in ("hd", "high") else "clean"
    return f"{prompt.strip().rstrip('.')}, rendered in a {style} style with {detail} detail."


def result_item(
    call: RelayCall,
    data: bytes,
    response_format: str,
    output_format: str,
    revised_prompt: str | None,
) -> dict[str, Any]:
    _, media_type, suffix = images.OUTPUT_FORMATS[output_format]
    item: dict[str, Any]
    if response_format == "b64_json":
        item = {"b64_json": base64.b64encode(data).decode("ascii")}
    else:
        item = {"url": call.serve(data, media_type, suffix)}
    if revised_prompt is not None:
        item["revised_prompt"] = revised_prompt
    return item


def envelope(
    items: list[dict[str, Any]], prompt: str, n: int, size: tuple[int, int], output_format: str
) -> dict[str, Any]:
    return {
        "created": int(time.time()),
        "data": items,
        "size": f"{size[0]}x{size[1]}",
        "output_format": output_format,
        # gpt-image-1 reports usage; harmless extra for the others.
        "usage": {
            "input_tokens": count_tokens(prompt),
            "output_tokens": 0,
            "total_tokens": count_tokens(prompt),
            "images": n,
        },
    }


async def generations(call: RelayCall) -> Response:
    body = await call.json()
    model = image_model(call, body.get("model"), "image")
    prompt = check_prompt(body.get("prompt"))
    n = parse_n(body.get("n"), model)
    size = parse_size(body.get("size"))
    quality = parse_choice(body.get("quality"), QUALITIES, "standard", "quality")
    style = parse_choice(body.get("style"), STYLES, "vivid", "style")
    response_format = parse_choice(
        body.get("response_format"), RESPONSE_FORMATS, "url", "response_format"
    )
    output_format = parse_choice(
        body.get("output_format"), frozenset(images.OUTPUT_FORMATS), "png", "output_format"
    )
    revised_prompt = revised(prompt, model, style, quality)

    def draw() -> list[bytes]:
        return [
            images.generate(
                prompt, size, i, quality=quality, style=style, output_format=output_format
            )
            for i in range(n)
        ]

    pictures = await run_in_threadpool(draw)
    items = [result_item(call, p, response_format, output_format, revised_prompt) for p in pictures]
    call.usage(model.name, prompt_tokens=count_tokens(prompt), requests=n)
    return JSONResponse(envelope(items, prompt, n, size, output_format))


async def _upload(form: Any, *names: str) -> bytes | None:
    for name in names:
        value = form.get(name)
        if isinstance(value, UploadFile):
            data: bytes = await value.read()
            return data
        if value is not None:
            raise bad_request(f"'{name}' must be uploaded as a file.")
    return None


async def edits(call: RelayCall) -> Response:
    content_type = call.request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise bad_request("Image edits take a multipart/form-data body with an 'image' file.")
    async with call.request.form(max_files=8, max_fields=64) as form:
        model = image_model(call, form.get("model") or "dall-e-2", "image_edit")
        prompt = check_prompt(form.get("prompt"))
        image = await _upload(form, "image", "image[]")
        mask = await _upload(form, "mask")
        n = parse_n(form.get("n"), model)
        raw_size = form.get("size")
        response_format = parse_choice(
            form.get("response_format"), RESPONSE_FORMATS, "url", "response_format"
        )
        output_format = parse_choice(
            form.get("output_format"), frozenset(images.OUTPUT_FORMATS), "png", "output_format"
        )
    if image is None:
        raise bad_request("Missing required parameter: 'image'.")
    size = None if raw_size in (None, "", "auto") else parse_size(raw_size)

    def draw() -> list[bytes]:
        return [
            images.edit(image, prompt, mask=mask, size=size, index=i, output_format=output_format)
            for i in range(n)
        ]

    try:
        pictures = await run_in_threadpool(draw)
    except images.ImageInputError as exc:
        raise bad_request(str(exc)) from exc
    items = [result_item(call, p, response_format, output_format, None) for p in pictures]
    call.usage(model.name, prompt_tokens=count_tokens(prompt), requests=n)
    final_size = size or _size_of(pictures[0])
    return JSONResponse(envelope(items, prompt, n, final_size, output_format))


def _size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as img:
        return img.size


ROUTES: list[RelayRoute] = [
    RelayRoute("/v1/images/generations", generations),
    RelayRoute("/v1/images/edits", edits),
]
