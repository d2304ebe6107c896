"""`layout_cost`: ordinary answers cost about their length; the inputs Qt lays out slowly (huge
tables, runaway emphasis nesting) cost far more, so the transcript shows them as plain text."""

from __future__ import annotations

from bluesdesk.core.render import layout_cost, render_markdown

PROSE = ("Some *light* emphasis, a `word` and **bold** text in a sentence.\n\n") * 600


def test_ordinary_markdown_costs_about_its_length() -> None:
    html = render_markdown(PROSE).html
    assert len(html) <= layout_cost(html) < 1.5 * len(html)


def test_tables_and_deep_nesting_cost_far_more_than_their_length() -> None:
    table = render_markdown("| a | b |\n|---|---|\n" + "| 1 | 2 |\n" * 2_000).html
    assert layout_cost(table) > 10 * len(table)
    deep = render_markdown("*" * 10_000 + "x" + "*" * 10_000).html
    assert layout_cost(deep) > 5 * len(deep)
