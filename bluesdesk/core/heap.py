"""Keep the garbage collector's full passes short while answers stream.

A full (generation 2) collection walks every tracked object in the process. After start-up that
is ~100,000 objects (Qt wrappers, modules, pygments, the catalog), and one pass cost 40-90 ms on
the GUI thread in the middle of a streamed answer (`benchmarks/stream_ui.py`: the pane's worst
stall). What exists once the window is up lives as long as the app, so it is moved out of the
collector's sight with `gc.freeze()`; later full passes walk only what came after.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> int:
    """Collect once, then exempt every surviving object from later passes; returns how many."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
