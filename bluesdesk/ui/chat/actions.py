"""Bars under the transcript: what to do about the last answer's failure, and Undo.

`ActionBar` turns an answer's stored error (`services.chat.error_info`) into one action: retry
after the gateway's Retry-After with a visible countdown (429), open Settings (bad key), pick
another model (unknown model), top up (quota), Continue (cut-off answer) or Retry.
`UndoBar` offers "Undo" for a few seconds after a delete.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from bluesdesk.services.chat import error_info
from bluesdesk.store.conversations import StoredMessage

DEFAULT_RETRY_S = 5.0
UNDO_MS = 8000

# kind → (text, action, button label)
_ACTIONS = {
    "rate_limit": ("The gateway is rate limiting requests.", "retry", "Retry now"),
    "auth": ("The gateway refused the API key.", "settings", "Open Settings"),
    "model": ("The gateway does not offer this model.", "pick_model", "Pick another model"),
    "quota": ("The account is out of quota.", "top_up", "Top up"),
    "interrupted": ("The answer was cut off.", "continue", "Continue"),
    "server": ("The gateway failed to answer.", "retry", "Retry"),
    "other": ("The request failed.", "retry", "Retry"),
}


class ActionBar(QFrame):
    """Signals: action(str, int): "retry", "continue", "settings", "pick_model" or "top_up"
    for a message id (a 429 countdown emits "retry" by itself when it runs out)."""

    action = Signal(str, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("actionBar")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.button = QPushButton()
        self.button.setProperty("primary", True)
        self.dismiss = QPushButton(self.tr("Dismiss"))
        self.button.clicked.connect(lambda *_: self._fire())
        self.dismiss.clicked.connect(lambda *_: self.clear())
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label, 1)
        row.addWidget(self.button)
        row.addWidget(self.dismiss)
        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self._tick)
        self.message_id = 0
        self.kind = ""
        self.name = ""
        self.remaining = 0
        self._text = ""
        self.hide()

    def show_for(self, message: StoredMessage) -> None:
        """Offer the action that fits how `message` ended (nothing for a complete answer)."""
        self.clear()
        info = error_info(message.meta_json)
        kind = str(info.get("kind", ""))
        if message.state == "stopped" or (message.state == "interrupted" and not kind):
            kind = "interrupted"
        if message.state not in ("error", "interrupted", "stopped") or kind not in _ACTIONS:
            return
        text, name, label = _ACTIONS[kind]
        if message.state == "stopped":
            text = self.tr("You stopped this answer.")
        self.message_id, self.kind, self.name, self._text = message.id, kind, name, text
        self.button.setText(self.tr(label))
        if kind == "rate_limit":
            wait = info.get("retry_after")
            seconds = float(wait) if isinstance(wait, (int, float)) else DEFAULT_RETRY_S
            self.remaining = max(1, math.ceil(seconds))
            self.timer.start()
        self._update_label()
        self.show()

    def _update_label(self) -> None:
        if self.timer.isActive():
            self.label.setText(
                self.tr("{text} Retrying in {n} s…").format(text=self._text, n=self.remaining)
            )
        else:
            self.label.setText(self._text)

    def _tick(self) -> None:
        self.remaining -= 1
        if self.remaining <= 0:
            self._fire()
        else:
            self._update_label()

    def _fire(self) -> None:
        name, message_id = self.name, self.message_id
        self.clear()
        if name:
            self.action.emit(name, message_id)

    def clear(self) -> None:
        self.timer.stop()
        self.message_id, self.kind, self.name, self.remaining = 0, "", "", 0
        self.hide()


class UndoBar(QFrame):
    """ "Deleted … Undo" for `UNDO_MS`; the undo callback runs at most once."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("undoBar")
        self.label = QLabel()
        self.button = QPushButton(self.tr("Undo"))
        self.button.clicked.connect(lambda *_: self.undo())
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label, 1)
        row.addWidget(self.button)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.expire)
        self._undo: Callable[[], None] | None = None
        self.hide()

    def offer(self, text: str, undo: Callable[[], None], ms: int = UNDO_MS) -> None:
        self._undo = undo
        self.label.setText(text)
        self.show()
        self.timer.start(ms)

    def undo(self) -> None:
        callback, self._undo = self._undo, None
        self.expire()
        if callback is not None:
            callback()

    def expire(self) -> None:
        self.timer.stop()
        self._undo = None
        self.hide()
