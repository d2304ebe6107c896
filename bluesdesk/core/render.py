"""Markdown → HTML for a QTextBrowser: model output is untrusted, and Qt's HTML subset is small.

* Raw HTML in the text is escaped (markdown-it with ``html=False``), never interpreted.
* Images are never fetched: each one becomes a link text naming it ("🖼 alt").
* Links stay links; the view opens them only when clicked (the browser is set not to follow them).
  markdown-it's link validation already drops ``javascript:``/``vbscript:``/``file:`` targets.
* Fenced code is highlighted by pygments with inline styles (Qt ignores CSS classes) under a small
  header with the language and a ``bluesdesk-copy:N`` link; `Rendered.code_blocks[N]` is the text.
* Rendering is thread-safe (one renderer per thread), so a long message can be rendered in a
  worker while the GUI thread keeps painting; `render_in_worker` does that.
* Task-list checkboxes become ☑/☐ (QTextBrowser draws no ``<input>``), math is shown with
  Unicode symbols and sub/superscripts (`core.math_text`), tables get borders Qt can draw
  (see STACK-NOTES §6).
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.tasklists import tasklists_plugin
from pygments import highlight  # type: ignore[import-untyped]
from pygments.formatters import HtmlFormatter  # type: ignore[import-untyped]
from pygments.lexers import get_lexer_by_name  # type: ignore[import-untyped]
from pygments.lexers.special import TextLexer  # type: ignore[import-untyped]
from pygments.util import ClassNotFound  # type: ignore[import-untyped]

from bluesdesk.core.math_text import latex_to_html

COPY_SCHEME = "bluesdesk-copy"


@dataclass(frozen=True, slots=True)
class Palette:
    text: str
    muted: str
    code_bg: str
    border: str
    quote: str
    link: str
    pygments_style: str


LIGHT = Palette("#1f2328", "#656d76", "#f4f5f7", "#d0d7de", "#57606a", "#0969da", "default")
DARK = Palette("#e6edf3", "#9198a1", "#262a31", "#3d444d", "#9198a1", "#4493f8", "monokai")


@dataclass(frozen=True, slots=True)
class Rendered:
    html: str
    code_blocks: tuple[str, ...] = ()


_CHECKBOX = re.compile(r'<input class="task-list-item-checkbox"[^>]*>\s*')


# Code blocks larger than this are shown without syntax colours (pygments: ~6 s per MB).
HIGHLIGHT_LIMIT = 64 * 1024


def _checkbox(match: re.Match[str]) -> str:
    return "&#9745; " if 'checked="checked"' in match.group(0) else "&#9744; "


class _Renderer:
    """One configured MarkdownIt per palette; rules close over the palette's colours."""

    def __init__(self, palette: Palette) -> None:
        self.palette = palette
        self.formatter = HtmlFormatter(noclasses=True, nowrap=True, style=palette.pygments_style)
        md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
        md.enable(["table", "strikethrough"])
        md.use(tasklists_plugin)
        md.use(dollarmath_plugin, allow_space=False, double_inline=True)
        # Set directly: add_render_rule would try to re-bind our bound methods to the renderer.
        assert isinstance(md.renderer, RendererHTML)
        self.html_renderer: RendererHTML = md.renderer
        rules: dict[str, Any] = md.renderer.rules
        rules["fence"] = self._fence
        rules["code_block"] = self._fence
        rules["image"] = self._image
        rules["table_open"] = self._table_open
        rules["th_open"] = self._cell_open
        rules["td_open"] = self._cell_open
        rules["math_inline"] = self._math_inline
        rules["math_inline_double"] = self._math_inline
        rules["math_block"] = self._math_block
        rules["math_block_label"] = self._math_block
        rules["code_inline"] = self._code_inline
        rules["blockquote_open"] = self._quote_open
        rules["blockquote_close"] = self._quote_close
        self.md = md

    # ---- rules: (tokens, idx, options, env) -> html ---------------------------------------------

    def _fence(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        token = tokens[idx]
        code = token.content
        language = token.info.strip().split(" ")[0] if token.info else ""
        if len(code) > HIGHLIGHT_LIMIT:
            # pygments needs seconds for a megabyte; a block that large is read, not admired.
            body = html.escape(code).rstrip("\n")
        else:
            try:
                lexer = get_lexer_by_name(language) if language else TextLexer()
            except ClassNotFound:
                lexer = TextLexer()
            body = highlight(code, lexer, self.formatter).rstrip("\n")
        blocks: list[str] = env.setdefault("code_blocks", [])
        index = env.get("code_offset", 0) + len(blocks)
        blocks.append(code)
        p = self.palette
        label = html.escape(language) if language else "code"
        # A one-row header table keeps the label left and Copy right; Qt has no flexbox.
        return (
            f'<table width="100%" cellspacing="0" cellpadding="3" '
            f'style="background-color:{p.border};margin-top:6px">'
            f'<tr><td><span style="color:{p.muted};font-size:small">{label}</span></td>'
            f'<td align="right"><a href="{COPY_SCHEME}:{index}" '
            f'style="font-size:small;color:{p.link}">Copy</a></td></tr></table>'
            f'<pre style="background-color:{p.code_bg};margin-top:0">{body}</pre>\n'
        )

    def _image(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        token = tokens[idx]
        src = str(token.attrGet("src") or "")
        alt = self.html_renderer.renderInlineAsText(token.children or [], options, env) or "image"
        label = f"&#128444; {html.escape(alt)}"
        if src.startswith(("http://", "https://")):
            return f'<a href="{html.escape(src)}">{label}</a>'
        return label  # data: or relative sources: name it, load nothing

    def _table_open(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return (
            f'<table border="1" cellspacing="0" cellpadding="4" '
            f'style="border-collapse:collapse;border-style:solid;border-color:{self.palette.border}">\n'
        )

    def _cell_open(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        token = tokens[idx]
        style = str(token.attrGet("style") or "")
        attr = f' style="{html.escape(style)}"' if style else ""
        return f"<{token.tag}{attr}>"

    def _code_inline(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        content = html.escape(tokens[idx].content)
        return f'<code style="background-color:{self.palette.code_bg}">{content}</code>'

    def _math_inline(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        # Italic and in the text colour: math reads as part of the sentence, not as code.
        return f'<span style="font-style:italic">{latex_to_html(tokens[idx].content)}</span>'

    def _math_block(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        content = latex_to_html(tokens[idx].content.strip())
        return f'<p align="center" style="font-style:italic">{content}</p>\n'

    def _quote_open(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return f'<blockquote style="color:{self.palette.quote}">\n'

    def _quote_close(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return "</blockquote>\n"

    def render(self, text: str, code_offset: int = 0) -> Rendered:
        env: dict[str, Any] = {"code_offset": code_offset}
        body = self.md.render(text, env)
        body = _CHECKBOX.sub(_checkbox, body)
        return Rendered(body, tuple(env.get("code_blocks", ())))


# One renderer per thread and palette: the pygments formatter and markdown-it's renderer keep
# per-call state on themselves, so a worker and the GUI thread must not share one.
_local = threading.local()


def _renderer(dark: bool) -> _Renderer:
    cache: dict[bool, _Renderer] | None = getattr(_local, "renderers", None)
    if cache is None:
        cache = _local.renderers = {}
    renderer = cache.get(dark)
    if renderer is None:
        renderer = cache[dark] = _Renderer(DARK if dark else LIGHT)
    return renderer


def render_markdown(text: str, *, dark: bool = False, code_offset: int = 0) -> Rendered:
    """The HTML body for one message (no <html> wrapper) and the text of its code blocks.

    `code_offset`: the index of the first code block's copy link (a part of a longer message
    rendered on its own numbers its blocks after those of the parts before it)."""
    return _renderer(dark).render(text, code_offset)


def render_plain(text: str) -> str:
    """Text shown as typed (user messages): escaped, line breaks kept."""
    return html.escape(text).replace("\n", "<br>")


def layout_cost(html_text: str) -> int:
    """A rough measure of how long Qt takes to lay this HTML out, in "plain characters".

    Text costs about 1 µs a character there, but a table row about 400 µs and deeply nested
    inline or block tags grow worse than linearly; such HTML is what hostile or runaway output
    looks like, and it is cheaper to show that as plain text."""
    tags = sum(html_text.count(tag) for tag in ("<em>", "<strong>", "<blockquote", "<li"))
    # Emphasis directly inside emphasis: once in "***x***", thousands in runaway nesting.
    nested = sum(html_text.count(pair) for pair in _NESTED)
    return len(html_text) + 400 * html_text.count("<tr") + 4 * tags + 300 * nested


_NESTED = ("<em><em>", "<em><strong>", "<strong><em>", "<strong><strong>")


# One worker is enough: renders are queued behind each other, and a single extra thread takes
# the GIL from the GUI thread less often than several would.
_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bluesdesk-render")


def start_worker() -> None:
    """Start the render thread now (and build its renderer), not in the middle of the first
    answer's end: starting a thread waits for it, and a first render builds lexers."""
    _worker.submit(_renderer, False)


def render_in_worker(text: str, *, dark: bool = False) -> Future[Rendered]:
    """`render_markdown` on the render thread; the future completes there (callers hand the
    result back to their own thread, e.g. with a queued Qt signal)."""
    return _worker.submit(render_markdown, text, dark=dark)
