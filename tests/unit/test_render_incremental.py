"""The incremental markdown of a streaming answer: bounded work per update, same HTML as a full
render for ordinary answers, copy links numbered across the whole message."""

from __future__ import annotations

from bluesdesk.core.render import COPY_SCHEME, render_markdown
from bluesdesk.core.render_incremental import TAIL_BUDGET, LiveMarkdown, link_copies

ANSWER = (
    "## Plan\n\nFirst a paragraph with **bold** and `code`.\n\n"
    "```python\nprint(1)\n```\n\n"
    "| a | b |\n|---|---|\n| 1 | 2 |\n\n"
    "- one\n- two\n\n"
    "```sh\necho two\n```\n\nThe end."
)


def stream(live: LiveMarkdown, text: str, step: int) -> list[int]:
    """Feed `text` in `step`-sized pieces; the characters each update rendered."""
    counts = []
    for end in range(step, len(text) + step, step):
        live.step(text[:end])
        counts.append(live.rendered_chars)
    return counts


def test_joined_parts_equal_a_full_render_with_global_copy_links() -> None:
    live = LiveMarkdown(7)
    stream(live, ANSWER, 9)
    body = live.body(live.step(ANSWER))
    assert body is not None
    full = render_markdown(ANSWER)
    assert body.html == link_copies(full.html, 7)
    assert body.code_blocks == ("print(1)\n", "echo two\n")
    assert f'href="{COPY_SCHEME}:7:1"' in body.html  # the second block links to index 1


def test_work_per_update_does_not_grow_with_the_answer() -> None:
    paragraph = "Some words that make a sentence of ordinary length. " * 6 + "\n\n"
    text = paragraph * 400  # ~130 kB
    live = LiveMarkdown(1)
    counts = stream(live, text, 200)
    # Each update renders what became stable since the last one plus the open tail: a few
    # paragraphs, never the answer so far.
    assert max(counts) < 3 * len(paragraph) + 200
    assert max(counts[-50:]) <= max(counts[:50]) + len(paragraph)


def test_an_open_tail_over_budget_is_left_plain() -> None:
    text = "intro\n\n```python\n" + "x = 1\n" * (TAIL_BUDGET // 3)
    live = LiveMarkdown(1)
    counts = stream(live, text, 1000)
    assert max(counts) <= TAIL_BUDGET + 1000
    step = live.step(text)
    assert step.tail is None and live.body(step) is None
    assert live.rendered_chars == 0


def test_a_text_that_does_not_continue_the_frozen_one_is_refused() -> None:
    live = LiveMarkdown(1)
    live.step("para one\n\npara two\n\nthree")
    assert live.matches("para one\n\npara two\n\nthree and more")
    assert not live.matches("para one")  # cut short: the caller renders it from scratch
