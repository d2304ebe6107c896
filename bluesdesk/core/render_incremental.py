"""Markdown of an answer that is still arriving, at a cost per update that does not grow with it.

An answer is cut at "stable" points: just after a blank line outside a code fence. Text before
the last such point cannot change how it renders (with the rare exceptions below), so it is
rendered once, when it becomes stable, and the caller appends that HTML for good. Only the open
tail after it is rendered again on each update, and a tail longer than `TAIL_BUDGET` (a huge
code block or a paragraph with no blank line) is not rendered at all until the end: the caller
keeps showing it as plain text.

The joined parts equal a render of the whole text for paragraphs, headings, fences, tables and
tight lists. Constructs that reach back across a blank line (a loose list, a reference link
defined later, an indented continuation) can render differently; `LiveMarkdown.body` is
therefore only what the caller shows while the full render runs in a worker, and the caller
compares the two (`same_as`) before swapping anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bluesdesk.core.render import COPY_SCHEME, Rendered, render_markdown

TAIL_BUDGET = 16 * 1024  # characters of open tail re-rendered per update, at most


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


def link_copies(html_text: str, message_id: int) -> str:
    """Point the copy links of a message's HTML at that message (`bluesdesk-copy:ID:N`)."""
    return html_text.replace(f'href="{COPY_SCHEME}:', f'href="{COPY_SCHEME}:{message_id}:')


@dataclass(slots=True)
class Step:
    """What one update changes: `frozen` is HTML to append after the earlier frozen HTML (""
    if nothing new became stable); `tail` replaces the previous tail (None: the tail is over
    budget and stays as it is shown, plain)."""

    frozen: str
    tail: str | None


@dataclass(slots=True)
class LiveMarkdown:
    """The incremental render of one answer. Not thread-bound, but used from one thread."""

    message_id: int
    dark: bool = False
    frozen_chars: int = 0  # how much of the text is rendered for good
    rendered_chars: int = 0  # characters rendered by the last `step` (tests check the bound)
    _frozen_source: list[str] = field(default_factory=list)
    _frozen_html: list[str] = field(default_factory=list)
    _frozen_code: list[str] = field(default_factory=list)
    _tail_code: tuple[str, ...] = ()

    @property
    def code_blocks(self) -> tuple[str, ...]:
        """The code of the copy links shown so far (the tail's ones may still change)."""
        return (*self._frozen_code, *self._tail_code)

    def _render(self, text: str) -> Rendered:
        self.rendered_chars += len(text)
        rendered = render_markdown(text, dark=self.dark, code_offset=len(self._frozen_code))
        return Rendered(link_copies(rendered.html, self.message_id), rendered.code_blocks)

    def step(self, full_text: str) -> Step:
        """Render what changed in `full_text` (the whole answer so far, which only grows)."""
        self.rendered_chars = 0
        frozen = ""
        split = stable_split(full_text, self.frozen_chars)
        if split > self.frozen_chars:
            chunk = full_text[self.frozen_chars : split]
            rendered = self._render(chunk)
            frozen = rendered.html
            self._frozen_source.append(chunk)
            self._frozen_html.append(frozen)
            self._frozen_code.extend(rendered.code_blocks)
            self.frozen_chars = split
        tail = full_text[self.frozen_chars :]
        if len(tail) > TAIL_BUDGET:
            self._tail_code = ()
            return Step(frozen, None)
        if not tail.strip():
            self._tail_code = ()
            return Step(frozen, "")
        rendered = self._render(tail)
        self._tail_code = rendered.code_blocks
        return Step(frozen, rendered.html)

    def matches(self, full_text: str) -> bool:
        """Whether `full_text` continues the text frozen so far (a stopped or retried answer
        may have been cut or replaced)."""
        return full_text.startswith("".join(self._frozen_source))

    def body(self, last: Step) -> Rendered | None:
        """The whole answer's HTML: the frozen parts plus the tail of the `last` step (None if
        that tail was over budget and never rendered)."""
        if last.tail is None:
            return None
        return Rendered("".join(self._frozen_html) + last.tail, self.code_blocks)
