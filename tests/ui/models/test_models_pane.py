"""The Models pane over a real CatalogService (SQLite file) and the BluesMinds emulator."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from bluesdesk.core.models import GatewayKind, GatewayProfile
from bluesdesk.emulator.accounts import DEMO
from bluesdesk.services.catalog import CatalogService
from bluesdesk.services.profiles import new_profile_id
from bluesdesk.store import Database, ModelCache
from bluesdesk.ui.models.pane import ModelsPane
from bluesdesk.ui.models.table import Column
from tests.ui.conftest import run_async

pytestmark = pytest.mark.gui
LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def cctx(ctx, qtbot, tmp_path: Path):
    """The UI context with a catalog on a real database file, as the app builds it."""
    db = run_async(qtbot, Database.open(tmp_path / "catalog.db"))
    ctx.db = db
    ctx.catalog = CatalogService(ctx.profiles, ModelCache(db))
    yield ctx
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=5000)
    run_async(qtbot, db.close())


def save_profile(qtbot, ctx, url: str, key: str = DEMO.api_key, pid: str = "") -> GatewayProfile:
    profile = GatewayProfile(
        id=pid or new_profile_id(), name="Emulator", base_url=url, kind=GatewayKind.BLUESMINDS
    )
    run_async(qtbot, ctx.profiles.save(profile, api_key=key))
    return profile


def open_models(make_window, qtbot):
    window = make_window()
    qtbot.mouseClick(window.rail.buttons["models"], LEFT)
    pane = window.panes["models"]
    assert isinstance(pane, ModelsPane)
    qtbot.waitUntil(lambda: pane.is_ready() and not pane.progress.isVisible(), timeout=15_000)
    return window, pane


def click_cell(qtbot, pane: ModelsPane, model_id: str, column: Column) -> None:
    row = pane.visible_models().index(model_id)
    rect = pane.view.visualRect(pane.proxy.index(row, column))
    qtbot.mouseClick(pane.view.viewport(), LEFT, pos=rect.center())


def test_search_filters_rows_and_updates_the_count(make_window, cctx, emulator, qtbot):
    save_profile(qtbot, cctx, emulator.relay_url)
    _, pane = open_models(make_window, qtbot)
    assert pane.state == "ok"
    total = len(pane.models())
    assert total > 10
    assert pane.count_label.text() == f"{total:,} of {total:,} models"
    assert not pane.banner.isVisible()

    qtbot.keyClicks(pane.filter_edit, "claude")
    shown = pane.visible_models()
    assert shown and len(shown) < total
    assert any(m.startswith("claude") for m in shown)
    assert pane.count_label.text() == f"{len(shown)} of {total:,} models"

    pane.filter_edit.clear()
    qtbot.keyClicks(pane.filter_edit, "no-such-model-anywhere")
    assert pane.visible_models() == []
    assert pane.count_label.text() == f"0 of {total:,} models"
    assert pane.no_match.isVisible()
    qtbot.mouseClick(pane.clear_button, LEFT)
    assert len(pane.visible_models()) == total


def test_free_only_keeps_the_free_models(make_window, cctx, emulator, qtbot):
    save_profile(qtbot, cctx, emulator.relay_url)
    _, pane = open_models(make_window, qtbot)
    total = len(pane.models())
    pane.filters.free_only.setChecked(True)
    shown = pane.visible_models()
    # gpt-4.1 is the seeds' free promotional model; gpt-4o costs ¤2.50 in / ¤10.00 out.
    assert "gpt-4.1" in shown and "gpt-4o" not in shown
    for model_id in shown:
        price = cctx.catalog.price(model_id)
        assert price is not None and price.free
    assert pane.count_label.text() == f"{len(shown)} of {total:,} models"
    pane.filters.free_only.setChecked(False)
    assert len(pane.visible_models()) == total


def test_prices_are_shown_in_the_gateway_currency_and_sort(make_window, cctx, emulator, qtbot):
    save_profile(qtbot, cctx, emulator.relay_url)
    _, pane = open_models(make_window, qtbot)
    row = pane.visible_models().index("gpt-4o")
    assert pane.proxy.index(row, Column.INPUT).data() == "¤2.50"
    assert pane.proxy.index(row, Column.OUTPUT).data() == "¤10.00"
    row = pane.visible_models().index("dall-e-3")
    assert pane.proxy.index(row, Column.INPUT).data() == "¤0.04 / req"

    pane.view.sortByColumn(Column.INPUT, Qt.SortOrder.AscendingOrder)
    headlines = [cctx.catalog.price(m).headline for m in pane.visible_models()]
    assert headlines == sorted(headlines)
    pane.view.sortByColumn(Column.MODEL, Qt.SortOrder.DescendingOrder)
    ids = [m.lower() for m in pane.visible_models()]
    assert ids == sorted(ids, reverse=True)


def test_star_is_persisted_and_filters(make_window, cctx, emulator, qtbot):
    profile = save_profile(qtbot, cctx, emulator.relay_url)
    _, pane = open_models(make_window, qtbot)
    click_cell(qtbot, pane, "gpt-4o", Column.STAR)

    def star_of(model_id: str) -> str:
        row = pane.visible_models().index(model_id)
        return pane.proxy.index(row, Column.STAR).data()

    qtbot.waitUntil(lambda: star_of("gpt-4o") == "★", timeout=5000)
    assert star_of("gpt-4.1") == "☆"
    # A fresh service on the same database file sees the star.
    assert cctx.db is not None
    fresh = CatalogService(cctx.profiles, ModelCache(cctx.db))
    assert "gpt-4o" in run_async(qtbot, fresh.favourites(profile))

    pane.filters.favourites_only.setChecked(True)
    assert pane.visible_models() == ["gpt-4o"]
    click_cell(qtbot, pane, "gpt-4o", Column.STAR)  # un-star: it leaves the favourites view
    qtbot.waitUntil(lambda: pane.visible_models() == [], timeout=5000)
    again = CatalogService(cctx.profiles, ModelCache(cctx.db))  # `fresh` keeps what it read
    assert run_async(qtbot, again.favourites(profile)) == frozenset()


def test_details_copy_and_use_in_chat(make_window, cctx, emulator, qtbot):
    save_profile(qtbot, cctx, emulator.relay_url)
    window, pane = open_models(make_window, qtbot)
    assert not pane.details.use_buttons["chat"].isEnabled()  # nothing selected yet
    click_cell(qtbot, pane, "gpt-4o", Column.MODEL)
    assert pane.selected_model() == "gpt-4o"
    text = pane.details.body.text()
    assert "Prices per group" in text and "¤2.50" in text and "vip" in text
    qtbot.mouseClick(pane.details.copy_button, LEFT)
    assert QGuiApplication.clipboard().text() == "gpt-4o"
    # An image model cannot be used in Chat; a chat model cannot be used in Images.
    assert not pane.details.use_buttons["images"].isEnabled()

    used: list[tuple[str, str]] = []
    pane.use_model.connect(lambda key, model: used.append((key, model)))
    qtbot.mouseClick(pane.details.use_buttons["chat"], LEFT)
    assert used == [("chat", "gpt-4o")]
    assert window.current_key == "chat"
    chat = window.panes["chat"]
    assert chat.model_box.currentText() == "gpt-4o"


def test_offline_shows_the_cached_catalog_and_its_age(make_window, cctx, emulator, qtbot):
    profile = save_profile(qtbot, cctx, emulator.relay_url)
    count = run_async(qtbot, cctx.catalog.refresh(profile)).model_count
    # The same profile now points at a closed port: the refresh fails, the cache stays.
    dead = dataclasses.replace(profile, base_url="http://127.0.0.1:9/v1")
    run_async(qtbot, cctx.profiles.save(dead))
    _, pane = open_models(make_window, qtbot)
    assert pane.state == "offline"
    assert len(pane.models()) == count
    assert pane.banner.isVisible()
    assert pane.error_label.text().startswith("Offline: showing the catalog from just now.")
    assert "cached just now" in pane.subtitle.text()
    assert pane.body.currentWidget() is pane.content_page
    # The Chat pane (shown first) is still retrying the dead port; let it finish while its
    # widgets exist (it does not guard against running after the window is gone).
    qtbot.waitUntil(lambda: not cctx.runner.busy, timeout=20_000)


def test_gateway_error_then_retry(make_window, cctx, emulator, qtbot):
    profile = save_profile(qtbot, cctx, emulator.relay_url, key="sk-" + "x" * 48)
    _, pane = open_models(make_window, qtbot)
    assert pane.state == "error"
    assert pane.banner.isVisible() and pane.retry_button.isVisible()
    assert "did not accept the API key" in pane.error_label.text()
    assert pane.body.currentWidget() is pane.empty_page
    assert pane.models() == []

    run_async(qtbot, cctx.profiles.save(profile, api_key=DEMO.api_key))
    qtbot.mouseClick(pane.retry_button, LEFT)
    qtbot.waitUntil(lambda: pane.state == "ok" and not pane.progress.isVisible(), timeout=15_000)
    assert not pane.banner.isVisible()
    assert len(pane.models()) > 10
    assert pane.body.currentWidget() is pane.content_page


def test_no_profile_state(make_window, cctx, qtbot):
    window = make_window()
    window.show_pane("models")
    pane = window.panes["models"]
    assert pane.is_ready()
    assert pane.body.currentWidget() is pane.no_profile
    assert not pane.refresh_button.isEnabled()
