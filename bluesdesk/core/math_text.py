"""LaTeX math from answers (the inside of ``$…$`` / ``$$…$$``) as legible HTML for Qt rich text.

pylatexenc does the LaTeX: its `LatexWalker` parses the source into groups, macros with their
arguments and environments, and latex2text's default macro table names the symbols
(``\\alpha`` → α, ``\\le`` → ≤, ``\\mathbb{R}`` → ℝ). This module only lays the parsed nodes out in
the little HTML a QTextBrowser draws: ``<sup>``/``<sub>`` for scripts, an upright ``<span>`` for
words (``\\text``, ``\\sin``), ``<b>``, ``<br>`` between rows. It is not TeX: a fraction is a/b
(see `_operand`), a root √x, an environment a few lines.

Model output is untrusted, so `latex_to_html` is total: every piece of text is HTML-escaped, and
whatever cannot be parsed, or is too large or too deeply nested to be worth laying out, comes
back as its escaped source.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pylatexenc import latex2text, latexwalker, macrospec  # type: ignore[import-untyped]

# Longer math is a proof or a table pasted as math, not a formula: shown as its source. The bound
# also caps the cost of one call (parsing ~4,000 chars takes ~25 ms).
MAX_SOURCE = 4000
# pylatexenc parses nested groups recursively; far below Python's recursion limit, and far above
# what any real formula needs.
MAX_DEPTH = 100

_NBSP = "\u00a0"
_UPRIGHT = '<span style="font-style:normal">'
# A script is an opaque unit to what comes after it: not a letter that a space could be dropped
# next to, not an opening bracket.
_AFTER_SCRIPT = "\ufffc"
# Stands for a whole script in `_Out.shape`, so that "e^{-x}" still counts as one operand.
_SCRIPT_SHAPE = "a"

# No space goes in after these (" " ends a row separator) or before the closers.
_OPENERS = frozenset("([{⟨⌊⌈ " + _NBSP)
_CLOSERS = frozenset(")]}⟩⌋⌉,;" + _NBSP)
_ORDINARY_SYMBOLS = frozenset("∂∇∞ℏħℓ∅′″")

# Macros this module lays out itself. Their argument specs are registered with the walker too,
# so that argument positions below are ours whatever pylatexenc's defaults say.
_FRACTIONS = ("frac", "dfrac", "tfrac", "cfrac", "nicefrac")
_BINOMIALS = ("binom", "dbinom", "tbinom")
_UPRIGHT_TEXT = ("text", "textrm", "textup", "textnormal", "textsf", "texttt", "mbox", "hbox")
_UPRIGHT_MATH = ("mathrm", "operatorname")
_BOLD_UPRIGHT = ("mathbf", "textbf")
_BOLD_ITALIC = ("boldsymbol", "bm", "pmb")
_ITALIC_TEXT = ("textit", "emph")
# \mathit included: math is italic already, and Unicode's italic letters are missing from many
# fonts.
_TRANSPARENT = ("boxed", "cancel", "ensuremath", "widehat", "widetilde", "mathit")
# Qt draws these lines itself; latex2text's combining characters would sit on one letter only.
_DECORATED = {"overline": "overline", "underline": "underline"}
_SIZING = frozenset(
    ["left", "right", "middle"]
    + [f"{size}{kind}" for size in ("big", "Big", "bigg", "Bigg") for kind in ("", "l", "r", "m")]
)
_IGNORED = frozenset({
    "displaystyle", "textstyle", "scriptstyle", "scriptscriptstyle", "limits", "nolimits",
    "nonumber", "notag", "label", "color", "phantom", "hphantom", "vphantom", "mathstrut",
    "strut", "allowbreak", "hfill",
})  # fmt: skip
# Width in no-break spaces (about a quarter em each: Qt collapses every other kind of space).
_SPACES = {
    ",": 1, ":": 1, ">": 1, ";": 1, " ": 1, "thinspace": 1, "medspace": 1, "thickspace": 1,
    "enspace": 2, "quad": 3, "qquad": 6,
    "!": 0, "negthinspace": 0, "negmedspace": 0, "negthickspace": 0,
}  # fmt: skip
_LINE_BREAKS = ("\\", "newline", "cr")
# Bars that say which side they are on; the plain "|" could be either and keeps its spaces.
_OPENING_BARS = frozenset({"lvert", "lVert"})
_CLOSING_BARS = frozenset({"rvert", "rVert"})

_ARGSPECS = {
    **dict.fromkeys(_FRACTIONS + _BINOMIALS + ("overset", "underset", "stackrel"), "{{"),
    **dict.fromkeys(_UPRIGHT_TEXT + _BOLD_UPRIGHT + _BOLD_ITALIC + _ITALIC_TEXT, "{"),
    **dict.fromkeys(_TRANSPARENT + tuple(_DECORATED) + ("mathrm", "pmod", "label", "phantom"), "{"),
    "operatorname": "*{",
    "sqrt": "[{",
    "xrightarrow": "[{",
    "xleftarrow": "[{",
    "tag": "*{",
    "color": "[{",
    "hphantom": "{",
    "vphantom": "{",
}
# Environments whose arguments are not content ({2} of alignat, {cc} of array).
_ENVIRONMENT_ARGSPECS = {"array": "[{", "alignat": "{", "alignat*": "{", "subarray": "{"}
# Cells of these are spaced apart; elsewhere "&" is an alignment point and shows as nothing.
_GRIDS = frozenset({
    "matrix", "pmatrix", "bmatrix", "Bmatrix", "vmatrix", "Vmatrix", "smallmatrix",
    "psmallmatrix", "bsmallmatrix", "array", "subarray", "cases", "dcases", "rcases",
})  # fmt: skip
_DELIMITERS = {
    "pmatrix": ("(", ")"), "psmallmatrix": ("(", ")"),
    "bmatrix": ("[", "]"), "bsmallmatrix": ("[", "]"),
    "Bmatrix": ("{", "}"), "vmatrix": ("|", "|"), "Vmatrix": ("‖", "‖"),
    "cases": ("{", ""), "dcases": ("{", ""), "rcases": ("", "}"),
}  # fmt: skip
_CELL_GAP = 3
_MATRIX_GAP = 2
_LARGE_OPERATORS = frozenset("∑∏∐∫∬∭∮⋃⋂⨁⨂⋀⋁")
_SUPERSCRIPTS = str.maketrans("0123456789+−=()ni", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱ")
_SUBSCRIPTS = str.maketrans("0123456789+−=()", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎")

# Macros whose latex2text function builds a character from the argument: accents and the
# Unicode letter styles. Other functions there read files (\input) or lay out documents.
_CHARACTER_BUILDERS = frozenset({
    "hat", "check", "breve", "acute", "grave", "tilde", "bar", "vec", "dot", "ddot", "not",
    "mathbb", "mathcal", "mathscr", "mathfrak", "mathsf", "mathtt", "%",
    "'", "`", "^", '"', "~", "=", ".", "u", "v", "H", "c", "k", "b", "d", "r",
})  # fmt: skip
# Symbols and operator names that latex2text's table lacks but answers use.
_EXTRA_SYMBOLS = {
    "ne": "≠", "neg": "¬", "land": "∧", "lor": "∨", "bot": "⊥", "gets": "←", "models": "⊨",
    "iff": "⟺", "implies": "⟹", "impliedby": "⟸", "colon": ":", "Re": "ℜ", "Im": "ℑ",
    "degree": "°", "triangle": "△", "checkmark": "✓", "qed": "∎", "owns": "∋", "leadsto": "⇝",
    "cdotp": "·", "coloneqq": "≔", "eqqcolon": "≕", "mathellipsis": "…", "imath": "ı",
    "jmath": "ȷ", "lhd": "⊲", "rhd": "⊳", "|": "‖", "clubsuit": "♣", "heartsuit": "♡",
    "spadesuit": "♠", "diamondsuit": "♢", "varsubsetneq": "⊊", "bigodot": "⨀",
    "prime": "′",  # latex2text has "'", which reads as a quote in a superscript
}  # fmt: skip
_EXTRA_WORDS = ("arg", "deg", "dim", "ker", "hom", "Pr", "det", "gcd", "lcm", "lg", "log", "ln")


@dataclass(frozen=True, slots=True)
class _Contexts:
    walker: Any
    text: Any


@functools.cache
def _contexts() -> _Contexts:
    """Both pylatexenc tables with our additions, built on first use (a few milliseconds)."""
    walker = latexwalker.get_default_latex_context_db()
    walker.add_context_category(
        "bluesdesk-math",
        macros=[macrospec.std_macro(name, spec) for name, spec in _ARGSPECS.items()],
        environments=[
            macrospec.std_environment(name, spec) for name, spec in _ENVIRONMENT_ARGSPECS.items()
        ],
        prepend=True,
    )
    text = latex2text.get_default_latex_context_db()
    text.add_context_category(
        "bluesdesk-math",
        macros=[
            latex2text.MacroTextSpec(name, simplify_repl=replacement)
            for name, replacement in {**_EXTRA_SYMBOLS, **{w: w for w in _EXTRA_WORDS}}.items()
        ],
        prepend=True,
    )
    return _Contexts(walker, text)


def _ordinary(char: str) -> bool:
    """A letter-like character: a space between two of these is what TeX would not show."""
    return char.isalnum() or char in _ORDINARY_SYMBOLS


def _apart(char: str) -> bool:
    return _ordinary(char) or char in "([{√"


def _is_word(text: str) -> bool:
    """An operator name such as "sin" or "lim sup" (latex2text spells these as plain words)."""
    letters = text.replace(" ", "")
    return len(letters) >= 2 and letters.isascii() and letters.isalpha()


class _Out:
    """HTML being written, with TeX's idea of spacing approximated.

    Spaces are decided when the next character is known: source whitespace ("hard") is kept as
    one space except next to brackets; the space that ends a control word ("soft", ``\\alpha x``)
    is dropped between two letter-like characters, as TeX would; after an operator name ("func")
    a space goes in only before a letter (``\\sin x`` but ``\\sin(x)``)."""

    def __init__(self, in_script: int = 0) -> None:
        self.parts: list[str] = []
        # The visible text outside scripts (one placeholder per script): what `_operand` judges.
        self.shape: list[str] = []
        self.first = ""
        self.last = ""  # the last visible character; "" at the start of a line
        self.in_script = in_script
        self.base = in_script  # text at this depth is this output's own, for `shape`
        self.no_space_after = False  # after an opening "|" (\lvert), which looks like any "|"
        self.hard = self.soft = self.func = self.apart = False
        self.row_break = ""  # a pending row separator: written only if another row follows

    def html(self) -> str:
        return "".join(self.parts)

    def shape_text(self) -> str:
        return "".join(self.shape)

    def space(self) -> None:
        self.hard = True

    def macro_space(self) -> None:
        self.soft = True

    def after_name(self) -> None:
        self.func = True

    def break_row(self, separator: str) -> None:
        """End a row with `separator` ("<br>", or "; " in a matrix) once the next one starts."""
        # Rows in a script (\substack) stay in it, as a list.
        self.row_break = ", " if self.in_script else separator
        self._clear_spaces()

    def cancel_row_break(self) -> None:
        # A "\\" after an environment's last row ends no row.
        self.row_break = ""

    def mark_opening(self) -> None:
        self.no_space_after = True

    def drop_space(self) -> None:
        """Before a closing "|" (``\\rvert``): no space inside the bars."""
        self._clear_spaces()

    def stand_apart(self) -> None:
        """After a/b: a space before a letter or a bracket, or "1/2x" would read 1/(2x)."""
        self.apart = True

    def _clear_spaces(self) -> None:
        self.hard = self.soft = self.func = self.apart = False

    def _flush(self, first: str) -> None:
        if self.row_break:
            separator, self.row_break = self.row_break, ""
            if self.last:
                self.parts.append(separator)
                if self.in_script == self.base:
                    self.shape.append(separator)
                self.last = "" if separator == "<br>" else separator[-1]
                self._clear_spaces()
        if not (self.hard or self.soft or self.func or self.apart):
            return
        if not self.last or self.last in _OPENERS or self.no_space_after or first in _CLOSERS:
            keep = False
        elif self.hard or (self.func and _ordinary(first)) or (self.apart and _apart(first)):
            keep = True
        else:
            keep = self.soft and not (_ordinary(self.last) and _ordinary(first))
        self._clear_spaces()
        if keep:
            self.parts.append(" ")
            if self.in_script == self.base:
                self.shape.append(" ")

    def text(self, text: str) -> None:
        if text:
            self.fragment(html.escape(text), text, text[0], text[-1])

    def fragment(self, markup: str, shape: str, first: str, last: str) -> None:
        """Already-escaped HTML whose visible text starts with `first` and ends with `last`."""
        self._flush(first)
        self.parts.append(markup)
        self.no_space_after = False
        if self.in_script == self.base:
            self.shape.append(shape)
        self.first = self.first or first
        self.last = last

    def tag(self, markup: str, *, before: str = "") -> None:
        """An opening or closing tag; `before`: the character that will follow an opening one,
        to settle a pending space outside the element rather than inside it."""
        if before:
            self._flush(before)
        self.parts.append(markup)

    def explicit_space(self, width: int) -> None:
        self._clear_spaces()
        if width and self.last:
            self.fragment(_NBSP * width, _NBSP, _NBSP, _NBSP)

    def attached(self, markup: str) -> None:
        """A script already written out (Unicode superscript digits), attached like one."""
        self._clear_spaces()
        self._flush("")
        self.parts.append(markup)
        self.last = _AFTER_SCRIPT

    def open_script(self, kind: str) -> None:
        # "x ^2" is "x^2": a space before a script is no space in TeX.
        self._clear_spaces()
        self._flush("")
        self.parts.append(f"<{kind}>")
        self.in_script += 1
        self.last = ""

    def close_script(self, kind: str) -> None:
        # A space pending at the script's end (the one after "\infty" in "^\infty e") belongs
        # after the script.
        pending = (self.hard, self.soft, self.func, self.apart)
        self._clear_spaces()
        self.parts.append(f"</{kind}>")
        self.in_script -= 1
        if self.in_script == self.base:
            self.shape.append(_SCRIPT_SHAPE)
        self.first = self.first or _AFTER_SCRIPT
        self.last = _AFTER_SCRIPT
        self.hard, self.soft, self.func, self.apart = pending


_Atom = str | Any  # one character of a chars node, or any other node


def _atoms(nodes: Sequence[Any]) -> Iterator[_Atom]:
    """The nodes with chars nodes split into characters: "^" and "_" sit inside chars nodes and
    take the next character or the next node as their argument, so both must be in one stream."""
    for node in nodes:
        if node is None:
            continue
        if isinstance(node, latexwalker.LatexCharsNode):
            yield from str(node.chars)
        else:
            yield node


def _args(node: Any) -> list[Any]:
    argd = getattr(node, "nodeargd", None)
    return list(argd.argnlist) if argd is not None and argd.argnlist else []


def _arg(node: Any, index: int) -> Any:
    args = _args(node)
    return args[index] if index < len(args) else None


_OPERAND_WORD = re.compile(r"[\w.!∂∇∞ℏħℓ′″]+")
_PAIRS = {"(": ")", "[": "]", "{": "}"}
_SINGLE = re.compile(r"[\d.]+|[^\W\d_]|[∂∇∞ℏħℓ]")


def _one_operand(shape: str) -> bool:
    """Whether `shape` is a product written without operators: numbers, names and bracketed
    groups side by side ("2a", "dx", "n(n+1)", "P(B)", with scripts), after an optional sign
    and root. Such a product binds tighter than "/" in everyone's reading."""
    rest = shape.removeprefix("−").removeprefix("√")
    if not rest:
        return False
    index = 0
    while index < len(rest):
        word = _OPERAND_WORD.match(rest, index)
        if word:
            index = word.end()
        elif rest[index] in _PAIRS:
            index = _group_end(rest, index)
            if index < 0:
                return False
        else:
            return False
    return True


