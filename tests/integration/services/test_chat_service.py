"""ChatService against the real emulator over loopback and a real SQLite file: streamed answers
land complete, a cancel keeps the partial text as stopped, a broken stream keeps it as
interrupted, regenerate keeps alternatives, and export/import round-trips losslessly."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bluesdesk.core.export import ImportFormatError
from bluesdesk.core.models import ApiStyle, GatewayProfile
from bluesdesk.core.pricing import Price, PriceKind
from bluesdesk.core.retry import RetryPolicy
from bluesdesk.emulator import EmulatorServer
from bluesdesk.emulator.accounts import DEMO
from bluesdesk.gateway import GatewayClient
from bluesdesk.services.chat import (
    ChatService,
    MessageStats,
    ReplyDelta,
    ReplyFinished,
    ReplyStarted,
    ReplyUpdate,
    estimate_tokens,
)
from bluesdesk.store import ConversationStore, Database

T = TypeVar("T")
FAST = RetryPolicy(max_retries=1, base_delay=0.0, max_delay=0.0, jitter=0.0)
LONG = " ".join(f"word{i}" for i in range(200))
MODELS = {
    ApiStyle.OPENAI: "gpt-4o-mini",
    ApiStyle.CLAUDE: "claude-haiku-4-5",
    ApiStyle.GEMINI: "gemini-2.5-flash",
}


def run_with_service(
    tmp_path: Path,
    server: EmulatorServer,
    body: Callable[[ChatService], Awaitable[T]],
    *,
    price: Price | None = None,
) -> T:
    async def main() -> T:
        db = await Database.open(tmp_path / "chat.db")
        profile = GatewayProfile(id="emu", name="Emulator", base_url=server.relay_url, timeout_s=10)
        client = GatewayClient(profile, DEMO.api_key, policy=FAST)

        async def client_for(profile_id: str) -> GatewayClient:
            return client

        async def price_for(profile: GatewayProfile, model: str) -> Price | None:
            return price

        service = ChatService(
            ConversationStore(db), client_for, price_for=price_for if price else None
        )
        try:
            return await body(service)
        finally:
            await client.aclose()
            await db.close()

    return asyncio.run(main())


@pytest.mark.parametrize("style", list(ApiStyle), ids=str)
def test_streamed_answer_lands_complete_with_stats(
    tmp_path: Path, emulator: EmulatorServer, style: ApiStyle
) -> None:
    updates: list[ReplyUpdate] = []

    async def body(service: ChatService) -> Any:
        conv = await service.new_conversation(model=MODELS[style], api_style=str(style))
        final = await service.send(
            conv.id, "echo: Hello **streaming** world", on_update=updates.append
        )
        stored = await service.store.get_messages(conv.id)
        return final, stored, await service.store.get_conversation(conv.id)

    final, stored, conv = run_with_service(tmp_path, emulator, body)
    assert [m.role for m in stored] == ["user", "assistant"]
    assert stored[1].text == "Hello **streaming** world"
    assert stored[1].state == "complete"
    assert final == stored[1]
    assert conv.title == "echo: Hello **streaming** world"
    stats = MessageStats.from_meta(final.meta_json)
    assert stats is not None
    assert stats.model == MODELS[style] and stats.style == str(style)
    assert stats.completion_tokens > 0 and stats.prompt_tokens > 0
    assert stats.ttft_ms is not None and stats.total_ms >= stats.ttft_ms
    assert stats.request_id and final.request_id == stats.request_id
    assert stats.cost_usd is None  # no catalog given: no price shown
    assert isinstance(updates[0], ReplyStarted) and isinstance(updates[-1], ReplyFinished)
    streamed = "".join(u.text for u in updates if isinstance(u, ReplyDelta))
    assert streamed == "Hello **streaming** world"


def test_cost_is_estimated_when_a_price_is_known(tmp_path: Path, emulator: EmulatorServer) -> None:
    price = Price("gpt-4o-mini", "default", 1.0, PriceKind.PER_TOKEN, 1.0, 2.0)

    async def body(service: ChatService) -> Any:
        conv = await service.new_conversation(model="gpt-4o-mini")
        return await service.send(conv.id, "echo: one two three")

    final = run_with_service(tmp_path, emulator, body, price=price)
    stats = MessageStats.from_meta(final.meta_json)
    assert stats is not None and stats.cost_usd is not None
    expected = (stats.prompt_tokens * 1.0 + stats.completion_tokens * 2.0) / 1_000_000
    assert stats.cost_usd == pytest.approx(expected)


def test_history_and_system_prompt_are_sent(tmp_path: Path, emulator: EmulatorServer) -> None:
    async def body(service: ChatService) -> Any:
        conv = await service.new_conversation(
            model="gpt-4o-mini", system_prompt="Be brief.", params={"temperature": 0.2}
        )
        first = await service.send(conv.id, "echo: first")
        second = await service.send(conv.id, "echo: second")
        return first, second, await service.store.get_messages(conv.id)

    first, second, stored = run_with_service(tmp_path, emulator, body)
    assert [m.text for m in stored] == ["echo: first", "first", "echo: second", "second"]
    # The second request carried the first exchange: more prompt tokens.
    s1, s2 = MessageStats.from_meta(first.meta_json), MessageStats.from_meta(second.meta_json)
    assert s1 is not None and s2 is not None and s2.prompt_tokens > s1.prompt_tokens


def test_cancel_mid_stream_keeps_the_partial_text_as_stopped(
    tmp_path: Path, emulator: EmulatorServer
) -> None:
    emulator.arm_fault("stall", after=4, seconds=30)
    updates: list[ReplyUpdate] = []

    async def body(service: ChatService) -> Any:
        conv = await service.new_conversation(model="gpt-4o-mini")
        got_text = asyncio.Event()

        def listen(update: ReplyUpdate) -> None:
            updates.append(update)
            if isinstance(update, ReplyDelta) and update.text:
                got_text.set()

        task = asyncio.create_task(service.send(conv.id, f"echo: {LONG}", on_update=listen))
        await asyncio.wait_for(got_text.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return await service.store.get_messages(conv.id)

    stored = run_with_service(tmp_path, emulator, body)
    answer = stored[-1]
    streamed = "".join(u.text for u in updates if isinstance(u, ReplyDelta))
    assert answer.state == "stopped"
    assert answer.text == streamed and 0 < len(answer.text) < len(LONG)
    assert LONG.startswith(answer.text)
    finished = updates[-1]
    assert isinstance(finished, ReplyFinished) and finished.message.state == "stopped"


def test_dropped_stream_keeps_the_partial_text_as_interrupted(
    tmp_path: Path, emulator: EmulatorServer
) -> None:
    emulator.arm_fault("drop", after=5)

    async def body(service: ChatService) -> Any:
        conv = await service.new_conversation(model="gpt-4o-mini")
        final = await service.send(conv.id, f"echo: {LONG}")
        return final, await service.store.get_messages(conv.id)

    final, stored = run_with_service(tmp_path, emulator, body)
    assert final.state == "interrupted" and stored[-1] == final
    assert 0 < len(final.text) < len(LONG) and LONG.startswith(final.text)
    assert "stopped part-way" in final.error or "closed before" in final.error
    # No usage arrived: both counts are local estimates, and say so.
    stats = MessageStats.from_meta(final.meta_json)
    assert stats is not None and stats.prompt_estimated and stats.tokens_estimated
    assert stats.prompt_tokens == estimate_tokens(f"echo: {LONG}")
    assert final.prompt_tokens == stats.prompt_tokens


def test_error_inside_the_stream_is_kept_with_its_reason(
    tmp_path: Path, emulator: EmulatorServer
) -> None:
    emulator.arm_fault("stream_error", after=4)

    async def body(service: ChatService) -> Any:
        conv = await service.new_conversation(model="gpt-4o-mini")
        return await service.send(conv.id, f"echo: {LONG}")

    final = run_with_service(tmp_path, emulator, body)
    assert final.state == "error"
    assert "error during the answer" in final.error
    assert LONG.startswith(final.text)


def test_refused_request_is_an_error_message_not_an_exception(
    tmp_path: Path, emulator: EmulatorServer
) -> None:
    emulator.arm_fault("500", count=5)

    async def body(service: ChatService) -> Any:
        conv = await service.new_conversation(model="gpt-4o-mini")
        return await service.send(conv.id, "echo: hi")

    final = run_with_service(tmp_path, emulator, body)
    assert final.state == "error" and final.text == ""
    assert "Request id" in final.error or final.error


def test_regenerate_keeps_alternatives_and_recovery_marks_partials(
    tmp_path: Path, emulator: EmulatorServer
) -> None:
    async def body(service: ChatService) -> Any:
        conv = await service.new_conversation(model="gpt-4o-mini")
        first = await service.send(conv.id, "Tell me about Lisbon briefly")
        again = await service.regenerate(first.id)
        shown = await service.store.get_messages(conv.id)
        await service.store.show_alternative(first.id)
        paged = await service.store.get_messages(conv.id)
        # An answer an exit left behind as partial:
        left = await service.store.add_message(conv.id, "assistant", "half", state="partial")
        count = await service.recover()
        return first, again, shown, paged, count, await service.store.get_message(left.id)

    first, again, shown, paged, count, left = run_with_service(tmp_path, emulator, body)
    assert [m.id for m in shown] == [first.id - 1, first.id, again.id]
    assert [m.hidden for m in shown] == [False, True, False]
    assert again.alt_group == first.id and again.state == "complete"
    assert [m.hidden for m in paged] == [False, False, True]
    assert count == 1 and left is not None and left.state == "interrupted" and left.text == "half"


def test_export_import_round_trip_is_lossless(tmp_path: Path, emulator: EmulatorServer) -> None:
    emulator.arm_fault("drop", after=5)

    async def body(service: ChatService) -> Any:
        conv = await service.new_conversation(
            model="gpt-4o-mini", system_prompt="Be kind.", params={"top_p": 0.5}
        )
        first = await service.send(conv.id, f"echo: {LONG}")  # interrupted by the drop
        await service.regenerate(first.id)
        await service.send(conv.id, "echo: | a | b |\n|---|---|\n| 1 | 2 |")
        await service.store.set_pinned(conv.id, True)
        exported = await service.export_json(conv.id)
        imported = await service.import_json(exported)
        again = await service.export_json(imported.id)
        markdown = await service.export_markdown(conv.id)
        return conv, imported, exported, again, markdown

    conv, imported, exported, again, markdown = run_with_service(tmp_path, emulator, body)
    assert imported.id != conv.id
    a, b = json.loads(exported), json.loads(again)
    # Ids are given anew on import; everything else (alternatives included) is identical.
    id_map = {m["id"]: n["id"] for m, n in zip(a["messages"], b["messages"], strict=True)}
    for m, n in zip(a["messages"], b["messages"], strict=True):
        assert {**m, "id": 0, "alt_group": id_map.get(m["alt_group"], 0)} == {
            **n,
            "id": 0,
        }
    assert a["conversation"] == b["conversation"]
    assert a["conversation"]["pinned"] is True
    assert "## User" in markdown and "## Assistant (gpt-4o-mini)" in markdown
    assert "| 1 | 2 |" in markdown
    assert "> *interrupted" not in markdown  # the interrupted answer is a hidden alternative


def test_import_refuses_foreign_json(tmp_path: Path, emulator: EmulatorServer) -> None:
    async def body(service: ChatService) -> None:
        with pytest.raises(ImportFormatError):
            await service.import_json('{"hello": 1}')
        with pytest.raises(ImportFormatError):
            await service.import_json("not json")

    run_with_service(tmp_path, emulator, body)
