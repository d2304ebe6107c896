"""Drives one streamed answer on screen without ever stalling the event loop.

The service reports every delta; painting each one would re-lay out text per token (STACK-NOTES:
quadratic, froze Qt for 2 s). Deltas are buffered here instead, and one `FLUSH_MS` timer shows
them: on most ticks the buffered text is appended to the live message as plain text; every
`RENDER_MS` or so (longer when rendering gets expensive: long answers) the tick re-renders the
message's markdown instead. One timer, so a render never lands next to a plain append and the
screen changes once per tick at most. The last render happens once when the answer ends,
together with its stats line.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer, Signal
from shiboken6 import isValid

from bluesdesk.services.chat import (
    ChatService,
    ReplyDelta,
    ReplyFinished,
    ReplyStarted,
    ReplyToolCall,
    ReplyUpdate,
)
from bluesdesk.store.conversations import StoredMessage
from bluesdesk.ui.chat.transcript import TranscriptView
from bluesdesk.ui.tasks import TaskRunner

FLUSH_MS = 40
RENDER_MS = 400
REPLY_KEY = "chat:reply"


class ChatController(QObject):
    """Signals:
    busy_changed(bool): an answer started (True) or ended (False).
    finished(object): the final assistant `StoredMessage` (complete, stopped, interrupted…).
    """

    busy_changed = Signal(bool)
    finished = Signal(object)

    def __init__(self, service: ChatService, view: TranscriptView, runner: TaskRunner) -> None:
        super().__init__(view)
        self.service = service
        self.view = view
        self.runner = runner
        self._pending: list[str] = []
        self._full: list[str] = []
        self._dirty = False
        self.renders = 0  # markdown renders of the live message (tests check the throttle)
        self.tick_timer = QTimer(self)
        self.tick_timer.setInterval(FLUSH_MS)
        self.tick_timer.timeout.connect(self._tick)
        self._render_every = RENDER_MS / 1000  # seconds between markdown renders (backs off)
        self._rendered_at = 0.0
        self.busy = False

    # ---- commands

    def send(self, conversation_id: str, text: str, images: tuple[str, ...] = ()) -> None:
        self.runner.run(
            self.service.send(conversation_id, text, images=images, on_update=self.on_update),
            key=REPLY_KEY,
        )

    def edit_and_resend(self, message_id: int, text: str) -> None:
        self.runner.run(
            self.service.edit_and_resend(message_id, text, on_update=self.on_update),
            key=REPLY_KEY,
        )

    def retry(self, message_id: int) -> None:
        self.runner.run(self.service.retry(message_id, on_update=self.on_update), key=REPLY_KEY)

    def continue_answer(self, message_id: int) -> None:
        self.runner.run(
            self.service.continue_answer(message_id, on_update=self.on_update), key=REPLY_KEY
        )

    def regenerate(self, message_id: int) -> None:
        self.runner.run(
            self.service.regenerate(message_id, on_update=self.on_update), key=REPLY_KEY
        )

    def stop(self) -> None:
        """Cancel the task: the service closes the HTTP stream and saves the text as stopped."""
        self.runner.cancel(REPLY_KEY)

    # ---- updates from the service (same thread: the qasync loop)

    def on_update(self, update: ReplyUpdate) -> None:
        if not isValid(self) or not isValid(self.view):
            return  # the pane was closed while its answer streamed; the store has it all
        if isinstance(update, ReplyStarted):
            self._pending.clear()
            self._full.clear()
            self._dirty = False
            if update.history is not None:
                self.view.show_messages(list(update.history))
            if update.assistant.text:  # continuing: the answer so far comes first
                self._full.append(update.assistant.text)
            self.view.begin_live(update.assistant, update.user)
            self._render_every = RENDER_MS / 1000
            self._rendered_at = time.perf_counter()
            self.tick_timer.start()
            self._set_busy(True)
        elif isinstance(update, ReplyDelta):
            if update.text:
                self._pending.append(update.text)
                self._full.append(update.text)
                self._dirty = True
        elif isinstance(update, ReplyToolCall):
            self._pending.clear()
            self._dirty = False
            self.view.add_live_tool_call(update.call, "".join(self._full))
        elif isinstance(update, ReplyFinished):
            self.tick_timer.stop()
            self._pending.clear()
            self.view.finish_live(update.message)
            # Send comes back, the action bar and the sidebar update on the next turn of the
            # loop: the answer's end and the window's re-layout are then two short stalls, not
            # one long one (benchmarks/stream_ui.py).
            message = update.message
            QTimer.singleShot(0, self, lambda: self._finished(message))

    def _tick(self) -> None:
        if self._dirty and time.perf_counter() - self._rendered_at >= self._render_every:
            self._render()
        elif self._pending:
            text = "".join(self._pending)
            self._pending.clear()
            self.view.append_live(text)

    def _render(self) -> None:
        self._dirty = False
        self._pending.clear()  # the render shows everything received so far
        started = time.perf_counter()
        self._full[:] = ["".join(self._full)]  # joined once: later joins copy only what is new
        self.view.render_live(self._full[0])
        self.renders += 1
        self._rendered_at = time.perf_counter()
        # Spend at most ~1/8 of the time re-rendering, however long the answer grows.
        self._render_every = max(RENDER_MS / 1000, (self._rendered_at - started) * 8)

    def _finished(self, message: StoredMessage) -> None:
        self._set_busy(False)
        self.finished.emit(message)

    def _set_busy(self, busy: bool) -> None:
        if busy != self.busy:
            self.busy = busy
            self.busy_changed.emit(busy)

    def live_message(self) -> StoredMessage | None:
        return self.view.message(self.view.live_id) if self.view.live_id else None
