"""A database that cannot be opened does not stop the app: it starts, and the panes say why."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_app_runs_when_the_database_cannot_be_opened(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "bluesdesk.db").mkdir(parents=True)  # a folder where the database file should be
    shots = tmp_path / "shots"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bluesdesk",
            "--demo",
            "--screenshot",
            str(shots),
            "--profile-dir",
            str(home),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    pngs = sorted(p.name for p in shots.glob("*.png"))
    assert pngs == [
        f"{k}.png" for k in sorted(["chat", "images", "speech", "models", "account", "settings"])
    ]
    assert all((shots / name).stat().st_size > 1000 for name in pngs)
    log = home / "logs" / "bluesdesk.log"
    logs = log.read_text() if log.exists() else "".join(p.read_text() for p in home.rglob("*.log"))
    assert "local database unavailable" in logs
