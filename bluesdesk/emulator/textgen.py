"""Deterministic reply generation for the emulator's text routes. Pure functions, no HTTP.

Every API style (chat completions, Claude messages, Gemini, responses) first turns its request into
a `GenRequest`; `generate()` then writes a `Reply` that depends only on that request (a hash of it
seeds every choice), so the same request always gets the same answer and tests can rely on it.

What the text looks like, and why: replies are realistic markdown (headings, lists, a table, fenced
code in several languages, inline math) so a client's renderer is exercised by ordinary use. A few
prompt conventions make the generator steerable from tests and demos:

- "... 500 words ..." gives a reply of about that many words;
- "briefly" / "one sentence" / "short" gives a single short paragraph;
- a prompt starting with ``echo:`` is answered with exactly the rest of the prompt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import math
import random
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from PIL import Image, UnidentifiedImageError

from bluesdesk.emulator.tokens import count_tokens, split_tokens

Finish = Literal["stop", "length", "tool_calls"]

MAX_WORDS = 20_000  # "write N words" is capped so one request cannot ask for gigabytes
_MAX_COLOUR_PIXELS = 4096 * 4096  # larger images are measured, not averaged


class InputError(ValueError):
    """The request content is unusable (undecodable image, bad schema); routes answer 400."""


# --------------------------------------------------------------------------- request model


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """One image the model was shown. Remote images are never fetched, so their size is unknown."""

    source: Literal["data", "url"]
    width: int | None = None
    height: int | None = None
    format: str = ""
    colour: str = ""
    url: str = ""

    @property
    def tokens(self) -> int:
        # OpenAI-like pricing: a base charge plus one charge per 512-pixel tile.
        if self.width is None or self.height is None:
            return 85
        tiles = math.ceil(self.width / 512) * math.ceil(self.height / 512)
        return 85 + 170 * min(tiles, 16)


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str  # "call_<hex>"; other styles re-prefix the hex part
    name: str
    arguments: dict[str, Any]

    @property
    def arguments_json(self) -> str:
        return json.dumps(self.arguments, ensure_ascii=False)

    @property
    def hex_id(self) -> str:
        return self.id.split("_", 1)[1]


@dataclass(frozen=True, slots=True)
class ToolResult:
    call_id: str
    name: str
    content: str


@dataclass(slots=True)
class Message:
    role: Literal["system", "user", "assistant", "tool"]
    text: str = ""
    images: list[ImageInfo] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_results: list[ToolResult] = field(default_factory=list)


ToolChoice = Literal["auto", "none", "required"]


@dataclass(slots=True)
class GenRequest:
    """A text request in no particular API's shape."""

    model: str
    messages: list[Message]
    tools: list[ToolSpec] = field(default_factory=list)
    tool_choice: ToolChoice = "auto"
    forced_tool: str | None = None  # a tool the request names explicitly
    parallel_tool_calls: bool = True
    max_tokens: int | None = None
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    json_mode: bool = False
    json_schema: dict[str, Any] | None = None
    reasoning: bool = False  # the model thinks (and the request allows it)

    def fingerprint(self) -> bytes:
        """A digest of everything that shapes the reply (not max_tokens/stop: they only cut it)."""
        payload = {
            "model": self.model,
            "messages": [
                [
                    m.role,
                    m.text,
                    [[i.source, i.width, i.height, i.url] for i in m.images],
                    [[c.name, c.arguments] for c in m.tool_calls],
                    [[r.name, r.content] for r in m.tool_results],
                ]
                for m in self.messages
            ],
            "tools": [[t.name, t.description, t.parameters] for t in self.tools],
            "choice": [self.tool_choice, self.forced_tool, self.parallel_tool_calls],
            "seed": self.seed,
            "json": [self.json_mode, self.json_schema],
            "reasoning": self.reasoning,
        }
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(blob.encode()).digest()

    @property
    def images(self) -> list[ImageInfo]:
        return [img for m in self.messages for img in m.images]


