"""The transcript: one QTextBrowser whose document holds the messages, HTML cached per message.

Why one document and not a widget per message: a long conversation would otherwise keep
thousands of heavy widgets alive. Messages are rendered to HTML once (cached by id, text, state
and theme); a conversation opens with its last `WINDOW` messages and an "earlier messages" link.

The live answer is always the last thing in the document. Streaming edits touch only that tail:
`append_live` inserts plain text at the end (cheap, called every ~40 ms by the controller) and
`render_live` renders markdown incrementally (`core/render_incremental.py`): blocks that became
stable are rendered once and appended, and only the open tail is redone, so an update costs the
same at word 100 and at word 50,000. When the answer ends, its HTML is already there: only its
heading and stats line are swapped, and the full render runs in a worker thread to catch the
rare construct the incremental cut renders differently (then that message's range is swapped).

Long messages never render on the GUI thread: above `RENDER_BUDGET` characters a light
placeholder (escaped text) is shown and the worker's HTML replaces it when it arrives; above
`SHOW_LIMIT` only the first part is laid out (Qt needs about a second per megabyte) with a
"Show all" link.
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from datetime import datetime
from typing import Any, TypeVar

from PySide6.QtCore import QByteArray, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QDesktopServices,
    QGuiApplication,
    QImage,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextDocumentFragment,
)
from PySide6.QtWidgets import QTextBrowser, QWidget

from bluesdesk.core.render import (
    COPY_SCHEME,
    Rendered,
    layout_cost,
    render_in_worker,
    render_markdown,
    render_plain,
    start_worker,
)
from bluesdesk.core.render_incremental import (
    LiveMarkdown,
    Step,
    link_copies,
    stable_split,
)
from bluesdesk.services.chat import MessageStats, images_of, reasoning_of, tool_calls_of
from bluesdesk.store.conversations import StoredMessage

ACTION_SCHEME = "bluesdesk-msg"
IMAGE_SCHEME = "bluesdesk-att"  # thumbnails of a user message's attached images
THUMB = 96
WINDOW = 40  # messages shown when a conversation opens (a screenful or two; fast to lay out)
PAGE = WINDOW  # messages one "earlier" / "later" click adds
# Messages laid out at once: the window slides rather than grows (all 10,000 messages of a long
# chat took 9-11 s to lay out when a search hit near its start opened it).
MAX_SHOWN = 4 * WINDOW
RENDER_BUDGET = 24_000  # characters of markdown rendered on the GUI thread (≈ 6 ms; worse inputs
# such as a huge table cost ~2 µs a character, still < 60 ms); longer ones go to the worker
SHOW_LIMIT = 64_000  # characters of one message laid out when shown (Qt: ~1 s per MB)
LAYOUT_BUDGET = 200_000  # `layout_cost` of a body laid out formatted (≈ 200 ms of Qt); above
PLAIN_CHARS = 16_000  # it, this much of the message is shown as plain text instead
PLACEHOLDER_CHARS = 2_000  # of escaped text shown while a long message renders
VERIFY_AFTER_MS = 60  # the finished answer's full render starts once its end is painted
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
        # An answer that failed before its first token has no tokens or cost worth a guess.
        answered = stats.ttft_ms is not None or stats.completion_tokens > 0
        if answered:
            approx_in = "≈" if stats.prompt_estimated else ""
            approx = "≈" if stats.tokens_estimated else ""
            parts.append(
                f"{approx_in}{stats.prompt_tokens} in · {approx}{stats.completion_tokens} out"
            )
        if stats.ttft_ms is not None:
            parts.append(f"first token {stats.ttft_ms / 1000:.2f} s")
        parts.append(f"total {stats.total_ms / 1000:.2f} s")
        if stats.tokens_per_s:
            parts.append(f"{stats.tokens_per_s:g} tok/s")
        if stats.billed_usd is not None:  # what the gateway charged beats our estimate
            parts.append(f"billed ${stats.billed_usd:.6f}".rstrip("0").rstrip("."))
        elif stats.cost_usd is not None and answered:
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
    _rendered = Signal(object, object)  # (body key, Rendered) from the render thread: queued

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("transcript")
        self.setOpenLinks(False)  # every link goes through on_anchor: nothing opens by itself
        self.setOpenExternalLinks(False)
        self.anchorClicked.connect(self._on_anchor)
        self.dark = False
        self._cache: dict[tuple[int, int, str, bool, bool, bool, bool], str] = {}
        # Rendered bodies of assistant messages by (id, hash of the text shown, dark).
        self._bodies: dict[tuple[int, int, bool], Rendered] = {}
        self._waiting: set[tuple[int, int, bool]] = set()  # bodies the worker is rendering
        self._placeholders: set[tuple[int, int, bool]] = set()  # on screen, render awaited
        self._stale = False  # renders arrived while an answer streamed: rebuild when it ends
        self.shown_whole: set[int] = set()  # long messages the user asked to see in full
        self._alts: dict[int, tuple[int, int]] = {}
        # Bumped whenever positions in the document stop meaning what they meant.
        self._generation = 0
        # A finished answer whose full render is awaited: (key, generation, where the message
        # starts, the document's length after it, the HTML its body holds now, the message).
        self._verify: tuple[tuple[int, int, bool], int, int, int, str, StoredMessage] | None = None
        self._live: LiveMarkdown | None = None
        self._body_start = -1
        self._shown_chars = 0  # of the live answer's text, shown rendered or plain
        self._rendered.connect(self._on_rendered, Qt.ConnectionType.QueuedConnection)
        start_worker()
        self._code: dict[int, tuple[str, ...]] = {}
        self.messages: list[StoredMessage] = []
        self.shown_from = 0
        self.shown_to: int | None = None  # None: the window reaches the last message
        self.not_loaded = 0
        self._live_id = 0
        self._live_start = -1
        self._live_model = ""
        self._frozen_pos = -1  # where the live answer's unfinished tail starts in the document
        self._thumbs: dict[str, QImage] = {}
        self.expanded: set[int] = set()  # answers whose reasoning is shown in full
        self.document().setDocumentMargin(14)
        # A scroll bar that appears when an answer first outgrows the view narrows it: every
        # line re-wraps under the reader's eyes and the whole document is laid out again.
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        bar = self.verticalScrollBar()  # with nothing to scroll it is disabled: no handle shown
        bar.rangeChanged.connect(lambda _low, high: bar.setEnabled(high > 0))
        bar.setEnabled(False)

    # ---- whole transcript

    def show_messages(
        self,
        messages: Sequence[StoredMessage],
        *,
        not_loaded: int = 0,
        around: int = 0,
    ) -> None:
        """Replace the document with these messages (their shown alternatives): the last
        `WINDOW` of them, or `WINDOW` around the message with id `around`, scrolled to it (a
        search hit).

        `not_loaded`: how many earlier messages the caller did not read (a long conversation
        opens with its tail); the "earlier messages" link counts them too.
        """
        self._set_messages(messages, not_loaded)
        self._live_id, self._live_start, self._live = 0, -1, None
        self.shown_from, self.shown_to = self._window_around(around)
        self._rebuild()
        if not self._scroll_to_message(around):
            self.scroll_to_end()

    def _set_messages(self, messages: Sequence[StoredMessage], not_loaded: int) -> None:
        self.messages = [m for m in messages if not m.hidden]
        self._forget_others({m.id for m in messages})
        self.not_loaded = not_loaded
        self._alts = self._alternatives(messages)

    def _index_of(self, message_id: int) -> int:
        if message_id:
            for index, message in enumerate(self.messages):
                if message.id == message_id:
                    return index
        return -1

    def _window_around(self, message_id: int) -> tuple[int, int | None]:
        count = len(self.messages)
        index = self._index_of(message_id)
        if index < 0:
            return max(0, count - WINDOW), None
        start = max(0, index - WINDOW // 2)
        if start + WINDOW >= count:  # near the end: the usual tail window
            return max(0, min(start, count - WINDOW)), None
        return start, start + WINDOW

    def _scroll_to_message(self, message_id: int) -> bool:
        end = len(self.messages) if self.shown_to is None else self.shown_to
        if not self.shown_from <= self._index_of(message_id) < end:
            return False
        self.scrollToAnchor(f"m{message_id}")
        return True

    @property
    def at_latest(self) -> bool:
        """The window reaches the conversation's last message."""
        return self.shown_to is None

    def page_earlier(self, messages: Sequence[StoredMessage] | None = None) -> None:
        """Slide the window `PAGE` messages up (with `messages`: the whole conversation, now
        read), keeping the first message shown where the reader sees it."""
        if self._live_id:
            return
        shown = self.messages[self.shown_from : self.shown_to]
        first, last = (shown[0].id, shown[-1].id) if shown else (0, 0)
        if messages is not None:
            self._set_messages(messages, 0)
        start = max(0, self._index_of(first) - PAGE) if first else 0
        end = self._index_of(last) + 1 if last and self.shown_to is not None else len(self.messages)
        self._set_window(start, min(end, start + MAX_SHOWN))
        if not self._scroll_to_message(first):
            self.scroll_to_end()

    def page_later(self) -> None:
        """Slide the window `PAGE` messages down, keeping the last message shown in view."""
        if self._live_id or self.shown_to is None:
            return
        last = self.messages[self.shown_to - 1].id
        end = min(self.shown_to + PAGE, len(self.messages))
        self._set_window(max(self.shown_from, end - MAX_SHOWN), end)
        self._scroll_to_message(last)

    def _set_window(self, start: int, end: int) -> None:
        """Show messages[start:end] (`shown_to` None when that reaches the last one)."""
        self.shown_from = start
        self.shown_to = None if end >= len(self.messages) else end
        self._rebuild()

    def show_latest(self) -> None:
        """Back to the conversation's last messages (the usual tail window)."""
        self.shown_from, self.shown_to = max(0, len(self.messages) - WINDOW), None
        self._rebuild()
        self.scroll_to_end()

    def _forget_others(self, ids: set[int]) -> None:
        """Bound the per-message caches: past `CACHE_MESSAGES` entries, drop the oldest entries
        of messages not in `ids` (the conversation being shown).

        Unbounded, they grew with every message shown in the session (benchmarks/soak.py);
        dropped on every switch, going back to a long conversation re-rendered it (long_chat).
        """
        self._cache = _bounded(self._cache, lambda k: k[0] in ids)
        self._bodies = _bounded(self._bodies, lambda k: k[0] in ids)
        self._code = _bounded(self._code, lambda k: k in ids)
        if len(self._thumbs) > CACHE_THUMBNAILS:
            self._thumbs.clear()  # cheap to make again

    def _rebuild(self) -> None:
        """Lay out the shown messages again (the document is replaced)."""
        parts = []
        earlier = self.shown_from + self.not_loaded
        if earlier:
            parts.append(
                f'<p align="center"><a href="{ACTION_SCHEME}:earlier:0">'
                f"Show {earlier} earlier messages</a></p>"
            )
        self._generation += 1
        self._verify = None
        self._stale = False
        self._placeholders.clear()
        for message in self.messages[self.shown_from : self.shown_to]:
            parts.append(self._message_html(message, self._alts.get(message.id)))
        if self.shown_to is not None:
            later = len(self.messages) - self.shown_to
            parts.append(
                f'<p align="center"><a href="{ACTION_SCHEME}:later:0">Show {min(PAGE, later)}'
                f" later messages</a> · "
                f'<a href="{ACTION_SCHEME}:latest:0">Go to the latest ({later} more)</a></p>'
            )
        self.setHtml("".join(parts))

    def _refresh(self) -> None:
        """Show renders that arrived in place of their placeholders, keeping the scroll."""
        if self._live_id:
            self._stale = True  # done when the answer ends: the live tail must stay put
            return
        bar = self.verticalScrollBar()
        follow, value = self.at_end(), bar.value()
        self._rebuild()
        if follow:
            self.scroll_to_end()
        else:
            bar.setValue(value)

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
                self._rebuild()
                self.scroll_to_end()

    # ---- one message

    def _message_html(self, message: StoredMessage, alt: tuple[int, int] | None = None) -> str:
        key = (
            message.id,
            hash(message.text),
            message.state + message.meta_json,
            self.dark,
            bool(alt),
            message.id in self.expanded,
            message.id in self.shown_whole,
        )
        cached = self._cache.get(key)
        if cached is not None and alt is None:
            return cached
        body_html, final = self._body_html(message.id, message.role, message.text)
        result = self._head_html(message) + body_html + self._foot_html(message, alt)
        if alt is None and final:  # a placeholder is replaced when its render arrives
            self._cache[key] = result
        return result

    def _head_html(self, message: StoredMessage) -> str:
        """Anchor, name and time, then attachments, reasoning and tool cards."""
        muted = "#9198a1" if self.dark else "#6b7280"
        accent = "#4493f8" if self.dark else "#2563eb"
        who = "You" if message.role == "user" else "Assistant"
        when = datetime.fromtimestamp(message.created_at).strftime("%H:%M")
        out = [
            f'<a name="m{message.id}"></a>',
            f'<p style="margin-top:14px"><b style="color:{accent}">{who}</b>'
            f' <span style="color:{muted};font-size:small">{when}</span></p>',
        ]
        images = images_of(message.meta_json) if message.role == "user" else []
        if images:
            out.append(self._images_html(message.id, images))
        reasoning = reasoning_of(message.meta_json)
        if reasoning:
            out.append(self._reasoning_html(message.id, reasoning, muted))
        calls = tool_calls_of(message.meta_json) if message.role == "assistant" else []
        if calls:
            out.append("".join(tool_card_html(c, dark=self.dark) for c in calls))
        return "".join(out)

    def _foot_html(self, message: StoredMessage, alt: tuple[int, int] | None) -> str:
        """The error, if any, and the stats line with the message's action links."""
        muted = "#9198a1" if self.dark else "#6b7280"
        out = []
        if message.error:
            red = "#f87171" if self.dark else "#b91c1c"
            out.append(f'<p style="color:{red}">{render_plain(message.error)}</p>')
        if message.role == "assistant":
            line = html.escape(stats_text(message))
            links = [f'<a href="{ACTION_SCHEME}:copy:{message.id}">Copy</a>']
            if message.text:
                links.append(f'<a href="{ACTION_SCHEME}:copytext:{message.id}">as text</a>')
            if message.state != "partial":
                links.append(f'<a href="{ACTION_SCHEME}:regen:{message.id}">Regenerate</a>')
                if message.text:
                    links.append(f'<a href="{ACTION_SCHEME}:speak:{message.id}">Read aloud</a>')
                links.append(f'<a href="{ACTION_SCHEME}:fork:{message.id}">Fork</a>')
                links.append(f'<a href="{ACTION_SCHEME}:delete:{message.id}">Delete</a>')
            if message.request_id:
                links.append(f'<a href="{ACTION_SCHEME}:copyid:{message.id}">Copy id</a>')
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
        return "".join(out)

    def _body_html(self, message_id: int, role: str, text: str) -> tuple[str, bool]:
        """The message's body, and False if it is a placeholder for a render still running."""
        if role == "user":
            if len(text) <= SHOW_LIMIT or message_id in self.shown_whole:
                return f"<p>{render_plain(text)}</p>", True
            muted = "#9198a1" if self.dark else "#6b7280"
            return (
                f"<p>{render_plain(text[:PLAIN_CHARS])}…</p>"
                f'<p style="color:{muted};font-size:small">Showing {PLAIN_CHARS:,} of'
                f" {len(text):,} characters. "
                f'<a href="{ACTION_SCHEME}:whole:{message_id}">Show all</a></p>'
            ), True
        whole = len(text) <= SHOW_LIMIT or message_id in self.shown_whole
        source = text if whole else text[: preview_cut(text)]
        key = (message_id, hash(source), self.dark)
        rendered = self._bodies.get(key)
        if rendered is None:
            if len(source) > RENDER_BUDGET:
                self._render_later(key, source)
                self._placeholders.add(key)
                return self._placeholder(source), False
            plain = render_markdown(source, dark=self.dark)
            rendered = Rendered(link_copies(plain.html, message_id), plain.code_blocks)
            self._bodies[key] = rendered
        self._code[message_id] = rendered.code_blocks
        muted = "#9198a1" if self.dark else "#6b7280"
        if message_id not in self.shown_whole and layout_cost(rendered.html) > LAYOUT_BUDGET:
            cut = text[:PLAIN_CHARS] + ("…" if len(text) > PLAIN_CHARS else "")
            note = (
                f'<p style="color:{muted};font-size:small">Shown as plain text: formatted, it is'
                f' slow to lay out. <a href="{ACTION_SCHEME}:whole:{message_id}">Show'
                " formatted</a>; Copy takes the whole message.</p>"
            )
            return f"<p>{render_plain(cut)}</p>{note}", True
        if whole:
            return rendered.html, True
        more = (
            f'<p style="color:{muted};font-size:small">Showing {len(source):,} of'
            f" {len(text):,} characters. "
            f'<a href="{ACTION_SCHEME}:whole:{message_id}">Show all</a> (slow to lay out);'
            " Copy takes the whole message.</p>"
        )
        return rendered.html + more, True

    def _placeholder(self, text: str) -> str:
        muted = "#9198a1" if self.dark else "#6b7280"
        cut = text[:PLACEHOLDER_CHARS] + ("…" if len(text) > PLACEHOLDER_CHARS else "")
        return (
            f"<p>{render_plain(cut)}</p>"
            f'<p style="color:{muted};font-size:small">Formatting {len(text):,} characters…</p>'
        )

    def _render_later(self, key: tuple[int, int, bool], source: str) -> None:
        """Render in the worker; `_on_rendered` gets the result on this thread."""
        if key in self._waiting:
            return
        self._waiting.add(key)
        future = render_in_worker(source, dark=key[2])
        future.add_done_callback(lambda done: self._deliver(key, done))

    def _deliver(self, key: tuple[int, int, bool], done: Future[Rendered]) -> None:
        """On the render thread: hand the result over (a queued signal)."""
        try:
            rendered = done.result()
        except Exception:  # noqa: BLE001 - the renderer is total in practice; show text if not
            rendered = Rendered(f"<p>{render_plain('(could not format this message)')}</p>")
        with contextlib.suppress(RuntimeError):  # the view was deleted meanwhile
            self._rendered.emit(key, rendered)

    def _on_rendered(self, key: tuple[int, int, bool], rendered: Rendered) -> None:
        self._waiting.discard(key)
        message_id = key[0]
        rendered = Rendered(link_copies(rendered.html, message_id), rendered.code_blocks)
        self._bodies[key] = rendered
        verify = self._verify
        if verify is not None and verify[0] == key:
            self._verify = None
            _, generation, start, length, shown, message = verify
            self._code[message_id] = rendered.code_blocks
            if rendered.html == shown:
                return
            # A rebuild meanwhile may have cached the message with the incremental body.
            self._cache = {k: v for k, v in self._cache.items() if k[0] != message_id}
            # Still the last thing in the document: lay the message out again from its start
            # (rare; in-place edits of a middle range would inherit neighbouring block formats).
            if generation == self._generation and length == self.document().characterCount():
                follow = self.at_end()
                self._replace_from(start, self._message_html(message))
                if follow:
                    self.scroll_to_end()
            return
        if key in self._placeholders:
            self._placeholders.discard(key)
            if not self._placeholders:  # one rebuild for a screenful of long messages
                self._refresh()

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
            self._refresh()

    def show_whole(self, message_id: int) -> None:
        """Lay out all of a long message (its "Show all" link)."""
        self.shown_whole.add(message_id)
        if not self._live_id:
            self._refresh()

    # ---- the live answer

    def begin_live(self, message: StoredMessage, user: StoredMessage | None) -> None:
        """Start an answer at the end of the document (after the user's message, if new)."""
        if self.shown_to is not None:  # reading further up: an answer shows at the latest
            self.show_latest()
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        if user is not None:
            self.messages.append(user)
            if not self.document().isEmpty():
                cursor.insertBlock()  # else its heading joins the previous message's last line
            insert_html(cursor, self._message_html(user))
        self.messages.append(message)
        self._live_id = message.id
        self._live_model = message.model
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertBlock()
        self._live_start = cursor.position()
        self._replace_from(self._live_start, self._live_html())
        self._live_calls: list[dict[str, Any]] = []
        self._start_body(message.text)

    def _start_body(self, text_so_far: str) -> None:
        """Open the live body after the heading (and tool cards); show `text_so_far`."""
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        new_block(cursor)
        self._body_start = self._frozen_pos = cursor.position()
        self._live = LiveMarkdown(self._live_id, dark=self.dark)
        self._shown_chars = 0
        if text_so_far:  # continuing an answer, or a tool call came: what it had so far
            self.render_live(text_so_far)
        self.scroll_to_end()

    def add_live_tool_call(self, call: dict[str, Any], full_text: str) -> None:
        """Show a tool the live answer called (as a card under its heading). Rare (a few per
        answer), so the live part is simply laid out again from its heading."""
        if not self._live_id:
            return
        self._live_calls.append(call)
        cards = "".join(tool_card_html(c, dark=self.dark) for c in self._live_calls)
        self._replace_from(self._live_start, self._live_html() + cards)
        self._start_body(full_text)

    def _live_html(self) -> str:
        accent = "#4493f8" if self.dark else "#2563eb"
        muted = "#9198a1" if self.dark else "#6b7280"
        return (
            f'<p style="margin-top:14px"><b style="color:{accent}">Assistant</b>'
            f' <span style="color:{muted};font-size:small">{html.escape(self._live_model)}'
            " · streaming…</span></p>"
        )

    def _replace_from(self, position: int, fragment: str) -> QTextCursor:
        cursor = QTextCursor(self.document())
        cursor.setPosition(position)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        if fragment:
            insert_html(cursor, fragment)
        else:
            cursor.removeSelectedText()
        return cursor

    @property
    def live_id(self) -> int:
        return self._live_id

    @property
    def live_markdown(self) -> LiveMarkdown | None:
        """The live answer's incremental render (tests read how much each update redid)."""
        return self._live

    def append_live(self, text: str) -> None:
        """Cheap: plain text at the very end until the next markdown render."""
        if not self._live_id or not text:
            return
        follow = self.at_end()
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text)
        self._shown_chars += len(text)
        if follow:
            self.scroll_to_end()

    def render_live(self, full_text: str) -> None:
        """Show the live answer as markdown, re-rendering only its unfinished tail.

        Blocks that can no longer change are rendered once and stay in the document; each later
        render redoes only the text after them (and not even that past `TAIL_BUDGET`: then the
        tail stays plain), so the cost does not grow with the length of the answer.
        """
        if not self._live_id or self._live is None:
            return
        follow = self.at_end()
        self._apply(self._live.step(full_text), full_text)
        if follow:
            self.scroll_to_end()

    def _apply(self, step: Step, full_text: str) -> None:
        """Put one incremental step into the document."""
        live = self._live
        assert live is not None
        if step.frozen:
            cursor = self._replace_from(self._frozen_pos, step.frozen)
            cursor.movePosition(QTextCursor.MoveOperation.End)
            new_block(cursor)
            self._frozen_pos = cursor.position()
            self._shown_chars = live.frozen_chars
        if step.tail is None:  # over budget: the tail stays plain text; add what it lacks
            cursor = QTextCursor(self.document())
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertText(full_text[self._shown_chars :])
        else:
            self._replace_from(self._frozen_pos, step.tail)
        self._shown_chars = len(full_text)
        self._code[self._live_id] = live.code_blocks

    def finish_live(self, message: StoredMessage) -> None:
        """Turn the live answer into the finished message without laying it out again: its
        body is already rendered (only the open tail is redone); the heading and the stats line
        are swapped in. The full render runs in the worker to check the incremental one."""
        if self._live_id != message.id:
            return
        follow = self.at_end()
        self.messages = [message if m.id == message.id else m for m in self.messages]
        live = self._live
        text = message.text
        body: Rendered | None = None
        replaced = live is not None and not live.matches(text)
        if live is not None and not replaced:
            step = live.step(text)
            self._apply(step, text)
            body = live.body(step)
        elif replaced:  # the stored text is not what streamed (cut, replaced)
            self._replace_from(self._body_start, self._placeholder(text))
        doc = self.document()
        cursor = QTextCursor(doc)
        cursor.movePosition(QTextCursor.MoveOperation.End)
        new_block(cursor)  # a plain block: the answer may end inside a code block
        insert_html(cursor, self._foot_html(message, None))
        cursor = QTextCursor(doc)
        cursor.setPosition(self._live_start)
        cursor.setPosition(self._body_start - 1, QTextCursor.MoveMode.KeepAnchor)
        insert_html(cursor, self._head_html(message))
        start = self._live_start
        self._live_id, self._live_start, self._live = 0, -1, None
        whole = len(text) <= SHOW_LIMIT
        key = (message.id, hash(text if whole else text[: preview_cut(text)]), self.dark)
        if body is not None:
            self._code[message.id] = body.code_blocks
            if whole:
                self._bodies[key] = body  # until (and unless) the full render differs
        if whole and text:
            shown = body.html if body else ""
            self._verify = (key, self._generation, start, doc.characterCount(), shown, message)
            # Not at once: the worker renders in Python, and while it runs every virtual call
            # into our widgets (painting, layout) waits for the GIL. The end of the answer is
            # painted first; the check is not urgent (the answer is already shown).
            QTimer.singleShot(VERIFY_AFTER_MS, self, lambda: self._render_later(key, text))
        elif replaced:  # too long to swap in place: the next rebuild shows its first part
            self._render_later(key, text[: preview_cut(text)])
            self._placeholders.add(key)
        if self._stale and not self._placeholders:
            self._refresh()
        elif follow:
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
            elif name == "later":
                self.page_later()
            elif name == "latest":
                self.show_latest()
            elif name == "think" and value.isdigit():
                self.toggle_reasoning(int(value))
            elif name == "whole" and value.isdigit():
                self.show_whole(int(value))
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

    def update_stats(self, message: StoredMessage) -> bool:
        """A finished answer changed after the fact (its billed cost arrived): rewrite just its
        stats line in place. While an answer streams, only the stored copy is updated (editing
        text above the live answer would move it); the next full render shows the new line."""
        old = self.message(message.id)
        if old is None:
            return False
        self.messages = [message if m.id == message.id else m for m in self.messages]
        before, after = stats_text(old), stats_text(message)
        if self._live_id or before == after or not before:
            return False
        found = self.document().find(before)
        if found.isNull():
            return False
        found.insertText(after)  # keeps the line's muted small format
        self._generation += 1  # positions after it moved (a pending body swap is dropped)
        return True


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


