"""Start-up time, clean stop, the CLI, and persistence in a data dir."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bluesdesk.emulator import EmulatorConfig, EmulatorServer, Flavor
from bluesdesk.emulator.accounts import DEMO
from tests.emulator.conftest import TEST_ROUTES, key_headers, login


def test_starts_in_under_a_second_and_stops_cleanly():
    started = time.monotonic()
    server = EmulatorServer(EmulatorConfig(flavor=Flavor.NEWAPI, port=0))
    url = server.start()
    assert time.monotonic() - started < 1.0
    assert httpx.get(url + "/api/status").json()["success"]
    server.stop()
    try:
        httpx.get(url + "/api/status", timeout=2)
    except httpx.ConnectError:
        pass
    else:
        raise AssertionError("server still answering after stop()")


def test_context_manager_and_urls():
    with EmulatorServer(EmulatorConfig(flavor=Flavor.BLUENEXUS)) as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert server.relay_url == server.base_url + "/api/v1"


def test_data_dir_survives_a_restart(tmp_path: Path):
    config = EmulatorConfig(flavor=Flavor.BLUESMINDS, data_dir=tmp_path, seed_history_days=2)
    with EmulatorServer(config, extra_routes=TEST_ROUTES) as server:
        client = login(server)
        client.post("/api/token/", json={"name": "persisted", "unlimited_quota": True,
                                         "expired_time": -1})
        token = client.get("/api/token/").json()["data"]["items"][0]
        key = client.post(f"/api/token/{token['id']}/key").json()["data"]["key"]
        quota = client.get("/api/user/self").json()["data"]["quota"]
        logs = client.get("/api/log/self").json()["data"]["total"]
    assert (tmp_path / "emulator.sqlite3").exists()
    with EmulatorServer(config, extra_routes=TEST_ROUTES) as server:
        client = login(server)
        assert client.get("/api/token/").json()["data"]["items"][0]["name"] == "persisted"
        assert client.get("/api/user/self").json()["data"]["quota"] == quota
        assert client.get("/api/log/self").json()["data"]["total"] == logs
        r = httpx.post(server.relay_url + "/test/echo", json={"model": "gpt-4o"},
                       headers=key_headers("sk-" + key))
        assert r.status_code == 200


def test_cli_prints_url_and_accounts():
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bluesdesk.emulator", "--port", "0", "--flavor", "newapi",
         "--tokens-per-second", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        lines = [proc.stdout.readline() for _ in range(6)]
        assert any(DEMO.api_key in line for line in lines)
        assert any("424242" in line for line in lines)
        assert httpx.get(url + "/api/status").json()["data"]["system_name"] == "New API"
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
