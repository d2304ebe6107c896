"""The relay platform around handlers: auth, model access, headers, billing, replay, dry run."""

from __future__ import annotations

import json

import httpx
import pytest

from bluesdesk.emulator import Flavor
from bluesdesk.emulator.accounts import DEMO, ROOT, SECURE
from tests.emulator.conftest import key_headers, login, user_row


def post(server, path, body, headers=None, **kw) -> httpx.Response:
    return httpx.post(server.relay_url + path if path.startswith("/") and not path.startswith(
        ("/v1beta", "/anthropic")) else server.base_url + path, json=body,
        headers=headers if headers is not None else key_headers(), timeout=10, **kw)


def test_bearer_key_reaches_handler_with_key_context(any_flavor):
    r = post(any_flavor, "/test/echo", {"model": "gpt-4o"})
    assert r.status_code == 200, r.text
    assert r.json()["group"] == "default"


def test_bluenexus_serves_relay_under_api_v1(make_server):
    server = make_server(Flavor.BLUENEXUS)
    assert server.relay_url.endswith("/api/v1")
    assert httpx.post(server.base_url + "/api/v1/test/echo", json={"model": "gpt-4o"},
                      headers=key_headers()).status_code == 200
    assert httpx.post(server.base_url + "/v1/test/echo", json={"model": "gpt-4o"},
                      headers=key_headers()).status_code == 404


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer sk-nope"}, {"Authorization": DEMO.api_key},
    {"x-api-key": DEMO.api_key},
], ids=["none", "unknown", "no-bearer", "x-api-key-on-openai-route"])
def test_bad_keys_get_openai_shaped_401_with_request_id(bm, headers):
    r = post(bm, "/test/echo", {"model": "gpt-4o"}, headers=headers)
    assert r.status_code == 401
    err = r.json()["error"]
    rid = r.headers["X-Request-ID"]
    assert err["message"] == f"Invalid token (request id: {rid})"
    assert err["type"] == "new_api_error" and err["code"] == ""


def test_x_api_key_works_on_messages_and_failures_stay_openai_shaped(bm):
    ok = httpx.post(bm.base_url + "/v1/messages/test-echo", json={"model": "claude-haiku-4-5"},
                    headers={"x-api-key": DEMO.api_key})
    assert ok.status_code == 200
    bad = httpx.post(bm.base_url + "/v1/messages/test-echo", json={"model": "claude-haiku-4-5"},
                     headers={"x-api-key": "sk-wrong"})
    assert bad.status_code == 401 and "error" in bad.json() and "type" not in bad.json()


def test_gemini_key_in_query_or_goog_header(bm):
    body = {"model": "gemini-2.0-flash"}
    assert httpx.post(bm.base_url + f"/v1beta/test-echo?key={DEMO.api_key}",
                      json=body).status_code == 200
    assert httpx.post(bm.base_url + "/v1beta/test-echo", json=body,
                      headers={"x-goog-api-key": DEMO.api_key}).status_code == 200
    assert httpx.post(bm.base_url + "/v1/test/echo?key=" + DEMO.api_key,
                      json=body).status_code == 401


def test_claude_route_errors_after_auth_are_claude_shaped(bm):
    r = httpx.post(bm.base_url + "/v1/messages/test-echo", json={"model": "no-such-model"},
                   headers={"x-api-key": DEMO.api_key})
    assert r.status_code == 404
    assert r.json()["type"] == "error" and r.json()["error"]["type"]


