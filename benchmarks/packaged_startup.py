"""Packaged app (dist/bluesdesk) beside the source tree: cold start and idle RSS.

Each sample is a fresh process, off-screen, with its own profile folder, after one warm-up run so
the OS file cache treats both alike. Two figures per sample:

* start: wall time from spawn to the first pane's screenshot (the app logs "screenshot saved" with
  a millisecond timestamp once the first pane has loaded and painted), and to the exit of
  ``--demo --screenshot`` after all panes;
* idle RSS: ``--demo`` without screenshots, resident memory once it stops changing.

Build the bundle first (``bash packaging/build.sh``), then run
``python benchmarks/packaged_startup.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGED = ROOT / "dist" / "bluesdesk" / "bluesdesk"
LOG_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) .*screenshot saved", re.M)
RSS_STABLE_KB = 512  # idle once RSS moves less than this over one second


def command(kind: str) -> list[str]:
    return [str(PACKAGED)] if kind == "packaged" else [sys.executable, "-m", "bluesdesk"]


def env() -> dict[str, str]:
    e = dict(os.environ)
    e.setdefault("QT_QPA_PLATFORM", "offscreen")
    e.pop("BLUESDESK_HOME", None)
    return e


def first_screenshot_epoch(log_dir: Path) -> float:
    text = "".join(p.read_text() for p in sorted(log_dir.glob("*.log*")))
    m = LOG_STAMP.search(text)
    if m is None:
        raise RuntimeError(f"no screenshot line in the log under {log_dir}")
    stamp = dt.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f")
    return stamp.timestamp()  # the app logs local time


def start_sample(kind: str) -> tuple[float, float]:
    """(ms to the first pane on screen, ms to the end of --screenshot)."""
    with tempfile.TemporaryDirectory() as tmp:
        profile = Path(tmp) / "profile"
        start = time.time()
        args = ["--demo", "--screenshot", f"{tmp}/shots", "--profile-dir", str(profile)]
        subprocess.run(
            [*command(kind), *args],
            env=env(), cwd=ROOT, check=True, timeout=120, capture_output=True,
        )
        total = time.time() - start
        first = first_screenshot_epoch(profile / "logs") - start
    return first * 1000.0, total * 1000.0


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def idle_rss_mb(kind: str) -> float:
    """RSS of `--demo` once it has settled (stable for one second, at most 30 s)."""
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen(
            [*command(kind), "--demo", "--profile-dir", f"{tmp}/profile"],
            env=env(), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            history: list[int] = []
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    proc.wait(timeout=0.1)  # sampling interval; returns early if it died
                    raise RuntimeError(f"{kind} app exited early with {proc.returncode}")
                except subprocess.TimeoutExpired:
                    pass
                history.append(rss_kb(proc.pid))
                if len(history) > 10 and max(history[-10:]) - min(history[-10:]) < RSS_STABLE_KB:
                    break
            return history[-1] / 1024.0
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not PACKAGED.exists():
        sys.stderr.write(f"no bundle at {PACKAGED}: run `bash packaging/build.sh` first\n")
        return 2

    rows = []
    for kind in ("packaged", "source"):
        start_sample(kind)  # warm-up
        samples = [start_sample(kind) for _ in range(args.runs)]
        rss = statistics.median(idle_rss_mb(kind) for _ in range(max(1, args.runs // 2)))
        first = statistics.median(s[0] for s in samples)
        total = statistics.median(s[1] for s in samples)
        rows.append((kind, first, total, rss))

    print(f"bluesdesk --demo, off-screen, median of {args.runs} fresh processes")
    print(f"{'':22}{'first pane ms':>14}{'all panes ms':>14}{'idle RSS MB':>13}")
    labels = {"packaged": "packaged (dist/)", "source": "source tree (.venv)"}
    for kind, first, total, rss in rows:
        print(f"{labels[kind]:22}{first:14.0f}{total:14.0f}{rss:13.1f}")
    (_, pf, pt, pr), (_, sf, st, sr) = rows
    print(
        f"packaged / source: first pane {pf / sf:.2f}x, all panes {pt / st:.2f}x, "
        f"RSS {pr / sr:.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