@dataclass(slots=True)
class Reply:
    text: str
    reasoning: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish: Finish = "stop"
    stop_sequence: str | None = None  # the stop string that ended the text, if any

    @property
    def text_tokens(self) -> int:
        return count_tokens(self.text)

    @property
    def reasoning_tokens(self) -> int:
        return count_tokens(self.reasoning)

    @property
    def completion_tokens(self) -> int:
        calls = sum(count_tokens(c.name) + count_tokens(c.arguments_json) for c in self.tool_calls)
        return self.text_tokens + self.reasoning_tokens + calls


# --------------------------------------------------------------------------- images


def image_from_data_url(url: str) -> ImageInfo:
    """Decode a ``data:image/...;base64,...`` URL with Pillow."""
    head, sep, data = url.partition(",")
    if not sep or not head.startswith("data:") or ";base64" not in head:
        raise InputError("image data URL must be base64 encoded (data:image/...;base64,...)")
    return image_from_base64(data)


def image_from_base64(data: str) -> ImageInfo:
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError("image data is not valid base64") from exc
    try:
        with Image.open(io.BytesIO(raw)) as img:
            width, height = img.size
            fmt = img.format or ""
            colour = ""
            if width * height <= _MAX_COLOUR_PIXELS:
                rgb = img.convert("RGB").resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))
                if isinstance(rgb, tuple):
                    colour = _colour_name((int(rgb[0]), int(rgb[1]), int(rgb[2])))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise InputError("image data could not be decoded as an image") from exc
    return ImageInfo("data", width, height, fmt, colour)


def image_from_url(url: str) -> ImageInfo:
    """A data URL is decoded; anything else is remote and never fetched."""
    if url.startswith("data:"):
        return image_from_data_url(url)
    if not url.startswith(("https://", "http://")):
        raise InputError("image_url must be an https URL or a base64 data URL")
    return ImageInfo("url", url=url)


_PALETTE = {
    "black": (0, 0, 0),
    "white": (255, 255, 255),
    "grey": (128, 128, 128),
    "red": (220, 40, 40),
    "green": (40, 170, 60),
    "blue": (40, 80, 220),
    "yellow": (240, 220, 40),
    "orange": (250, 140, 30),
    "purple": (140, 60, 180),
    "pink": (250, 150, 190),
    "brown": (130, 80, 40),
    "cyan": (40, 200, 220),
}


def _colour_name(rgb: tuple[int, int, int]) -> str:
    def dist(name: str) -> int:
        ref = _PALETTE[name]
        return sum((a - b) ** 2 for a, b in zip(rgb, ref, strict=True))

    return min(_PALETTE, key=dist)


# --------------------------------------------------------------------------- token counting


def count_prompt_tokens(req: GenRequest) -> int:
    """Prompt tokens as a gateway would bill them: text, images, tool calls/results and tools."""
    total = 0
    for m in req.messages:
        total += 4 + count_tokens(m.text)  # per-message framing, as OpenAI counts it
        total += sum(img.tokens for img in m.images)
        total += sum(count_tokens(c.name) + count_tokens(c.arguments_json) for c in m.tool_calls)
        total += sum(count_tokens(r.content) for r in m.tool_results)
    if req.tools:
        total += count_tokens(
            json.dumps([[t.name, t.description, t.parameters] for t in req.tools])
        )
    return total + 3


def cut_to_tokens(text: str, limit: int) -> str:
    """The longest prefix of `text` (on streaming-piece boundaries) within `limit` tokens."""
    if limit <= 0:
        return ""
    if count_tokens(text) <= limit:
        return text
    out: list[str] = []
    used = 0
    for piece in split_tokens(text):
        n = count_tokens(piece)
        if used + n > limit:
            break
        out.append(piece)
        used += n
    result = "".join(out)
    while result and count_tokens(result) > limit:  # pieces can merge into more tokens; trim
        result = result[:-1]
    return result


