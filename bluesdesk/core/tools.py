"""Built-in tools the model may call: they run locally, need no network and cannot harm anything.

Each tool takes the JSON arguments the model sent and returns text for the `role: "tool"` reply.
Arguments are read leniently (a free-text `input`/`query` is parsed), because models - and the
emulator - fill them in loosely; a bad argument gives an error text the model can read, never an
exception. The calculator walks the `ast` of the expression: nothing is ever evaluated as code.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_EXPONENT = 10_000  # 2**10000 is fine; 9**9**9 would hang the app
MAX_EXPRESSION = 500


@dataclass(frozen=True, slots=True)
class ToolResult:
    name: str
    arguments: str  # as the model sent them (JSON text)
    content: str  # what goes back to the model
    ok: bool = True


class ToolError(ValueError):
    """An argument the tool cannot use; its text goes back to the model."""


# ---- date and time -----------------------------------------------------------------------------


def current_datetime(args: dict[str, Any], now: Callable[[], dt.datetime] | None = None) -> str:
    moment = (now or (lambda: dt.datetime.now().astimezone()))()
    return json.dumps(
        {
            "iso": moment.isoformat(timespec="seconds"),
            "date": moment.strftime("%Y-%m-%d"),
            "time": moment.strftime("%H:%M:%S"),
            "weekday": moment.strftime("%A"),
            "timezone": moment.tzname() or "",
        }
    )


# ---- calculator --------------------------------------------------------------------------------

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
_FUNCTIONS: dict[str, Callable[..., float]] = {
    "sqrt": math.sqrt,
    "abs": abs,
    "round": round,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "log": math.log,
    "exp": math.exp,
}
_CONSTANTS = {"pi": math.pi, "e": math.e}
# The longest run of characters that can be arithmetic, inside free text like "calculate 2+3*4?"
_WORDS = r"sqrt|abs|round|sin|cos|tan|log|exp|pi"
_EXPRESSION = re.compile(rf"(?:{_WORDS}|[\d(.\-])(?:{_WORDS}|[\d\s+\-*/%().,^])*[\d)]")


def _number(node: ast.AST) -> float | int:
    if isinstance(node, ast.Expression):
        return _number(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        if isinstance(node.value, bool):
            raise ToolError("not a number")
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _number(node.left), _number(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
            raise ToolError("exponent too large")
        try:
            return _BINARY[type(node.op)](left, right)  # type: ignore[no-any-return]
        except ZeroDivisionError as exc:
            raise ToolError("division by zero") from exc
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_number(node.operand))  # type: ignore[no-any-return]
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCTIONS
        and not node.keywords
        and len(node.args) <= 2
    ):
        try:
            return _FUNCTIONS[node.func.id](*(_number(a) for a in node.args))
        except (ValueError, TypeError) as exc:
            raise ToolError(f"{node.func.id}: {exc}") from exc
    raise ToolError("only numbers, + - * / // % ** ( ) and sqrt/abs/round/sin/cos/tan/log/exp")


def _expression_in(text: str) -> str:
    text = text.strip()
    if len(text) > MAX_EXPRESSION:
        raise ToolError("expression too long")
    try:
        ast.parse(text.replace("^", "**"), mode="eval")
        return text
    except SyntaxError:
        pass
    runs = [m.group(0).strip() for m in _EXPRESSION.finditer(text)]
    runs = [r for r in runs if any(c.isdigit() for c in r)]
    if not runs:
        raise ToolError("no arithmetic expression found")
    return max(runs, key=len)


def calculate(expression: str) -> float | int:
    source = _expression_in(expression).replace("^", "**").replace(",", "")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise ToolError(f"not an arithmetic expression: {expression!r}") from exc
    value = _number(tree)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return round(value, 12) if isinstance(value, float) else value


def _calculator(args: dict[str, Any]) -> str:
    text = _text_arg(args, "input", "expression", "query")
    value = calculate(text)
    return json.dumps({"expression": _expression_in(text), "result": value})


# ---- unit conversion ---------------------------------------------------------------------------

# Factors to the base unit (metre, kilogram).
_LENGTH = {
    "mm": 0.001,
    "millimeter": 0.001,
    "millimetre": 0.001,
    "cm": 0.01,
    "centimeter": 0.01,
    "centimetre": 0.01,
    "m": 1.0,
    "meter": 1.0,
    "metre": 1.0,
    "km": 1000.0,
    "kilometer": 1000.0,
    "kilometre": 1000.0,
    "in": 0.0254,
    "inch": 0.0254,
    "inches": 0.0254,
    "ft": 0.3048,
    "foot": 0.3048,
    "feet": 0.3048,
    "yd": 0.9144,
    "yard": 0.9144,
    "mi": 1609.344,
    "mile": 1609.344,
    "nmi": 1852.0,
}
_MASS = {
    "mg": 1e-6,
    "milligram": 1e-6,
    "g": 0.001,
    "gram": 0.001,
    "kg": 1.0,
    "kilogram": 1.0,
    "t": 1000.0,
    "tonne": 1000.0,
    "oz": 0.028349523125,
    "ounce": 0.028349523125,
    "lb": 0.45359237,
    "lbs": 0.45359237,
    "pound": 0.45359237,
    "st": 6.35029318,
    "stone": 6.35029318,
}
_TEMPERATURE = {
    "c": "C",
    "celsius": "C",
    "°c": "C",
    "f": "F",
    "fahrenheit": "F",
    "°f": "F",
    "k": "K",
    "kelvin": "K",
}
_QUERY = re.compile(
    r"(-?\d+(?:\.\d+)?)\s*(?:degrees?\s+)?([a-z°]+)\s+(?:to|in|into|as)\s+(?:degrees?\s+)?([a-z°]+)",
    re.IGNORECASE,
)


def _unit(name: str) -> str:
    name = name.strip().lower()
    if name in _LENGTH or name in _MASS or name in _TEMPERATURE:
        return name
    if name.endswith("s") and (name[:-1] in _LENGTH or name[:-1] in _MASS):
        return name[:-1]
    raise ToolError(f"unknown unit {name!r}")


def _to_kelvin(value: float, scale: str) -> float:
    return {"C": value + 273.15, "F": (value - 32) * 5 / 9 + 273.15, "K": value}[scale]


def _from_kelvin(value: float, scale: str) -> float:
    return {"C": value - 273.15, "F": (value - 273.15) * 9 / 5 + 32, "K": value}[scale]


def convert(value: float, source: str, target: str) -> float:
    a, b = _unit(source), _unit(target)
    for table in (_LENGTH, _MASS):
        if a in table and b in table:
            return round(value * table[a] / table[b], 6)
    if a in _TEMPERATURE and b in _TEMPERATURE:
        return round(_from_kelvin(_to_kelvin(value, _TEMPERATURE[a]), _TEMPERATURE[b]), 6)
    raise ToolError(f"cannot convert {source} to {target}")


def _convert_units(args: dict[str, Any]) -> str:
    value, source, target = args.get("value"), args.get("from_unit"), args.get("to_unit")
    query = _text_arg(args, "query", "input", required=False)
    if query:  # a free-text request wins: "5 km to miles"
        found = _QUERY.search(query)
        if found is None:
            raise ToolError("say it like '5 km to miles'")
        value, source, target = float(found.group(1)), found.group(2), found.group(3)
    if not isinstance(value, (int, float)) or not isinstance(source, str):
        raise ToolError("need a value, from_unit and to_unit (or a query like '5 km to miles')")
    if not isinstance(target, str):
        raise ToolError("need to_unit")
    result = convert(float(value), source, target)
    return json.dumps({"value": value, "from": source, "to": target, "result": result})


# ---- the registry ------------------------------------------------------------------------------


def _text_arg(args: dict[str, Any], *names: str, required: bool = True) -> str:
    for name in names:
        value = args.get(name)
        if isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value):
            return str(value)
    if required:
        raise ToolError(f"missing argument {names[0]!r}")
    return ""


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]
    run: Callable[[dict[str, Any]], str]

    def schema(self) -> dict[str, Any]:
        """The OpenAI `tools` entry (the gateway bodies translate it for Claude and Gemini)."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }


