"""The official `openai` and `anthropic` SDKs, as real clients, against the emulator's text routes.

If an SDK can parse what the emulator sends, so can anything built to talk to the real gateways.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest
from PIL import Image
from pydantic import BaseModel

from bluesdesk.emulator import EmulatorConfig, EmulatorServer, Flavor
from bluesdesk.emulator.accounts import DEMO

WEATHER: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    server = EmulatorServer(EmulatorConfig(flavor=Flavor.BLUESMINDS, port=0, rpm=100_000))
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture
def oai(base: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(api_key=DEMO.api_key, base_url=base + "/v1", max_retries=0) as c:
        yield c


@pytest.fixture
def claude(base: str) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(api_key=DEMO.api_key, base_url=base, max_retries=0) as c:
        yield c


# --------------------------------------------------------------------------- openai


def test_openai_models_list(oai: openai.OpenAI) -> None:
    ids = [m.id for m in oai.models.list()]
    assert "gpt-4o" in ids and len(ids) >= 50


def test_openai_chat_non_stream(oai: openai.OpenAI) -> None:
    done = oai.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "Explain quicksort"}], max_tokens=30
    )
    choice = done.choices[0]
    assert choice.finish_reason == "length" and choice.message.content
    assert done.usage is not None and 0 < done.usage.completion_tokens <= 30


def test_openai_chat_stream(oai: openai.OpenAI) -> None:
    whole = oai.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "Explain quicksort"}]
    )
    stream = oai.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Explain quicksort"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    parts: list[str] = []
    finish = None
    usage = None
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            parts.append(choice.delta.content or "")
            finish = choice.finish_reason or finish
    assert "".join(parts) == whole.choices[0].message.content
    assert finish == "stop"
    assert usage is not None and usage.total_tokens == whole.usage.total_tokens  # type: ignore[union-attr]


def test_openai_stream_helper_with_tools(oai: openai.OpenAI) -> None:
    with oai.chat.completions.stream(
        model="gpt-4o",
        messages=[{"role": "user", "content": "What is the weather in Vienna?"}],
        tools=[WEATHER],
    ) as stream:
        for _ in stream:
            pass
        final = stream.get_final_completion()
    [call] = final.choices[0].message.tool_calls or []
    assert final.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Vienna"}


def test_openai_tool_round_trip(oai: openai.OpenAI) -> None:
    messages: list[Any] = [{"role": "user", "content": "weather in Seoul?"}]
    first = oai.chat.completions.create(model="gpt-4o", messages=messages, tools=[WEATHER])
    message = first.choices[0].message
    [call] = message.tool_calls or []
    messages += [
        message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "rain, 12C"},
    ]
    final = oai.chat.completions.create(model="gpt-4o", messages=messages, tools=[WEATHER])
    assert "rain, 12C" in (final.choices[0].message.content or "")


def test_openai_json_mode_and_structured_parse(oai: openai.OpenAI) -> None:
    obj = oai.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Facts about Venus as JSON"}],
        response_format={"type": "json_object"},
    )
    assert isinstance(json.loads(obj.choices[0].message.content or ""), dict)

    class City(BaseModel):
        name: str
        country: str
        population: int
        landmarks: list[str]

    parsed = oai.beta.chat.completions.parse(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Describe a city"}],
        response_format=City,
    )
    city = parsed.choices[0].message.parsed
    assert isinstance(city, City) and city.landmarks


def test_openai_vision(oai: openai.OpenAI) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (123, 45), (0, 200, 0)).save(buf, "PNG")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    reply = oai.chat.completions.create(
        model="gpt-4o",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What do you see?"},
                    {"type": "image_url", "image_url": {"url": url}},
                ],
            }
        ],
    )
    assert "123x45 pixels" in (reply.choices[0].message.content or "")
    with pytest.raises(openai.BadRequestError):
        oai.chat.completions.create(
            model="gpt-3.5-turbo",
            messages=[
                {"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}
            ],
        )


def test_openai_responses(oai: openai.OpenAI) -> None:
    whole = oai.responses.create(model="gpt-4o", input="Explain UDP")
    assert whole.output_text and whole.usage is not None
    with oai.responses.stream(model="gpt-4o", input="Explain UDP") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == whole.output_text == final.output_text


def test_openai_unknown_model_is_not_found(oai: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        oai.chat.completions.create(
            model="no-such-model", messages=[{"role": "user", "content": "hi"}]
        )


# --------------------------------------------------------------------------- anthropic


def test_anthropic_models_list(claude: anthropic.Anthropic) -> None:
    ids = [m.id for m in claude.models.list()]
    assert "claude-sonnet-4-5" in ids


def test_anthropic_message_create(claude: anthropic.Anthropic) -> None:
    message = claude.messages.create(
        model="claude-haiku-4-5",
        max_tokens=1024,
        system="Be helpful.",
        messages=[{"role": "user", "content": "Explain recursion"}],
    )
    assert message.stop_reason == "end_turn"
    assert message.content[0].type == "text" and "## " in message.content[0].text


def test_anthropic_messages_stream(claude: anthropic.Anthropic) -> None:
    with claude.messages.stream(
        model="claude-haiku-4-5",
        max_tokens=1024,
        messages=[{"role": "user", "content": "Explain recursion"}],
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text and final.content[0].type == "text" and final.content[0].text == text
    assert final.stop_reason == "end_turn" and final.usage.output_tokens > 0


def test_anthropic_stream_with_thinking(claude: anthropic.Anthropic) -> None:
    with claude.messages.stream(
        model="claude-sonnet-4-5-thinking",
        max_tokens=4096,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[{"role": "user", "content": "Why is the sea salty?"}],
    ) as stream:
        final = stream.get_final_message()
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert final.content[0].thinking and final.content[0].signature  # type: ignore[union-attr]


def test_anthropic_tool_use_stream(claude: anthropic.Anthropic) -> None:
    tool: Any = {
        "name": "get_weather",
        "description": "Current weather for a city",
        "input_schema": WEATHER["function"]["parameters"],
    }
    with claude.messages.stream(
        model="claude-haiku-4-5",
        max_tokens=512,
        tools=[tool],
        messages=[{"role": "user", "content": "weather in Dublin?"}],
    ) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    [use] = [b for b in final.content if b.type == "tool_use"]
    assert use.name == "get_weather" and use.input == {"city": "Dublin"}
    answer = claude.messages.create(
        model="claude-haiku-4-5",
        max_tokens=512,
        tools=[tool],
        messages=[
            {"role": "user", "content": "weather in Dublin?"},
            {"role": "assistant", "content": final.content},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "windy, 9C"}],
            },
        ],
    )
    assert "windy, 9C" in answer.content[0].text  # type: ignore[union-attr]


def test_anthropic_count_tokens_and_errors(claude: anthropic.Anthropic) -> None:
    counted = claude.messages.count_tokens(
        model="claude-haiku-4-5", messages=[{"role": "user", "content": "Hello"}]
    )
    assert counted.input_tokens > 0
    with pytest.raises(anthropic.BadRequestError) as info:
        claude.messages.create(
            model="claude-3-5-haiku",
            max_tokens=100,
            messages=[
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "image",
                            "source": {"type": "url", "url": "https://example.com/x.png"},
                        }
                    ],
                }
            ],
        )
    assert info.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
