"""Chat request bodies per API style, from the app's OpenAI-shaped messages."""

from __future__ import annotations

from bluesdesk.core.models import ApiStyle, ChatMessage, ChatParams
from bluesdesk.gateway.bodies import chat_body, chat_path

PNG = "data:image/png;base64,iVBORw0KGgo="
TOOL = {
    "type": "function",
    "function": {"name": "weather", "description": "Look up", "parameters": {"type": "object"}},
}
CONVERSATION = [
    ChatMessage("system", "Be brief."),
    ChatMessage(
        "user",
        [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": PNG}},
        ],
    ),
    ChatMessage(
        "assistant",
        "",
        tool_calls=(
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "weather", "arguments": '{"city": "Oslo"}'},
            },
        ),
    ),
    ChatMessage("tool", "Sunny", tool_call_id="call_1"),
]
PARAMS = ChatParams(
    model="m", temperature=0.5, top_p=0.9, max_tokens=100, stop=("END",), seed=7, tools=(TOOL,)
)


def test_paths() -> None:
    assert chat_path(ApiStyle.OPENAI, "m", stream=True) == "chat/completions"
    assert chat_path(ApiStyle.CLAUDE, "m", stream=True) == "messages"
    assert chat_path(ApiStyle.GEMINI, "g", stream=True) == (
        "/v1beta/models/g:streamGenerateContent?alt=sse"
    )
    assert chat_path(ApiStyle.GEMINI, "g", stream=False) == "/v1beta/models/g:generateContent"


def test_openai_body() -> None:
    body = chat_body(ApiStyle.OPENAI, CONVERSATION, PARAMS, stream=True)
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert body["messages"][2]["tool_calls"][0]["id"] == "call_1"
    assert body["messages"][3]["tool_call_id"] == "call_1"
    assert (body["temperature"], body["top_p"], body["max_tokens"], body["seed"]) == (
        0.5,
        0.9,
        100,
        7,
    )
    assert body["stop"] == ["END"]
    assert body["tools"] == [TOOL]
    assert "response_format" not in body


def test_openai_extra_params_pass_through() -> None:
    params = ChatParams(model="m", extra={"reasoning_effort": "low"})
    body = chat_body(ApiStyle.OPENAI, [ChatMessage("user", "x")], params, stream=False)
    assert body["reasoning_effort"] == "low"
    assert "stream_options" not in body


def test_claude_body() -> None:
    body = chat_body(ApiStyle.CLAUDE, CONVERSATION, PARAMS, stream=True)
    assert body["system"] == "Be brief."
    assert body["max_tokens"] == 100
    assert body["stop_sequences"] == ["END"]
    user, assistant, tool_result = body["messages"]
    assert user["content"][1] == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
    }
    assert assistant["content"] == [
        {"type": "tool_use", "id": "call_1", "name": "weather", "input": {"city": "Oslo"}}
    ]
    assert tool_result == {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": "Sunny"}],
    }
    assert body["tools"] == [
        {"name": "weather", "description": "Look up", "input_schema": {"type": "object"}}
    ]


def test_claude_needs_max_tokens() -> None:
    body = chat_body(
        ApiStyle.CLAUDE, [ChatMessage("user", "x")], ChatParams(model="c"), stream=False
    )
    assert body["max_tokens"] > 0
    assert "system" not in body


def test_gemini_body() -> None:
    body = chat_body(ApiStyle.GEMINI, CONVERSATION[:2], PARAMS, stream=True)
    assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert body["contents"] == [
        {
            "role": "user",
            "parts": [
                {"text": "What is this?"},
                {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
            ],
        }
    ]
    assert body["generationConfig"] == {
        "temperature": 0.5,
        "topP": 0.9,
        "maxOutputTokens": 100,
        "seed": 7,
        "stopSequences": ["END"],
    }
    assert body["tools"] == [{"functionDeclarations": [TOOL["function"]]}]


def test_gemini_assistant_is_model_role() -> None:
    body = chat_body(
        ApiStyle.GEMINI,
        [ChatMessage("user", "a"), ChatMessage("assistant", "b")],
        ChatParams(model="g"),
        stream=False,
    )
    assert [c["role"] for c in body["contents"]] == ["user", "model"]
    assert "generationConfig" not in body