# Descriptions keep their telling words apart, so a prompt about time never looks like one about
# arithmetic (the emulator, like a model, picks tools by what the prompt mentions).
BUILTIN_TOOLS: tuple[Tool, ...] = (
    Tool(
        "date_time",
        "The local date and time right now, with weekday and timezone.",
        {"type": "object", "properties": {}},
        current_datetime,
    ),
    Tool(
        "calculator",
        "Calculate an arithmetic expression exactly (+ - * / // % ** parentheses, sqrt).",
        {
            "type": "object",
            "properties": {
                "input": {"type": "string", "description": "The expression, e.g. 2+3*4"},
            },
            "required": ["input"],
        },
        _calculator,
    ),
    Tool(
        "convert_units",
        "Convert a quantity between units of length, mass or temperature.",
        {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "The request, e.g. '5 km to miles'"},
            },
            "required": ["query"],
        },
        _convert_units,
    ),
)
_BY_NAME = {t.name: t for t in BUILTIN_TOOLS}


def tool_schemas() -> tuple[dict[str, Any], ...]:
    return tuple(t.schema() for t in BUILTIN_TOOLS)


def run_tool(name: str, arguments: str) -> ToolResult:
    """Run a built-in tool on the model's JSON arguments; failures become an error text."""
    tool = _BY_NAME.get(name)
    if tool is None:
        return ToolResult(name, arguments, f"error: no tool named {name!r}", ok=False)
    try:
        args = json.loads(arguments or "{}")
    except ValueError:
        return ToolResult(name, arguments, "error: the arguments are not valid JSON", ok=False)
    if not isinstance(args, dict):
        return ToolResult(name, arguments, "error: the arguments must be a JSON object", ok=False)
    try:
        return ToolResult(name, arguments, tool.run(args))
    except (ToolError, OverflowError, ValueError) as exc:
        return ToolResult(name, arguments, f"error: {exc}", ok=False)
