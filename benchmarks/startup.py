"""Cold start to first painted window and idle RSS: `bluesdesk --demo` beside a bare PySide6 window.

Each sample is a fresh process. The child records the wall-clock time of the first Paint event of
its main window and, for bluesdesk, of the window's `panes_loaded` signal (every pane built: the
panes load after the first paint); from then it waits `IDLE_S` seconds idle, reads its RSS and
exits. The
parent takes the start time just before spawning it. Run: `python benchmarks/startup.py [--runs N]`.

Bytecode caching is left on for the children (an installed app has its .pyc files), even when the
calling shell sets PYTHONDONTWRITEBYTECODE; the warm-up run writes them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

IDLE_S = 2.0

CHILD = r"""
import json, sys, time
mode, out_path, profile_dir = sys.argv[1], sys.argv[2], sys.argv[3]
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

app = QApplication.instance() or QApplication(sys.argv[:1])
result = {}

def rss_kb():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if (event.type() == QEvent.Type.Paint and "painted" not in result
                and isinstance(obj, QMainWindow)):
            result["painted"] = time.time()
            loaded = getattr(obj, "panes_loaded", None)
            if loaded is not None and not obj.panes_ready():
                loaded.connect(lambda: on_loaded(obj))
            else:
                on_loaded(obj)
        return False

def on_loaded(window):
    # Idle (for the RSS figure) counts from the moment everything is loaded.
    if "loaded" not in result:
        result["loaded"] = time.time()
        QTimer.singleShot(int(%(idle)s * 1000), lambda: finish(window))

def finish(window):
    result["rss_kb"] = rss_kb()
    with open(out_path, "w") as fh:
        json.dump(result, fh)
    window.close()  # bluesdesk shuts its services down when its window closes
    if mode == "bare":
        app.quit()

spy = FirstPaint()
app.installEventFilter(spy)
if mode == "bare":
    w = QMainWindow(); w.setCentralWidget(QLabel("hello")); w.resize(1100, 720); w.show()
    app.exec()
else:
    from bluesdesk.__main__ import build_parser
    from bluesdesk.app import run
    run(build_parser().parse_args(["--demo", "--profile-dir", profile_dir]))
""".replace("%(idle)s", str(IDLE_S))


def sample(mode: str) -> tuple[float, float, float]:
    """One cold start: (ms to first paint, ms to every pane built, idle RSS in MB)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "result.json")
        env = dict(os.environ)
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        start = time.time()
        subprocess.run(
            [sys.executable, "-c", CHILD, mode, out, os.path.join(tmp, "home")],
            env=env,
            check=True,
            timeout=120,
            capture_output=True,
        )
        with open(out) as fh:
            result = json.load(fh)
    painted = (result["painted"] - start) * 1000.0
    loaded = (result["loaded"] - start) * 1000.0
    return painted, loaded, result["rss_kb"] / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    figures: dict[str, tuple[list[float], list[float], list[float]]] = {}
    for mode in ("bare", "bluesdesk"):
        sample(mode)  # warm the OS file cache (and .pyc files) so both are measured alike
        times, loads, rss = [], [], []
        for _ in range(args.runs):
            ms, loaded_ms, mb = sample(mode)
            times.append(ms)
            loads.append(loaded_ms)
            rss.append(mb)
        figures[mode] = (times, loads, rss)

    print(f"cold start to first painted window, {args.runs} runs each (offscreen)")
    print(
        f"{'':28}{'median ms':>10}{'min ms':>9}{'max ms':>9}{'all panes ms':>14}{'idle RSS MB':>13}"
    )
    labels = {"bare": "bare PySide6 QMainWindow", "bluesdesk": "bluesdesk --demo"}
    for mode, (times, loads, rss) in figures.items():
        print(
            f"{labels[mode]:28}{statistics.median(times):10.0f}{min(times):9.0f}"
            f"{max(times):9.0f}{statistics.median(loads):14.0f}{statistics.median(rss):13.1f}"
        )
    bt, _, br = figures["bare"]
    at, _, ar = figures["bluesdesk"]
    print(
        f"ratio bluesdesk / bare: start {statistics.median(at) / statistics.median(bt):.2f}x, "
        f"RSS {statistics.median(ar) / statistics.median(br):.2f}x"
    )


if __name__ == "__main__":
    main()
