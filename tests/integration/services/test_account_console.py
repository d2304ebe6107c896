"""AccountService's second pass against the emulator: revealing and adopting a key (and the
critical 429), token search and batch delete, paged and filtered logs with CSV, usage from
/api/data/self or the logs, the BluesMinds dashboard, login options, and admin channels."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from bluesdesk.core.redact import forget_secret
from bluesdesk.emulator import EmulatorServer, Flavor
from bluesdesk.emulator.accounts import DEMO
from bluesdesk.errors import ConsoleRejected, RateLimited
from bluesdesk.gateway.console import LoginOptions, TokenSpec, search_pattern
from bluesdesk.services.account import (
    CSV_COLUMNS,
    REVEAL_LIMIT_MESSAGE,
    AccountService,
    logs_csv,
    summarize_usage,
)
from bluesdesk.services.profiles import ProfileService
from tests.integration.conftest import EmulatorFleet, start_emulator
from tests.integration.services.account_rig import profile_for, run

pytestmark = pytest.mark.usefixtures("account_keyring")


def chat(server: EmulatorServer, key: str, text: str, model: str = "gpt-4o-mini") -> str:
    answer = httpx.post(
        server.relay_url + "/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={"model": model, "messages": [{"role": "user", "content": f"echo:{text}"}]},
    )
    assert answer.status_code == 200, answer.text
    return answer.headers.get("x-request-id", "") or answer.headers.get("x-oneapi-request-id", "")


def test_use_key_stores_it_and_the_reveal_limit_is_explained(
    tmp_path: Path, emulators: EmulatorFleet, memory_keyring: Any
) -> None:
    server = emulators.get(Flavor.NEWAPI)
    profile = profile_for(server)

    async def body(account: AccountService, profiles: ProfileService) -> str:
        await account.sign_in("demo", "demo-password", profile)  # 1 critical hit
        created = await account.create_token(TokenSpec(name="adopt-me"), profile)
        assert created is not None
        key = await account.use_key(created.id, profile)  # 2
        assert key.startswith("sk-") and len(key) == 51
        client = await profiles.client(profile)
        assert client.api_key == key  # the profile now calls with the new key
        for _ in range(18):  # 3..20: the shared critical bucket is now full
            await account.reveal_key(created.id, profile)
        before = server.request_count(f"/api/token/{created.id}/key")
        with pytest.raises(RateLimited) as limited:
            await account.reveal_key(created.id, profile)
        assert limited.value.user_message == REVEAL_LIMIT_MESSAGE
        # Never retried: each retry would burn another slot of the 20.
        assert server.request_count(f"/api/token/{created.id}/key") == before + 1
        assert account.signed_in(profile)  # a 429 is not a sign-out
        return key

    key = run(tmp_path, profile, body)
    assert memory_keyring.get_password("bluesdesk", f"{profile.id}:api_key") == key
    forget_secret(key)


def test_search_and_batch_delete(tmp_path: Path, emulators: EmulatorFleet) -> None:
    server = emulators.get(Flavor.NEWAPI)
    profile = profile_for(server)

    async def body(account: AccountService, _: ProfileService) -> None:
        await account.sign_in("demo", "demo-password", profile)
        ids = []
        for name in ("batch-alpha", "batch-beta", "other-gamma"):
            created = await account.create_token(TokenSpec(name=name), profile)
            assert created is not None
            ids.append(created.id)
        found = await account.search_tokens("batch", profile=profile)
        assert sorted(t.name for t in found.items) == ["batch-alpha", "batch-beta"]
        exact = await account.search_tokens("other-gamma", profile=profile)
        assert [t.name for t in exact.items] == ["other-gamma"]
        assert await account.delete_tokens(ids, profile) == 3
        names = {t.name for t in (await account.tokens(1, 100, profile)).items}
        assert not names & {"batch-alpha", "batch-beta", "other-gamma"}

    run(tmp_path, profile, body)
    assert search_pattern("ab") == "%ab%" and search_pattern("a") == "a"
    assert search_pattern("sk%") == "sk%"


def test_logs_are_paged_filtered_and_exported(tmp_path: Path, emulators: EmulatorFleet) -> None:
    server = emulators.get(Flavor.BLUESMINDS)
    profile = profile_for(server)
    request_id = chat(server, DEMO.api_key, "log me", model="gpt-4o")

    async def body(account: AccountService, _: ProfileService) -> None:
        await account.sign_in("demo", "demo-password", profile)
        first = await account.logs(1, 100, {}, profile)
        second = await account.logs(2, 100, {}, profile)
        assert first.total is not None and first.total > 100  # seeded history
        assert len(first.items) == 100 and second.items
        assert first.items[-1].created_at >= second.items[0].created_at
        mine = await account.logs(1, 10, {"request_id": request_id, "type": 2}, profile)
        assert len(mine.items) == 1
        entry = mine.items[0]
        assert entry.model_name == "gpt-4o" and entry.prompt_tokens > 0
        assert "model_ratio" in entry.other
        only = await account.logs(1, 100, {"model_name": "gpt-4o", "type": 2}, profile)
        assert only.items and all(e.model_name == "gpt-4o" for e in only.items)
        settings = await account.quota_settings(profile)
        text = logs_csv(mine.items, settings)
        rows = list(csv.reader(io.StringIO(text)))
        assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 2
        row = dict(zip(CSV_COLUMNS, rows[1], strict=True))
        assert row["request_id"] == request_id and row["model"] == "gpt-4o"
        assert row["type"] == "Consume" and row["cost"].startswith("¤")
        assert row["quota"] == str(entry.quota)
        stat = await account.log_stat(profile)
        assert stat.rpm >= 1

    assert request_id
    run(tmp_path, profile, body)


def test_usage_from_data_export_and_from_logs_agree(tmp_path: Path) -> None:
    with_data = start_emulator(Flavor.NEWAPI)
    without = start_emulator(Flavor.NEWAPI, enable_data_export=False)
    now = time.time()
    try:
        results = {}
        for name, server in (("data", with_data), ("logs", without)):

            async def body(account: AccountService, _: ProfileService, s: Any = server) -> Any:
                await account.sign_in("demo", "demo-password", profile_for(s))
                options = await account.login_options(profile_for(s))
                week = await account.usage(7, profile_for(s), now=now)
                month = await account.usage(30, profile_for(s), now=now)
                return options, week, month

            results[name] = run(tmp_path / name, profile_for(server), body)
    finally:
        with_data.stop()
        without.stop()
    options, week, month = results["data"]
    assert options.data_export and options.password_form
    assert week.source == "data" and len(week.days) == 7 and len(month.days) == 30
    assert month.total_quota >= week.total_quota > 0
    assert month.top_models and month.top_models[0].quota >= month.top_models[-1].quota
    options, fweek, fmonth = results["logs"]
    assert not options.data_export
    assert fweek.source == "logs" and len(fweek.days) == 7
    # Both emulators seed the same history: the fallback sums the same consumption.
    assert [d.requests for d in fweek.days] == [d.requests for d in week.days]
    assert fmonth.total_quota == month.total_quota


def test_dashboard_only_where_the_gateway_has_it(tmp_path: Path, emulators: EmulatorFleet) -> None:
    for flavor, expected in ((Flavor.BLUESMINDS, True), (Flavor.NEWAPI, False)):
        profile = profile_for(emulators.get(flavor))

        async def body(account: AccountService, _: ProfileService, p: Any = profile) -> Any:
            await account.sign_in("demo", "demo-password", p)
            return await account.overview(p)

        overview = run(tmp_path / flavor.value, profile, body)
        assert (overview.dashboard is not None) is expected
        if expected:
            assert overview.dashboard["balance"] == overview.user.quota


def test_channels_for_root_and_refused_for_users(tmp_path: Path, emulators: EmulatorFleet) -> None:
    server = emulators.get(Flavor.NEWAPI)
    profile = profile_for(server)

    async def body(account: AccountService, _: ProfileService) -> None:
        await account.sign_in("root", "root-password", profile)
        assert account.is_admin(profile)
        page = await account.channels(1, 5, profile=profile)
        assert page.items and page.total is not None and page.total >= len(page.items)
        channel = page.items[0]
        result = await account.test_channel(channel.id, profile=profile)
        assert result.success and 0.2 <= result.seconds <= 1.8
        again = (await account.channels(1, 5, profile=profile)).items[0]
        assert again.response_time == int(result.seconds * 1000)
        off = await account.set_channel_enabled(channel.id, False, profile)
        assert not off.enabled
        disabled = await account.channels(1, 100, status="disabled", profile=profile)
        assert channel.id in [c.id for c in disabled.items]
        on = await account.set_channel_enabled(channel.id, True, profile)
        assert on.enabled
        searched = await account.channels(1, 20, keyword=channel.name, profile=profile)
        assert channel.id in [c.id for c in searched.items]
        await account.sign_out(profile)

        await account.sign_in("demo", "demo-password", profile)
        assert not account.is_admin(profile)
        with pytest.raises(ConsoleRejected) as refused:
            await account.channels(1, 5, profile=profile)
        assert "insufficient privileges" in refused.value.user_message
        assert account.signed_in(profile)

    run(tmp_path, profile, body)


def test_login_options_from_status() -> None:
    assert LoginOptions.from_status({}).password_form  # old servers: password login on
    turnstile = LoginOptions.from_status({"turnstile_check": True})
    assert not turnstile.password_form
    off = LoginOptions.from_status({"password_login_enabled": False})
    assert not off.password_form and not off.data_export


def test_summarize_usage_buckets_local_days() -> None:
    now = time.time()
    rows = [(int(now), "a", 10, 100, 1), (int(now) - 86_400, "b", 30, 5, 2), (0, "c", 99, 9, 9)]
    summary = summarize_usage(rows, 3, now)
    assert [d.quota for d in summary.days] == [0, 30, 10]
    assert [m.model for m in summary.top_models] == ["b", "a"]  # by spend, in the window
    assert summary.total_quota == 40
