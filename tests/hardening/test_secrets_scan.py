"""Secrets scan: after a scripted session (password sign-in, a key created, revealed and adopted,
chat, exports of the conversation and the usage logs, errors of several kinds, DEBUG logging),
no API key, access token or password appears anywhere in the data folder (settings, database and
its WAL, logs, exports, media) or in anything the process printed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _needles(secrets: dict[str, str]) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for name, value in secrets.items():
        if len(value) < 8:
            continue  # a user id kept beside the token, not a secret
        found[name] = value.encode()
        if value.startswith("sk-"):
            found[name + " (without sk-)"] = value[3:].encode()
    return found


def test_no_secret_in_the_data_folder_logs_or_output(tmp_path: Path) -> None:
    home = tmp_path / "home"
    secrets_file = tmp_path / "secrets.json"
    snapshot = tmp_path / "while-open"
    command = ["-m", "tests.hardening.secrets_session", str(home), str(secrets_file), str(snapshot)]
    done = subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        timeout=110,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]
    secrets = json.loads(secrets_file.read_text())
    # The session really did what it claims: otherwise a clean scan proves nothing.
    assert secrets["revealed api key"].startswith("sk-")
    assert any(name.startswith("keyring ") and "token" in name for name in secrets), secrets.keys()
    out = done.stdout.decode()
    for what in ("[sign-in with a wrong password]", "[chat] AuthFailed", "[chat] StreamErrorEvent",
                 "[chat] ServerError", "[image] BadRequest", "[image] ServerError"):  # fmt: skip
        assert what in out, out[-2000:]
    assert "hello from the secrets scan" in (home / "exports" / "chat.md").read_text()
    assert (home / "logs" / "bluesdesk.log").stat().st_size > 0
    assert b"DEBUG" in done.stderr  # the verbose run, HTTP client logs included

    haystacks: dict[str, bytes] = {"stdout": done.stdout, "stderr": done.stderr}
    for folder in (home, snapshot):
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                haystacks[f"{folder.name}/{path.relative_to(folder)}"] = path.read_bytes()
    names = set(haystacks)
    assert {"home/bluesdesk.db", "home/settings.json", "while-open/bluesdesk.db-wal"} <= names
    assert any(name.startswith("home/media/") for name in names)
    hits = [
        f"{name} in {where}"
        for name, needle in _needles(secrets).items()
        for where, data in haystacks.items()
        if needle in data
    ]
    assert hits == []
