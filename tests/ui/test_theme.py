"""Light/dark stylesheets: the user's choice wins over the OS scheme, and panes recolour."""

from __future__ import annotations

import pytest

from bluesdesk.ui.theme import ThemeManager

pytestmark = pytest.mark.gui


@pytest.fixture
def restore_style(qapp):
    sheet, palette = qapp.styleSheet(), qapp.palette()
    yield
    qapp.setStyleSheet(sheet)
    qapp.setPalette(palette)


def test_dark_and_light_preferences(qapp, restore_style, qtbot):
    theme = ThemeManager(qapp, "dark")
    with qtbot.waitSignal(theme.changed) as applied:
        theme.apply()
    assert applied.args == [True]
    assert "dark theme" in qapp.styleSheet()
    assert qapp.palette().window().color().name() == "#1c1d20"
    with qtbot.waitSignal(theme.changed) as applied:
        theme.set_preference("light")
    assert applied.args == [False]
    assert "light theme" in qapp.styleSheet()
    theme.setParent(None)
