"""Opening the Images gallery with 2,000 pictures: time to first paint and to the visible
thumbnails (issue 7: "thumbnails in a grid that stays fast with thousands of images").

A data folder is built once: 2,000 rows in a real SQLite file and 2,000 1024x1024 PNGs (hard
links to one noisy picture, so each decode costs what a real one does without filling the disk).
Each sample is a fresh process that reads the rows through `MediaStore`, shows the gallery grid
(`GalleryModel` + `make_gallery_view`, as the pane builds it) and records, from just before the
rows are read: the first Paint of the grid, and the moment every visible cell has its thumbnail.

Modes, all in the same run:
  empty    an empty gallery (the floor: window + grid + SQLite, no pictures)
  nocache  2,000 pictures, thumbnails decoded from the pictures (the baseline: the first pass)
  cold     2,000 pictures, disk cache on but empty (the first start: decodes and writes)
  warm     2,000 pictures, thumbnails read from the disk cache (every start after that)

Run: .venv/bin/python benchmarks/gallery.py [--images N] [--runs R]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import asyncio, json, sys, time
from pathlib import Path
start = time.perf_counter()
mode, home, out_path = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer
from PySide6.QtWidgets import QApplication
from bluesdesk.store.db import Database
from bluesdesk.store.media import MediaStore
from bluesdesk.ui.images.gallery import GalleryModel, make_gallery_view

app = QApplication.instance() or QApplication(sys.argv[:1])
t0 = time.perf_counter()
db_file = home / ("empty.db" if mode == "empty" else "bluesdesk.db")

async def load():
    db = await Database.open(db_file)
    try:
        return await MediaStore(db).images()
    finally:
        await db.close()

records = asyncio.run(load())
t_rows = time.perf_counter()
model = GalleryModel(home / "media", disk_cache=(mode != "nocache"))
view = make_gallery_view(model)
result = {"rows": len(records)}

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and "paint_ms" not in result:
            result["paint_ms"] = (time.perf_counter() - t0) * 1000
        return False

spy = FirstPaint()
view.viewport().installEventFilter(spy)
model.set_records(records)
view.resize(1100, 720)
view.show()
visible = None
deadline = time.perf_counter() + 60
tick = QTimer()  # wakes the wait below now and then, so the deadline is checked
tick.start(100)
while time.perf_counter() < deadline:
    # Sleep until something happens instead of spinning: the decoders get the CPU.
    app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
    if "paint_ms" not in result:
        continue
    if visible is None:
        area = view.viewport().rect()
        visible = [model.record(r).id for r in range(model.rowCount())
                   if view.visualRect(model.index(r)).intersects(area)]
        result["visible"] = len(visible)
    if all(model.thumbnail_ready(i) for i in visible):
        result["thumbs_ms"] = (time.perf_counter() - t0) * 1000
        break
result["rows_ms"] = (t_rows - t0) * 1000
out_path.write_text(json.dumps(result))
"""


def build(home: Path, count: int) -> None:
    """2,000 (or `count`) picture rows and files, plus an empty database for the floor."""
    from PIL import Image

    from bluesdesk.store.db import Database
    from bluesdesk.store.media import MediaStore, NewImage

    images = home / "media" / "images"
    images.mkdir(parents=True)
    source = home / "source.png"
    noise = Image.effect_noise((1024, 1024), 40).convert("RGB")
    noise.save(source)
    new: list[NewImage] = []
    now = time.time()
    for i in range(count):
        name = f"bench-{i:05d}.png"
        try:
            os.link(source, images / name)
        except OSError:
            shutil.copyfile(source, images / name)
        new.append(NewImage(f"images/{name}", "dall-e-3", f"picture {i}", now - i, 1024, 1024))

    async def fill() -> None:
        db = await Database.open(home / "bluesdesk.db")
        try:
            await MediaStore(db).add_images(new)
        finally:
            await db.close()
        empty = await Database.open(home / "empty.db")
        await empty.close()

    asyncio.run(fill())


def sample(mode: str, home: Path) -> dict[str, float]:
    if mode in ("nocache", "cold"):
        shutil.rmtree(home / "media" / "thumbs", ignore_errors=True)
    out = home / f"result-{mode}.json"
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(home), str(out)],
        env=env, check=True, timeout=180, capture_output=True,
    )  # fmt: skip
    result: dict[str, float] = json.loads(out.read_text())
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        started = time.perf_counter()
        build(home, args.images)
        print(f"built {args.images} pictures in {time.perf_counter() - started:.1f} s")
        print(f"{'mode':8} {'rows':>6} {'visible':>8} {'read rows':>10} {'first paint':>12} "
              f"{'thumbnails':>11}   (median of {args.runs}, ms)")  # fmt: skip
        for mode in ("empty", "nocache", "cold", "warm"):
            if mode == "warm":
                sample("cold", home)  # make sure the cache is filled
            runs = [sample(mode, home) for _ in range(args.runs)]

            def med(key: str, runs: list[dict[str, float]] = runs) -> float:
                return statistics.median(r.get(key, float("nan")) for r in runs)

            first = runs[0]
            print(f"{mode:8} {first['rows']:>6} {first.get('visible', 0):>8} "
                  f"{med('rows_ms'):>10.1f} {med('paint_ms'):>12.1f} "
                  f"{med('thumbs_ms'):>11.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
