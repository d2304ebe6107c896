"""UI against the emulator over real sockets: test connection, models list, status bar, demo."""

from __future__ import annotations

import asyncio
import re

import httpx
import keyring
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from bluesdesk.app import DemoGateway
from bluesdesk.core.models import GatewayKind, GatewayProfile
from bluesdesk.emulator.accounts import DEMO
from bluesdesk.services.profiles import new_profile_id
from tests.ui.conftest import run_async

pytestmark = pytest.mark.gui
LEFT = Qt.MouseButton.LeftButton


def emulator_model_count(emulator) -> int:
    response = httpx.get(
        emulator.relay_url + "/models",
        headers={"Authorization": f"Bearer {DEMO.api_key}"},
        timeout=10,
    )
    response.raise_for_status()
    return len(response.json()["data"])


def open_custom_editor(window, qtbot, base_url: str, key: str):
    qtbot.mouseClick(window.rail.buttons["settings"], LEFT)
    prefs = window.panes["settings"]
    next(a for a in prefs.preset_menu.actions() if a.text() == "Custom OpenAI-compatible").trigger()
    prefs.editor.base_url_edit.clear()
    qtbot.keyClicks(prefs.editor.base_url_edit, base_url)
    qtbot.keyClicks(prefs.editor.key_edit, key)
    return prefs


def test_test_connection_shows_model_count_and_latency(make_window, emulator, qtbot):
    prefs = open_custom_editor(make_window(), qtbot, emulator.relay_url, DEMO.api_key)
    qtbot.mouseClick(prefs.editor.test_button, LEFT)
    label = prefs.editor.result_label
    qtbot.waitUntil(lambda: label.text().startswith("Connected"), timeout=10_000)
    match = re.fullmatch(r"Connected: (\d+) models in (\d+) ms", label.text())
    assert match is not None, label.text()
    assert int(match.group(1)) == emulator_model_count(emulator)
    assert label.objectName() == "okText"
    assert prefs.item_texts() == []  # testing saves nothing


def test_wrong_key_shows_the_auth_error_inline(make_window, emulator, qtbot):
    prefs = open_custom_editor(make_window(), qtbot, emulator.relay_url, "sk-" + "w" * 48)
    qtbot.mouseClick(prefs.editor.test_button, LEFT)
    label = prefs.editor.result_label
    qtbot.waitUntil(lambda: label.objectName() == "errorText", timeout=10_000)
    assert "did not accept the API key" in label.text()
    assert "Traceback" not in label.text()
    assert "w" * 48 not in label.text()


def test_unreachable_gateway_is_explained(make_window, qtbot):
    prefs = open_custom_editor(make_window(), qtbot, "http://127.0.0.1:9/v1", DEMO.api_key)
    qtbot.mouseClick(prefs.editor.test_button, LEFT)
    label = prefs.editor.result_label
    qtbot.waitUntil(lambda: label.objectName() == "errorText", timeout=15_000)
    assert label.text()
    assert "Traceback" not in label.text()


def test_models_pane_lists_models_and_status_bar_shows_request(make_window, ctx, emulator, qtbot):
    profile = GatewayProfile(
        id=new_profile_id(),
        name="Emulator",
        base_url=emulator.relay_url,
        kind=GatewayKind.BLUESMINDS,
    )
    run_async(qtbot, ctx.profiles.save(profile, api_key=DEMO.api_key))
    window = make_window()
    qtbot.mouseClick(window.rail.buttons["models"], LEFT)
    pane = window.panes["models"]
    qtbot.waitUntil(pane.is_ready, timeout=10_000)
    count = emulator_model_count(emulator)
    assert len(pane.models()) == count
    assert pane.subtitle.text() == f"{count} models on Emulator"

    status = window.status
    assert status.dot.property("state") == "ok"
    assert status.request_button.isVisible()
    assert status.request_id
    qtbot.mouseClick(status.request_button, LEFT)
    assert QGuiApplication.clipboard().text() == status.request_id
    assert status.limit_label.text().startswith("Requests left ")

    qtbot.keyClicks(pane.filter_edit, "claude")
    shown = [pane.proxy.index(r, 0).data() for r in range(pane.proxy.rowCount())]
    assert shown and all("claude" in name for name in shown)


def test_models_pane_shows_gateway_errors(make_window, ctx, emulator, qtbot):
    profile = GatewayProfile(id=new_profile_id(), name="Bad key", base_url=emulator.relay_url)
    run_async(qtbot, ctx.profiles.save(profile, api_key="sk-" + "x" * 48))
    window = make_window()
    qtbot.mouseClick(window.rail.buttons["models"], LEFT)
    pane = window.panes["models"]
    qtbot.waitUntil(pane.is_ready, timeout=10_000)
    assert pane.error_label.isVisible()
    assert "did not accept the API key" in pane.error_label.text()
    assert pane.models() == []
    assert window.status.dot.property("state") == "error"


def test_try_the_demo_from_the_first_run_screen(make_window, ctx, qtbot):
    demo = DemoGateway(ctx.profiles, ctx.keys)
    ctx.start_demo = demo.start
    try:
        window = make_window()
        assert window.showing_first_run()
        qtbot.mouseClick(window.first_run.demo_button, LEFT)
        qtbot.waitUntil(lambda: not window.showing_first_run(), timeout=15_000)
        assert window.current_key == "models"
        pane = window.panes["models"]
        qtbot.waitUntil(lambda: len(pane.models()) > 0, timeout=15_000)
        active = ctx.profiles.active()
        assert active is not None and active.demo and active.name == "Demo gateway"
        assert active.base_url == demo.server.relay_url
        assert active.management_url == demo.server.base_url
        assert keyring.get_password("bluesdesk", f"{active.id}:api_key") == DEMO.api_key
        assert window.status.profile_label.text().startswith("Demo gateway · 127.0.0.1:")
        assert ctx.settings.load().first_run_done
    finally:
        run_async(qtbot, asyncio.to_thread(demo.stop))
