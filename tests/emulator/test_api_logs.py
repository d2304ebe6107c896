"""Logs, stats, key-auth usage, billing dashboards, /api/data/self, /api/dashboard/, channels."""

from __future__ import annotations

import time

import httpx

from bluesdesk.emulator import Flavor
from bluesdesk.emulator.accounts import DEMO
from tests.emulator.conftest import key_headers, login


def test_seeded_history_has_30_days_of_consume_logs(bm):
    client = login(bm)
    now = int(time.time())
    page = client.get("/api/log/self", params={"type": 2, "page_size": 100}).json()["data"]
    assert page["total"] > 200
    oldest = client.get("/api/log/self", params={
        "type": 2, "start_timestamp": now - 31 * 86400, "end_timestamp": now - 25 * 86400,
    }).json()["data"]
    assert oldest["total"] > 0
    models = {item["model_name"] for item in page["items"]}
    assert {"gpt-4o", "gpt-4o-mini"} <= models


def test_user_log_ids_are_page_positions_and_filters_apply(bm):
    client = login(bm)
    second = client.get("/api/log/self", params={"p": 2, "page_size": 5}).json()["data"]
    assert [i["id"] for i in second["items"]] == [6, 7, 8, 9, 10]
    assert all(i["channel_name"] == "" for i in second["items"])
    only = client.get("/api/log/self", params={"model_name": "gpt-4o-mini"}).json()["data"]
    assert {i["model_name"] for i in only["items"]} == {"gpt-4o-mini"}
    like = client.get("/api/log/self", params={"model_name": "gpt-4o%"}).json()["data"]
    assert like["total"] > only["total"]


def test_log_stat_sums_consume_quota_and_recent_rpm(bm):
    client = login(bm)
    httpx.post(bm.relay_url + "/test/echo", json={"model": "gpt-4o"}, headers=key_headers())
    stat = client.get("/api/log/self/stat").json()["data"]
    assert stat["quota"] > 0 and stat["rpm"] >= 1 and stat["tpm"] >= 30
    now = int(time.time())
    window = client.get("/api/log/self/stat", params={
        "start_timestamp": now - 5, "end_timestamp": now + 5}).json()["data"]
    assert window["quota"] >= 113 and window["quota"] < stat["quota"]


def test_admin_logs_and_stat(bm):
    root = login(bm, "root")
    data = root.get("/api/log/", params={"username": "demo"}).json()["data"]
    assert data["total"] > 0 and {i["username"] for i in data["items"]} == {"demo"}
    assert root.get("/api/log/stat").json()["data"]["quota"] > 0


def test_deprecated_search(bm):
    assert login(bm).get("/api/log/self/search").json()["success"] is False


def test_key_auth_log_and_usage(bm):
    httpx.post(bm.relay_url + "/test/echo", json={"model": "gpt-4o"}, headers=key_headers())
    logs = httpx.get(bm.base_url + "/api/log/token", headers=key_headers()).json()
    assert logs["success"] and logs["data"][0]["model_name"] == "gpt-4o"
    usage = httpx.get(bm.base_url + "/api/usage/token/", headers=key_headers()).json()
    assert usage["code"] is True and usage["data"]["object"] == "token_usage"
    assert usage["data"]["unlimited_quota"] is True and usage["data"]["total_used"] > 0
    bad = httpx.get(bm.base_url + "/api/usage/token/", headers=key_headers("sk-bad"))
    assert bad.status_code == 401 and "Invalid token" in bad.json()["error"]["message"]


def test_openai_billing_routes(any_flavor):
    for root in ("/dashboard", "/v1/dashboard"):
        sub = httpx.get(any_flavor.base_url + root + "/billing/subscription",
                        headers=key_headers()).json()
        assert sub["object"] == "billing_subscription" and sub["hard_limit_usd"] > 0
        usage = httpx.get(any_flavor.base_url + root + "/billing/usage",
                          headers=key_headers()).json()
        assert usage["object"] == "list" and usage["total_usage"] >= 0


def test_data_self_hourly_buckets_and_30_day_limit(bm):
    client = login(bm)
    now = int(time.time())
    rows = client.get("/api/data/self", params={
        "start_timestamp": now - 7 * 86400, "end_timestamp": now}).json()["data"]
    assert rows and all(r["created_at"] % 3600 == 0 for r in rows)
    assert {"model_name", "token_used", "count", "quota", "username"} <= set(rows[0])
    too_long = client.get("/api/data/self", params={
        "start_timestamp": now - 31 * 86400, "end_timestamp": now}).json()
    assert too_long["success"] is False


def test_bluesminds_dashboard_summary(bm, newapi):
    client = login(bm)
    data = client.get("/api/dashboard/").json()["data"]
    assert data["balance"] > 0 and data["last_30_days"]["requests"] > 0
    assert data["top_models"] and len(data["daily"]) >= 20
    assert httpx.get(newapi.base_url + "/api/dashboard/").status_code == 404


def test_channels_are_admin_only(bm):
    assert login(bm).get("/api/channel/").json()["message"] == (
        "Unauthorized, insufficient privileges")


def test_channel_list_filters_search_get(bm):
    root = login(bm, "root")
    data = root.get("/api/channel/").json()["data"]
    assert data["total"] == 8 and len(data["items"]) == 8 and data["type_counts"]["1"] == 2
    assert all("key" not in c for c in data["items"])
    disabled = root.get("/api/channel/", params={"status": "disabled"}).json()["data"]
    assert [c["name"] for c in disabled["items"]] == ["openai-backup"]
    vip = root.get("/api/channel/", params={"group": "vip"}).json()["data"]
    assert all("vip" in c["group"].split(",") for c in vip["items"]) and vip["total"] >= 3
    found = root.get("/api/channel/search", params={"keyword": "deepseek"}).json()["data"]
    assert found["page_size"] == 20 and found["items"][0]["name"] == "deepseek"
    cid = found["items"][0]["id"]
    assert root.get(f"/api/channel/{cid}").json()["data"]["models"].startswith("deepseek")


def test_channel_test_update_delete(make_server):
    server = make_server(Flavor.NEWAPI, seed_history_days=3)
    root = login(server, "root")
    tested = root.get("/api/channel/test/1").json()
    assert tested["success"] and isinstance(tested["time"], float)
    r = root.put("/api/channel/", json={"id": 1, "status": 2}).json()
    assert r["data"]["status"] == 2
    assert root.delete("/api/channel/8").json()["success"]
    assert root.get("/api/channel/8").json()["success"] is False
    assert root.get("/api/channel/").json()["data"]["total"] == 7


def test_demo_user_quota_matches_account(bm):
    assert login(bm).get("/api/user/self").json()["data"]["quota"] <= DEMO.quota
