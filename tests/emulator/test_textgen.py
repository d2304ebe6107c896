"""The emulator's reply generator: deterministic, realistic, obedient to the request's limits."""

from __future__ import annotations

import base64
import io
import json
import re
from typing import Any

import pytest
from PIL import Image

from bluesdesk.emulator.textgen import (
    GenRequest,
    InputError,
    Message,
    ToolResult,
    ToolSpec,
    count_prompt_tokens,
    cut_to_tokens,
    find_city,
    generate,
    image_from_data_url,
    image_from_url,
    requested_words,
    tool_fits,
)
from bluesdesk.emulator.tokens import count_tokens

WEATHER = ToolSpec(
    "get_weather",
    "Get the current weather for a city",
    {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city"],
    },
)
STOCKS = ToolSpec(
    "get_stock_price",
    "Look up a share price",
    {"type": "object", "properties": {"ticker": {"type": "string"}}, "required": ["ticker"]},
)


def ask(text: str, **kwargs: object) -> GenRequest:
    return GenRequest(model="gpt-4o", messages=[Message("user", text)], **kwargs)  # type: ignore[arg-type]


def png_data_url(width: int, height: int, colour: tuple[int, int, int] = (30, 60, 220)) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def test_same_request_gives_same_reply_and_variants_differ() -> None:
    req = ask("Explain binary search")
    assert generate(req).text == generate(ask("Explain binary search")).text
    assert generate(req, 0).text != generate(req, 1).text
    assert generate(ask("Explain binary search", seed=7)).text != generate(req).text


def test_default_reply_exercises_a_markdown_renderer() -> None:
    text = generate(ask("Explain hash tables")).text
    assert re.search(r"^## ", text, re.M)
    assert re.search(r"^- \*\*", text, re.M)
    assert re.search(r"^1\. ", text, re.M)
    assert "|---|---|---|" in text
    assert re.search(r"^```[a-z]+\n", text, re.M) and text.count("```") == 2
    assert re.search(r"\$[^$]+\$", text)
    languages = {
        re.search(r"```([a-z]+)", generate(ask(f"topic number {i}")).text).group(1)  # type: ignore[union-attr]
        for i in range(30)
    }
    assert len(languages) >= 4


@pytest.mark.parametrize("words", [50, 500, 1200])
def test_asking_for_n_words_gives_about_n_words(words: int) -> None:
    text = generate(ask(f"Write {words} words about the ocean")).text
    assert abs(len(text.split()) - words) <= max(25, words // 10)


def test_requested_words_parsing() -> None:
    assert requested_words("write 500 words on tea") == 500
    assert requested_words("a 1,200-word essay") == 1200
    assert requested_words("no number here") is None
    assert requested_words("999999 words") == 20_000


def test_echo_and_brief_prompts() -> None:
    assert generate(ask("echo: hello there")).text == "hello there"
    brief = generate(ask("Briefly, what is rust?")).text
    assert "\n" not in brief and len(brief.split()) < 40


def test_max_tokens_cuts_with_length_finish() -> None:
    full = generate(ask("Explain caching"))
    cut = generate(ask("Explain caching", max_tokens=10))
    assert cut.finish == "length"
    assert count_tokens(cut.text) <= 10
    assert full.text.startswith(cut.text) and cut.text
    assert generate(ask("Explain caching", max_tokens=100_000)).finish == "stop"


def test_stop_sequence_cuts_before_it() -> None:
    full = generate(ask("Explain caching")).text
    stop = "### Steps"
    reply = generate(ask("Explain caching", stop=["zzz-never", stop]))
    assert reply.finish == "stop" and reply.stop_sequence == stop
    assert reply.text == full[: full.index(stop)]


def test_cut_to_tokens_is_a_prefix_within_budget() -> None:
    text = "The quick brown fox jumps over the lazy dog, repeatedly; again and again!"
    for limit in range(25):
        cut = cut_to_tokens(text, limit)
        assert text.startswith(cut) and count_tokens(cut) <= limit


def test_json_object_mode_is_a_json_object() -> None:
    value = json.loads(generate(ask("List facts about Mars", json_mode=True)).text)
    assert isinstance(value, dict) and value["points"]


def test_json_schema_mode_matches_the_schema() -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer", "minimum": 0, "maximum": 150},
            "score": {"type": "number"},
            "active": {"type": "boolean"},
            "tier": {"enum": ["gold", "silver"]},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "address": {"$ref": "#/$defs/Address"},
            "nickname": {"anyOf": [{"type": "null"}, {"type": "string"}]},
        },
        "required": ["name", "age", "score", "active", "tier", "tags", "address", "nickname"],
        "additionalProperties": False,
        "$defs": {
            "Address": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "zip": {"type": "STRING"}},
                "required": ["city", "zip"],
            }
        },
    }
    value = json.loads(
        generate(ask("Make a profile of someone living in Berlin", json_schema=schema)).text
    )
    assert set(value) == set(schema["required"])
    assert isinstance(value["name"], str)
    assert isinstance(value["age"], int) and 0 <= value["age"] <= 150
    assert isinstance(value["score"], float)
    assert value["active"] is True
    assert value["tier"] in ("gold", "silver")
    assert len(value["tags"]) >= 1 and all(isinstance(t, str) for t in value["tags"])
    assert value["address"]["city"] == "Berlin" and isinstance(value["address"]["zip"], str)
    assert isinstance(value["nickname"], str)


