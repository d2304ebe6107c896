"""ConversationStore's second-pass queries over a real SQLite file: the tail of a long
conversation in transcript order, restoring deleted rows with their ids, and presets."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bluesdesk.core.render_incremental import stable_split
from bluesdesk.store import ConversationStore, Database, Preset


async def _tail(path: Path) -> dict[str, object]:
    db = await Database.open(path)
    try:
        store = ConversationStore(db)
        conv = await store.create_conversation("Long", model="m")
        for i in range(30):
            await store.add_message(conv.id, "user" if i % 2 == 0 else "assistant", f"m{i}")
        everything = await store.get_messages(conv.id)
        # Regenerate the answer m3 twice: its alternatives sit at its place, not at the end.
        head = everything[3]
        await store.add_message(conv.id, "assistant", "m3 again", alt_group=head.id)
        tail = await store.get_messages(conv.id, last=6)
        all_rows = await store.get_messages(conv.id)
        count = await store.count_messages(conv.id)
        deleted = all_rows[:4]
        await store.delete_messages([m.id for m in deleted])
        await store.restore_messages(deleted)
        restored = await store.get_messages(conv.id)
        await store.save_preset(Preset("B", "be brief", '{"top_p": 0.5}'))
        await store.save_preset(Preset("a", "", "{}"))
        presets = await store.list_presets()
        return {
            "tail": [m.text for m in tail],
            "all": [(m.id, m.text, m.hidden) for m in all_rows],
            "restored": [(m.id, m.text, m.hidden) for m in restored],
            "count": count,
            "short": [m.text for m in await store.get_messages(conv.id, last=100)],
            "presets": [p.name for p in presets],
        }
    finally:
        await db.close()


def test_tail_restore_and_presets(tmp_path: Path) -> None:
    out = asyncio.run(_tail(tmp_path / "chat.db"))
    # The six newest rows include m3's late alternative, which belongs far earlier: it is left
    # out, so the tail is the five newest messages in place, not a stray answer on top.
    assert out["tail"] == ["m25", "m26", "m27", "m28", "m29"]
    texts = [t for _, t, _ in out["all"]]  # type: ignore[attr-defined]
    assert texts[:5] == ["m0", "m1", "m2", "m3", "m3 again"]
    assert out["count"] == 31
    assert out["restored"] == out["all"]  # same ids, same order, same hidden flags
    assert out["short"] == texts
    assert out["presets"] == ["a", "B"]  # case-insensitive order


def test_stable_split_never_cuts_a_code_fence() -> None:
    text = "intro\n\n```py\na = 1\n\nb = 2\n```\n\nafter\n\nstill typing"
    cut = stable_split(text, 0)
    assert text[:cut] == "intro\n\n```py\na = 1\n\nb = 2\n```\n\nafter\n\n"
    assert stable_split(text, cut) == cut  # nothing new became stable
    open_fence = "intro\n\n```py\na = 1\n\nb = 2"
    assert open_fence[: stable_split(open_fence, 0)] == "intro\n\n"
    assert stable_split("one paragraph only", 0) == 0
