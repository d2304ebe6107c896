"""Soak: 1,000 short replies streamed into the real Chat pane in one app session (issue 9).

The pane is built over the services `bluesdesk.app` builds (`_load_services`: database, chat,
catalog, account) with a real profile, shown offscreen, and driven like a user: the prompt is
typed into the composer, Enter sends it, and the next message waits for the controller's
`finished` signal. Every `--per-conversation` replies the user clicks "New chat". The emulator
runs in its own process (`python -m bluesdesk.emulator`, as benchmarks/stream_ui.py does), so
its memory and CPU are not ours.

Printed:
- RSS after the warm-up (the first 20 replies), at every 100 replies and at the end; growth.
- Leak counters at the end of the first and of the last block of replies: live asyncio tasks,
  `QApplication.allWidgets()`, QObject descendants of the pane, our TCP connections to the
  emulator (/proc/self/fd sockets matched against /proc/net/tcp{,6}), and open descriptors on
  the database file (one per SQLite connection). Taken at the same point of a conversation
  (its last reply), after a garbage collection, so equal counts mean nothing accumulates.
- Event-loop stalls (max and p99 gap of a 5 ms precise QTimer) over the first and the last block.

Baseline: the first block of the same run. It has the same pane, conversation shape, pace and
process, so the last block can differ from it only by what the session accumulated; a separate
process would add import and allocator noise larger than the growth being looked for.

Run: `QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/soak.py [--replies N]`.
Goal (issue 9): RSS growth ≤ 10 %, counters equal, stalls of the last block ≈ the first.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync
from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from bluesdesk.core.heap import freeze_startup_heap
from bluesdesk.core.models import GatewayKind, GatewayProfile
from bluesdesk.emulator.accounts import DEMO

TICK_MS = 5
WARM_UP = 20
MODEL = "gpt-4o-mini"


# ---- measurements ------------------------------------------------------------------------------


class StallMeter:
    """A precise 5 ms timer; the gaps between its ticks are how long the event loop was busy.

    Paused while QTest types a prompt: it sends every key in one synchronous burst, which no
    user does, and would show as a stall of the app's.
    """

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[float] = []
        self._last = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append((now - self._last) * 1000)
        self._last = now

    def start(self) -> None:
        self.gaps = []
        self.resume()

    def pause(self) -> None:
        self.timer.stop()

    def resume(self) -> None:
        if self.timer.isActive():
            return
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> tuple[float, float]:
        """(max, p99) gap in ms."""
        self.timer.stop()
        gaps = sorted(self.gaps)
        if not gaps:
            return 0.0, 0.0
        return gaps[-1], gaps[min(len(gaps) - 1, int(len(gaps) * 0.99))]


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _socket_inodes() -> set[str]:
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    return inodes


def tcp_connections(port: int) -> int:
    """Our established TCP connections to `port` (the emulator)."""
    ours = _socket_inodes()
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table, encoding="ascii") as rows:
            next(rows)
            for row in rows:
                fields = row.split()
                remote_port = int(fields[2].rsplit(":", 1)[1], 16)
                if fields[3] == "01" and remote_port == port and fields[9] in ours:
                    count += 1
    return count


def open_files(path: Path) -> int:
    """Descriptors of this process on `path` (SQLite holds one per connection)."""
    wanted = str(path.resolve())
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/self/fd/{fd}") == wanted:
                count += 1
    return count


@dataclass
class Counters:
    tasks: int
    widgets: int
    pane_objects: int
    tcp: int
    db_files: int

    def row(self) -> str:
        return (
            f"tasks {self.tasks:3d}   widgets {self.widgets:5d}   pane QObjects "
            f"{self.pane_objects:5d}   TCP to emulator {self.tcp:2d}   db descriptors "
            f"{self.db_files:2d}"
        )


# ---- the emulator and the app session -----------------------------------------------------------


def start_emulator(tokens_per_second: float) -> tuple[subprocess.Popen[str], str, int]:
    cmd = [sys.executable, "-m", "bluesdesk.emulator", "--port", "0"]
    # A soak is not a rate-limit test: lift the flavor's 20 RPM out of the way.
    cmd += ["--tokens-per-second", str(tokens_per_second), "--rpm", "1000000000"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        if match:
            threading.Thread(target=proc.stdout.read, daemon=True).start()  # never let it block
            return proc, match.group(0), int(match.group(1))
    raise RuntimeError("the emulator did not print its URL")


class Session:
    """One app session: the services as `bluesdesk.app` builds them and a shown ChatPane."""

    def __init__(self, folder: Path, base_url: str) -> None:
        self.folder = folder
        self.base_url = base_url

    async def open(self) -> None:
        from bluesdesk.app import _load_services
        from bluesdesk.gateway import GatewayPool
        from bluesdesk.paths import Paths
        from bluesdesk.secrets.keystore import KeyStore
        from bluesdesk.services.profiles import ProfileService
        from bluesdesk.settings import SettingsStore
        from bluesdesk.ui.chat.pane import ChatPane
        from bluesdesk.ui.context import AppContext
        from bluesdesk.ui.tasks import TaskRunner

        self.paths = Paths.under(self.folder / "home")
        self.paths.ensure()
        settings = SettingsStore(self.paths.settings_file)
        settings.load()
        keys = KeyStore()
        keys.use_memory_only()  # a benchmark never writes to the user's keyring
        pool = GatewayPool()
        profiles = ProfileService(settings, keys, pool)
        self.ctx = AppContext(
            settings=settings, keys=keys, profiles=profiles, runner=TaskRunner(), pool=pool
        )
        profile = GatewayProfile(
            id="soak",
            name="Emulator",
            base_url=self.base_url + "/v1",
            management_url=self.base_url,
            kind=GatewayKind.BLUESMINDS,
        )
        await profiles.save(profile, DEMO.api_key)
        await profiles.set_active(profile.id)
        db = await _load_services(self.ctx, self.paths)
        if db is None:
            raise RuntimeError("the database did not open")
        self.db = db
        self.pane = ChatPane(self.ctx)
        self.pane.resize(1100, 720)
        self.pane.show()
        # The model list loads in a pane task; wait for that task as the user waits for the
        # picker to fill.
        loaded: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def task_done(key: str) -> None:
            if key == "chat:models" and not loaded.done():
                loaded.set_result(None)

        self.ctx.runner.finished.connect(task_done)
        self.pane.on_shown()  # what MainWindow does when the pane becomes the page
        await asyncio.wait_for(loaded, 30)
        self.ctx.runner.finished.disconnect(task_done)
        freeze_startup_heap()  # as bluesdesk.app does once its panes are built
        if self.pane.model_box.currentText() != MODEL:
            raise RuntimeError(f"the picker chose {self.pane.model_box.currentText()!r}")
        controller = self.pane.controller
        assert controller is not None
        self.controller = controller
        self.finished: asyncio.Future[Any] | None = None
        controller.finished.connect(self._finished)

    def _finished(self, message: Any) -> None:
        if self.finished is not None and not self.finished.done():
            self.finished.set_result(message)

    def new_chat(self) -> None:
        QTest.mouseClick(self.pane.sidebar.new_button, Qt.MouseButton.LeftButton)

    async def reply(self, prompt: str, meter: StallMeter) -> Any:
        """Type `prompt` into the composer, press Enter, wait for the answer to finish."""
        self.finished = asyncio.get_running_loop().create_future()
        edit = self.pane.composer.edit
        edit.setFocus()
        measuring = meter.timer.isActive()
        meter.pause()
        QTest.keyClicks(edit, prompt)
        if measuring:
            meter.resume()
        QTest.keyClick(edit, Qt.Key.Key_Return)
        message = await asyncio.wait_for(self.finished, 60)
        if message.state != "complete":
            raise RuntimeError(f"reply ended {message.state}: {message.text[:200]!r}")
        assert not self.controller.busy  # cleared before `finished`: Enter sends again
        return message

    def counters(self, port: int) -> Counters:
        gc.collect()
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        return Counters(
            tasks=len(asyncio.all_tasks()),
            widgets=len(app.allWidgets()),
            pane_objects=len(self.pane.findChildren(QObject)),
            tcp=tcp_connections(port),
            db_files=open_files(self.paths.db_file),
        )

    async def close(self) -> None:
        self.pane.close()
        await self.ctx.runner.shutdown(3.0)
        if self.ctx.pool is not None:
            await self.ctx.pool.aclose()
        await self.db.close()


# ---- the run -------------------------------------------------------------------------------------


async def soak(replies: int, per_conversation: int, pace: float, trace: int = 0) -> int:
    block = min(100, max(10, replies // 5))
    proc, base_url, port = start_emulator(pace)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            session = Session(Path(tmp), base_url)
            await session.open()
            try:
                return await _run(session, port, replies, per_conversation, block, pace, trace)
            finally:
                await session.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def _run(
    session: Session,
    port: int,
    replies: int,
    per_conversation: int,
    block: int,
    pace: float,
    trace: int,
) -> int:
    print(
        f"Soak: {replies} replies into the Chat pane, a new chat every {per_conversation}, "
        f"emulator at {pace:g} tokens/s (its own process); blocks of {block}"
    )
    meter = StallMeter()
    snapshot: tracemalloc.Snapshot | None = None
    rss: list[tuple[int, float]] = []
    stalls: dict[str, tuple[float, float]] = {}
    counters: dict[str, Counters] = {}
    last_block_start = replies - block
    started = time.perf_counter()
    for n in range(1, replies + 1):
        if n > 1 and (n - 1) % per_conversation == 0:
            session.new_chat()
        if n == 1 or n == last_block_start + 1:
            meter.start()
        await session.reply(f"echo: reply {n}, a short answer of a few words", meter)
        if n == block:
            stalls["first"] = meter.stop()
            counters["first"] = session.counters(port)
            if trace:
                snapshot = tracemalloc.take_snapshot()
        if n == replies:
            stalls["last"] = meter.stop()
            counters["last"] = session.counters(port)
        if n == min(WARM_UP, replies) or n % 100 == 0 or n == replies:
            rss.append((n, rss_mb()))
    elapsed = time.perf_counter() - started

    print(f"  {replies} replies in {elapsed:.1f} s ({elapsed / replies * 1000:.0f} ms a reply)")
    base = rss[0][1]
    print("  RSS (MB): " + "   ".join(f"{n}: {mb:.1f}" for n, mb in rss))
    growth = (rss[-1][1] - base) / base * 100
    print(f"  RSS growth after warm-up ({rss[0][0]} replies): {growth:+.1f} %   (goal ≤ 10 %)")
    first, last = counters["first"], counters["last"]
    print(f"  counters after reply {block:4d}: {first.row()}")
    print(f"  counters after reply {replies:4d}: {last.row()}")
    grew = [
        name
        for name in ("tasks", "widgets", "pane_objects", "tcp", "db_files")
        if getattr(last, name) > getattr(first, name)
    ]
    # Idle keep-alive connections expire (httpx: 5 s), so "TCP" may only fall.
    print(f"  counters grew: {', '.join(grew) if grew else 'none'}")
    for name, (worst, p99) in stalls.items():
        print(f"  stalls, {name} {block} replies: max {worst:6.1f} ms   p99 {p99:5.1f} ms")
    print("  baseline: the first block of this run (same pane, process and pace)")
    if trace:
        gc.collect()
        assert snapshot is not None
        grown = tracemalloc.take_snapshot().compare_to(snapshot, "traceback")
        print(f"  Python allocations grown since reply {block} (tracemalloc, top {trace}):")
        for stat in grown[:trace]:
            print(f"    {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks")
            for line in stat.traceback.format()[-8:]:
                print("      " + line)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--replies", type=int, default=1000)
    parser.add_argument("--per-conversation", type=int, default=100)
    parser.add_argument("--tokens-per-second", type=float, default=400.0)
    parser.add_argument(
        "--trace",
        type=int,
        default=0,
        metavar="N",
        help="trace Python allocations; print the N that grew most after the first block",
    )
    args = parser.parse_args(argv)
    if args.trace:
        tracemalloc.start(12)
    if args.replies < 1 or args.per_conversation < 1:
        parser.error("--replies and --per-conversation must be positive")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    sys.set_asyncgen_hooks(  # as bluesdesk.app does: httpx's generators closed by the loop
        firstiter=loop._asyncgen_firstiter_hook, finalizer=loop._asyncgen_finalizer_hook
    )
    with loop:
        code: int = loop.run_until_complete(
            soak(args.replies, args.per_conversation, args.tokens_per_second, args.trace)
        )
        loop.run_until_complete(loop.shutdown_asyncgens())
    return code


if __name__ == "__main__":
    sys.exit(main())
