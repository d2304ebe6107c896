"""Deterministic images: the same prompt, size and index always give the same pixels.

Drawn at a low resolution (shapes and gradient) and scaled up, then the prompt is written on at full
size, so a 1024x1024 PNG costs a few tens of milliseconds.
"""

from __future__ import annotations

import hashlib
import io
import textwrap

from PIL import Image, ImageDraw, ImageFont

# Every size the OpenAI image models accept between them (dall-e-2, dall-e-3, gpt-image-1).
SIZES: frozenset[tuple[int, int]] = frozenset(
    {
        (256, 256),
        (512, 512),
        (1024, 1024),
        (1792, 1024),
        (1024, 1792),
        (1536, 1024),
        (1024, 1536),
    }
)
DEFAULT_SIZE = (1024, 1024)
OUTPUT_FORMATS: dict[str, tuple[str, str, str]] = {
    # output_format: (Pillow format, media type, file suffix)
    "png": ("PNG", "image/png", ".png"),
    "jpeg": ("JPEG", "image/jpeg", ".jpg"),
    "webp": ("WEBP", "image/webp", ".webp"),
}

_SKETCH_SIDE = 128  # low-res canvas the shapes are drawn on before scaling


class ImageInputError(ValueError):
    """A client-side problem with the image parameters or uploads (the route answers 400)."""


def parse_size(size: str | None) -> tuple[int, int]:
    """ "1024x1024" → (1024, 1024); "auto"/None → the default; anything else raises."""
    if size is None or size == "" or size == "auto":
        return DEFAULT_SIZE
    parts = size.lower().split("x")
    if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
        dims = (int(parts[0]), int(parts[1]))
        if dims in SIZES:
            return dims
    allowed = ", ".join(f"{w}x{h}" for w, h in sorted(SIZES))
    raise ImageInputError(f"Invalid size '{size}'. Supported sizes are: {allowed}, auto.")


def _palette(seed: bytes) -> list[tuple[int, int, int]]:
    """Eight colours from a hash, bright enough to tell apart."""
    return [
        (64 + seed[i] % 192, 64 + seed[i + 1] % 192, 64 + seed[i + 2] % 192)
        for i in range(0, 24, 3)
    ]


def _seed(*parts: object) -> bytes:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()


