"""/api/status, login with 2FA, UserAuth failures, /api/user/*, pricing."""

from __future__ import annotations

import httpx
import pytest

from bluesdesk.emulator import Flavor
from bluesdesk.emulator.accounts import DEMO, ROOT, SECURE
from bluesdesk.emulator.catalog import MODELS
from tests.emulator.conftest import login


def test_status_per_flavor(any_flavor):
    data = httpx.get(any_flavor.base_url + "/api/status").json()["data"]
    assert data["quota_per_unit"] == 500_000 and data["version"]
    assert data["enable_data_export"] is True and data["turnstile_check"] is False
    expected = {Flavor.BLUESMINDS: "BluesMinds", Flavor.NEWAPI: "New API",
                Flavor.MINDPROXY: "MindProxy", Flavor.BLUENEXUS: "BlueNexus"}
    assert data["system_name"] == expected[any_flavor.config.flavor]
    display = "CUSTOM" if any_flavor.config.flavor is Flavor.BLUESMINDS else "USD"
    assert data["quota_display_type"] == display


def test_login_sets_cookie_and_returns_id(newapi):
    client = httpx.Client(base_url=newapi.base_url)
    r = client.post("/api/user/login", json={"username": "demo", "password": "demo-password"})
    body = r.json()
    assert body["success"] and body["data"]["id"] == DEMO.id and "token" not in body["data"]
    assert "session" in client.cookies
    assert "httponly" in r.headers["set-cookie"].lower()


def test_login_by_email_and_failures(newapi):
    url = newapi.base_url + "/api/user/login"
    assert httpx.post(url, json={"username": "demo@example.com",
                                 "password": "demo-password"}).json()["success"]
    bad = httpx.post(url, json={"username": "demo", "password": "x"})
    assert bad.status_code == 200 and bad.json()["success"] is False
    assert httpx.post(url, content=b"not json").json()["message"] == "Invalid parameters"


def test_bluesminds_login_token_works_as_bare_authorization(bm):
    login_body = httpx.post(bm.base_url + "/api/user/login",
                            json={"username": "demo", "password": "demo-password"}).json()
    token = login_body["data"]["token"]
    r = httpx.get(bm.base_url + "/api/token/", headers={"Authorization": token})
    assert r.json()["success"] and r.json()["data"]["items"]
    httpx.get(bm.base_url + "/api/user/logout", headers={"Authorization": token})
    r = httpx.get(bm.base_url + "/api/token/", headers={"Authorization": token})
    assert r.json() == {"success": False, "message": "Unauthorized, invalid access token"}


def test_two_factor_login(newapi):
    client = httpx.Client(base_url=newapi.base_url)
    r = client.post("/api/user/login", json={"username": "secure", "password": SECURE.password})
    assert r.json()["data"] == {"require_2fa": True}
    assert client.get("/api/user/self", headers={"New-Api-User": "3"}).status_code == 401
    assert client.post("/api/user/login/2fa", json={"code": "000000"}).json()["success"] is False
    r = client.post("/api/user/login/2fa", json={"code": SECURE.twofa_code})
    assert r.json()["success"] and r.json()["data"]["id"] == SECURE.id
    assert client.get("/api/user/self", headers={"New-Api-User": "3"}).json()["success"]
    fresh = httpx.post(newapi.base_url + "/api/user/login/2fa", json={"code": "424242"})
    assert fresh.json()["success"] is False  # no pending cookie


@pytest.mark.parametrize(("headers", "status", "message"), [
    ({}, 401, "Unauthorized, not logged in and no access token provided"),
    ({"Authorization": "nonsense"}, 200, "Unauthorized, invalid access token"),
    ({"cookie": True}, 401, "Unauthorized, New-Api-User header not provided"),
    ({"cookie": True, "New-Api-User": "abc"}, 401,
     "Unauthorized, New-Api-User header format error"),
    ({"cookie": True, "New-Api-User": "1"}, 401,
     "Unauthorized, New-Api-User does not match logged in user"),
])
def test_user_auth_failures_table(newapi, headers, status, message):
    client = httpx.Client(base_url=newapi.base_url)
    headers = dict(headers)
    if headers.pop("cookie", False):
        client.post("/api/user/login", json={"username": "demo", "password": DEMO.password})
    r = client.get("/api/user/self", headers=headers)
    assert r.status_code == status
    assert r.json() == {"success": False, "message": message}


def test_role_and_ban_checks(newapi):
    demo = login(newapi)
    r = demo.get("/api/log/")
    assert r.status_code == 200 and r.json()["message"] == "Unauthorized, insufficient privileges"
    assert newapi.state is not None
    newapi.state.store.execute("UPDATE users SET status = 2 WHERE id = ?", (DEMO.id,))
    try:
        assert demo.get("/api/user/self").json()["message"] == "User has been banned"
    finally:
        newapi.state.store.execute("UPDATE users SET status = 1 WHERE id = ?", (DEMO.id,))


