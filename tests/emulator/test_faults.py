"""Every fault kind, by header and by the arming route, on relay and /api paths."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from bluesdesk.emulator import Flavor
from bluesdesk.emulator.accounts import DEMO
from tests.emulator.conftest import key_headers, login, user_row


def fault_headers(fault: str) -> dict[str, str]:
    return {**key_headers(), "X-Emulator-Fault": fault}


def stream(server, fault: str, events: int = 5, path: str = "/test/echo") -> httpx.Response:
    return httpx.post(server.relay_url + path, headers=fault_headers(fault),
                      json={"model": "gpt-4o", "stream": True, "events": events}, timeout=10)


def test_429_fault_has_retry_after_on_relay_and_empty_body_on_api(bm):
    r = httpx.post(bm.relay_url + "/test/echo", headers=fault_headers("429;retry_after=3"),
                   json={"model": "gpt-4o"})
    assert r.status_code == 429 and r.headers["Retry-After"] == "3"
    assert r.json()["error"]["type"] == "rate_limit_error"
    r = httpx.get(bm.base_url + "/api/status", headers={"X-Emulator-Fault": "429"})
    assert r.status_code == 429 and r.content == b"" and r.headers["Retry-After"] == "1"


def test_500_and_401_faults(bm):
    r = httpx.post(bm.relay_url + "/test/echo", headers=fault_headers("500"),
                   json={"model": "gpt-4o"})
    assert r.status_code == 500 and "request id" in r.json()["error"]["message"]
    r = httpx.post(bm.relay_url + "/test/echo", headers=fault_headers("401"),
                   json={"model": "gpt-4o"})
    assert r.status_code == 401 and r.json()["error"]["message"].startswith("Invalid token")
    r = httpx.get(bm.base_url + "/api/user/self", headers={"X-Emulator-Fault": "401"})
    assert r.status_code == 401 and r.json()["success"] is False


def test_html502_is_an_nginx_page(any_flavor):
    r = httpx.get(any_flavor.relay_url + "/test/free", headers=fault_headers("html502"))
    assert r.status_code == 502
    assert r.headers["content-type"].startswith("text/html")
    assert "<h1>502 Bad Gateway</h1>" in r.text and "nginx" in r.text


def test_success_false_on_api(bm):
    r = httpx.get(bm.base_url + "/api/status", headers={"X-Emulator-Fault": "success_false"})
    assert r.status_code == 200 and r.json()["success"] is False and r.json()["message"]


def test_faults_happen_before_charging(bm):
    before = user_row(bm, DEMO.id)["quota"]
    for kind in ("429", "500", "html502", "401"):
        httpx.post(bm.relay_url + "/test/echo", headers=fault_headers(kind),
                   json={"model": "gpt-4o"})
    assert user_row(bm, DEMO.id)["quota"] == before


def test_drop_breaks_the_chunked_stream_after_n_events(bm):
    received: list[str] = []
    with pytest.raises(httpx.RemoteProtocolError), httpx.stream(
        "POST", bm.relay_url + "/test/echo", headers=fault_headers("drop;after=2"),
        json={"model": "gpt-4o", "stream": True, "events": 10}, timeout=10,
    ) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if line:
                received.append(line)
    assert received == ['data: {"i": 0}', 'data: {"i": 1}']


def test_drop_on_a_plain_body_cuts_it_short(bm):
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(bm.relay_url + "/test/echo", headers=fault_headers("drop"),
                   json={"model": "gpt-4o"}, timeout=10)


def test_stall_pauses_mid_stream_then_completes(bm):
    started = time.monotonic()
    r = stream(bm, "stall;after=1;seconds=0.4")
    assert time.monotonic() - started >= 0.4
    assert r.text.count("data: ") == 6 and r.text.endswith("data: [DONE]\n\n")


def test_slow_headers_delays_the_response(bm):
    started = time.monotonic()
    r = httpx.get(bm.base_url + "/api/status",
                  headers={"X-Emulator-Fault": "slow_headers;seconds=0.3"})
    assert r.status_code == 200 and time.monotonic() - started >= 0.3
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(bm.base_url + "/api/status", timeout=0.2,
                  headers={"X-Emulator-Fault": "slow_headers;seconds=1"})


def test_malformed_frame_appears_after_n_events(bm):
    frames = [f for f in stream(bm, "malformed;after=2").text.split("\n\n") if f]
    bad = [f for f in frames if f.startswith("data: {") and not _is_json(f[6:])]
    assert len(bad) == 1 and frames.index(bad[0]) == 2
    assert frames[-1] == "data: [DONE]"


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def test_stream_error_openai_and_claude_styles(bm):
    r = stream(bm, "stream_error;after=1")
    assert r.status_code == 200
    frames = [f for f in r.text.split("\n\n") if f]
    assert json.loads(frames[-1][6:])["error"]["type"] == "upstream_error"
    assert "[DONE]" not in r.text
    r = httpx.post(bm.base_url + "/v1/messages/test-echo",
                   headers={"x-api-key": DEMO.api_key, "X-Emulator-Fault": "stream_error"},
                   json={"model": "claude-haiku-4-5", "stream": True})
    last = [f for f in r.text.split("\n\n") if f][-1]
    assert last.startswith("event: error\ndata: ")
    assert json.loads(last.split("data: ", 1)[1])["type"] == "error"


def test_armed_faults_hit_the_next_n_matching_requests(bm):
    r = httpx.post(bm.base_url + "/emulator/faults",
                   json={"kind": "500", "count": 2, "path_prefix": "/v1/test"})
    assert r.json()["success"]
    codes = [httpx.post(bm.relay_url + "/test/echo", headers=key_headers(),
                        json={"model": "gpt-4o"}).status_code for _ in range(3)]
    assert httpx.get(bm.base_url + "/api/status").status_code == 200
    assert codes == [500, 500, 200]


def test_armed_fault_params_and_clearing(bm):
    httpx.post(bm.base_url + "/emulator/faults",
               json={"kind": "429", "count": 5, "params": {"retry_after": 7}})
    assert httpx.get(bm.base_url + "/emulator/faults").json()["data"][0]["count"] == 5
    r = httpx.get(bm.base_url + "/api/status")
    assert r.status_code == 429 and r.headers["Retry-After"] == "7"
    assert httpx.delete(bm.base_url + "/emulator/faults").json()["success"]
    assert httpx.get(bm.base_url + "/api/status").status_code == 200


def test_arm_fault_python_api_and_reset(bm):
    bm.arm_fault("html502", count=3, path_prefix="/api/status")
    assert httpx.get(bm.base_url + "/api/status").status_code == 502
    bm.reset_faults()
    assert httpx.get(bm.base_url + "/api/status").status_code == 200


def test_retry_counting_with_armed_faults(bm):
    bm.arm_fault("500", count=2)
    codes = [httpx.get(bm.base_url + "/api/status").status_code for _ in range(3)]
    assert codes == [500, 500, 200] and bm.request_count("/api/status") == 3


def test_unknown_fault_kind_is_rejected(bm):
    r = httpx.get(bm.base_url + "/api/status", headers={"X-Emulator-Fault": "meteor"})
    assert r.status_code == 400
    r = httpx.post(bm.base_url + "/emulator/faults", json={"kind": "meteor"})
    assert r.status_code == 400


def test_faults_on_api_json_bodies(bm):
    client = login(bm)
    r = client.get("/api/user/self", headers={"X-Emulator-Fault": "malformed"})
    assert r.status_code == 200 and not _is_json(r.text)
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/api/user/self", headers={"X-Emulator-Fault": "drop"})


def test_faults_work_on_every_flavor(make_server):
    for flavor in Flavor:
        server = make_server(flavor)
        with pytest.raises(httpx.RemoteProtocolError), httpx.stream(
            "POST", server.relay_url + "/test/echo", headers=fault_headers("drop;after=1"),
            json={"model": "gpt-4o", "stream": True},
        ) as r:
            for _ in r.iter_lines():
                pass


def _outcome(server, request_id: str, timeout: float = 5.0) -> dict:
    """How the stream with `request_id` ended, from GET /emulator/streams, once it has."""
    deadline = time.monotonic() + timeout
    while True:
        ended = httpx.get(server.base_url + "/emulator/streams").json()["data"]["ended"]
        found = [o for o in ended if o["request_id"] == request_id]
        if found or time.monotonic() > deadline:
            assert found, f"no outcome for {request_id} in {ended}"
            return found[0]


def test_streams_report_how_they_ended(bm):
    done = httpx.post(bm.relay_url + "/test/echo", headers=key_headers(),
                      json={"model": "gpt-4o", "stream": True, "events": 3}, timeout=10)
    seen = _outcome(bm, done.headers["x-request-id"])
    assert seen["how"] == "finished" and seen["path"] == "/v1/test/echo"
    assert seen["events"] == 4  # three events and [DONE]
    cut = stream(bm, "stream_error;after=1")
    assert _outcome(bm, cut.headers["x-request-id"])["how"] == "ended"
    with pytest.raises(httpx.RemoteProtocolError), httpx.stream(
        "POST", bm.relay_url + "/test/echo", headers=fault_headers("drop;after=2"),
        json={"model": "gpt-4o", "stream": True, "events": 10}, timeout=10,
    ) as r:
        rid = r.headers["x-request-id"]
        r.read()
    assert _outcome(bm, rid)["how"] == "dropped"
    assert [o.how for o in bm.stream_outcomes("/v1/test")][-3:] == ["finished", "ended", "dropped"]


def test_a_client_that_hangs_up_mid_stream_is_seen_closing_it(bm):
    with httpx.stream(
        "POST", bm.relay_url + "/test/echo", headers=fault_headers("stall;after=2;seconds=30"),
        json={"model": "gpt-4o", "stream": True, "events": 10}, timeout=10,
    ) as r:
        rid = r.headers["x-request-id"]
        lines = r.iter_lines()
        assert next(lines) == 'data: {"i": 0}'
        assert bm.open_streams >= 1
    # Leaving the block closes the connection mid-stall: the server stops at once, not in 30 s.
    seen = _outcome(bm, rid)
    assert seen["how"] == "client_closed" and seen["events"] == 2 and seen["seconds"] < 10
