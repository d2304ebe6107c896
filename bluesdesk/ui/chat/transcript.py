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
from typing import Any

from PySide6.QtCore import QByteArray, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication, QImage, QTextCursor, QTextDocument
from PySide6.QtWidgets import QTextBrowser, QWidget

from bluesdesk.core.render import COPY_SCHEME, render_markdown, render_plain
from bluesdesk.services.chat import MessageStats, images_of, reasoning_of, tool_calls_of
from bluesdesk.store.conversations import StoredMessage

ACTION_SCHEME = "bluesdesk-msg"
IMAGE_SCHEME = "bluesdesk-att"  # thumbnails of a user message's attached images
THUMB = 96
WINDOW = 40  # messages shown when a conversation opens (a screenful or two; fast to lay out)
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
        if stats.billed_usd is not None:  # what the gateway charged beats our estimate
            parts.append(f"billed ${stats.billed_usd:.6f}".rstrip("0").rstrip("."))
        elif stats.cost_usd is not None:
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
    action(str, int): a message action link was clicked ("copy", "regen", "prev", "next",
        "edit", "delete", "fork", "speak", "logs").
    show_in_logs(str): the "Show in logs" link of an answer with this request id was clicked.
    load_earlier(): the "earlier messages" link was clicked.
    """

    action = Signal(str, int)
    load_earlier = Signal()
    show_in_logs = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("transcript")
        self.setOpenLinks(False)  # every link goes through on_anchor: nothing opens by itself
        self.setOpenExternalLinks(False)
        self.anchorClicked.connect(self._on_anchor)
        self.dark = False
        self._cache: dict[tuple[int, int, str, bool, bool, bool], str] = {}
        self._code: dict[int, tuple[str, ...]] = {}
        self.messages: list[StoredMessage] = []
        self.shown_from = 0
        self.not_loaded = 0
        self._live_id = 0
        self._live_start = -1
        self._live_model = ""
        self._frozen_pos = -1  # where the live answer's unfinished tail starts in the document
        self._frozen_chars = 0  # how much of the live text is rendered for good before it
        self._thumbs: dict[str, QImage] = {}
        self.expanded: set[int] = set()  # answers whose reasoning is shown in full
        self.document().setDocumentMargin(14)

    # ---- whole transcript

    def show_messages(
        self,
        messages: Sequence[StoredMessage],
        *,
        everything: bool = False,
        not_loaded: int = 0,
    ) -> None:
        """Replace the document with these messages (their shown alternatives).

        `not_loaded`: how many earlier messages the caller did not read (a long conversation
        opens with its tail); the "earlier messages" link counts them too.
        """
        self.messages = [m for m in messages if not m.hidden]
        self.not_loaded = not_loaded
        self.shown_from = 0 if everything else max(0, len(self.messages) - WINDOW)
        parts = []
        earlier = self.shown_from + not_loaded
        if earlier:
            parts.append(
                f'<p align="center"><a href="{ACTION_SCHEME}:earlier:0">'
                f"Show {earlier} earlier messages</a></p>"
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
            message.id in self.expanded,
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
        calls = tool_calls_of(message.meta_json) if message.role == "assistant" else []
        if calls:
            out.insert(2, "".join(tool_card_html(c, dark=self.dark) for c in calls))
        reasoning = reasoning_of(message.meta_json)
        if reasoning:
            out.insert(2, self._reasoning_html(message.id, reasoning, muted))
        images = images_of(message.meta_json) if message.role == "user" else []
        if images:
            out.insert(2, self._images_html(message.id, images))
        if message.error:
            red = "#f87171" if self.dark else "#b91c1c"
            out.append(f'<p style="color:{red}">{render_plain(message.error)}</p>')
        if message.role == "assistant":
            line = html.escape(stats_text(message))
            links = [f'<a href="{ACTION_SCHEME}:copy:{message.id}">Copy</a>']
            if message.state != "partial":
                links.append(f'<a href="{ACTION_SCHEME}:regen:{message.id}">Regenerate</a>')
                if message.text:
                    links.append(f'<a href="{ACTION_SCHEME}:speak:{message.id}">Read aloud</a>')
                links.append(f'<a href="{ACTION_SCHEME}:fork:{message.id}">Fork</a>')
                links.append(f'<a href="{ACTION_SCHEME}:delete:{message.id}">Delete</a>')
            if message.request_id:
                links.append(f'<a href="{ACTION_SCHEME}:logs:{message.id}">Show in logs</a>')
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
            user_links = " · ".join(
                f'<a href="{ACTION_SCHEME}:{name}:{message.id}">{label}</a>'
                for name, label in (
                    ("copy", "Copy"),
                    ("edit", "Edit"),
                    ("fork", "Fork"),
                    ("delete", "Delete"),
                )
            )
            out.append(f'<p style="color:{muted};font-size:small">{user_links}</p>')
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

    def _reasoning_html(self, message_id: int, reasoning: str, muted: str) -> str:
        """Reasoning stays folded to one line under a toggle; unfolded it shows in full."""
        words = len(reasoning.split())
        toggle = f'<a href="{ACTION_SCHEME}:think:{message_id}">'
        if message_id in self.expanded:
            return (
                f'<p style="color:{muted};font-size:small">{toggle}▾ Thinking</a> '
                f"({words} words)</p>"
                f'<p style="color:{muted};font-style:italic">{render_plain(reasoning)}</p>'
            )
        first = reasoning.strip().splitlines()[0] if reasoning.strip() else ""
        short = first if len(first) <= 90 else first[:89] + "…"
        return (
            f'<p style="color:{muted};font-size:small">{toggle}▸ Thinking</a> ({words} words) '
            f"<i>{html.escape(short)}</i></p>"
        )

    def _images_html(self, message_id: int, images: list[str]) -> str:
        tags = []
        for index, url in enumerate(images):
            key = f"{message_id}/{index}"
            if key not in self._thumbs:
                self._thumbs[key] = thumbnail(url)
            image = self._thumbs[key]
            tags.append(
                f'<img src="{IMAGE_SCHEME}://{key}" width="{image.width()}"'
                f' height="{image.height()}"> '
            )
        return f"<p>{''.join(tags)}</p>"

    def loadResource(self, kind: int, name: QUrl | str) -> Any:
        """Only our own thumbnails load; anything else (a remote image) is never fetched."""
        name = QUrl(name)
        if name.scheme() == IMAGE_SCHEME:
            image = self._thumbs.get(name.host() + name.path())
            return image if image is not None else QImage()
        if kind == QTextDocument.ResourceType.ImageResource.value:
            return QImage()
        return super().loadResource(kind, name)

    def toggle_reasoning(self, message_id: int) -> None:
        self.expanded ^= {message_id}
        if not self._live_id:
            self.show_messages(self.messages, everything=self.shown_from == 0)

    # ---- the live answer

    def begin_live(self, message: StoredMessage, user: StoredMessage | None) -> None:
        """Start an answer at the end of the document (after the user's message, if new)."""
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        if user is not None:
            self.messages.append(user)
            if not self.document().isEmpty():
                cursor.insertBlock()  # else its heading joins the previous message's last line
            cursor.insertHtml(self._message_html(user))
        self.messages.append(message)
        self._live_id = message.id
        self._live_model = message.model
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertBlock()
        self._live_start = cursor.position()
        self._replace_live(self._live_html())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertBlock()
        self._frozen_pos = cursor.position()
        self._frozen_chars = 0
        self._live_calls: list[dict[str, Any]] = []
        if message.text:  # continuing an answer: what it had so far
            self.render_live(message.text)
        self.scroll_to_end()

    def add_live_tool_call(self, call: dict[str, Any], full_text: str) -> None:
        """Show a tool the live answer called (as a card under its heading). Rare (a few per
        answer), so the live part is simply laid out again from its heading."""
        if not self._live_id:
            return
        self._live_calls.append(call)
        cards = "".join(tool_card_html(c, dark=self.dark) for c in self._live_calls)
        self._replace_live(self._live_html() + cards)
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertBlock()
        self._frozen_pos = cursor.position()
        self._frozen_chars = 0
        if full_text:
            self.render_live(full_text)
        self.scroll_to_end()

    def _live_html(self) -> str:
        accent = "#4493f8" if self.dark else "#2563eb"
        muted = "#9198a1" if self.dark else "#6b7280"
        return (
            f'<p style="margin-top:14px"><b style="color:{accent}">Assistant</b>'
            f' <span style="color:{muted};font-size:small">{html.escape(self._live_model)}'
            " · streaming…</span></p>"
        )

    def _chunk_html(self, text: str) -> str:
        """Markdown of part of the live answer. Its copy links are inert until the answer ends
        (then the whole message is rendered once, with working ones)."""
        rendered = render_markdown(text, dark=self.dark).html
        return rendered.replace(f'href="{COPY_SCHEME}:', f'href="{COPY_SCHEME}:0:-')

    def _replace_from(self, position: int, fragment: str) -> QTextCursor:
        cursor = QTextCursor(self.document())
        cursor.setPosition(position)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        if fragment:
            cursor.insertHtml(fragment)
        else:
            cursor.removeSelectedText()
        return cursor

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
        """Show the live answer as markdown, re-rendering only its unfinished tail.

        Blocks that can no longer change (everything before the last blank line outside a code
        fence) are rendered once and stay in the document; each later render redoes only the
        text after them, so the cost does not grow with the length of the answer.
        """
        if not self._live_id:
            return
        follow = self.at_end()
        split = stable_split(full_text, self._frozen_chars)
        if split > self._frozen_chars:
            chunk = full_text[self._frozen_chars : split]
            cursor = self._replace_from(self._frozen_pos, self._chunk_html(chunk))
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertBlock()
            self._frozen_pos = cursor.position()
            self._frozen_chars = split
        tail = full_text[self._frozen_chars :]
        self._replace_from(self._frozen_pos, self._chunk_html(tail) if tail.strip() else "")
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
            elif name == "think" and value.isdigit():
                self.toggle_reasoning(int(value))
            elif name == "logs" and value.isdigit():
                found = self.message(int(value))
                if found is not None and found.request_id:
                    self.show_in_logs.emit(found.request_id)
            elif value.isdigit():
                self.action.emit(name, int(value))
        elif scheme in ("http", "https", "mailto"):
            QDesktopServices.openUrl(url)  # only ever after the user's click

    def message(self, message_id: int) -> StoredMessage | None:
        return next((m for m in self.messages if m.id == message_id), None)

    def plain_text(self) -> str:
        return self.toPlainText()


def tool_card_html(call: dict[str, Any], *, dark: bool) -> str:
    """A tool call as a small framed card: the tool's name, its arguments and its result."""
    border = "#3d444d" if dark else "#d0d7de"
    back = "#161b22" if dark else "#f6f8fa"
    muted = "#9198a1" if dark else "#6b7280"
    bad = "#f87171" if dark else "#b91c1c"
    name = html.escape(str(call.get("name", "")))
    arguments = html.escape(str(call.get("arguments", "")) or "{}")
    result = html.escape(str(call.get("result", "")))
    status = "" if call.get("ok", True) else f' <span style="color:{bad}">failed</span>'
    return (
        f'<table width="100%" cellpadding="6" cellspacing="0" border="1"'
        f' style="border-color:{border};background:{back};margin:6px 0">'
        f'<tr><td><span style="color:{muted};font-size:small">Tool call</span> '
        f"<b>{name}</b>{status}<br>"
        f'<span style="color:{muted};font-size:small">arguments</span> '
        f"<code>{arguments}</code><br>"
        f'<span style="color:{muted};font-size:small">result</span> '
        f"<code>{result}</code></td></tr></table>"
    )


def thumbnail(data_url: str) -> QImage:
    """A small QImage of a base64 data URL (a grey box when it cannot be decoded)."""
    _, _, payload = data_url.partition(",")
    image = QImage.fromData(QByteArray.fromBase64(payload.encode("ascii", "ignore")))
    if image.isNull():
        image = QImage(THUMB, THUMB, QImage.Format.Format_RGB32)
        image.fill(0x888888)
        return image
    return image.scaled(
        THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )


def stable_split(text: str, start: int) -> int:
    """The end of the blocks of `text` that later text cannot change: just after the last blank
    line at or after `start` that is outside a fenced code block (`start` if there is none).
    `text[:start]` must itself end at such a point."""
    fenced = False
    best = start
    position = start
    for line in text[start:].splitlines(keepends=True):
        position += len(line)
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            fenced = not fenced
        elif not stripped and not fenced and line.endswith("\n") and position < len(text):
            best = position
    return best
