"""The Models pane on its own (no main window): vendor marks, BluesMinds credit quotes, and
sorting done by the source model, over a real catalog (SQLite file) and the emulator."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from bluesdesk.emulator.catalog import GROUP_RATIOS
from bluesdesk.ui.models.pane import ModelsPane
from bluesdesk.ui.models.table import Column
from bluesdesk.ui.models.vendors import MARKS, VENDOR_ICON_ROLE, icon_key, vendor_pixmap
from tests.ui.models.test_models_pane import cctx, click_cell, save_profile

pytestmark = pytest.mark.gui
__all__ = ["cctx"]  # the fixture, re-used


def open_pane(cctx, qtbot) -> ModelsPane:
    pane = ModelsPane(cctx)
    qtbot.addWidget(pane)
    pane.resize(1300, 800)
    pane.show()
    qtbot.waitExposed(pane)
    pane.on_shown()
    qtbot.waitUntil(lambda: pane.is_ready() and not pane.progress.isVisible(), timeout=15_000)
    return pane


def cell(pane: ModelsPane, model_id: str, column: Column, role: int = Qt.ItemDataRole.DisplayRole):
    row = pane.visible_models().index(model_id)
    return pane.proxy.index(row, column).data(role)


def test_icon_names_map_to_our_marks() -> None:
    assert icon_key("OpenAI", "OpenAI") == "openai"
    assert icon_key("Claude.Color", "Anthropic") == "anthropic"
    assert icon_key("Gemini.Color", "Google") == "google"
    assert icon_key("Qwen.Color", "Alibaba") == "qwen"
    assert icon_key("XAI", "xAI") == "xai"
    assert icon_key("Zhipu.Color", "智谱") == "zhipu"
    assert icon_key("Kimi.Color", "Moonshot") == "moonshot"
    assert icon_key("SomethingNew.Color", "Acme") == "letter:A"  # unknown: the initial
    assert icon_key("", "OpenAI") == ""  # no icon name from the gateway: no mark
    assert {"openai", "anthropic", "google", "deepseek", "xai", "qwen", "mistral", "meta"} <= MARKS


@pytest.mark.parametrize("key", [*sorted(MARKS), "letter:Q"])
def test_marks_paint_in_the_asked_colour(qapp, key: str) -> None:
    image = vendor_pixmap(key, "#ff0000", 32).toImage()
    painted = [
        image.pixelColor(x, y)
        for x in range(32)
        for y in range(32)
        if image.pixelColor(x, y).alpha()
    ]
    assert len(painted) > 40  # a ring and a letter, not an empty square
    assert all(c.red() > 200 and c.green() < 60 for c in painted if c.alpha() == 255)
    assert QColor(painted[0]).blue() < 60


def test_vendor_column_carries_the_mark(cctx, emulator, qtbot):
    save_profile(qtbot, cctx, emulator.relay_url)
    pane = open_pane(cctx, qtbot)
    assert cell(pane, "gpt-4o", Column.VENDOR, VENDOR_ICON_ROLE) == "openai"
    assert cell(pane, "claude-sonnet-4-5", Column.VENDOR, VENDOR_ICON_ROLE) == "anthropic"
    assert cell(pane, "gemini-2.5-flash", Column.VENDOR, VENDOR_ICON_ROLE) == "google"
    assert cell(pane, "gpt-4o", Column.VENDOR) == "OpenAI"


def test_bluesminds_details_quote_credits_per_group(cctx, emulator, qtbot):
    save_profile(qtbot, cctx, emulator.relay_url)
    pane = open_pane(cctx, qtbot)
    click_cell(qtbot, pane, "gpt-4o", Column.MODEL)
    text = pane.details.body.text()
    assert "In credits" in text
    # gpt-4o: base 2.5 credits per 1M input tokens (ratio 1.25 × 1e6 / 500000).
    for group, ratio in GROUP_RATIOS.items():
        effective = f"{2.5 * ratio:.3f}"
        assert f"2.500 ¤ × {ratio:g} = {effective} ¤ per 1M input tokens" in text, group
    click_cell(qtbot, pane, "dall-e-3", Column.MODEL)
    assert "0.040 ¤ × 1 = 0.040 ¤ per request" in pane.details.body.text()


def test_sorting_reorders_rows_keeps_filter_and_selection(cctx, emulator, qtbot):
    save_profile(qtbot, cctx, emulator.relay_url)
    pane = open_pane(cctx, qtbot)
    click_cell(qtbot, pane, "gpt-4o", Column.MODEL)
    pane.view.sortByColumn(Column.INPUT, Qt.SortOrder.DescendingOrder)
    headlines = [
        p.headline if (p := cctx.catalog.price(m)) is not None else float("inf")
        for m in pane.visible_models()
    ]
    assert headlines == sorted(headlines, reverse=True)
    assert pane.selected_model() == "gpt-4o"
    current = pane.view.selectionModel().currentIndex()
    assert current.siblingAtColumn(Column.MODEL).data() == "gpt-4o"  # the selection followed

    qtbot.keyClicks(pane.filter_edit, "claude")
    pane.view.sortByColumn(Column.MODEL, Qt.SortOrder.DescendingOrder)
    shown = pane.visible_models()
    assert shown and all("claude" in m for m in shown)
    assert shown == sorted(shown, key=str.lower, reverse=True)
    pane.filter_edit.clear()
    ids = pane.visible_models()
    assert len(ids) == len(pane.models()) and ids == sorted(ids, key=str.lower, reverse=True)


def test_typing_backspacing_and_selection_through_the_proxy(cctx, emulator, qtbot):
    save_profile(qtbot, cctx, emulator.relay_url)
    pane = open_pane(cctx, qtbot)
    total = len(pane.models())
    click_cell(qtbot, pane, "gpt-4o-mini", Column.MODEL)
    expected = {
        text: sorted((m for m in pane.models() if text in m.lower()), key=str.lower)
        for text in ("g", "gp", "gpt", "gpt-4o", "gpt-4o-m")
    }
    typed = ""
    for text in ("g", "gp", "gpt", "gpt-4o", "gpt-4o-m"):
        qtbot.keyClicks(pane.filter_edit, text[len(typed) :])  # typing forward: narrowing
        typed = text
        shown = pane.visible_models()
        # The search also looks at vendor, tags and description: at least every matching id.
        assert set(expected[text]) <= set(shown), text
        if len(text) > 3:
            assert shown == expected[text]
        assert pane.selected_model() == "gpt-4o-mini"  # still shown, still selected
        current = pane.view.selectionModel().currentIndex()
        assert current.siblingAtColumn(Column.MODEL).data() == "gpt-4o-mini"
    narrowest = pane.visible_models()
    for _ in range(3):  # backspace widens again: rows come back
        qtbot.keyClick(pane.filter_edit, Qt.Key.Key_Backspace)
    assert pane.filter_edit.text() == "gpt-4"
    assert set(narrowest) < set(pane.visible_models())

    # Filtered out, the selection goes; the star column of a shown row still updates in place.
    pane.filter_edit.setText("claude")
    assert not pane.view.selectionModel().currentIndex().isValid()
    click_cell(qtbot, pane, "claude-haiku-4-5", Column.STAR)
    qtbot.waitUntil(lambda: cell(pane, "claude-haiku-4-5", Column.STAR) == "★", timeout=5000)
    pane.filter_edit.clear()
    assert len(pane.visible_models()) == total