def new_block(cursor: QTextCursor) -> None:
    """A new block with default formats (not those of a code block or list it follows)."""
    cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())


def insert_html(cursor: QTextCursor, fragment: str) -> None:
    """Put `fragment` where the cursor is (replacing its selection) so that it looks as it
    does in a document made with `setHtml`.

    `QTextCursor.insertHtml` drops the block format of the fragment's first block: its
    margins, a quote's indent. An answer built up piece by piece lost the spacing between
    its paragraphs, and a table or code block that began a piece sat under an empty line.
    """
    document = cursor.document()
    parsed = QTextDocument()
    parsed.setDefaultFont(document.defaultFont())
    parsed.setHtml(fragment)
    first = parsed.firstBlock()
    cursor.removeSelectedText()
    start, at_start = cursor.position(), cursor.atBlockStart()
    cursor.insertFragment(QTextDocumentFragment(parsed))
    if at_start:
        fixed = QTextCursor(document)
        fixed.setPosition(start)
        frames = parsed.rootFrame().childFrames()
        if start > 0 and first.length() == 1 and frames and frames[0].firstPosition() == 1:
            # The empty line Qt keeps before a table: after other content setHtml has none.
            fixed.setBlockFormat(_COLLAPSED)
        else:
            block_format = first.blockFormat()
            # A list item's format names its list: keep the one the item was given here.
            block_format.setObjectIndex(fixed.blockFormat().objectIndex())
            fixed.setBlockFormat(block_format)
    # Above a table (a collapsed line), setHtml drops the block's bottom margin too.
    for block in (cursor.block(), document.findBlock(start).previous()):
        after = block.next()
        collapsed = after.isValid() and after.blockFormat().lineHeightType() == _COLLAPSED_TYPE
        if block.isValid() and collapsed:
            QTextCursor(block).mergeBlockFormat(_NO_BOTTOM_MARGIN)