def test_access_token_replaces_the_previous_one(newapi):
    client = login(newapi)
    first = client.get("/api/user/token").json()["data"]
    second = client.get("/api/user/token").json()["data"]
    assert first != second and 29 <= len(second) <= 32
    for auth, works in ((first, False), (second, True), ("Bearer " + second, True)):
        r = httpx.get(newapi.base_url + "/api/user/self",
                      headers={"Authorization": auth, "New-Api-User": "2"})
        assert r.json()["success"] is works
    # newapi insists on New-Api-User even with a valid token
    r = httpx.get(newapi.base_url + "/api/user/self", headers={"Authorization": second})
    assert r.status_code == 401


def test_self_fields_and_logout(any_flavor):
    client = login(any_flavor)
    data = client.get("/api/user/self").json()["data"]
    for field in ("id", "username", "display_name", "role", "status", "email", "group", "quota",
                  "used_quota", "request_count", "aff_code", "setting", "permissions"):
        assert field in data
    assert "access_token" not in data and "password" not in data
    assert data["username"] == "demo" and data["group"] == "default"
    assert client.get("/api/user/logout").json() == {"success": True, "message": ""}
    assert client.get("/api/user/self").status_code == 401


def test_user_models_and_groups(bm):
    demo, root = login(bm), login(bm, "root")
    demo_models = demo.get("/api/user/models").json()["data"]
    assert "gpt-4o" in demo_models and "gpt-5.1" not in demo_models
    assert "gpt-5.1" in root.get("/api/user/models").json()["data"]
    groups = demo.get("/api/user/self/groups").json()["data"]
    assert set(groups) == {"default", "auto"} and groups["default"]["ratio"] == 1
    assert root.get("/api/user/self/groups").json()["data"]["vip"]["ratio"] == 0.8
    public = httpx.get(bm.base_url + "/api/user/groups").json()["data"]
    assert {"default", "vip", "auto"} <= set(public)


def test_pricing_modern_shape(bm):
    anon = httpx.get(bm.base_url + "/api/pricing").json()
    assert anon["success"] and "message" not in anon
    for key in ("vendors", "group_ratio", "usable_group", "supported_endpoint", "auto_groups"):
        assert key in anon
    names = {m["model_name"] for m in anon["data"]}
    assert "gpt-4o" in names and "gpt-5.1" not in names
    root = login(bm, "root").get("/api/pricing").json()
    all_names = {m["model_name"] for m in root["data"]}
    assert len(all_names) >= 60 and len(MODELS) >= 60
    for seed_model in ("gpt-4o", "gpt-4.1", "gpt-5.1", "claude-opus-4-5", "claude-sonnet-4-5",
                       "claude-haiku-4-5", "gemini-2.5-pro", "gemini-2.0-flash",
                       "deepseek-reasoner", "grok-3", "qwen-max", "dall-e-3", "tts-1"):
        assert seed_model in all_names
    item = next(m for m in root["data"] if m["model_name"] == "dall-e-3")
    assert item["quota_type"] == 1 and item["model_price"] > 0
    assert item["supported_endpoint_types"] == ["image-generation"]
    claude = next(m for m in root["data"] if m["model_name"] == "claude-sonnet-4-5")
    assert "anthropic" in claude["supported_endpoint_types"]
    vendor_ids = {v["id"] for v in root["vendors"]}
    assert all(m["vendor_id"] in vendor_ids for m in root["data"])
    free = next(m for m in root["data"] if m["model_name"] == "gpt-4.1")
    assert free["model_ratio"] == 0 and free["quota_type"] == 0


def test_pricing_ignores_access_tokens(bm):
    client = login(bm, "root")
    token = client.get("/api/user/token").json()["data"]
    r = httpx.get(bm.base_url + "/api/pricing", headers={"Authorization": token,
                                                         "New-Api-User": str(ROOT.id)})
    assert "gpt-5.1" not in {m["model_name"] for m in r.json()["data"]}


def test_pricing_legacy_shape(legacy):
    body = httpx.get(legacy.base_url + "/api/pricing").json()
    assert set(body) == {"success", "data", "group_ratio", "usable_group"}
    assert "supported_endpoint_types" not in body["data"][0]


def test_login_is_critically_rate_limited(bm):
    url = bm.base_url + "/api/user/login"
    codes = [httpx.post(url, json={"username": "demo", "password": "x"}).status_code
             for _ in range(21)]
    assert codes[:20] == [200] * 20 and codes[20] == 429


def test_api_ip_limit(make_server):
    server = make_server(Flavor.NEWAPI, seed_history_days=2)
    with httpx.Client(base_url=server.base_url) as client:
        codes = [client.get("/api/status").status_code for _ in range(361)]
    assert codes.count(200) == 360 and codes[-1] == 429
