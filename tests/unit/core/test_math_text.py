"""LaTeX math in answers as legible HTML: Unicode symbols, Qt's <sup>/<sub>, text escaped, total."""

from __future__ import annotations

import html
import random
import re
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bluesdesk.core.math_text import MAX_SOURCE, latex_to_html
from tests.hardening.fuzzing import fuzz, seeds

UP = '<span style="font-style:normal">'  # upright: words, not variables
BIG = '<span style="font-size:large">'  # ∑ and ∫ drawn larger than letters
NB = "\u00a0"

CASES = [
    # scripts, symbols and the brief's examples
    (
        r"\sum_{i=1}^{n} i = \frac{n(n+1)}{2}",
        f"{BIG}∑</span><sub>i=1</sub><sup>n</sup> i = n(n+1)/2",
    ),
    (r"e^{i\pi}", "e<sup>iπ</sup>"),
    (r"E=mc^2", "E=mc<sup>2</sup>"),
    (r"x_i^2", "x<sub>i</sub><sup>2</sup>"),
    (r"x^10 + a_{ij}", "x<sup>10</sup> + a<sub>ij</sub>"),
    (r"e^{-x^2}", "e<sup>−x²</sup>"),
    (r"\alpha \le \beta", "α ≤ β"),
    (r"\mathbb{R}", "ℝ"),
    (r"x \to \infty", "x → ∞"),
    (r"a \cdot b", "a · b"),
    (r"\int_0^\infty e^{-x}\,dx", f"{BIG}∫</span><sub>0</sub><sup>∞</sup> e<sup>−x</sup>{NB}dx"),
    (r"f'(x) + f''(x)", "f′(x) + f″(x)"),
    (r"\ne \neq \not=", "≠ ≠ ≠"),
    (r"\hat{x}", "x\u0302"),
    # fractions: a/b when both sides are one product without operators, brackets otherwise
    (r"\frac{1}{2}", "1/2"),
    (r"\frac{P(A)}{P(B)}", "P(A)/P(B)"),
    (r"\frac{1}{\sigma\sqrt{2\pi}}", "1/(σ√(2π))"),
    (r"\frac{1}{2}(a+b)", "1/2 (a+b)"),
    (r"\frac{dy}{dx}", "dy/dx"),
    (r"\frac{a+b}{c}", "(a+b)/c"),
    (r"\frac{1}{\frac{a}{b}}", "1/(a/b)"),
    (r"\frac{\sqrt{\pi}}{2}", "√π/2"),
    (r"x\frac12", "x 1/2"),
    # roots
    (r"\sqrt{x}", "√x"),
    (r"\sqrt{x+1}", "√(x+1)"),
    (r"\sqrt{2\pi}", "√(2π)"),
    (r"\sqrt[3]{x}", "∛x"),
    (r"\sqrt[n]{x}", "<sup>n</sup>√x"),
    # delimiters, words, spacing
    (r"\left( \frac{a}{b} \right)^2", "(a/b)<sup>2</sup>"),
    (r"\left\{ x \right.", "{x"),
    (r"\lVert v \rVert_2", "‖v‖<sub>2</sub>"),
    (r"\text{if } x > 0", f"{UP}if</span> x &gt; 0"),
    (r"\sin x + \sin(x)", f"{UP}sin</span> x + {UP}sin</span>(x)"),
    (r"\lim_{x \to 0} f", f"{UP}lim</span><sub>x → 0</sub> f"),
    (r"\operatorname{sgn} x", f"{UP}sgn</span> x"),
    (r"\pi r^2", "πr<sup>2</sup>"),
    (r"a \quad b", f"a{NB * 3}b"),
    # unknown macros keep their name
    (r"\foo", f"{UP}foo</span>"),
    (r"\foo{x}", f"{UP}foo</span> x"),
    # environments: rows of cases and aligned on lines, a matrix on one line
    (
        r"\begin{cases} x & \text{if } x \ge 0 \\ -x & \text{otherwise} \end{cases}",
        f"{{{NB}x{NB * 3}{UP}if</span> x ≥ 0<br>−x{NB * 3}{UP}otherwise</span>",
    ),
    (r"\begin{aligned} a &= b \\ &= c \\ \end{aligned}", "a = b<br>= c"),
    (r"\begin{pmatrix} 1 & 0 \\ 0 & 1 \end{pmatrix}", f"(1{NB * 2}0; 0{NB * 2}1)"),
    (r"a \\ b", "a<br>b"),
    (r"\binom{n}{k}", "C(n, k)"),
]


@pytest.mark.parametrize(("source", "expected"), CASES, ids=[case[0] for case in CASES])
def test_latex_becomes_unicode_and_scripts(source: str, expected: str) -> None:
    assert latex_to_html(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        (r"\text{<b>bold</b> & co}", f"{UP}&lt;b&gt;bold&lt;/b&gt; &amp; co</span>"),
        (r"a<b \land c>d", "a&lt;b ∧ c&gt;d"),
        (r"\mathrm{<img src=x>}", f"{UP}&lt;img src=x&gt;</span>"),
        ('\\text{"quoted"}', f"{UP}&quot;quoted&quot;</span>"),
    ],
)
def test_html_in_the_source_is_escaped(source: str, expected: str) -> None:
    assert latex_to_html(source) == expected


@pytest.mark.parametrize(
    "source",
    [
        r"\frac{a",
        r"x^{2",
        "}",
        r"\begin{cases} x",
        r"\end{cases}",
        r"\frac{<b>",
        "{" * 5000,
        "{" * 150 + "x" + "}" * 150,
        "x" * (MAX_SOURCE + 1),
    ],
    ids=lambda source: source[:20],
)
def test_what_cannot_be_laid_out_falls_back_to_the_escaped_source(source: str) -> None:
    started = time.perf_counter()
    out = latex_to_html(source)
    assert time.perf_counter() - started < 1.0
    assert out == html.escape(source)


# Every tag this module writes; anything else with a "<" would be the source's own markup.
OUR_TAGS = re.compile(r'</?(?:sup|sub|b)>|<br>|<span style="[a-z:\-]+">|</span>')

LATEX_PIECES = [
    "\\", "{", "}", "[", "]", "^", "_", "&", "~", "%", "$", "'", "-", " ", "\n", "x", "2",
    "<", ">", "<script>", "<b>", '"', "&amp;", r"\frac", r"\sqrt", r"\left(", r"\right)",
    r"\right.", r"\text{", r"\mathbb{R}", r"\alpha", r"\sum", r"\int", r"\\", r"\begin{cases}",
    r"\end{cases}", r"\begin{pmatrix}", r"\end{pmatrix}", r"\begin{", r"\end{", r"\operatorname",
    r"\hat", r"\overline", r"\,", r"\quad", r"\foo", r"\not", r"\mathrm", r"\tag", r"\binom",
    r"\sqrt[", r"\xrightarrow[", r"\overset", "😀", "\x00", "\u202e",
]  # fmt: skip


def _random_latex(r: random.Random) -> str:
    return "".join(r.choice(LATEX_PIECES) for _ in range(r.randint(0, 40)))


def _assert_safe(out: str) -> None:
    assert isinstance(out, str)
    assert "<" not in OUR_TAGS.sub("", out), out
    assert "<script" not in out.lower()


@fuzz
@given(seeds.map(_random_latex))
def test_any_latex_soup_gives_safe_html(source: str) -> None:
    _assert_safe(latex_to_html(source))


@fuzz
@given(st.text(max_size=300))
def test_any_text_gives_safe_html(source: str) -> None:
    _assert_safe(latex_to_html(source))
