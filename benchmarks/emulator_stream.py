"""How fast the gateway emulator streams chat chunks, so it never limits client benchmarks.

The emulator runs in its own process pinned to one core (the client reads on another) and
streams a long chat completion through the full relay platform (auth, billing, logs, fault
hooks). Baseline in the same run: a bare Starlette + uvicorn app on the same core streaming
pre-built frames of the same size.
Goal: at least 5,000 chunks/s. Run: `python benchmarks/emulator_stream.py`.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import threading
import time

import httpx

from bluesdesk.emulator.accounts import DEMO

BASELINE_SERVER = r"""
import json, socket, sys
import uvicorn
from starlette.applications import Starlette
from starlette.responses import StreamingResponse
from starlette.routing import Route

FRAME = "data: " + json.dumps({"id": "chatcmpl-x", "object": "chat.completion.chunk",
    "choices": [{"index": 0, "delta": {"content": " word"}, "finish_reason": None}]}) + "\n\n"

async def chat(request):
    body = await request.json()
    n = int(body.get("n_frames", 10000))
    async def frames():
        for _ in range(n):
            yield FRAME
        yield "data: [DONE]\n\n"
    return StreamingResponse(frames(), media_type="text/event-stream")

sock = socket.socket(); sock.bind(("127.0.0.1", 0)); sock.listen(64)
print(f"http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
config = uvicorn.Config(Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])]),
                        log_level="warning")
uvicorn.Server(config).run(sockets=[sock])
"""


def start(cmd: list[str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        match = re.search(r"http://127\.0\.0\.1:\d+", line)
        if match:
            if hasattr(os, "sched_setaffinity"):
                os.sched_setaffinity(proc.pid, {0})
            # Keep reading what it prints, or a full pipe would block the server.
            threading.Thread(target=proc.stdout.read, daemon=True).start()
            return proc, match.group(0)
    raise RuntimeError("server did not print its URL")


def measure(url: str, body: dict[str, object], headers: dict[str, str]) -> tuple[int, float]:
    frames = 0
    with httpx.Client(timeout=60) as client:
        started = time.perf_counter()
        with client.stream("POST", url + "/v1/chat/completions", json=body, headers=headers) as r:
            r.raise_for_status()
            for line in r.iter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    frames += 1
        elapsed = time.perf_counter() - started
    return frames, frames / elapsed


def main() -> None:
    if hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) > 1:
        os.sched_setaffinity(0, set(list(os.sched_getaffinity(0))[1:]))
    runs = 3
    emu, emu_url = start(
        [
            sys.executable,
            "-m",
            "bluesdesk.emulator",
            "--port",
            "0",
            "--flavor",
            "newapi",
            "--tokens-per-second",
            "0",
        ]
    )
    try:
        body = {
            "model": "gpt-4o-mini",
            "stream": True,
            "messages": [{"role": "user", "content": "Write 8000 words about rivers."}],
        }
        auth = {"Authorization": f"Bearer {DEMO.api_key}"}
        emu_rates = [measure(emu_url, body, auth) for _ in range(runs)]
    finally:
        emu.terminate()
        emu.wait()
    frames = emu_rates[0][0]
    base, base_url = start([sys.executable, "-c", BASELINE_SERVER])
    try:
        base_rates = [measure(base_url, {"n_frames": frames}, {}) for _ in range(runs)]
    finally:
        base.terminate()
        base.wait()

    emu_median = statistics.median(r for _, r in emu_rates)
    base_median = statistics.median(r for _, r in base_rates)
    print(f"streamed chat chunks per second, server pinned to one core, {runs} runs of ~{frames}")
    print(f"  bare Starlette + uvicorn baseline: {base_median:10,.0f} chunks/s")
    print(f"  bluesdesk emulator (full relay):   {emu_median:10,.0f} chunks/s")
    print(
        f"  emulator / baseline: {emu_median / base_median:.2f}   goal >= 5,000 chunks/s: "
        f"{'met' if emu_median >= 5000 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
