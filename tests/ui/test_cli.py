"""The command line: no-display hint, --version (subprocesses: the real entry point)."""

from __future__ import annotations

import os
import subprocess
import sys

from bluesdesk import __version__
from bluesdesk.__main__ import has_display


def _env_without_display() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        env.pop(name, None)
    return env


def test_no_display_prints_a_hint_and_exits_2(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "bluesdesk", "--demo", "--profile-dir", str(tmp_path)],
        env=_env_without_display(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "no display" in proc.stderr
    assert "xvfb-run -a bluesdesk --demo" in proc.stderr
    assert "--screenshot" in proc.stderr
    assert "qt.qpa" not in proc.stderr  # never a Qt plugin trace
    assert not (tmp_path / "settings.json").exists()


def test_version():
    proc = subprocess.run(
        [sys.executable, "-m", "bluesdesk", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"bluesdesk {__version__}"


def test_has_display_rules():
    assert not has_display({}, "linux")
    assert has_display({"DISPLAY": ":0"}, "linux")
    assert has_display({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert has_display({"QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert has_display({}, "win32")
    assert has_display({}, "darwin")
