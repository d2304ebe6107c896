"""Capabilities from endpoint types, tags, Gemini metadata and the known-families table."""

from __future__ import annotations

import pytest

from bluesdesk.core.capabilities import FAMILIES, Capability, infer_capabilities

C = Capability


@pytest.mark.parametrize(
    ("model", "endpoints", "tags", "expected"),
    [
        # The gateway's endpoint types alone.
        ("mystery-model", ["openai"], [], {C.CHAT}),
        ("mystery-model", ["anthropic"], [], {C.CHAT, C.CLAUDE_NATIVE}),
        ("mystery-model", ["gemini"], [], {C.CHAT, C.GEMINI_NATIVE}),
        ("mystery-model", ["image-generation"], [], {C.IMAGE_GENERATION}),
        ("mystery-model", ["embeddings"], [], {C.EMBEDDING}),
        ("mystery-model", ["openai-video"], [], {C.VIDEO}),
        # Tags add what the endpoint does not say.
        (
            "mystery-model",
            ["openai"],
            ["Vision", "reasoning", "tools"],
            {C.CHAT, C.VISION, C.REASONING, C.TOOLS},
        ),
        # new-api lists TTS under the openai endpoint: that does not make it chat.
        ("tts-1", ["openai"], [], {C.SPEECH}),
        ("gpt-4o-mini-tts", ["openai"], [], {C.SPEECH}),
        ("whisper-1", ["openai"], [], {C.TRANSCRIPTION}),
        ("gpt-4o-transcribe", [], [], {C.TRANSCRIPTION}),
        ("text-embedding-3-small", ["openai"], [], {C.EMBEDDING}),
        ("dall-e-3", [], [], {C.IMAGE_GENERATION}),
        # The family table fills in what the gateway leaves out.
        ("gpt-4o", [], [], {C.CHAT, C.VISION, C.TOOLS, C.JSON}),
        ("o3-mini", [], [], {C.CHAT, C.TOOLS, C.JSON, C.REASONING}),
        (
            "claude-sonnet-4-5",
            [],
            [],
            {C.CHAT, C.VISION, C.TOOLS, C.JSON, C.REASONING, C.CLAUDE_NATIVE},
        ),
        ("gemini-2.0-flash", [], [], {C.CHAT, C.VISION, C.TOOLS, C.JSON, C.GEMINI_NATIVE}),
        ("deepseek-reasoner", ["openai"], [], {C.CHAT, C.TOOLS, C.JSON, C.REASONING}),
        ("qwen-vl-max", ["openai"], [], {C.CHAT, C.TOOLS, C.JSON, C.VISION}),
        (
            "gemini-2.5-flash-image",
            ["image-generation", "gemini"],
            [],
            {C.IMAGE_GENERATION, C.GEMINI_NATIVE},
        ),
    ],
)
def test_capabilities(
    model: str, endpoints: list[str], tags: list[str], expected: set[Capability]
) -> None:
    assert infer_capabilities(model, endpoints, tags).flags == frozenset(expected)


def test_gemini_metadata_gives_context_and_output_limits() -> None:
    caps = infer_capabilities(
        "some-model",
        ["openai"],
        gemini={
            "name": "some-model",
            "inputTokenLimit": 32768,
            "outputTokenLimit": 4096,
            "supportedGenerationMethods": ["generateContent"],
        },
    )
    assert (caps.context_length, caps.max_output) == (32768, 4096)
    # generateContent is listed for every model by new-api: not evidence of a Gemini model.
    assert C.GEMINI_NATIVE not in caps.flags
    embed = infer_capabilities("e", gemini={"supportedGenerationMethods": ["embedContent"]})
    assert C.EMBEDDING in embed.flags


def test_family_context_and_vendor_when_the_gateway_is_silent() -> None:
    caps = infer_capabilities("gpt-4.1-mini")
    assert caps.context_length == 1_047_576
    assert caps.vendor_hint == "OpenAI"
    assert infer_capabilities("claude-haiku-4-5").vendor_hint == "Anthropic"
    assert infer_capabilities("models/gemini-2.5-pro").vendor_hint == "Google"
    unknown = infer_capabilities("totally-new-model")
    assert (unknown.flags, unknown.context_length, unknown.vendor_hint) == (frozenset(), None, "")


def test_gateway_metadata_beats_the_table_for_context() -> None:
    caps = infer_capabilities("gpt-4o", gemini={"inputTokenLimit": 64000})
    assert caps.context_length == 64000


def test_every_family_pattern_is_lower_case_and_matches_something_plausible() -> None:
    for family in FAMILIES:
        assert family.pattern.pattern == family.pattern.pattern.lower()
        assert family.capabilities, family.pattern.pattern
