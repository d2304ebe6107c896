"""The soak benchmark still runs: 30 replies through the real Chat pane, in a subprocess.

Speed is not judged here (the machine is shared); the figures must all be printed, the replies
must all complete (the benchmark stops on any other end) and the run must exit 0.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOAK = ROOT / "benchmarks" / "soak.py"


@pytest.mark.timeout(180)
def test_soak_prints_its_figures_and_exits_0(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    env["BLUESDESK_HOME"] = str(tmp_path / "unused-home")  # the benchmark makes its own folder
    done = subprocess.run(
        [sys.executable, str(SOAK), "--replies", "30", "--per-conversation", "10"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=170,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, done.stderr[-3000:]
    assert "30 replies in" in out
    assert re.search(r"RSS \(MB\): 20: [\d.]+ +30: [\d.]+", out), out
    assert re.search(r"RSS growth after warm-up \(20 replies\): [+-][\d.]+ %", out), out
    counters = re.findall(
        r"counters after reply +(\d+): tasks +(\d+) +widgets +(\d+) +pane QObjects +(\d+) +"
        r"TCP to emulator +(\d+) +db descriptors +(\d+)",
        out,
    )
    assert [c[0] for c in counters] == ["10", "30"], out
    for _, tasks, widgets, objects, tcp, db_files in counters:
        assert int(widgets) > 0 and int(objects) > 0 and int(tasks) >= 1
        assert int(tcp) >= 1  # the pane's client keeps its connection alive between replies
        assert int(db_files) >= 1  # the database is open
    assert "counters grew:" in out
    stalls = re.findall(r"stalls, (first|last) 10 replies: max +([\d.]+) ms +p99 +([\d.]+) ms", out)
    assert [s[0] for s in stalls] == ["first", "last"], out
    assert all(float(worst) >= float(p99) > 0 for _, worst, p99 in stalls)
