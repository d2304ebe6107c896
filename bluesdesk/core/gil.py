"""Let the GUI thread take the GIL back within a millisecond when a worker thread runs Python.

A thread that wants the GIL waits `sys.getswitchinterval()` (5 ms by default) before asking the
holder to let go. The full render of a finished answer runs in a worker thread, in Python
(markdown-it, pygments); each time the GUI thread released the GIL for a Qt call meanwhile (a
signal emission, a layout) it could wait up to 5 ms to get it back: `benchmarks/stream_ui.py`
saw the end-of-answer signals take 6 ms instead of 1. A 1 ms interval bounds that wait; switches
are only forced while two threads want to run Python, so it costs nothing otherwise.
"""

from __future__ import annotations

import sys

GUI_SWITCH_INTERVAL_S = 0.001


def favour_gui_thread(interval_s: float = GUI_SWITCH_INTERVAL_S) -> None:
    """Shorten the GIL switch interval for the whole process (call once, at start-up)."""
    sys.setswitchinterval(interval_s)