def test_unknown_model_is_404_on_bluesminds_and_503_on_newapi(bm, newapi):
    r = post(bm, "/test/echo", {"model": "no-such-model"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"
    r = post(newapi, "/test/echo", {"model": "no-such-model"})
    assert r.status_code == 503 and r.json()["error"]["code"] == "model_not_found"


def test_vip_model_needs_a_vip_group(bm):
    assert post(bm, "/test/echo", {"model": "gpt-5.1"}).status_code == 404
    r = post(bm, "/test/echo", {"model": "gpt-5.1"}, headers=key_headers(ROOT.api_key))
    assert r.status_code == 200 and r.json()["group"] == "vip"


def test_model_limits_give_403(bm):
    assert bm.state is not None
    key = bm.state.store.scalar("SELECT key FROM tokens WHERE name = 'ci-bot'")
    assert post(bm, "/test/echo", {"model": "gpt-4o"}, key_headers(key)).status_code == 200
    r = post(bm, "/test/echo", {"model": "claude-haiku-4-5"}, key_headers(key))
    assert r.status_code == 403


def test_embeddings_are_404_on_bluesminds_only(bm, newapi):
    assert post(bm, "/test/echo", {"model": "text-embedding-3-small"}).status_code == 404
    assert post(newapi, "/test/echo", {"model": "text-embedding-3-small"}).status_code == 200


def test_disabled_key_401_and_banned_user_403(make_server):
    server = make_server(Flavor.NEWAPI, seed_history_days=1)
    assert server.state is not None
    store = server.state.store
    disabled = store.scalar("SELECT key FROM tokens WHERE name = 'old-laptop'")
    assert post(server, "/test/echo", {"model": "gpt-4o"}, key_headers(disabled)
                ).status_code == 401
    store.execute("UPDATE users SET status = 2 WHERE id = ?", (SECURE.id,))
    try:
        r = post(server, "/test/echo", {"model": "gpt-4o"}, key_headers(SECURE.api_key))
        assert r.status_code == 403
    finally:
        store.execute("UPDATE users SET status = 1 WHERE id = ?", (SECURE.id,))


def test_flavor_headers(make_server):
    for flavor, expected, absent in [
        (Flavor.BLUESMINDS, {"X-New-Api-Version", "X-RateLimit-Limit"}, {"X-TT-Request-ID"}),
        (Flavor.NEWAPI, {"X-New-Api-Version"}, {"X-RateLimit-Limit", "X-Credits-Consumed"}),
        (Flavor.MINDPROXY, {"X-TT-Request-ID", "X-TT-Hold-ID", "X-RateLimit-Remaining"},
         {"X-Credits-Remaining"}),
        (Flavor.BLUENEXUS, {"X-Credits-Consumed", "X-Credits-Remaining", "X-RateLimit-Reset"},
         {"X-TT-Hold-ID"}),
    ]:
        r = post(make_server(flavor), "/test/echo", {"model": "gpt-4o"})
        assert r.status_code == 200
        assert r.headers["X-Oneapi-Request-Id"] == r.headers["X-Request-ID"]
        assert r.json()["request_id"] == r.headers["X-Request-ID"]
        for name in expected:
            assert name in r.headers, (flavor, name)
        for name in absent:
            assert name not in r.headers, (flavor, name)


def test_bluenexus_credits_match_the_charge(make_server):
    server = make_server(Flavor.BLUENEXUS)
    r = post(server, "/test/echo", {"model": "gpt-4o"})
    # (10 + 20*4) * 1.25 = 112.5 → 113 quota → $0.000226
    assert float(r.headers["X-Credits-Consumed"]) == pytest.approx(113 / 500_000)


def test_billing_deducts_exact_quota_and_writes_consume_log(bm):
    client = login(bm)
    before = user_row(bm, DEMO.id)
    r = post(bm, "/test/echo", {"model": "gpt-4o"})
    rid = r.headers["X-Request-ID"]
    after = user_row(bm, DEMO.id)
    assert before["quota"] - after["quota"] == 113
    assert after["used_quota"] - before["used_quota"] == 113
    assert after["request_count"] == before["request_count"] + 1
    log = client.get("/api/log/self", params={"request_id": rid}).json()["data"]["items"][0]
    assert log["quota"] == 113 and log["model_name"] == "gpt-4o" and log["type"] == 2
    assert (log["prompt_tokens"], log["completion_tokens"]) == (10, 20)
    assert log["token_name"] == "default" and log["is_stream"] is False
    other = json.loads(log["other"])
    assert other["model_ratio"] == 1.25 and other["completion_ratio"] == 4
    assert other["group_ratio"] == 1 and other["model_price"] == -1
    assert other["request_path"] == "/v1/test/echo"


def test_per_request_billing_uses_model_price_and_group_ratio(bm):
    before = user_row(bm, ROOT.id)["quota"]
    r = post(bm, "/test/echo", {"model": "dall-e-3", "n": 2}, key_headers(ROOT.api_key))
    assert r.status_code == 200
    # 0.04 USD * 500000 * 0.8 (vip) * 2 images
    assert before - user_row(bm, ROOT.id)["quota"] == 32_000


def test_free_model_costs_nothing(bm):
    before = user_row(bm, DEMO.id)["quota"]
    assert post(bm, "/test/echo", {"model": "gpt-4.1"}).status_code == 200
    assert user_row(bm, DEMO.id)["quota"] == before


def test_stream_is_billed_after_last_event_and_logged_as_stream(bm):
    client = login(bm)
    before = user_row(bm, DEMO.id)["quota"]
    with httpx.stream("POST", bm.relay_url + "/test/echo", headers=key_headers(),
                      json={"model": "gpt-4o", "stream": True}) as r:
        lines = [line for line in r.iter_lines() if line]
        rid = r.headers["X-Request-ID"]
    assert r.headers["content-type"].startswith("text/event-stream")
    assert lines[-1] == "data: [DONE]" and len(lines) == 6
    assert before - user_row(bm, DEMO.id)["quota"] == 113
    log = client.get("/api/log/self", params={"request_id": rid}).json()["data"]["items"][0]
    assert log["is_stream"] is True and json.loads(log["other"])["frt"] >= 0


def test_exhausted_key_is_refused(bm):
    client = login(bm)
    client.post("/api/token/", json={"name": "tiny", "remain_quota": 50, "expired_time": -1})
    tiny = client.get("/api/token/search", params={"keyword": "tiny"}).json()["data"]["items"][0]
    key = client.post(f"/api/token/{tiny['id']}/key").json()["data"]["key"]
    assert post(bm, "/test/echo", {"model": "gpt-4o"}, key_headers(key)).status_code == 200
    token = client.get(f"/api/token/{tiny['id']}").json()["data"]
    assert token["remain_quota"] == 50 - 113 and token["used_quota"] == 113
    assert post(bm, "/test/echo", {"model": "gpt-4o"}, key_headers(key)).status_code == 401
    client.delete(f"/api/token/{tiny['id']}")


def test_idempotency_key_replays_and_charges_once(bm):
    before = user_row(bm, DEMO.id)["quota"]
    headers = {**key_headers(), "Idempotency-Key": "abc-123"}
    first = post(bm, "/test/echo", {"model": "gpt-4o"}, headers)
    second = post(bm, "/test/echo", {"model": "gpt-4o"}, headers)
    assert first.content == second.content
    assert second.headers["X-Request-ID"] == first.headers["X-Request-ID"]
    assert before - user_row(bm, DEMO.id)["quota"] == 113
    other = post(bm, "/test/echo", {"model": "gpt-4o", "x": 1}, headers)
    assert other.content != first.content


def test_idempotency_replays_a_whole_stream(bm):
    before = user_row(bm, DEMO.id)["quota"]
    headers = {**key_headers(), "Idempotency-Key": "stream-1"}
    body = {"model": "gpt-4o", "stream": True}
    first = httpx.post(bm.relay_url + "/test/echo", json=body, headers=headers)
    second = httpx.post(bm.relay_url + "/test/echo", json=body, headers=headers)
    assert first.text == second.text and first.text.endswith("data: [DONE]\n\n")
    assert second.headers["content-type"].startswith("text/event-stream")
    assert before - user_row(bm, DEMO.id)["quota"] == 113


def test_dry_run_estimates_without_calling_or_charging(bm):
    before = user_row(bm, DEMO.id)["quota"]
    count = bm.request_count("/v1/test/echo")
    r = post(bm, "/test/echo", {"model": "gpt-4o", "max_tokens": 100,
                                "messages": [{"role": "user", "content": "hello there"}]},
             {**key_headers(), "X-TT-Dry-Run": "true"})
    assert r.status_code == 200
    data = r.json()
    assert data["model"] == "gpt-4o" and data["estimated_completion_tokens"] == 100
    assert data["estimated_quota"] > 0 and data["charged"] == 0
    assert user_row(bm, DEMO.id)["quota"] == before
    assert "url" not in data  # the handler never ran
    assert bm.request_count("/v1/test/echo") == count + 1


def test_rpm_limit_gives_429_with_retry_after(make_server):
    server = make_server(Flavor.BLUESMINDS, rpm=3)
    codes = [post(server, "/test/echo", {"model": "gpt-4o"}) for _ in range(4)]
    assert [c.status_code for c in codes] == [200, 200, 200, 429]
    assert [c.headers["X-RateLimit-Remaining"] for c in codes[:3]] == ["2", "1", "0"]
    assert int(codes[3].headers["Retry-After"]) >= 1
    assert codes[3].json()["error"]["type"] == "rate_limit_error"


def test_newapi_has_no_default_rpm(newapi):
    assert all(post(newapi, "/test/echo", {"model": "gpt-4o-mini"}).status_code == 200
               for _ in range(25))


def test_served_blobs_are_downloadable(bm):
    url = post(bm, "/test/echo", {"model": "gpt-4o"}).json()["url"]
    assert url.startswith(bm.base_url + "/emulator/files/")
    assert httpx.get(url).content == b"blob-bytes"


def test_request_count_and_stats(bm):
    for _ in range(3):
        post(bm, "/test/echo", {"model": "gpt-4o"}, {"Authorization": "Bearer sk-bad"})
    assert bm.request_count("/v1/test/echo") == 3
    stats = httpx.get(bm.base_url + "/emulator/stats").json()["data"]
    assert stats["/v1/test/echo"] == 3


def test_billing_free_route_does_not_charge(bm):
    before = user_row(bm, DEMO.id)["quota"]
    r = httpx.get(bm.relay_url + "/test/free", headers=key_headers())
    assert r.json() == {"ok": True, "user": "demo"}
    assert user_row(bm, DEMO.id)["quota"] == before
