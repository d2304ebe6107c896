"""The deep fuzz tier: the fuzz modules again with 100,000 examples per parser (`-m slow`).

Each module runs in its own subprocess with BLUESDESK_FUZZ=deep (the examples count then comes
from `fuzzing.DEEP_EXAMPLES`), the two side by side to use both cores of a CI runner; the default
run never pays for it. About ten minutes on two cores.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = ["tests/hardening/test_fuzz_stream.py", "tests/hardening/test_fuzz_parsers.py"]
LIMIT_S = 3 * 3600


@pytest.mark.slow
@pytest.mark.timeout(LIMIT_S + 60)
def test_deep_fuzz(tmp_path: Path) -> None:
    env = {**os.environ, "BLUESDESK_FUZZ": "deep"}
    runs = []
    for index, module in enumerate(MODULES):
        log = (tmp_path / f"deep-{index}.log").open("w")
        command = [sys.executable, "-m", "pytest", module, "-q", "-p", "no:cacheprovider",
                   "--timeout", str(LIMIT_S), "--durations=0", "-x"]  # fmt: skip
        runs.append((module, log, subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                                                   stderr=subprocess.STDOUT)))  # fmt: skip
    failures = []
    for module, log, proc in runs:
        code = proc.wait(timeout=LIMIT_S)
        log.close()
        output = Path(log.name).read_text()
        report = os.environ.get("BLUESDESK_FUZZ_REPORT")
        if report:
            with open(report, "a") as out:
                out.write(f"==== {module}\n{output}\n")
        if code != 0:
            failures.append(f"{module} exited {code}:\n{output[-5000:]}")
    assert not failures, "\n\n".join(failures)
