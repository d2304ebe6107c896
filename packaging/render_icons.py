"""Render the application icon: resources/icons/ from bluesdesk/resources/app.svg.

The SVG inside the package (what the running app shows) is the one source. This script copies it
to ``resources/icons/bluesdesk.svg`` and renders ``bluesdesk-<N>.png`` for the hicolor sizes,
``bluesdesk.ico`` (Windows) and ``bluesdesk.icns`` (macOS). Run it after editing app.svg:
``.venv/bin/python packaging/render_icons.py`` (Qt renders off-screen; no display needed).
"""

from __future__ import annotations

import io
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "bluesdesk" / "resources" / "app.svg"
OUT = ROOT / "resources" / "icons"
# The hicolor theme's standard application sizes (freedesktop icon theme spec).
SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZES = (16, 32, 64, 128, 256, 512, 1024)


def render_png(svg: bytes, side: int) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(QByteArray(svg))
    if not renderer.isValid():
        raise SystemExit(f"render_icons: {SOURCE} is not a valid SVG")
    image = QImage(side, side, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buf, "PNG")  # type: ignore[call-overload]  # the stubs want bytes, Qt wants str
    return bytes(buf.data().data())


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PIL import Image
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    OUT.mkdir(parents=True, exist_ok=True)
    svg = SOURCE.read_bytes()
    shutil.copyfile(SOURCE, OUT / "bluesdesk.svg")
    images: dict[int, Image.Image] = {}
    for side in sorted(set(SIZES) | set(ICO_SIZES) | set(ICNS_SIZES)):
        png = render_png(svg, side)
        images[side] = Image.open(io.BytesIO(png)).convert("RGBA")
        if side in SIZES:
            (OUT / f"bluesdesk-{side}.png").write_bytes(png)
    # Pillow picks each embedded size from the largest image; hand it the biggest rendering.
    images[256].save(OUT / "bluesdesk.ico", sizes=[(s, s) for s in ICO_SIZES])
    images[1024].save(
        OUT / "bluesdesk.icns", append_images=[images[s] for s in ICNS_SIZES if s != 1024]
    )
    del app
    sys.stdout.write(f"render_icons: wrote {len(SIZES)} PNGs, .ico and .icns to {OUT}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