# --------------------------------------------------------------------------- generation


def generate(req: GenRequest, variant: int = 0) -> Reply:
    """The reply to `req`. `variant` picks one of several answers (the `n` choices)."""
    rng = random.Random(req.fingerprint() + variant.to_bytes(4, "big"))
    prompt = _last_user_text(req)
    results = _trailing_tool_results(req)

    calls = [] if results else _tool_calls(req, prompt, rng)
    if calls:
        return Reply(text="", tool_calls=calls, finish="tool_calls")

    reasoning = _reasoning_text(prompt, results, rng) if req.reasoning else ""
    if req.json_schema is not None:
        text = json.dumps(_schema_value(req.json_schema, "", _Ctx(prompt, rng, req.json_schema)))
    elif req.json_mode:
        text = json.dumps(_json_object(prompt, rng), ensure_ascii=False)
    elif results:
        text = _tool_answer(results, prompt, rng)
    else:
        text = _prose(prompt, req.images, rng)
    return _apply_limits(req, text, reasoning)


def _apply_limits(req: GenRequest, text: str, reasoning: str) -> Reply:
    reply = Reply(text=text, reasoning=reasoning)
    hits = [(text.find(s), s) for s in req.stop if s and s in text]
    if hits:
        pos, seq = min(hits)
        reply.text = text[:pos]
        reply.stop_sequence = seq
    if req.max_tokens is not None:
        budget = req.max_tokens
        if count_tokens(reply.reasoning) > budget:
            reply.reasoning = cut_to_tokens(reply.reasoning, budget)
        budget -= count_tokens(reply.reasoning)
        if count_tokens(reply.text) > budget:
            reply.text = cut_to_tokens(reply.text, budget)
            reply.finish = "length"
            reply.stop_sequence = None
    return reply


def _last_user_text(req: GenRequest) -> str:
    for m in reversed(req.messages):
        if m.role == "user" and m.text.strip():
            return m.text.strip()
    return ""


def _trailing_tool_results(req: GenRequest) -> list[ToolResult]:
    """Tool results after the last assistant turn: the model must now answer with them."""
    results: list[ToolResult] = []
    for m in reversed(req.messages):
        if m.tool_results:
            results[:0] = m.tool_results
            continue
        if m.role == "tool":
            continue
        break
    return results


# --------------------------------------------------------------------------- tools

_GENERIC_WORDS = frozenset(
    [
        "get",
        "set",
        "fetch",
        "create",
        "list",
        "update",
        "delete",
        "search",
        "find",
        "lookup",
        "look",
        "run",
        "call",
        "make",
        "tool",
        "function",
        "the",
        "and",
        "for",
        "with",
        "from",
        "that",
        "this",
        "into",
        "your",
        "about",
        "current",
        "given",
        "specific",
        "return",
        "returns",
        "using",
        "some",
        "information",
        "data",
        "value",
        "values",
        "result",
        "results",
        "named",
        "name",
    ]
)
_CITY = re.compile(r"\b(?:in|for|at|of|near)\s+([A-Z][a-zA-Z\-]+(?:\s+[A-Z][a-zA-Z\-]+)?)")


def _words(text: str) -> set[str]:
    split = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    return {w for w in re.findall(r"[a-z]+", split.lower()) if len(w) >= 3}


def tool_fits(tool: ToolSpec, prompt: str) -> bool:
    """Whether the prompt mentions the tool: a word from its name, or a telling description word."""
    said = _words(prompt)
    said |= {w[:-1] for w in said if w.endswith("s")}
    name_words = _words(tool.name) - _GENERIC_WORDS
    desc_words = {w for w in _words(tool.description) - _GENERIC_WORDS if len(w) >= 6}
    return bool(said & (name_words | desc_words))