def _sketch(seed: bytes, width: int, height: int) -> Image.Image:
    """Gradient background plus a few shapes, at low resolution with the target's aspect ratio."""
    scale = _SKETCH_SIDE / max(width, height)
    sw, sh = max(8, round(width * scale)), max(8, round(height * scale))
    colours = _palette(seed)
    # Rotate the 256x256 gradient and keep the centre, which no angle's empty corners reach.
    mask = Image.linear_gradient("L").rotate(seed[24] % 360, resample=Image.Resampling.BILINEAR)
    mask = mask.crop((64, 64, 192, 192)).resize((sw, sh), Image.Resampling.BILINEAR)
    base = Image.composite(
        Image.new("RGB", (sw, sh), colours[0]), Image.new("RGB", (sw, sh), colours[1]), mask
    )
    draw = ImageDraw.Draw(base)
    for i in range(3 + seed[25] % 4):
        b = seed[(26 + 4 * i) % 32 :] + seed
        x0, y0 = b[0] % sw, b[1] % sh
        rx, ry = 4 + b[2] % (sw // 3), 4 + b[3] % (sh // 3)
        box = (x0 - rx, y0 - ry, x0 + rx, y0 + ry)
        colour = colours[2 + i % 6]
        if i % 3 == 0:
            draw.ellipse(box, fill=colour)
        elif i % 3 == 1:
            draw.rectangle(box, fill=colour)
        else:
            draw.polygon([(x0, y0 - ry), (x0 + rx, y0 + ry), (x0 - rx, y0 + ry)], fill=colour)
    return base.resize((width, height), Image.Resampling.BILINEAR)


def _caption(img: Image.Image, text: str) -> None:
    """Write `text` in a dark band at the bottom, wrapped to the width."""
    width, height = img.size
    font_px = max(12, width // 28)
    font = ImageFont.load_default(size=font_px)
    chars_per_line = max(8, int(width / (font_px * 0.55)))
    lines = textwrap.wrap(text, chars_per_line)[:4] or [""]
    line_h = round(font_px * 1.3)
    band = line_h * len(lines) + font_px
    overlay = Image.new("RGBA", (width, band), (0, 0, 0, 150))
    img.paste(overlay, (0, height - band), overlay)
    draw = ImageDraw.Draw(img)
    y = height - band + font_px // 2
    for line in lines:
        draw.text((font_px // 2, y), line, fill=(255, 255, 255), font=font)
        y += line_h


def encode(img: Image.Image, output_format: str = "png") -> bytes:
    fmt = OUTPUT_FORMATS[output_format][0]
    buf = io.BytesIO()
    if fmt == "PNG":
        # Level 1: these images are throwaways; speed matters more than a few kilobytes.
        img.save(buf, fmt, compress_level=1)
    else:
        img.convert("RGB").save(buf, fmt, quality=85)
    return buf.getvalue()


def generate(
    prompt: str,
    size: tuple[int, int],
    index: int = 0,
    *,
    quality: str = "standard",
    style: str = "vivid",
    output_format: str = "png",
) -> bytes:
    """A deterministic picture for `prompt`: colours and shapes from its hash, prompt written on."""
    width, height = size
    img = _sketch(_seed(prompt, index, quality, style), width, height)
    _caption(img, prompt if index == 0 else f"#{index + 1} · {prompt}")
    return encode(img, output_format)


def _open(data: bytes, what: str) -> Image.Image:
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageInputError(f"The {what} is not a valid image file.") from exc
    return img


def edit(
    image: bytes,
    prompt: str,
    *,
    mask: bytes | None = None,
    size: tuple[int, int] | None = None,
    index: int = 0,
    output_format: str = "png",
) -> bytes:
    """Repaint the transparent area of `mask` (or of `image` itself) and write the prompt on.

    As with OpenAI's edits, fully transparent mask pixels mark what to change. With no transparent
    area at all, the whole picture is tinted with the generated one so the edit is still visible.
    """
    src = _open(image, "image").convert("RGBA")
    if mask is not None:
        mask_img = _open(mask, "mask")
        if mask_img.size != src.size:
            raise ImageInputError(
                f"Invalid mask: its size {mask_img.size[0]}x{mask_img.size[1]} does not match the "
                f"image's {src.size[0]}x{src.size[1]}."
            )
        alpha = mask_img.convert("RGBA").getchannel("A")
    else:
        alpha = src.getchannel("A")
    # 255 where the edit goes.
    region = alpha.point(lambda a: 255 if a == 0 else 0)
    painted = _sketch(_seed("edit", prompt, index), src.width, src.height).convert("RGBA")
    if region.getbbox() is None:
        out = Image.blend(src, painted, 0.35)
    else:
        out = Image.composite(painted, src, region)
    out = out.convert("RGB")
    if size is not None and out.size != size:
        out = out.resize(size, Image.Resampling.BILINEAR)
    _caption(out, prompt if index == 0 else f"#{index + 1} · {prompt}")
    return encode(out, output_format)


VIDEO_MAX_SIDE = 256  # placeholder clips stay small: a few tens of kilobytes
VIDEO_FRAMES = 12
VIDEO_FRAME_MS = 100


def video_size(size: tuple[int, int]) -> tuple[int, int]:
    """The clip's size: the requested aspect ratio, the longer side at most VIDEO_MAX_SIDE."""
    width, height = size
    scale = min(1.0, VIDEO_MAX_SIDE / max(width, height))
    return max(16, round(width * scale)), max(16, round(height * scale))


def animate(prompt: str, size: tuple[int, int], frames: int = VIDEO_FRAMES) -> bytes:
    """A short looping animated GIF for a video task: the prompt's picture panning sideways.

    A placeholder for real video (no MP4 encoder is needed); deterministic like `generate`.
    """
    width, height = video_size(size)
    base = _sketch(_seed(prompt, "video"), width, height)
    shots: list[Image.Image] = []
    for i in range(frames):
        shift = round(i * width / frames)
        frame = Image.new("RGB", (width, height))
        frame.paste(base.crop((shift, 0, width, height)), (0, 0))
        frame.paste(base.crop((0, 0, shift, height)), (width - shift, 0))
        _caption(frame, f"{prompt} · {i + 1}/{frames}")
        shots.append(frame.convert("P", palette=Image.Palette.ADAPTIVE, colors=64))
    buf = io.BytesIO()
    shots[0].save(
        buf, "GIF", save_all=True, append_images=shots[1:], duration=VIDEO_FRAME_MS, loop=0
    )
    return buf.getvalue()