def _group_end(text: str, start: int) -> int:
    """The index after the bracket that closes the one at `start`, or -1."""
    stack: list[str] = []
    for index in range(start, len(text)):
        char = text[index]
        if char in _PAIRS:
            stack.append(_PAIRS[char])
        elif stack and char == stack[-1]:
            stack.pop()
            if not stack:
                return index + 1
        elif char in _PAIRS.values():
            return -1
    return -1


def _operand(out: _Out, *, radicand: bool = False) -> tuple[str, str, str]:
    """The HTML, first and last visible character of `out` as one side of a/b or under √:
    bare if it is one operand (`_one_operand`), else in brackets. So \\frac{n(n+1)}{2} is
    n(n+1)/2, \\frac{1}{2\\pi\\sigma} is 1/2πσ as on paper, \\frac{a+b}{c} is (a+b)/c.
    Under a root only a single number or letter goes bare: √2π could be √2·π."""
    shape = out.shape_text()
    if _SINGLE.fullmatch(shape) if radicand else _one_operand(shape):
        return out.html(), out.first or " ", out.last or " "
    return f"({out.html()})", "(", ")"


class _Converter:
    def __init__(self, contexts: _Contexts) -> None:
        self.l2t = latex2text.LatexNodes2Text(latex_context=contexts.text, math_mode="text")
        self.text_db = contexts.text
        self.cell_gap = 0
        self.row_separator = "<br>"

    # ---- node lists ---------------------------------------------------------------------------

    def nodes(self, nodes: Sequence[Any], out: _Out, *, text_mode: bool = False) -> None:
        atoms = list(_atoms(nodes))
        index = 0
        while index < len(atoms):
            atom = atoms[index]
            index += 1
            if isinstance(atom, str):
                if not text_mode and atom in "^_" and self._has_argument(atoms, index):
                    argument, index = self._script_argument(atoms, index)
                    self._script("sup" if atom == "^" else "sub", argument, out)
                else:
                    self._char(atom, out, text_mode=text_mode)
            else:
                index = self._node(atom, out, atoms, index, text_mode=text_mode)

    def _has_argument(self, atoms: Sequence[_Atom], index: int) -> bool:
        return any(not (isinstance(a, str) and a.isspace()) for a in atoms[index:])

    def _script_argument(self, atoms: Sequence[_Atom], index: int) -> tuple[list[_Atom], int]:
        """What "^" or "_" at `index` - 1 raises: the next node or character, as in TeX, except
        that a run of digits goes whole (x^10 is never meant as x¹0), with its sign."""
        while isinstance(atoms[index], str) and atoms[index].isspace():
            index += 1
        first = atoms[index]
        taken = [first]
        index += 1
        if isinstance(first, str) and (first.isdigit() or first in "+-"):
            while index < len(atoms) and isinstance(atoms[index], str) and atoms[index].isdigit():
                taken.append(atoms[index])
                index += 1
        return taken, index

    def _script(self, kind: str, argument: Sequence[_Atom], out: _Out) -> None:
        if out.in_script:
            # Qt raises a <sup> in a <sup> no further, so e^{-x^2} would read e^{-x2}: a nested
            # script made of digits and signs is written in Unicode's small raised ones instead.
            inner = _Out(out.in_script + 1)
            self._script_body(argument, inner)
            table = _SUPERSCRIPTS if kind == "sup" else _SUBSCRIPTS
            if inner.parts and all(ord(char) in table for char in inner.html()):
                out.attached(inner.html().translate(table))
                return
        out.open_script(kind)
        self._script_body(argument, out)
        out.close_script(kind)

    def _script_body(self, argument: Sequence[_Atom], out: _Out) -> None:
        for atom in argument:
            if isinstance(atom, str):
                self._char(atom, out, text_mode=False)
            else:
                self._node(atom, out, [], 0, text_mode=False)

    def _char(self, char: str, out: _Out, *, text_mode: bool) -> None:
        if char.isspace():
            out.space()
        elif text_mode:
            out.text(char)
        else:
            out.text({"-": "−", "'": "′", "*": "∗"}.get(char, char))

    def _sub(self, node: Any, out: _Out, *, text_mode: bool = False) -> _Out:
        """`node` written on its own, for a layout that needs its HTML whole (a/b, √)."""
        sub = _Out(out.in_script)
        if node is not None:
            self._node(node, sub, [], 0, text_mode=text_mode)
        return sub

    # ---- single nodes -------------------------------------------------------------------------

    def _node(
        self, node: Any, out: _Out, atoms: Sequence[_Atom], index: int, *, text_mode: bool
    ) -> int:
        """Write `node`; returns the index of the next atom (a node may consume some)."""
        if isinstance(node, latexwalker.LatexCharsNode):
            self.nodes([node], out, text_mode=text_mode)
        elif isinstance(node, latexwalker.LatexGroupNode):
            self.nodes(node.nodelist, out, text_mode=text_mode)
        elif isinstance(node, latexwalker.LatexMacroNode):
            return self._macro(node, out, atoms, index, text_mode=text_mode)
        elif isinstance(node, latexwalker.LatexEnvironmentNode):
            self._environment(node, out)
        elif isinstance(node, latexwalker.LatexSpecialsNode):
            self._specials(node, out, text_mode=text_mode)
        elif isinstance(node, latexwalker.LatexMathNode):
            self.nodes(node.nodelist, out)
        elif isinstance(node, latexwalker.LatexCommentNode):
            # In a chat answer "%" is a percent sign far more often than a TeX comment.
            out.text("%" + str(node.comment))
            out.space()
        return index

    def _macro(
        self, node: Any, out: _Out, atoms: Sequence[_Atom], index: int, *, text_mode: bool
    ) -> int:
        name = str(node.macroname)
        if name in _SIZING:
            # The delimiter is the next atom; "\left." is an invisible one.
            while index < len(atoms) and isinstance(atoms[index], str) and atoms[index].isspace():
                index += 1
            if index < len(atoms) and isinstance(atoms[index], str) and atoms[index] == ".":
                index += 1
            return index
        if name in _IGNORED:
            return index
        if name in _SPACES:
            out.explicit_space(_SPACES[name])
            return index
        if name in _LINE_BREAKS:
            out.break_row(self.row_separator)
            return index
        if name in _CLOSING_BARS:
            out.drop_space()
        self._macro_body(name, node, out, text_mode=text_mode)
        if name in _OPENING_BARS:
            out.mark_opening()
        elif node.macro_post_space:
            out.macro_space()
        return index

    def _macro_body(self, name: str, node: Any, out: _Out, *, text_mode: bool) -> None:
        if name in _FRACTIONS:
            self._fraction(_arg(node, 0), _arg(node, 1), out)
        elif name in _BINOMIALS:
            out.text("C(")
            self._node_or_nothing(_arg(node, 0), out)
            out.text(", ")
            self._node_or_nothing(_arg(node, 1), out)
            out.text(")")
        elif name == "sqrt":
            self._root(_arg(node, 0), _arg(node, 1), out)
        elif name in _UPRIGHT_TEXT or name in _UPRIGHT_MATH:
            out.tag(_UPRIGHT)
            # The last argument: \operatorname's first is its optional star.
            self._node_or_nothing(_args(node)[-1:], out, text_mode=name in _UPRIGHT_TEXT)
            out.tag("</span>")
            if name == "operatorname":
                out.after_name()
        elif name in _BOLD_UPRIGHT or name in _BOLD_ITALIC:
            out.tag("<b>" + (_UPRIGHT if name in _BOLD_UPRIGHT else ""))
            self._node_or_nothing(_arg(node, 0), out, text_mode=name == "textbf")
            out.tag(("</span>" if name in _BOLD_UPRIGHT else "") + "</b>")
        elif name in _ITALIC_TEXT:
            out.tag('<span style="font-style:italic">')
            self._node_or_nothing(_arg(node, 0), out, text_mode=True)
            out.tag("</span>")
        elif name in _DECORATED:
            out.tag(f'<span style="text-decoration:{_DECORATED[name]}">')
            self._node_or_nothing(_arg(node, 0), out)
            out.tag("</span>")
        elif name in _TRANSPARENT:
            self._node_or_nothing(_arg(node, 0), out)
        elif name in ("overset", "stackrel", "underset"):
            self._node_or_nothing(_arg(node, 1), out)
            self._script("sub" if name == "underset" else "sup", [_arg(node, 0)], out)
        elif name in ("xrightarrow", "xleftarrow"):
            out.text("⟶" if name == "xrightarrow" else "⟵")
            self._script("sup", [_arg(node, 1)], out)
            if _arg(node, 0) is not None:
                self._script("sub", [_arg(node, 0)], out)
        elif name in ("mod", "bmod"):
            out.space()
            self._word("mod", out)
            out.space()
        elif name == "pmod":
            out.space()
            out.text("(")
            self._word("mod", out)
            out.space()
            self._node_or_nothing(_arg(node, 0), out)
            out.text(")")
        elif name == "tag":
            out.explicit_space(_CELL_GAP)
            out.text("(")
            self._node_or_nothing(_arg(node, 1), out, text_mode=True)
            out.text(")")
        else:
            self._table_macro(name, node, out, text_mode=text_mode)

    def _table_macro(self, name: str, node: Any, out: _Out, *, text_mode: bool) -> None:
        """A macro latex2text knows (a symbol, a word, an accent), or one nobody knows."""
        spec = self.text_db.get_macro_spec(name)
        if spec is None:
            # Unknown: its name says more than nothing (\sgn, \Tr are operator names anyway).
            self._word(name, out)
            for argument in _args(node):
                self._node_or_nothing(argument, out, text_mode=text_mode)
            return
        replacement = spec.simplify_repl
        if callable(replacement) and name in _CHARACTER_BUILDERS and self._plain(node):
            # Accents and letter styles (\hat{x} → x̂, \mathbb{R} → ℝ): latex2text builds the
            # character from the argument's text.
            out.text(str(self.l2t.macro_node_to_text(node)))
        elif callable(replacement):
            # Anything else latex2text computes (\input, \section, an accent on a fraction) is
            # not math, or not a character: shown as an unknown macro is.
            self._word(name, out)
            for argument in _args(node):
                self._node_or_nothing(argument, out, text_mode=text_mode)
        elif isinstance(replacement, str) and "%" in replacement and len(replacement) > 1:
            self._template(replacement, node, out, text_mode=text_mode)
        elif isinstance(replacement, str) and replacement:
            if _is_word(replacement):
                self._word(replacement, out)
            elif replacement in _LARGE_OPERATORS:
                # At text size ∑ is no taller than the letters it sums; TeX draws it larger.
                out.tag('<span style="font-size:large">')
                out.text(replacement)
                out.tag("</span>")
            else:
                out.text(replacement)
        elif replacement is None and not spec.discard:
            for argument in _args(node):
                self._node_or_nothing(argument, out, text_mode=text_mode)

    def _plain(self, node: Any) -> bool:
        """Whether latex2text can turn `node`'s arguments into text as they are: characters and
        symbols only (on a macro missing its arguments it logs a configuration warning)."""
        return all(self._plain_text(argument) for argument in _args(node))

    def _plain_text(self, node: Any) -> bool:
        if node is None or isinstance(
            node, latexwalker.LatexCharsNode | latexwalker.LatexSpecialsNode
        ):
            return True
        if isinstance(node, latexwalker.LatexGroupNode):
            return all(self._plain_text(child) for child in node.nodelist)
        if isinstance(node, latexwalker.LatexMacroNode) and not _args(node):
            spec = self.text_db.get_macro_spec(str(node.macroname))
            replacement = getattr(spec, "simplify_repl", None)
            return isinstance(replacement, str) and "%" not in replacement
        return False

    def _template(self, template: str, node: Any, out: _Out, *, text_mode: bool) -> None:
        """latex2text's "%s"/"%(2)s" replacements, with each argument laid out by us."""
        args = _args(node)
        position = 0
        for piece in re.split(r"(%%|%s|%\(\d+\)s)", template):
            if piece == "%%":
                out.text("%")
            elif piece == "%s":
                chosen = args[position] if position < len(args) else None
                self._node_or_nothing(chosen, out, text_mode=text_mode)
                position += 1
            elif piece.startswith("%("):
                number = int(piece[2:-2])
                chosen = args[number - 1] if 0 < number <= len(args) else None
                self._node_or_nothing(chosen, out, text_mode=text_mode)
            else:
                out.text(piece)

    def _node_or_nothing(self, node: Any, out: _Out, *, text_mode: bool = False) -> None:
        if isinstance(node, list):
            self.nodes(node, out, text_mode=text_mode)
        elif node is not None:
            self._node(node, out, [], 0, text_mode=text_mode)

    def _word(self, word: str, out: _Out) -> None:
        out.tag(_UPRIGHT, before=word[:1])
        out.text(word)
        out.tag("</span>")
        out.after_name()

    def _fraction(self, numerator: Any, denominator: Any, out: _Out) -> None:
        top, top_first, _ = _operand(self._sub(numerator, out))
        bottom, _, bottom_last = _operand(self._sub(denominator, out))
        # "x\frac12" must not read as x1/2: a fraction stands apart from what it multiplies.
        if (_ordinary(out.last) or out.last in ")]}") and _apart(top_first):
            out.space()
        out.fragment(f"{top}/{bottom}", "/", top_first, bottom_last)
        out.stand_apart()

    def _root(self, degree: Any, radicand: Any, out: _Out) -> None:
        body, _, last = _operand(self._sub(radicand, out), radicand=True)
        index = self._sub(degree, out).shape_text() if degree is not None else ""
        signs = {"": "√", "2": "√", "3": "∛", "4": "∜"}
        if index in signs:
            out.fragment(signs[index] + body, "√" + _SCRIPT_SHAPE, "√", last)
        else:
            raised = _Out(out.in_script + 1)
            self._node_or_nothing(degree, raised)
            out.fragment(f"<sup>{raised.html()}</sup>√{body}", "√" + _SCRIPT_SHAPE, "√", last)

    def _environment(self, node: Any, out: _Out) -> None:
        name = str(node.environmentname)
        opening, closing = _DELIMITERS.get(name.rstrip("*"), ("", ""))
        saved = self.cell_gap, self.row_separator
        self.cell_gap = 0
        if name.rstrip("*") in _GRIDS:
            self.cell_gap = _MATRIX_GAP if "matrix" in name else _CELL_GAP
        # A matrix stays on one line, (1 0; 0 1), so that it can stand inside an equation;
        # the rows of cases and aligned equations are statements, one a line.
        self.row_separator = "; " if "matrix" in name else "<br>"
        try:
            out.text(opening)
            # A brace spans every row in TeX; here it opens the first, so it needs air.
            if opening == "{":
                out.explicit_space(1)
            self.nodes(node.nodelist, out)
            out.cancel_row_break()
            if closing == "}":
                out.explicit_space(1)
            out.text(closing)
        finally:
            self.cell_gap, self.row_separator = saved

    def _specials(self, node: Any, out: _Out, *, text_mode: bool) -> None:
        chars = str(node.specials_chars)
        if chars == "&" and text_mode:
            out.text("&")  # "\text{R&D}": a model's ampersand, not a misplaced column break
        elif chars == "&":
            if self.cell_gap:
                out.explicit_space(self.cell_gap)
            else:
                out.space()
        elif chars == "~":
            out.explicit_space(1)
        elif text_mode:
            out.text(str(self.l2t.specials_node_to_text(node)))
        else:
            # In math "''" is a double prime and "--" two minus signs.
            out.text({"''": "″", "'''": "‴"}.get(chars, chars.replace("-", "−")))


