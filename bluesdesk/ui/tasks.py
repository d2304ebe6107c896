"""TaskRunner: the one place where UI code starts asyncio work.

It keeps a strong reference to every task (asyncio only keeps weak ones), names tasks, cancels an
earlier task started under the same key, and routes failures: expected `BluesdeskError`s go to the
`failed` signal, anything else is a bug and goes to the crash handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import QObject, Signal

from bluesdesk.errors import BluesdeskError

log = logging.getLogger(__name__)

CrashHandler = Callable[[BaseException], None]


class TaskRunner(QObject):
    """Runs coroutines on the running (qasync) loop on behalf of the UI.

    Signals:
        busy_changed(bool): True when the first task starts, False when the last one ends.
        failed(str, object): a task ended with a `BluesdeskError`; args are the key and the error.
        finished(str): a task with this key ended (success, error or cancellation).
    """

    busy_changed = Signal(bool)
    failed = Signal(str, object)
    finished = Signal(str)

    def __init__(self, parent: QObject | None = None, *, crash_handler: CrashHandler | None = None):
        super().__init__(parent)
        self._tasks: dict[str, asyncio.Task[Any]] = {}
        self._counter = itertools.count(1)
        self.crash_handler: CrashHandler = crash_handler or _log_crash

    # ---- Public API

    def run(self, coro: Coroutine[Any, Any, Any], *, key: str | None = None) -> asyncio.Task[Any]:
        """Start `coro` now. A task already running under `key` is cancelled first."""
        if key is None:
            key = f"{getattr(coro, '__qualname__', 'task')}#{next(self._counter)}"
        previous = self._tasks.get(key)
        if previous is not None and not previous.done():
            previous.cancel()
        was_busy = self.busy
        task = asyncio.get_running_loop().create_task(coro, name=f"bluesdesk:{key}")
        self._tasks[key] = task
        task.add_done_callback(functools.partial(self._on_task_done, key))
        if not was_busy:
            self.busy_changed.emit(True)
        return task

    def cancel(self, key: str) -> None:
        task = self._tasks.get(key)
        if task is not None:
            task.cancel()

    def is_running(self, key: str) -> bool:
        task = self._tasks.get(key)
        return task is not None and not task.done()

    @property
    def busy(self) -> bool:
        """A task is kept until its done-callback ran, so `busy` turns False exactly when
        `busy_changed(False)` is emitted (a finished task whose callback had not yet run read as
        idle while the indicator still showed busy)."""
        return bool(self._tasks)

    def tasks(self) -> list[asyncio.Task[Any]]:
        return [t for t in self._tasks.values() if not t.done()]

    async def shutdown(self, timeout: float = 3.0) -> None:
        """Cancel every task and wait (at most `timeout` seconds) for them to finish."""
        pending = self.tasks()
        for task in pending:
            task.cancel()
        if pending:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait(pending, timeout=timeout)

    # ---- Internals

    def _on_task_done(self, key: str, task: asyncio.Task[Any]) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]
        if not task.cancelled():
            exc = task.exception()  # also marks it retrieved: no "never retrieved" noise
            if isinstance(exc, BluesdeskError):
                log.info("task %s failed: %s", key, exc.user_message)
                self.failed.emit(key, exc)
            elif exc is not None:
                self.crash_handler(exc)
        self.finished.emit(key)
        if not self.busy:
            self.busy_changed.emit(False)


def _log_crash(exc: BaseException) -> None:
    log.error("unexpected error in a background task", exc_info=exc)
