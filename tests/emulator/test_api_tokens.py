"""/api/token/*: paging (modern and legacy), masking, reveal limits, CRUD semantics."""

from __future__ import annotations

import httpx

from bluesdesk.emulator.accounts import DEMO
from tests.emulator.conftest import key_headers, login


def test_list_is_paged_newest_first_with_masked_keys(any_flavor):
    client = login(any_flavor)
    data = client.get("/api/token/", params={"p": 1, "page_size": 2}).json()["data"]
    assert set(data) == {"page", "page_size", "total", "items"}
    assert data["page"] == 1 and data["page_size"] == 2 and data["total"] >= 3
    ids = [t["id"] for t in data["items"]]
    assert ids == sorted(ids, reverse=True)
    for token in data["items"]:
        assert "**********" in token["key"] and not token["key"].startswith("sk-")
        assert len(token["key"]) == 18 and token["DeletedAt"] is None
    page2 = client.get("/api/token/", params={"p": 2, "ps": 2}).json()["data"]["items"]
    assert {t["id"] for t in page2}.isdisjoint(ids)


def test_page_size_is_capped_at_100(bm):
    data = login(bm).get("/api/token/", params={"page_size": 500}).json()["data"]
    assert data["page_size"] == 100


def test_legacy_list_is_a_bare_array_with_zero_based_pages(legacy):
    client = login(legacy)
    first = client.get("/api/token/", params={"p": 0, "size": 2}).json()["data"]
    assert isinstance(first, list) and len(first) == 2
    assert first[0]["key"] and "*" not in first[0]["key"]
    second = client.get("/api/token/", params={"p": 1, "size": 2}).json()["data"]
    assert {t["id"] for t in second}.isdisjoint({t["id"] for t in first})


def test_reveal_returns_the_full_key_and_is_critically_limited(bm):
    client = login(bm)
    own = client.get("/api/token/search", params={"keyword": "default"}).json()["data"]["items"]
    token_id = own[0]["id"]
    r = client.post(f"/api/token/{token_id}/key")
    assert r.json()["data"] == {"key": DEMO.api_key.removeprefix("sk-")}
    # One shared critical bucket per IP, as upstream: login + 19 reveals = 20 allowed.
    codes = [client.post(f"/api/token/{token_id}/key").status_code for _ in range(19)]
    assert codes[:18] == [200] * 18 and codes[18] == 429
    assert client.post(f"/api/token/{token_id}/key").content == b""


def test_cannot_reveal_someone_elses_key(bm):
    client = login(bm)
    assert client.post("/api/token/1/key").json() == {"success": False,
                                                      "message": "record not found"}


def test_batch_keys(bm):
    client = login(bm)
    ids = [t["id"] for t in client.get("/api/token/").json()["data"]["items"]]
    keys = client.post("/api/token/batch/keys", json={"ids": [*ids, 1]}).json()["data"]["keys"]
    assert set(keys) == {str(i) for i in ids} and all(len(k) == 48 for k in keys.values())
    too_many = client.post("/api/token/batch/keys", json={"ids": list(range(1, 102))})
    assert too_many.json()["success"] is False


def test_search_exact_pattern_and_rate_limit(bm):
    client = login(bm)
    exact = client.get("/api/token/search", params={"keyword": "ci-bot"}).json()["data"]
    assert [t["name"] for t in exact["items"]] == ["ci-bot"]
    assert client.get("/api/token/search", params={"keyword": "ci"}).json()["data"]["total"] == 0
    like = client.get("/api/token/search", params={"keyword": "ci%"}).json()["data"]
    assert like["total"] == 1
    by_key = client.get("/api/token/search", params={"token": DEMO.api_key}).json()["data"]
    assert by_key["items"][0]["name"] == "default"
    assert client.get("/api/token/search", params={"keyword": "%%%"}).json()["success"] is False
    codes = [client.get("/api/token/search", params={"keyword": "x"}).status_code
             for _ in range(10)]
    assert codes[:5] == [200] * 5 and codes[-1] == 429  # 10 per minute in all


def test_create_returns_no_data_and_name_only_makes_a_dead_key(bm):
    client = login(bm)
    r = client.post("/api/token/", json={"name": "name-only"})
    assert r.json() == {"success": True, "message": ""}
    r = client.post("/api/token/", json={"name": "good", "unlimited_quota": True,
                                         "expired_time": -1, "remain_quota": 0})
    assert r.json()["success"]
    newest = client.get("/api/token/").json()["data"]["items"][:2]
    assert [t["name"] for t in newest] == ["good", "name-only"]
    keys = client.post("/api/token/batch/keys",
                       json={"ids": [t["id"] for t in newest]}).json()["data"]["keys"]
    good, dead = (keys[str(t["id"])] for t in newest)
    url = bm.relay_url + "/test/echo"
    assert httpx.post(url, json={"model": "gpt-4o"}, headers=key_headers(good)).status_code == 200
    assert httpx.post(url, json={"model": "gpt-4o"}, headers=key_headers(dead)).status_code == 401
    deleted = client.post("/api/token/batch", json={"ids": [t["id"] for t in newest]})
    assert deleted.json()["data"] == 2


def test_update_full_and_status_only(bm):
    client = login(bm)
    client.post("/api/token/", json={"name": "to-edit", "unlimited_quota": True,
                                     "expired_time": -1})
    found = client.get("/api/token/search", params={"keyword": "to-edit"}).json()["data"]
    token = found["items"][0]
    r = client.put("/api/token/", json={**token, "name": "edited", "model_limits_enabled": True,
                                        "model_limits": "gpt-4o"})
    updated = r.json()["data"]
    assert updated["name"] == "edited" and updated["model_limits"] == "gpt-4o"
    assert "**********" in updated["key"]
    r = client.put("/api/token/", params={"status_only": "true"},
                   json={"id": token["id"], "status": 2, "name": "ignored"})
    assert r.json()["data"]["status"] == 2 and r.json()["data"]["name"] == "edited"
    assert client.get(f"/api/token/{token['id']}").json()["data"]["status"] == 2
    assert client.delete(f"/api/token/{token['id']}").json() == {"success": True, "message": ""}
    assert client.delete(f"/api/token/{token['id']}").json()["message"] == "record not found"
    assert client.get(f"/api/token/{token['id']}").json()["success"] is False


def test_enabling_an_exhausted_token_is_refused(bm):
    client = login(bm)
    client.post("/api/token/", json={"name": "empty", "remain_quota": 0, "expired_time": -1})
    token = client.get("/api/token/search", params={"keyword": "empty"}).json()["data"]["items"][0]
    client.put("/api/token/", params={"status_only": "true"}, json={"id": token["id"], "status": 2})
    r = client.put("/api/token/", params={"status_only": "true"},
                   json={"id": token["id"], "status": 1})
    assert r.json()["success"] is False
    client.delete(f"/api/token/{token['id']}")