_COLLAPSED = QTextBlockFormat()
_COLLAPSED_TYPE = QTextBlockFormat.LineHeightTypes.FixedHeight.value
_COLLAPSED.setLineHeight(0, _COLLAPSED_TYPE)
_NO_BOTTOM_MARGIN = QTextBlockFormat()
_NO_BOTTOM_MARGIN.setBottomMargin(0)


def preview_cut(text: str) -> int:
    """Where the shown part of a message longer than `SHOW_LIMIT` ends: after its last whole
    block that fits (a hard cut if one block alone is longer)."""
    return stable_split(text[:SHOW_LIMIT], 0) or SHOW_LIMIT


CACHE_MESSAGES = 3000  # rendered messages kept across conversations (a few MB of HTML)
CACHE_THUMBNAILS = 200

_K = TypeVar("_K")
_V = TypeVar("_V")


def _bounded(cache: dict[_K, _V], keep: Callable[[_K], bool]) -> dict[_K, _V]:
    """`cache` cut to `CACHE_MESSAGES` entries, dropping the oldest of those `keep` rejects."""
    excess = len(cache) - CACHE_MESSAGES
    if excess <= 0:
        return cache
    out: dict[_K, _V] = {}
    for key, value in cache.items():  # insertion order: oldest first
        if excess > 0 and not keep(key):
            excess -= 1
            continue
        out[key] = value
    return out
