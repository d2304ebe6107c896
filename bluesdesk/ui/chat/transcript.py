"""The transcript: one QTextBrowser whose document holds the messages, HTML cached per message.

Why one document and not a widget per message: a long conversation would otherwise keep
thousands of heavy widgets alive. Messages are rendered to HTML once (cached by id, text, state
and theme); a conversation opens with its last `WINDOW` messages and an "earlier messages" link.

The live answer is always the last thing in the document. Streaming edits touch only that tail:
`append_live` inserts plain text at the end (cheap, called every ~40 ms by the controller) and
`render_live` replaces the tail with freshly rendered markdown (throttled by the controller), so
Qt lays out only the live message, never the whole transcript.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication, QTextCursor
from PySide6.QtWidgets import QTextBrowser, QWidget

from bluesdesk.core.render import COPY_SCHEME, render_markdown, render_plain
from bluesdesk.services.chat import MessageStats, reasoning_of
from bluesdesk.store.conversations import StoredMessage

ACTION_SCHEME = "bluesdesk-msg"
WINDOW = 200  # messages shown when a conversation opens
MARKS = {
    "stopped": "stopped",
    "interrupted": "interrupted",
    "error": "failed",
    "partial": "streaming…",
}


def stats_text(message: StoredMessage) -> str:
    """The one-line summary under an answer: model · tokens · speed · cost · mark."""
    parts: list[str] = []
    stats = MessageStats.from_meta(message.meta_json)
    if stats is not None:
        if stats.model:
            parts.append(stats.model + (f" ({stats.style})" if stats.style else ""))
        approx = "≈" if stats.tokens_estimated else ""
        parts.append(f"{stats.prompt_tokens} in · {approx}{stats.completion_tokens} out")
        if stats.ttft_ms is not None:
            parts.append(f"first token {stats.ttft_ms / 1000:.2f} s")
        parts.append(f"total {stats.total_ms / 1000:.2f} s")
        if stats.tokens_per_s:
            parts.append(f"{stats.tokens_per_s:g} tok/s")
        if stats.cost_usd is not None:
            parts.append(f"≈ ${stats.cost_usd:.6f}".rstrip("0").rstrip("."))
        if stats.request_id:
            parts.append(f"id {stats.request_id}")
    elif message.model:
        parts.append(message.model)
    mark = MARKS.get(message.state)
    if mark:
        parts.append(mark.upper())
    return " · ".join(parts)


class TranscriptView(QTextBrowser):
    """Signals:
    action(str, int): a message action link was clicked ("copy", "regen", "prev", "next").
    load_earlier(): the "earlier messages" link was clicked.
    """

    action = Signal(str, int)
    load_earlier = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("transcript")
        self.setOpenLinks(False)  # every link goes through on_anchor: nothing opens by itself
        self.setOpenExternalLinks(False)
        self.anchorClicked.connect(self._on_anchor)
        self.dark = False
        self._cache: dict[tuple[int, int, str, bool, bool], str] = {}
        self._code: dict[int, tuple[str, ...]] = {}
        self.messages: list[StoredMessage] = []
        self.shown_from = 0
        self._live_id = 0
        self._live_start = -1
        self._live_model = ""
        self.document().setDocumentMargin(14)

    # ---- whole transcript

    def show_messages(self, messages: Sequence[StoredMessage], *, everything: bool = False) -> None:
        """Replace the document with these messages (their shown alternatives)."""
        self.messages = [m for m in messages if not m.hidden]
        self.shown_from = 0 if everything else max(0, len(self.messages) - WINDOW)
        parts = []
        if self.shown_from:
            parts.append(
                f'<p align="center"><a href="{ACTION_SCHEME}:earlier:0">'
                f"Show {self.shown_from} earlier messages</a></p>"
            )
        alternatives = self._alternatives(messages)
        for message in self.messages[self.shown_from :]:
            parts.append(self._message_html(message, alternatives.get(message.id)))
        self._live_id, self._live_start = 0, -1
        self.setHtml("".join(parts))
        self.scroll_to_end()

    @staticmethod
    def _alternatives(messages: Sequence[StoredMessage]) -> dict[int, tuple[int, int]]:
        """For each shown alternative: (its position, how many) in its group."""
        groups: dict[int, list[StoredMessage]] = {}
        for m in messages:
            if m.alt_group:
                groups.setdefault(m.alt_group, []).append(m)
        out: dict[int, tuple[int, int]] = {}
        for members in groups.values():
            for index, m in enumerate(members):
                if not m.hidden:
                    out[m.id] = (index + 1, len(members))
        return out

    def scroll_to_end(self) -> None:
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    def at_end(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - 8

    def set_dark(self, dark: bool) -> None:
        if dark != self.dark:
            self.dark = dark
            if self.messages and not self._live_id:
                self.show_messages(self.messages)

    # ---- one message

    def _message_html(self, message: StoredMessage, alt: tuple[int, int] | None = None) -> str:
        key = (
            message.id,
            hash(message.text),
            message.state + message.meta_json,
            self.dark,
            bool(alt),
        )
        cached = self._cache.get(key)
        if cached is not None and alt is None:
            return cached
        body_html = self._body_html(message.id, message.role, message.text)
        muted = "#9198a1" if self.dark else "#6b7280"
        accent = "#4493f8" if self.dark else "#2563eb"
        who = "You" if message.role == "user" else "Assistant"
        when = datetime.fromtimestamp(message.created_at).strftime("%H:%M")
        out = [
            f'<a name="m{message.id}"></a>',
            f'<p style="margin-top:14px"><b style="color:{accent}">{who}</b>'
            f' <span style="color:{muted};font-size:small">{when}</span></p>',
            body_html,
        ]
        reasoning = reasoning_of(message.meta_json)
        if reasoning:
            out.insert(2, self._reasoning_html(reasoning, muted))
        if message.error:
            red = "#f87171" if self.dark else "#b91c1c"
            out.append(f'<p style="color:{red}">{render_plain(message.error)}</p>')
        if message.role == "assistant":
            line = html.escape(stats_text(message))
            links = [f'<a href="{ACTION_SCHEME}:copy:{message.id}">Copy</a>']
            if message.state != "partial":
                links.append(f'<a href="{ACTION_SCHEME}:regen:{message.id}">Regenerate</a>')
            if alt is not None:
                index, count = alt
                links.append(
                    f'<a href="{ACTION_SCHEME}:prev:{message.id}">‹</a> {index}/{count} '
                    f'<a href="{ACTION_SCHEME}:next:{message.id}">›</a>'
                )
            out.append(
                f'<p style="color:{muted};font-size:small">{line}<br>{" · ".join(links)}</p>'
            )
        else:
            out.append(
                f'<p style="color:{muted};font-size:small">'
                f'<a href="{ACTION_SCHEME}:copy:{message.id}">Copy</a></p>'
            )
        result = "".join(out)
        if alt is None:
            self._cache[key] = result
        return result

    def _body_html(self, message_id: int, role: str, text: str) -> str:
        if role == "user":
            return f"<p>{render_plain(text)}</p>"
        rendered = render_markdown(text, dark=self.dark)
        self._code[message_id] = rendered.code_blocks
        return rendered.html.replace(f'href="{COPY_SCHEME}:', f'href="{COPY_SCHEME}:{message_id}:')

    @staticmethod
    def _reasoning_html(reasoning: str, muted: str) -> str:
        first = reasoning.strip().splitlines()[0] if reasoning.strip() else ""
        short = first if len(first) <= 120 else first[:119] + "…"
        return (
            f'<p style="color:{muted};font-style:italic;font-size:small">Thinking: '
            f"{html.escape(short)}</p>"
        )

    # ---- the live answer

    def begin_live(self, message: StoredMessage, user: StoredMessage | None) -> None:
        """Start an answer at the end of the document (after the user's message, if new)."""
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        if user is not None:
            self.messages.append(user)
            cursor.insertHtml(self._message_html(user))
        self.messages.append(message)
        self._live_id = message.id
        self._live_model = message.model
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertBlock()
        self._live_start = cursor.position()
        self._live_text = ""
        self._replace_live(self._live_html(""))
        self.scroll_to_end()

    def _live_html(self, text: str) -> str:
        accent = "#4493f8" if self.dark else "#2563eb"
        muted = "#9198a1" if self.dark else "#6b7280"
        head = (
            f'<p style="margin-top:14px"><b style="color:{accent}">Assistant</b>'
            f' <span style="color:{muted};font-size:small">{html.escape(self._live_model)}'
            " · streaming…</span></p>"
        )
        return head + (self._body_html(self._live_id, "assistant", text) if text else "<p></p>")

    def _replace_live(self, fragment: str) -> None:
        cursor = QTextCursor(self.document())
        cursor.setPosition(self._live_start)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.insertHtml(fragment)

    @property
    def live_id(self) -> int:
        return self._live_id

    def append_live(self, text: str) -> None:
        """Cheap: plain text at the very end until the next markdown render."""
        if not self._live_id or not text:
            return
        follow = self.at_end()
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text)
        if follow:
            self.scroll_to_end()

    def render_live(self, full_text: str) -> None:
        if not self._live_id:
            return
        follow = self.at_end()
        self._replace_live(self._live_html(full_text))
        if follow:
            self.scroll_to_end()

    def finish_live(self, message: StoredMessage) -> None:
        """Replace the live tail with the finished message (stats line, error, actions)."""
        if self._live_id != message.id:
            return
        follow = self.at_end()
        self.messages = [message if m.id == message.id else m for m in self.messages]
        self._replace_live(self._message_html(message))
        self._live_id, self._live_start = 0, -1
        if follow:
            self.scroll_to_end()

    # ---- links

    def _on_anchor(self, url: QUrl) -> None:
        scheme = url.scheme()
        if scheme == COPY_SCHEME:
            message_id, _, index = url.path().partition(":")
            blocks = self._code.get(int(message_id or 0), ())
            if index.isdigit() and int(index) < len(blocks):
                QGuiApplication.clipboard().setText(blocks[int(index)])
        elif scheme == ACTION_SCHEME:
            name, _, value = url.path().partition(":")
            if name == "earlier":
                self.load_earlier.emit()
            elif value.isdigit():
                self.action.emit(name, int(value))
        elif scheme in ("http", "https", "mailto"):
            QDesktopServices.openUrl(url)  # only ever after the user's click

    def message(self, message_id: int) -> StoredMessage | None:
        return next((m for m in self.messages if m.id == message_id), None)

    def plain_text(self) -> str:
        return self.toPlainText()
