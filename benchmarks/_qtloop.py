"""Running a benchmark's coroutine on a qasync loop inside a QApplication, as the app does."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

import qasync
from PySide6.QtWidgets import QApplication

T = TypeVar("T")


def run_on_qt(main: Coroutine[Any, Any, T]) -> T | None:
    """Run `main` to the end; windows closing between parts do not quit the app. None if
    interrupted with Ctrl+C."""
    found = QApplication.instance()
    app = found if isinstance(found, QApplication) else QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    result: T | None = None
    with loop, contextlib.suppress(KeyboardInterrupt):
        result = loop.run_until_complete(main)
    return result
