"""The chat transcript under load: opening a 10,000-message conversation, and streaming a long
answer through the real controller without stalling the event loop.

1. Open: a conversation of 10,000 messages (markdown answers with code, lists and tables) is
   written straight into a fresh SQLite file; then, as the pane's open does (`read_for_view`:
   the tail and a count), its messages are read and shown in a `TranscriptView`, until the view's
   first paint.
   Cold (no rendered HTML cached) and warm (re-opened). Baseline in the same run: an empty
   QTextBrowser shown to its first paint. Goal (issue 5): ≤ 150 ms.
2. Stream: 5,000 words streamed by the emulator (its own process, paced at `TOKENS_PER_S`) through
   `ChatService` + `ChatController` into a `TranscriptView`, while a 5 ms timer records the
   event-loop gaps (max, p99). Baseline in the same run: the same stream consumed by a bare
   `stream_chat` loop on the same event loop, with the same timer. Goal: max ≤ 16 ms.

Run: `QT_QPA_PLATFORM=offscreen python benchmarks/chat_transcript.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from _chatdb import insert_conversation
from _paint import PaintWaiter
from _qtloop import run_on_qt
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QTextBrowser

from bluesdesk.core.models import ChatMessage, ChatParams, Delta, GatewayProfile
from bluesdesk.emulator.accounts import DEMO
from bluesdesk.gateway import GatewayClient, stream_chat
from bluesdesk.services.chat import ChatService, ReplyDelta, ReplyUpdate
from bluesdesk.store import ConversationStore, Database
from bluesdesk.ui.chat.controller import ChatController
from bluesdesk.ui.chat.pane import read_for_view
from bluesdesk.ui.chat.transcript import TranscriptView
from bluesdesk.ui.tasks import TaskRunner

MESSAGES = 10_000
WORDS = 5_000
TOKENS_PER_S = 2_000.0
TICK_MS = 5
RUNS = 5


# ---- helpers ------------------------------------------------------------------------------


class GapMeter:
    """A 5 ms timer; the gaps between its ticks show how long the event loop was blocked."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.ticks: list[float] = []

    def _tick(self) -> None:
        self.ticks.append(time.perf_counter())

    def start(self) -> None:
        self.ticks = [time.perf_counter()]
        self.timer.start()

    def stop(self) -> tuple[float, float]:
        self.timer.stop()
        gaps = sorted((b - a) * 1000 for a, b in zip(self.ticks, self.ticks[1:], strict=False))
        if not gaps:
            return 0.0, 0.0
        return gaps[-1], gaps[min(len(gaps) - 1, int(len(gaps) * 0.99))]


def fill(path: Path) -> str:
    """A conversation of MESSAGES messages, written straight into SQLite."""
    conn = sqlite3.connect(path)
    conv_id = "bench"
    insert_conversation(conn, conv_id, MESSAGES, title="Long chat")
    conn.commit()
    conn.close()
    return conv_id


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


# ---- 1. opening a long conversation -------------------------------------------------------


async def bench_open(folder: Path) -> None:
    db = await Database.open(folder / "chat.db")  # runs the migrations
    await db.close()
    conv_id = fill(folder / "chat.db")
    db = await Database.open(folder / "chat.db")
    store = ConversationStore(db)

    bare = QTextBrowser()
    bare.resize(900, 700)
    bare_waiter = PaintWaiter(bare.viewport())
    baseline = []
    for _ in range(RUNS):
        bare.hide()
        painted = bare_waiter.arm()
        started = time.perf_counter()
        bare.setHtml("")
        bare.show()
        baseline.append(await painted - started)

    view = TranscriptView()
    view.resize(900, 700)
    view.show()
    waiter = PaintWaiter(view.viewport())
    cold: list[float] = []
    warm: list[float] = []
    for run in range(RUNS + 1):
        if run < 2:
            view._cache.clear()  # 0: first ever (imports, lexers); 1: nothing cached
        view.show_messages([])
        await asyncio.sleep(0.05)  # let the empty view paint
        painted = waiter.arm()
        started = time.perf_counter()
        messages, not_loaded = await read_for_view(store, conv_id)
        view.show_messages(messages, not_loaded=not_loaded)
        view.viewport().update()
        (cold if run < 2 else warm).append(await painted - started)
    await db.close()
    view.close()
    bare.close()
    print(f"Open a {MESSAGES:,}-message conversation (read + render + first paint):")
    print(f"  baseline: empty QTextBrowser first paint   median {ms(statistics.median(baseline))}")
    print(f"  transcript, first open in the process             {ms(cold[0])}")
    print(f"  transcript, cold (no HTML cached)                 {ms(cold[1])}")
    print(f"  transcript, warm (HTML cached per message) median {ms(statistics.median(warm))}")
    print("  goal ≤ 150 ms")


