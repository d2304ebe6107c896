"""`--screenshot DIR`: the real entry point in a subprocess, offscreen, with the demo gateway."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QImage

from bluesdesk.ui.main_window import PANE_KEYS
from tests.ui.screenshot_rig import run_screenshots

pytestmark = pytest.mark.gui


def test_demo_screenshots_one_png_per_pane(tmp_path):
    proc, out = run_screenshots(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{k}.png" for k in PANE_KEYS)
    for key in PANE_KEYS:
        image = QImage(str(out / f"{key}.png"))
        assert not image.isNull()
        assert image.width() >= 700 and image.height() >= 450
    assert (tmp_path / "home" / "settings.json").exists()
    assert "Traceback" not in proc.stderr