def test_bad_schema_ref_is_an_input_error() -> None:
    with pytest.raises(InputError):
        generate(ask("x", json_schema={"$ref": "#/$defs/Missing"}))


def test_fitting_tool_is_called_with_schema_arguments() -> None:
    reply = generate(ask("What's the weather in Tokyo today?", tools=[STOCKS, WEATHER]))
    assert reply.finish == "tool_calls" and reply.text == ""
    [call] = reply.tool_calls
    assert call.name == "get_weather"
    assert call.arguments == {"city": "Tokyo", "unit": "celsius"}
    assert call.id.startswith("call_")
    assert json.loads(call.arguments_json) == call.arguments


def test_no_tool_call_when_nothing_fits_unless_required_or_forced() -> None:
    assert not generate(ask("Tell me a joke", tools=[WEATHER])).tool_calls
    required = generate(ask("Tell me a joke", tools=[WEATHER], tool_choice="required"))
    assert [c.name for c in required.tool_calls] == ["get_weather"]
    forced = generate(ask("weather please", tools=[WEATHER, STOCKS], forced_tool="get_stock_price"))
    assert [c.name for c in forced.tool_calls] == ["get_stock_price"]
    assert not generate(ask("weather in Oslo", tools=[WEATHER], tool_choice="none")).tool_calls


def test_tool_result_follow_up_quotes_the_result() -> None:
    first = generate(ask("weather in Rome?", tools=[WEATHER]))
    call = first.tool_calls[0]
    follow = GenRequest(
        model="gpt-4o",
        messages=[
            Message("user", "weather in Rome?"),
            Message("assistant", tool_calls=[call]),
            Message("tool", tool_results=[ToolResult(call.id, call.name, '{"temp": 21}')]),
        ],
        tools=[WEATHER],
    )
    reply = generate(follow)
    assert reply.finish == "stop" and not reply.tool_calls
    assert '{"temp": 21}' in reply.text and "get_weather" in reply.text


def test_tool_fits_and_city() -> None:
    assert tool_fits(WEATHER, "is it raining? what's the weather like")
    assert not tool_fits(WEATHER, "write a poem")
    assert find_city("flights to Paris from New York") == "Paris"
    assert find_city("no place") == "Paris"
    assert find_city("the weather in San Francisco") == "San Francisco"


def test_vision_reply_states_count_and_sizes() -> None:
    msg = Message(
        "user",
        "What is in these pictures?",
        images=[image_from_url(png_data_url(64, 48)), image_from_url("https://example.com/a.png")],
    )
    req = GenRequest(model="gpt-4o", messages=[msg])
    text = generate(req).text
    assert "2 images" in text
    assert "64x48 pixels" in text and "blue" in text
    assert "https://example.com/a.png" in text and "unknown" in text
    assert count_prompt_tokens(req) > count_prompt_tokens(ask("What is in these pictures?"))


def test_bad_images_are_input_errors() -> None:
    with pytest.raises(InputError):
        image_from_data_url("data:image/png;base64,not-base64!!")
    with pytest.raises(InputError):
        image_from_data_url("data:image/png;base64," + base64.b64encode(b"not an image").decode())
    with pytest.raises(InputError):
        image_from_url("ftp://example.com/a.png")


def test_reasoning_models_think_and_max_tokens_counts_it() -> None:
    reply = generate(ask("Why is the sky blue?", reasoning=True))
    assert reply.reasoning and reply.text
    assert reply.completion_tokens == reply.text_tokens + reply.reasoning_tokens
    tight = generate(ask("Why is the sky blue?", reasoning=True, max_tokens=reply.reasoning_tokens))
    assert tight.finish == "length" and tight.text == "" and tight.reasoning == reply.reasoning