def _nesting(source: str) -> int:
    """How deep groups, optional arguments and environments nest (an upper bound)."""
    depth = deepest = 0
    for match in re.finditer(r"\\begin\b|\\end\b|\\[{}\[\]]|[{}\[\]]", source):
        token = match.group()
        if token in ("{", "[", "\\begin"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in ("}", "]", "\\end"):
            depth = max(0, depth - 1)
    return deepest


def latex_to_html(source: str) -> str:
    """`source` (LaTeX math, without its $ delimiters) as HTML for Qt: symbols as Unicode,
    scripts as <sup>/<sub>, all text escaped. Never raises; falls back to the escaped source."""
    if len(source) > MAX_SOURCE:
        return html.escape(source)  # before the cache, which would keep huge keys alive
    return _convert(source)


# A streaming answer is rendered again on every chunk, with the same formulas in it.
@functools.lru_cache(maxsize=512)
def _convert(source: str) -> str:
    if _nesting(source) > MAX_DEPTH:
        return html.escape(source)
    try:
        contexts = _contexts()
        walker = latexwalker.LatexWalker(
            source, latex_context=contexts.walker, tolerant_parsing=False
        )
        nodes, _, _ = walker.get_latex_nodes(
            parsing_state=walker.make_parsing_state(in_math_mode=True)
        )
        out = _Out()
        _Converter(contexts).nodes(nodes, out)
        return out.html()
    except Exception:  # noqa: BLE001 - untrusted input through a parser that documents only
        # LatexWalkerError, plus latex2text's callables: whatever goes wrong, show the source.
        return html.escape(source)
