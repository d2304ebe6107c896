"""The sidebar's search results: matched words highlighted (not bracketed), the title in bold,
drawn readably in both themes."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtGui import QColor

from bluesdesk.store.conversations import SearchHit
from bluesdesk.ui.chat.sidebar import Sidebar, hit_html

pytestmark = pytest.mark.gui


def test_hit_html_highlights_matches_and_escapes_the_rest() -> None:
    out = hit_html("Trip <plans>\n  Why is the [sky] blue [x", dark=False)
    assert out.startswith("<b>Trip &lt;plans&gt;</b><br>")
    assert '#fde68a;color:#1f2328;font-weight:600">sky</span> blue [x' in out
    assert "[sky]" not in out
    assert "#854d0e" in hit_html("[a]", dark=True)


def _colours(sidebar: Sidebar) -> set[tuple[int, int, int]]:
    image = sidebar.list.viewport().grab().toImage()
    found = set()
    for x in range(0, image.width(), 2):
        for y in range(0, image.height(), 2):
            colour = QColor(image.pixel(x, y))
            found.add((colour.red(), colour.green(), colour.blue()))
    return found


def test_a_search_result_is_drawn_with_its_match_highlighted(qtbot: Any) -> None:
    sidebar = Sidebar()
    qtbot.addWidget(sidebar)
    sidebar.resize(250, 400)
    sidebar.show()
    qtbot.waitExposed(sidebar)
    long = "A careful approach clarifies [sky] blue once the basics are in place, " * 3
    sidebar.show_results([], [SearchHit("c1", "Write 400 words", 5, long)])
    first = sidebar.list.visualItemRect(sidebar.list.item(0))
    assert first.height() > 3 * sidebar.fontMetrics().height()  # wrapped: title + 3 lines
    assert (0xFD, 0xE6, 0x8A) in _colours(sidebar)  # the highlight is on screen
    sidebar.show_results([], [])
    assert (0xFD, 0xE6, 0x8A) not in _colours(sidebar)
