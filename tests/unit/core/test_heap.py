"""freeze_startup_heap: what exists at start-up leaves the collector's full passes."""

from __future__ import annotations

import gc

from bluesdesk.core.heap import freeze_startup_heap


def test_start_up_objects_are_frozen_and_later_garbage_is_still_collected() -> None:
    class Node:
        def __init__(self) -> None:
            self.me = self

    try:
        # Other threads free objects too, so the count only has to be there, not stay put.
        assert freeze_startup_heap() > 0
        assert gc.get_freeze_count() > 0
        Node()  # a cycle made after the freeze: garbage the next pass must still find
        assert gc.collect() >= 1
    finally:
        gc.unfreeze()  # the test process goes on with an ordinary heap