def _tool_calls(req: GenRequest, prompt: str, rng: random.Random) -> list[ToolCall]:
    if not req.tools or req.tool_choice == "none":
        return []
    chosen: list[ToolSpec]
    if req.forced_tool is not None:
        chosen = [t for t in req.tools if t.name == req.forced_tool][:1]
    else:
        chosen = [t for t in req.tools if tool_fits(t, prompt)]
        if not chosen and req.tool_choice == "required":
            chosen = req.tools[:1]
        if not req.parallel_tool_calls:
            chosen = chosen[:1]
        chosen = chosen[:3]
    calls = []
    for tool in chosen:
        ctx = _Ctx(prompt, rng, tool.parameters)
        args = _schema_value(tool.parameters or {"type": "object"}, "", ctx)
        if not isinstance(args, dict):
            args = {}
        call_id = "call_" + "".join(rng.choice("0123456789abcdef") for _ in range(24))
        calls.append(ToolCall(call_id, tool.name, args))
    return calls


def _tool_answer(results: list[ToolResult], prompt: str, rng: random.Random) -> str:
    lines = []
    for r in results:
        content = r.content.strip()
        if len(content) > 500:
            content = content[:500] + "…"
        label = f"`{r.name}`" if r.name else "the tool"
        lines.append(f"According to {label}, the result is: {content}")
    close = rng.choice(
        [
            "Let me know if you would like more detail.",
            "I can look up something else if you need it.",
            "That should answer your question.",
        ]
    )
    topic = _topic(prompt)
    head = f"Here is what I found about {topic}." if topic else "Here is what I found."
    return head + "\n\n" + "\n\n".join(lines) + "\n\n" + close


# --------------------------------------------------------------------------- JSON


@dataclass(slots=True)
class _Ctx:
    prompt: str
    rng: random.Random
    root: dict[str, Any]
    depth: int = 0


def _json_object(prompt: str, rng: random.Random) -> dict[str, Any]:
    topic = _topic(prompt) or "your request"
    return {
        "topic": topic,
        "summary": _sentence(topic, rng),
        "points": [_sentence(topic, rng) for _ in range(3)],
        "confidence": round(rng.uniform(0.6, 0.99), 2),
    }


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while isinstance(schema.get("$ref"), str) and seen < 32:
        ref: str = schema["$ref"]
        if not ref.startswith("#/"):
            raise InputError(f"unsupported $ref {ref!r}")
        node: Any = root
        for part in ref[2:].split("/"):
            if not isinstance(node, dict) or part not in node:
                raise InputError(f"unresolvable $ref {ref!r}")
            node = node[part]
        if not isinstance(node, dict):
            raise InputError(f"unresolvable $ref {ref!r}")
        schema = node
        seen += 1
    return schema


