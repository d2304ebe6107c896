"""`python -m bluesdesk --demo --screenshot DIR` in a subprocess, as on a machine without a
display: the suites that check the screenshot sets share this one way of starting it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_screenshots(tmp_path: Path, *options: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run the real entry point with `options` (e.g. "--theme", "dark") and a data folder in
    `tmp_path/home`; returns the finished process and the folder the pictures go to."""
    out = tmp_path / "shots"
    env = dict(os.environ)
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        env.pop(name, None)  # --screenshot must manage without a display by itself
    command = [sys.executable, "-m", "bluesdesk", "--demo", *options]
    command += ["--screenshot", str(out), "--profile-dir", str(tmp_path / "home")]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=90)
    return proc, out
