"""The `403` and `404` fault kinds: new-api's envelope on /api paths, an OpenAI-style error on
relay paths, by header and armed, answered before auth and billing."""

from __future__ import annotations

import httpx
import pytest

from bluesdesk.emulator.accounts import DEMO
from tests.emulator.conftest import key_headers, user_row


@pytest.mark.parametrize("kind", ["403", "404"])
def test_status_kinds_on_api_paths_are_the_envelope(bm, kind):
    # No credentials at all: the fault answers before auth would (401).
    r = httpx.get(bm.base_url + "/api/user/self", headers={"X-Emulator-Fault": kind})
    assert r.status_code == int(kind)
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["success"] is False and f"emulated {kind}" in body["message"]
    assert set(body) == {"success", "message"}


@pytest.mark.parametrize(("kind", "code"), [("403", "access_denied"), ("404", "not_found")])
def test_status_kinds_on_relay_paths_are_openai_errors(bm, kind, code):
    r = httpx.post(bm.relay_url + "/chat/completions",
                   headers={**key_headers(), "X-Emulator-Fault": kind},
                   json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == int(kind)
    error = r.json()["error"]
    assert error["code"] == code and error["type"] == "new_api_error"
    rid = r.headers["x-request-id"]
    assert error["message"].endswith(f"(request id: {rid})")


def test_armed_status_kinds_hit_only_their_path_and_count(bm):
    bm.arm_fault("403", count=2, path_prefix="/api/token/")
    bm.arm_fault("404", count=1, path_prefix="/api/log/self")
    client = httpx.Client(base_url=bm.base_url, timeout=10)
    statuses = [client.get("/api/token/").status_code for _ in range(3)]
    assert statuses[:2] == [403, 403] and statuses[2] != 403  # then auth runs: 401 here
    assert client.get("/api/log/self").status_code == 404
    assert client.get("/api/status").status_code == 200  # other paths untouched
    assert bm.request_count("/api/token/") == 3 and bm.request_count("/api/log/self") == 1
    listed = httpx.get(bm.base_url + "/emulator/faults").json()["data"]
    assert listed == []
    client.close()


def test_status_kinds_are_armable_over_http_and_never_charge(bm):
    r = httpx.post(bm.base_url + "/emulator/faults",
                   json={"kind": "404", "count": 1, "path_prefix": "/v1/chat"})
    assert r.json()["success"], r.text
    before = user_row(bm, DEMO.id)["quota"]
    for kind in ("403", None):
        headers = {**key_headers(), **({"X-Emulator-Fault": kind} if kind else {})}
        r = httpx.post(bm.relay_url + "/chat/completions", headers=headers,
                       json={"model": "gpt-4o-mini",
                             "messages": [{"role": "user", "content": "hi"}]})
        assert r.status_code == (403 if kind else 404)
    assert user_row(bm, DEMO.id)["quota"] == before


def test_a_bad_kind_is_still_refused(bm):
    r = httpx.get(bm.base_url + "/api/status", headers={"X-Emulator-Fault": "402"})
    assert r.status_code == 400 and "unknown fault kind" in r.json()["message"]
