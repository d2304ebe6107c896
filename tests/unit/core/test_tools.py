"""The built-in tools: exact arithmetic without eval, unit conversion, date/time, bad input."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bluesdesk.core.tools import (
    ToolError,
    calculate,
    convert,
    current_datetime,
    run_tool,
    tool_schemas,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2+3*4", 14),
        ("calculate 2+3*4", 14),
        ("What is (1.5 + 2.5) / 2?", 2),
        ("2^10", 1024),
        ("-3 ** 2", -9),
        ("sqrt(16) + 1", 5),
        ("1,000 * 3", 3000),
        ("7 // 2 + 7 % 2", 4),
    ],
)
def test_calculator_parses_arithmetic(text: str, value: float) -> None:
    assert calculate(text) == value


@pytest.mark.parametrize(
    "text",
    ["__import__('os').system('true')", "1/0", "9**9**9", "open('x')", "no numbers here"],
)
def test_calculator_refuses_anything_but_arithmetic(text: str) -> None:
    with pytest.raises(ToolError):
        calculate(text)


def test_conversions() -> None:
    assert convert(5, "km", "miles") == pytest.approx(3.106856, abs=1e-6)
    assert convert(1, "lb", "g") == pytest.approx(453.59237)
    assert convert(100, "celsius", "F") == pytest.approx(212)
    assert convert(32, "F", "K") == pytest.approx(273.15)
    with pytest.raises(ToolError):
        convert(1, "km", "kg")


def test_run_tool_reads_free_text_and_reports_errors() -> None:
    done = run_tool("convert_units", json.dumps({"query": "convert 5 km to miles"}))
    assert done.ok and json.loads(done.content)["result"] == pytest.approx(3.106856)
    calc = run_tool("calculator", json.dumps({"input": "calculate 2+3*4"}))
    assert json.loads(calc.content)["result"] == 14
    assert not run_tool("calculator", "{not json").ok
    assert not run_tool("calculator", json.dumps({"input": "1/0"})).ok
    assert run_tool("rm_rf", "{}").content.startswith("error")


def test_date_time_and_schemas() -> None:
    moment = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
    out = json.loads(current_datetime({}, now=lambda: moment))
    assert (
        out["date"] == "2026-03-04" and out["time"] == "05:06:07" and out["weekday"] == "Wednesday"
    )
    assert json.loads(run_tool("date_time", "").content)["date"]
    names = [s["function"]["name"] for s in tool_schemas()]
    assert names == ["date_time", "calculator", "convert_units"]
