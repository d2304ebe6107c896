"""The billed cost of new-api gateways: after an answer, chat reads its usage-log row with the
console login (`GET /api/log/self?request_id=`) and stores what the gateway charged on the
message. Signed out, or with no log row, the estimate stays and nothing fails. Real emulator over
loopback, real SQLite, the real account service."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bluesdesk.core.models import GatewayKind, GatewayProfile
from bluesdesk.core.pricing import Price, PriceKind
from bluesdesk.core.redact import forget_secret
from bluesdesk.core.retry import RetryPolicy
from bluesdesk.emulator import EmulatorServer, Flavor
from bluesdesk.emulator.accounts import DEMO
from bluesdesk.gateway import GatewayClient, GatewayPool
from bluesdesk.secrets import KeyStore
from bluesdesk.services.account import AccountService
from bluesdesk.services.billing import ConsoleBilling
from bluesdesk.services.chat import (
    ChatService,
    MessageChanged,
    MessageStats,
    ServiceEvent,
    request_ids_of,
)
from bluesdesk.services.profiles import ProfileService
from bluesdesk.settings import SettingsStore
from bluesdesk.store import ConversationStore, Database
from tests.integration.conftest import EmulatorFleet

T = TypeVar("T")
DELAYS = (0.05, 0.1, 0.2)  # the lookup's backoff, short for tests
LOG_PATH = "/api/log/self"
PRICE = Price("gpt-4o-mini", "default", 1.0, PriceKind.PER_TOKEN, 1.0, 2.0)


@pytest.fixture(autouse=True)
def _keyring(memory_keyring: Any) -> Iterator[Any]:
    yield memory_keyring
    forget_secret(DEMO.api_key)


class Rig:
    def __init__(self, chat: ChatService, account: AccountService, profile: GatewayProfile):
        self.chat = chat
        self.account = account
        self.profile = profile
        self.events: list[ServiceEvent] = []
        chat.listeners.append(self.events.append)

    async def answer(self, text: str, **params: Any) -> Any:
        conv = await self.chat.new_conversation(
            profile_id=self.profile.id, model="gpt-4o-mini", params=params
        )
        await self.chat.send(conv.id, text)
        await self.chat.wait_background()  # the lookup runs after the answer
        return (await self.chat.store.get_messages(conv.id))[-1]

    async def logged_quota(self, request_id: str) -> tuple[int, float]:
        """The log row's quota and the status's quota_per_unit, read independently."""
        page = await self.account.logs(1, 10, {"request_id": request_id}, self.profile)
        settings = await self.account.quota_settings(self.profile)
        assert settings is not None
        return sum(e.quota for e in page.items if e.type == 2), settings.quota_per_unit


def run(tmp_path: Path, server: EmulatorServer, body: Callable[[Rig], Awaitable[T]]) -> T:
    async def main() -> T:
        settings = SettingsStore(tmp_path / "settings.json")
        settings.load()
        pool = GatewayPool(policy=RetryPolicy(max_retries=0))
        profiles = ProfileService(settings, KeyStore(), pool)
        profile = GatewayProfile(
            id="p1",
            name="test gw",
            base_url=server.relay_url,
            kind=GatewayKind.BLUESMINDS,
            timeout_s=10,
        )
        await profiles.save(profile, DEMO.api_key)
        account = AccountService(profiles, KeyStore())
        db = await Database.open(tmp_path / "chat.db")

        async def client_for(profile_id: str) -> GatewayClient:
            return await profiles.client(profiles.profile(profile_id))

        async def price_for(profile: GatewayProfile, model: str) -> Price | None:
            return PRICE

        chat = ChatService(
            ConversationStore(db),
            client_for,
            price_for=price_for,
            billing=ConsoleBilling(account, delays=DELAYS),
        )
        try:
            return await body(Rig(chat, account, profile))
        finally:
            await chat.close()
            await db.close()
            await pool.aclose()

    return asyncio.run(main())


def test_signed_in_the_billed_cost_comes_from_the_usage_log(
    tmp_path: Path, emulators: EmulatorFleet
) -> None:
    server = emulators.get(Flavor.BLUESMINDS)

    async def body(rig: Rig) -> Any:
        assert await rig.account.sign_in("demo", "demo-password", rig.profile)
        message = await rig.answer("echo: what did this cost?")
        return message, await rig.logged_quota(message.request_id), rig.events

    message, (quota, per_unit), events = run(tmp_path, server, body)
    stats = MessageStats.from_meta(message.meta_json)
    assert stats is not None and quota > 0
    assert stats.billed_usd == pytest.approx(quota / per_unit)
    assert stats.cost_usd is not None  # the estimate is kept beside it
    changed = [e for e in events if isinstance(e, MessageChanged)]
    assert [e.message for e in changed] == [message]  # the pane is told, with the stored row


def test_a_tool_answer_is_billed_for_every_request(
    tmp_path: Path, emulators: EmulatorFleet
) -> None:
    server = emulators.get(Flavor.BLUESMINDS)

    async def body(rig: Rig) -> Any:
        assert await rig.account.sign_in("demo", "demo-password", rig.profile)
        message = await rig.answer("calculate 2+3*4", tools=True)
        ids = request_ids_of(message.meta_json)
        rows = [await rig.logged_quota(i) for i in ids]
        return message, ids, rows

    message, ids, rows = run(tmp_path, server, body)
    assert len(ids) == 2 and ids[-1] == message.request_id  # the call, then the answer
    stats = MessageStats.from_meta(message.meta_json)
    assert stats is not None
    assert stats.billed_usd == pytest.approx(sum(q for q, _ in rows) / rows[0][1])


def test_signed_out_the_estimate_stays(tmp_path: Path, emulators: EmulatorFleet) -> None:
    server = emulators.get(Flavor.BLUESMINDS)

    async def body(rig: Rig) -> Any:
        return await rig.answer("echo: no console login"), rig.events

    message, events = run(tmp_path, server, body)
    stats = MessageStats.from_meta(message.meta_json)
    assert message.state == "complete"
    assert stats is not None and stats.billed_usd is None and stats.cost_usd is not None
    assert not [e for e in events if isinstance(e, MessageChanged)]
    assert server.request_count(LOG_PATH) == 0  # not even asked


def test_without_a_log_row_the_lookup_gives_up_quietly(
    tmp_path: Path, emulators: EmulatorFleet
) -> None:
    """A stream cut before its usage was reported is never charged: no log row appears."""
    server = emulators.get(Flavor.BLUESMINDS)

    async def body(rig: Rig) -> Any:
        assert await rig.account.sign_in("demo", "demo-password", rig.profile)
        server.arm_fault("drop", after=2, path_prefix="/v1/chat")
        return await rig.answer("echo: " + " ".join(["word"] * 50)), rig.events

    message, events = run(tmp_path, server, body)
    stats = MessageStats.from_meta(message.meta_json)
    assert message.state == "interrupted" and message.request_id
    assert stats is not None and stats.billed_usd is None and stats.cost_usd is not None
    assert not [e for e in events if isinstance(e, MessageChanged)]
    # It asked once and once per retry, then gave up without a word to the user.
    assert server.request_count(LOG_PATH) == 1 + len(DELAYS)