def _schema_type(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [str(k).lower() for k in kind if str(k).lower() != "null"]
        return kinds[0] if kinds else "null"
    if isinstance(kind, str):
        return kind.lower()  # Gemini writes OBJECT, STRING, ...
    if "properties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return "string"


def _schema_value(schema: Any, name: str, ctx: _Ctx) -> Any:
    """A value that satisfies `schema` (types, enums, required properties, simple bounds)."""
    if not isinstance(schema, dict):
        return _string_for(name, {}, ctx)
    schema = _resolve(schema, ctx.root)
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            usable = [o for o in options if isinstance(o, dict) and o.get("type") != "null"]
            return _schema_value((usable or options)[0], name, ctx)
    if isinstance(schema.get("allOf"), list) and schema["allOf"]:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(_resolve(part, ctx.root) if isinstance(part, dict) else {})
        return _schema_value(merged, name, ctx)
    if ctx.depth > 12:  # recursive schemas: stop with the smallest valid value
        return _smallest(_schema_type(schema))
    kind = _schema_type(schema)
    ctx.depth += 1
    try:
        if kind == "object":
            props = schema.get("properties") or {}
            if not isinstance(props, dict):
                props = {}
            return {key: _schema_value(sub, key, ctx) for key, sub in props.items()}
        if kind == "array":
            low = int(schema.get("minItems", 0))
            high = int(schema.get("maxItems", max(low, 3)))
            count = max(low, min(high, 2))
            item_schema = schema.get("items", {"type": "string"})
            singular = name[:-1] if name.endswith("s") else name
            return [_schema_value(item_schema, singular, ctx) for _ in range(count)]
    finally:
        ctx.depth -= 1
    if kind == "integer":
        return int(_number_for(name, schema, ctx, integer=True))
    if kind == "number":
        return _number_for(name, schema, ctx, integer=False)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string_for(name, schema, ctx)


def _smallest(kind: str) -> Any:
    return {
        "object": {},
        "array": [],
        "integer": 0,
        "number": 0,
        "boolean": False,
        "null": None,
    }.get(kind, "")


def _number_for(name: str, schema: dict[str, Any], ctx: _Ctx, *, integer: bool) -> float:
    lowered = name.lower()
    guess: float
    if "age" in lowered:
        guess = 36
    elif "year" in lowered:
        guess = 2024
    elif any(w in lowered for w in ("count", "number", "limit", "days", "quantity")):
        guess = 3
    elif any(w in lowered for w in ("lat",)):
        guess = 48.8566
    elif any(w in lowered for w in ("lon", "lng")):
        guess = 2.3522
    else:
        guess = 42 if integer else round(ctx.rng.uniform(0.1, 99.9), 2)
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    if isinstance(low, int | float) and guess < low:
        guess = low + (1 if "exclusiveMinimum" in schema else 0)
    if isinstance(high, int | float) and guess > high:
        guess = high - (1 if "exclusiveMaximum" in schema else 0)
    return float(round(guess)) if integer else float(guess)


def _string_for(name: str, schema: dict[str, Any], ctx: _Ctx) -> str:
    lowered = name.lower()
    fmt = str(schema.get("format", "")).lower()
    value: str
    if fmt == "date":
        value = "2025-01-15"
    elif fmt == "date-time":
        value = "2025-01-15T09:30:00Z"
    elif fmt == "email" or "email" in lowered:
        value = "ada@example.com"
    elif fmt in ("uri", "url") or lowered.endswith("url"):
        value = "https://example.com/resource"
    elif any(w in lowered for w in ("city", "location", "place", "town", "destination")):
        value = find_city(ctx.prompt)
    elif lowered in ("query", "q", "search", "search_query", "prompt", "question", "text", "input"):
        value = ctx.prompt[:200] or "example"
    elif "unit" in lowered:
        value = "celsius"
    elif lowered in ("name", "full_name", "author", "person"):
        value = "Ada Lovelace"
    elif "country" in lowered:
        value = "France"
    elif lowered.endswith("id") or lowered == "id":
        value = f"item-{ctx.rng.randint(1, 999)}"
    elif "language" in lowered or lowered == "lang":
        value = "en"
    else:
        topic = _topic(ctx.prompt) or "the request"
        value = (
            _sentence(topic, ctx.rng).rstrip(".")
            if lowered in ("summary", "description", "answer", "reason")
            else (
                _title(topic)
                if lowered in ("title", "topic", "subject")
                else _phrase(topic, ctx.rng)
            )
        )
    low = int(schema.get("minLength", 0))
    high = schema.get("maxLength")
    if len(value) < low:
        value = value + "x" * (low - len(value))
    if isinstance(high, int) and len(value) > high:
        value = value[:high]
    return value


def find_city(prompt: str) -> str:
    """The place a prompt names ("weather in Paris" → "Paris"), else Paris."""
    match = _CITY.search(prompt)
    return match.group(1) if match else "Paris"


# --------------------------------------------------------------------------- prose

_ADJECTIVES = [
    "robust",
    "elegant",
    "practical",
    "scalable",
    "careful",
    "simple",
    "modern",
    "reliable",
    "incremental",
    "well-tested",
]
_NOUNS = [
    "approach",
    "design",
    "trade-off",
    "pattern",
    "baseline",
    "workflow",
    "model",
    "constraint",
    "interface",
    "pipeline",
]
_VERBS = [
    "improves",
    "clarifies",
    "simplifies",
    "shapes",
    "supports",
    "reveals",
    "balances",
    "strengthens",
    "guides",
    "frames",
]
_OPENERS = [
    "In practice,",
    "At its core,",
    "Put simply,",
    "Importantly,",
    "For most teams,",
    "As a rule of thumb,",
    "In many cases,",
    "Over time,",
]
_CLOSERS = [
    "when the constraints are clear",
    "without adding hidden complexity",
    "as long as the feedback loop stays short",
    "for both small and large projects",
    "once the basics are in place",
    "with a little discipline",
]
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "on",
        "for",
        "and",
        "or",
        "please",
        "can",
        "you",
        "could",
        "would",
        "me",
        "about",
        "write",
        "explain",
        "tell",
        "describe",
        "give",
        "what",
        "how",
        "why",
        "is",
        "are",
        "do",
        "does",
        "i",
        "my",
        "with",
    ]
)
_IMPERATIVES = ["Define", "Measure", "Review", "Refine", "Document", "Test", "Automate", "Compare"]

