"""--screenshot: show each pane, wait until it has loaded, grab the whole window to a PNG."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from bluesdesk.ui.main_window import PANE_KEYS, MainWindow
from bluesdesk.ui.widgets.pane import Pane

log = logging.getLogger(__name__)


async def wait_ready(pane: Pane, timeout: float) -> bool:
    """True once `pane.is_ready()`, False after `timeout` seconds."""
    if pane.is_ready():
        return True
    done = asyncio.get_running_loop().create_future()

    def on_ready() -> None:
        if not done.done():
            done.set_result(None)

    pane.ready.connect(on_ready)
    try:
        await asyncio.wait_for(done, timeout)
    except TimeoutError:
        return pane.is_ready()
    finally:
        pane.ready.disconnect(on_ready)
    return True


async def capture_panes(
    window: MainWindow, out_dir: Path, *, timeout: float = 20.0, suffix: str = ""
) -> list[str]:
    """Save `out_dir/<pane><suffix>.png` (the folder must exist) for every pane.

    Panes the window has not built yet are built here. Returns the problems met.
    """
    problems: list[str] = []
    if window.showing_first_run():
        window.pages.setCurrentIndex(0)  # screenshots show the panes, not the welcome screen
    window.resize(1180, 760)  # the same size every time, whatever geometry was saved
    for key in PANE_KEYS:
        window.show_pane(key, remember=False)
        pane = window.panes[key]
        if not await wait_ready(pane, timeout):
            problems.append(f"{key}: not ready after {timeout:.0f} s")
        # Let Qt run pending layout and paint events. Never processEvents() here: inside a
        # task it would run other tasks' steps re-entrantly and asyncio drops them.
        await asyncio.sleep(0.03)
        path = out_dir / f"{key}{suffix}.png"
        if not window.grab().save(str(path), "PNG"):
            problems.append(f"{key}: could not write {path}")
        else:
            log.info("screenshot saved: %s", path)
    return problems
