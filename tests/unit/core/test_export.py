"""Conversation export: JSON round trips exactly; Markdown reads well; foreign files are refused."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bluesdesk.core.export import (
    ConversationDoc,
    ImportFormatError,
    MessageDoc,
    from_json,
    to_json,
    to_markdown,
)

DOC = ConversationDoc(
    title="Trip",
    model="gpt-4o-mini",
    created_at=1_700_000_000.0,
    updated_at=1_700_000_100.5,
    pinned=True,
    system_prompt="Be brief.",
    api_style="claude",
    params_json='{"temperature": 0.2}',
    messages=(
        MessageDoc(1, "user", "Plan a trip ✈"),
        MessageDoc(2, "assistant", "Old answer", alt_group=2, hidden=True, model="gpt-4o-mini"),
        MessageDoc(
            3,
            "assistant",
            "New **answer**",
            state="stopped",
            alt_group=2,
            model="gpt-4o-mini",
            meta_json='{"stats": {"ttft_ms": 12.5}}',
            prompt_tokens=10,
            completion_tokens=3,
            request_id="req-1",
        ),
    ),
)


def test_json_round_trip_is_exact() -> None:
    assert from_json(to_json(DOC)) == DOC


@given(
    st.lists(
        st.tuples(st.sampled_from(["user", "assistant"]), st.text(), st.booleans()), max_size=8
    ),
    st.text(),
)
def test_json_round_trip_of_any_text(rows: list[tuple[str, str, bool]], title: str) -> None:
    doc = ConversationDoc(
        title=title,
        messages=tuple(MessageDoc(i + 1, r, t, hidden=h) for i, (r, t, h) in enumerate(rows)),
    )
    assert from_json(to_json(doc)) == doc


def test_markdown_shows_the_chosen_answers_with_marks() -> None:
    md = to_markdown(DOC)
    assert md.startswith("# Trip\n")
    assert "## System\n\nBe brief." in md
    assert "Old answer" not in md
    assert "## Assistant (gpt-4o-mini)\n\nNew **answer**" in md
    assert "> *stopped by you*" in md


@pytest.mark.parametrize(
    "text",
    [
        "nope",
        "[]",
        '{"format": "other"}',
        json.dumps({"format": "bluesdesk.conversation", "version": 99}),
    ],
)
def test_foreign_files_are_refused(text: str) -> None:
    with pytest.raises(ImportFormatError):
        from_json(text)


def test_damaged_fields_are_refused() -> None:
    payload = json.loads(to_json(DOC))
    payload["messages"][0]["role"] = "wizard"
    with pytest.raises(ImportFormatError, match="role"):
        from_json(json.dumps(payload))
    payload = json.loads(to_json(DOC))
    payload["messages"][1]["alt_group"] = 77
    with pytest.raises(ImportFormatError, match="missing"):
        from_json(json.dumps(payload))
    payload = json.loads(to_json(DOC))
    del payload["conversation"]["title"]
    with pytest.raises(ImportFormatError, match="title"):
        from_json(json.dumps(payload))