_CODE = {
    "python": 'def summarize(items: list[str]) -> str:\n    """Join the first three items."""\n'
    '    return ", ".join(items[:3])\n\n\nprint(summarize(["{a}", "{b}", "{c}"]))',
    "javascript": "function summarize(items) {{\n  return items.slice(0, 3).join(', ');\n}}\n\n"
    "console.log(summarize(['{a}', '{b}', '{c}']));",
    "rust": "fn summarize(items: &[&str]) -> String {{\n    items.iter().take(3).cloned()"
    '.collect::<Vec<_>>().join(", ")\n}}\n\nfn main() {{\n    println!("{{}}", '
    'summarize(&["{a}", "{b}", "{c}"]));\n}}',
    "go": 'package main\n\nimport (\n\t"fmt"\n\t"strings"\n)\n\nfunc main() {{\n\titems := '
    '[]string{{"{a}", "{b}", "{c}"}}\n\tfmt.Println(strings.Join(items, ", "))\n}}',
    "sql": "SELECT topic, COUNT(*) AS mentions\nFROM notes\nWHERE topic IN ('{a}', '{b}', '{c}')\n"
    "GROUP BY topic\nORDER BY mentions DESC;",
    "bash": 'for item in "{a}" "{b}" "{c}"; do\n  printf \'%s\\n\' "$item"\ndone | sort',
}
_MATH = [
    "$E = mc^2$",
    "$a^2 + b^2 = c^2$",
    r"$\sum_{i=1}^{n} i = \frac{n(n+1)}{2}$",
    r"$O(n \log n)$",
    r"$e^{i\pi} + 1 = 0$",
]


def _topic(prompt: str) -> str:
    words = [
        w
        for w in re.findall(r"[A-Za-z][A-Za-z0-9\-']*", prompt)
        if w.lower() not in _STOP and not w.isdigit() and w.lower() not in ("words", "word")
    ]
    return " ".join(words[:5]).lower()


def _title(topic: str) -> str:
    return " ".join(w.capitalize() for w in topic.split()) or "Overview"


def _phrase(topic: str, rng: random.Random) -> str:
    return f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} for {topic}"


