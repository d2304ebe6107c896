"""Markdown rendering for the transcript: untrusted text stays inert, Qt-friendly HTML comes out."""

from __future__ import annotations

from bluesdesk.core.render import COPY_SCHEME, render_markdown, render_plain


def test_raw_html_is_escaped_not_interpreted() -> None:
    out = render_markdown('Hi <script>alert(1)</script> <img src="https://evil/x.png">').html
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "<img" not in out


def test_remote_images_become_links_and_are_never_loaded() -> None:
    out = render_markdown(
        "![a cat](https://example.com/cat.png) ![inline](data:image/png;base64,AA)"
    )
    assert "<img" not in out.html
    assert '<a href="https://example.com/cat.png">' in out.html and "a cat" in out.html
    assert "data:image" not in out.html and "inline" in out.html


def test_dangerous_link_targets_are_not_links() -> None:
    out = render_markdown("[x](javascript:alert(1)) [ok](https://example.com)").html
    assert 'href="javascript' not in out
    assert '<a href="https://example.com">ok</a>' in out


def test_code_blocks_are_highlighted_and_copyable() -> None:
    out = render_markdown("```python\ndef f():\n    return 1\n```\n\n```\nplain <b>\n```")
    assert out.code_blocks == ("def f():\n    return 1\n", "plain <b>\n")
    assert f'href="{COPY_SCHEME}:0"' in out.html and f'href="{COPY_SCHEME}:1"' in out.html
    assert '<span style="' in out.html  # pygments inline styles, no CSS classes
    assert "class=" not in out.html.split("<pre", 1)[1].split("</pre>", 1)[0]
    assert "plain &lt;b&gt;" in out.html
    assert ">python<" in out.html


def test_unknown_language_and_unclosed_fence_while_streaming() -> None:
    out = render_markdown("```nosuchlang\nx = 1")
    assert out.code_blocks == ("x = 1",)
    assert "x = 1" in out.html


def test_tables_tasks_and_math() -> None:
    text = "| a | b |\n|--:|:-:|\n| 1 | 2 |\n\n- [x] done\n- [ ] todo\n\n"
    text += "Energy $E=mc^2$.\n\n$$\na<b\n$$"
    out = render_markdown(text).html
    assert '<table border="1"' in out and 'style="text-align:right"' in out
    assert "&#9745; done" in out and "&#9744; todo" in out
    assert "<input" not in out
    # Math: inline in the sentence, a block as its own centred paragraph; the source's "<" escaped.
    assert '<span style="font-style:italic">E=mc<sup>2</sup></span>' in out
    assert '<p align="center" style="font-style:italic">a&lt;b</p>' in out


def test_dark_palette_differs() -> None:
    text = "```python\nx = 1\n```"
    assert render_markdown(text, dark=True).html != render_markdown(text, dark=False).html


def test_plain_text_keeps_lines_and_escapes() -> None:
    assert render_plain("a <b>\nc") == "a &lt;b&gt;<br>c"