# ---- 2. streaming through the controller ----------------------------------------------------


def start_emulator() -> tuple[subprocess.Popen[str], str]:
    """The emulator in its own process, so its work never shows up as our event-loop stalls."""
    cmd = [sys.executable, "-m", "bluesdesk.emulator", "--port", "0"]
    cmd += ["--tokens-per-second", str(TOKENS_PER_S)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        match = re.search(r"http://127\.0\.0\.1:\d+", line)
        if match:
            threading.Thread(target=proc.stdout.read, daemon=True).start()  # never block it
            return proc, match.group(0)
    raise RuntimeError("the emulator did not print its URL")


async def bench_stream(relay_url: str, folder: Path) -> None:
    profile = GatewayProfile(id="emu", name="Emulator", base_url=relay_url, timeout_s=60)
    client = GatewayClient(profile, DEMO.api_key)
    # Paragraphs of 40 words, as answers have them (the live view freezes finished paragraphs).
    words = [f"w{i}" + ("\n\n" if i % 40 == 39 else "") for i in range(WORDS)]
    prompt = "echo: " + " ".join(words)
    meter = GapMeter()

    # Baseline: the same stream, no UI.
    meter.start()
    started = time.perf_counter()
    chunks = 0
    stream = stream_chat(client, [ChatMessage("user", prompt)], ChatParams(model="gpt-4o-mini"))
    async with contextlib.aclosing(stream) as events:
        async for event in events:
            if isinstance(event, Delta):
                chunks += 1
    base_s = time.perf_counter() - started
    base_max, base_p99 = meter.stop()

    db = await Database.open(folder / "stream.db")

    async def client_for(profile_id: str) -> GatewayClient:
        return client

    service = ChatService(ConversationStore(db), client_for)
    conv = await service.new_conversation(model="gpt-4o-mini")
    view = TranscriptView()
    view.resize(900, 700)
    view.show()
    runner = TaskRunner()
    controller = ChatController(service, view, runner)
    deltas = 0
    original = controller.on_update

    def counting(update: ReplyUpdate) -> None:
        nonlocal deltas
        if isinstance(update, ReplyDelta):
            deltas += 1
        original(update)

    controller.on_update = counting  # type: ignore[method-assign]
    done = asyncio.get_running_loop().create_future()

    def finished(message: object) -> None:
        if not done.done():
            done.set_result(message)

    controller.finished.connect(finished)
    meter.start()
    started = time.perf_counter()
    controller.send(conv.id, prompt)
    final = await done
    ui_s = time.perf_counter() - started
    ui_max, ui_p99 = meter.stop()
    await db.close()
    await client.aclose()
    view.close()
    print(f"Stream {WORDS:,} words at {TOKENS_PER_S:,.0f} tokens/s (5 ms timer, event-loop gaps):")
    print(
        f"  baseline: bare stream_chat loop   {chunks:5d} chunks in {base_s:5.2f} s"
        f"   max gap {base_max:6.1f} ms   p99 {base_p99:5.1f} ms"
    )
    print(
        f"  controller + transcript           {deltas:5d} chunks in {ui_s:5.2f} s"
        f"   max gap {ui_max:6.1f} ms   p99 {ui_p99:5.1f} ms"
        f"   (markdown renders: {controller.renders}, state {final.state})"
    )
    print("  goal: max gap ≤ 16 ms")


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        await bench_open(folder)
        proc, url = start_emulator()
        try:
            await bench_stream(url + "/v1", folder)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    run_on_qt(main())  # the views close between the two parts