def _a(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def _sentence(topic: str, rng: random.Random) -> str:
    return (
        f"{rng.choice(_OPENERS)} {_a(rng.choice(_ADJECTIVES))} {rng.choice(_NOUNS)} "
        f"{rng.choice(_VERBS)} {topic} {rng.choice(_CLOSERS)}."
    )


def requested_words(prompt: str) -> int | None:
    """'write 500 words', '300-word essay', 'in 1,200 words' → the number of words asked for."""
    match = re.search(r"(\d[\d,]{0,6})[\s\-]*words?\b", prompt, re.IGNORECASE)
    if not match:
        return None
    n = int(match.group(1).replace(",", ""))
    return min(n, MAX_WORDS) if n > 0 else None


def _prose(prompt: str, images: list[ImageInfo], rng: random.Random) -> str:
    if prompt.lower().startswith("echo:"):
        return prompt[5:].strip()
    topic = _topic(prompt) or "your question"
    parts: list[str] = []
    if images:
        parts.append(_vision_summary(images))
    words = requested_words(prompt)
    if words is not None:
        parts.append(_long_text(topic, words - sum(len(p.split()) for p in parts), rng))
    elif re.search(r"\b(briefly|brief|short|one sentence|one line|tl;?dr)\b", prompt, re.I):
        parts.append(_sentence(topic, rng))
    else:
        parts.append(_rich(topic, rng))
    return "\n\n".join(parts)


def _vision_summary(images: list[ImageInfo]) -> str:
    n = len(images)
    lines = [f"I can see {n} image{'s' if n != 1 else ''}:"]
    for i, img in enumerate(images, 1):
        if img.width is not None and img.height is not None:
            detail = f"{img.width}x{img.height} pixels"
            if img.format:
                detail += f", {img.format}"
            if img.colour:
                detail += f", mostly {img.colour}"
            lines.append(f"- Image {i}: {detail}.")
        else:
            lines.append(
                f"- Image {i}: a remote image ({img.url}); its size is unknown because "
                "remote images are not fetched."
            )
    return "\n".join(lines)


def _long_text(topic: str, words: int, rng: random.Random) -> str:
    heading = f"## {_title(topic)}"
    paragraphs: list[str] = []
    count = len(heading.split())
    while count < words:
        sentences = []
        for _ in range(rng.randint(3, 6)):
            s = _sentence(topic, rng)
            sentences.append(s)
            count += len(s.split())
            if count >= words:
                break
        paragraphs.append(" ".join(sentences))
    return "\n\n".join([heading, *paragraphs])


def _rich(topic: str, rng: random.Random) -> str:
    lang = rng.choice(sorted(_CODE))
    a, b, c = (rng.choice(_NOUNS) for _ in range(3))
    code = _CODE[lang].format(a=a, b=b, c=c)
    math_a, math_b = rng.sample(_MATH, 2)
    rows = "\n".join(
        f"| {_title(rng.choice(_NOUNS))} | {rng.choice(_ADJECTIVES)} | {rng.randint(1, 10)}/10 |"
        for _ in range(3)
    )
    points = "\n".join(
        f"- **{_title(rng.choice(_NOUNS))}**: {_sentence(topic, rng)}" for _ in range(3)
    )
    steps = "\n".join(
        f"{i}. {rng.choice(_IMPERATIVES)} the {rng.choice(_NOUNS)}." for i in range(1, 4)
    )
    return (
        f"## {_title(topic)}\n\n"
        f"{_sentence(topic, rng)} {_sentence(topic, rng)}\n\n"
        f"### Key points\n\n{points}\n\n"
        f"### Steps\n\n{steps}\n\n"
        f"### Comparison\n\n| Aspect | Quality | Score |\n|---|---|---|\n{rows}\n\n"
        f"### Example\n\n```{lang}\n{code}\n```\n\n"
        f"A useful reminder is {math_a}, and the cost grows like {math_b}.\n\n"
        f"> {_sentence(topic, rng)}"
    )


def _reasoning_text(prompt: str, results: list[ToolResult], rng: random.Random) -> str:
    topic = _topic(prompt) or "the question"
    steps = [
        f"The user is asking about {topic}.",
        "I have tool output to use, so I should quote it accurately."
        if results
        else f"I should first recall what matters most about {topic}.",
        f"{_a(rng.choice(_ADJECTIVES)).capitalize()} {rng.choice(_NOUNS)} seems like the clearest "
        "way to explain it.",
        "Then I will structure the answer with headings, a short list and an example.",
        f"Let me double-check the {rng.choice(_NOUNS)} before answering.",
    ]
    return " ".join(steps)
