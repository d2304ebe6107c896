"""What a model can do, from what the gateway says about it plus a table of known families.

Evidence, strongest first:

1. new-api endpoint types (`supported_endpoint_types` in /v1/models and /api/pricing):
   `anthropic` → Claude-native, `gemini` → Gemini-native, `image-generation` → image generation,
   `embeddings` → embedding, `openai`/`openai-response` → chat (unless the model is known to be
   something other than a chat model: new-api lists TTS models under `openai` too).
2. Gemini metadata from /v1beta/models: token limits, and `embedContent` in
   `supportedGenerationMethods` (new-api lists every model with generateContent).
3. Tags from /api/pricing ("vision", "reasoning", "embedding", …).
4. `FAMILIES` below, for what the gateway does not say. Each row is a regular expression over
   the lower-cased model id; every matching row adds its capabilities, and the first row with a
   context length gives it. The table is deliberately small: it names families whose abilities
   are public and stable, and it never removes what the gateway said.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


class Capability(enum.StrEnum):
    CHAT = "chat"
    VISION = "vision"
    TOOLS = "tools"
    JSON = "json"
    REASONING = "reasoning"
    IMAGE_GENERATION = "image_generation"
    SPEECH = "speech"  # text to speech
    TRANSCRIPTION = "transcription"  # speech to text
    CLAUDE_NATIVE = "claude_native"  # POST /v1/messages
    GEMINI_NATIVE = "gemini_native"  # POST /v1beta/models/{model}:generateContent
    EMBEDDING = "embedding"
    VIDEO = "video"  # asynchronous video tasks


# Capabilities that make a model "not a chat model" even when listed under the openai endpoint.
NON_CHAT = frozenset(
    {
        Capability.IMAGE_GENERATION,
        Capability.SPEECH,
        Capability.TRANSCRIPTION,
        Capability.EMBEDDING,
        Capability.VIDEO,
    }
)

ENDPOINT_CAPABILITIES: Mapping[str, frozenset[Capability]] = {
    "openai": frozenset({Capability.CHAT}),
    "openai-response": frozenset({Capability.CHAT}),
    "anthropic": frozenset({Capability.CHAT, Capability.CLAUDE_NATIVE}),
    "gemini": frozenset({Capability.GEMINI_NATIVE}),
    "image-generation": frozenset({Capability.IMAGE_GENERATION}),
    "embeddings": frozenset({Capability.EMBEDDING}),
    "jina-rerank": frozenset(),
    "openai-video": frozenset({Capability.VIDEO}),
}

TAG_CAPABILITIES: Mapping[str, Capability] = {
    "vision": Capability.VISION,
    "multimodal": Capability.VISION,
    "tools": Capability.TOOLS,
    "function-calling": Capability.TOOLS,
    "function_calling": Capability.TOOLS,
    "json": Capability.JSON,
    "reasoning": Capability.REASONING,
    "thinking": Capability.REASONING,
    "image": Capability.IMAGE_GENERATION,
    "image-generation": Capability.IMAGE_GENERATION,
    "tts": Capability.SPEECH,
    "speech": Capability.SPEECH,
    "stt": Capability.TRANSCRIPTION,
    "transcription": Capability.TRANSCRIPTION,
    "embedding": Capability.EMBEDDING,
    "embeddings": Capability.EMBEDDING,
    "video": Capability.VIDEO,
}

C = Capability
_CHAT_FULL = frozenset({C.CHAT, C.VISION, C.TOOLS, C.JSON})
_CHAT_TEXT = frozenset({C.CHAT, C.TOOLS, C.JSON})


@dataclass(frozen=True, slots=True)
class Family:
    """One row of the known-families table."""

    pattern: re.Pattern[str]
    capabilities: frozenset[Capability]
    vendor: str = ""
    context_length: int | None = None


def _f(
    pattern: str, caps: Iterable[Capability], vendor: str = "", context: int | None = None
) -> Family:
    return Family(re.compile(pattern), frozenset(caps), vendor, context)


# Order matters only for the vendor and the context length (first match wins); capabilities add up.
FAMILIES: tuple[Family, ...] = (
    # Non-chat OpenAI models first, so that "gpt-4o-mini-tts" is not taken for gpt-4o.
    _f(r"(^|[-/])tts|text-to-speech", {C.SPEECH}, "OpenAI"),
    _f(r"whisper|transcribe|(^|[-/])stt", {C.TRANSCRIPTION}, "OpenAI"),
    _f(r"^text-embedding-(3|ada)", {C.EMBEDDING}, "OpenAI"),
    _f(r"^(text-embedding-0|gemini-embedding)", {C.EMBEDDING}, "Google"),
    _f(r"embed", {C.EMBEDDING}),
    _f(r"^(dall-e|gpt-image)", {C.IMAGE_GENERATION}, "OpenAI"),
    _f(r"^sora", {C.VIDEO}, "OpenAI"),
    _f(r"^veo", {C.VIDEO}, "Google"),
    _f(r"^(kling|runway)|video", {C.VIDEO}),
    _f(r"stable-diffusion|^sd[-\d]|flux|midjourney|^mj-|imagen|-image($|-)", {C.IMAGE_GENERATION}),
    # OpenAI chat
    _f(r"^gpt-5", _CHAT_FULL | {C.REASONING}, "OpenAI", 400_000),
    _f(r"^gpt-4\.1", _CHAT_FULL, "OpenAI", 1_047_576),
    _f(r"^(gpt-4o|chatgpt-4o)", _CHAT_FULL, "OpenAI", 128_000),
    _f(r"^gpt-4-(turbo|vision)", _CHAT_FULL, "OpenAI", 128_000),
    _f(r"^gpt-4($|-\d)", _CHAT_TEXT, "OpenAI", 8_192),
    _f(r"^gpt-3\.5-turbo", _CHAT_TEXT, "OpenAI", 16_385),
    _f(r"^o[13]-mini", _CHAT_TEXT | {C.REASONING}, "OpenAI", 200_000),  # no image input
    _f(r"^o[134]($|-(?!mini))|^o4-mini", _CHAT_FULL | {C.REASONING}, "OpenAI", 200_000),
    # Anthropic: every Claude 3+ model reads images; 3.7 and 4.x think.
    _f(r"^claude-(3-7|.*-4|4|opus-4|sonnet-4|haiku-4)|thinking", {C.REASONING}),
    _f(r"^claude", _CHAT_FULL | {C.CLAUDE_NATIVE}, "Anthropic", 200_000),
    # Google
    _f(r"^gemini-2\.5", {C.REASONING}),
    _f(r"^gemini", _CHAT_FULL | {C.GEMINI_NATIVE}, "Google", 1_048_576),
    _f(r"^gemma", {C.CHAT}, "Google"),
    # Others
    _f(r"^deepseek-(reasoner|r1)|-r1($|-)|qwq|reasoner", {C.REASONING}),
    _f(r"^deepseek", _CHAT_TEXT, "DeepSeek", 128_000),
    _f(r"^grok-(3-mini|4)", {C.REASONING}),
    _f(r"^grok-4", {C.VISION}),
    _f(r"^grok", _CHAT_TEXT, "xAI", 131_072),
    _f(r"^(qwen-vl|qvq)|-vl(-|$)|pixtral|llava|vision", {C.VISION}),
    _f(r"^(qwen|qwq|qvq)", _CHAT_TEXT, "Alibaba"),
    _f(r"^(mistral|codestral|pixtral|ministral|magistral)", _CHAT_TEXT, "Mistral"),
    _f(r"^llama", {C.CHAT}, "Meta"),
    _f(r"^glm", _CHAT_TEXT, "Zhipu"),
    _f(r"^(kimi|moonshot)", _CHAT_TEXT, "Moonshot"),
)


@dataclass(frozen=True, slots=True)
class Capabilities:
    flags: frozenset[Capability]
    context_length: int | None = None
    max_output: int | None = None
    vendor_hint: str = ""  # from the family table, for gateways that name no vendor

    def has(self, capability: Capability) -> bool:
        return capability in self.flags


def matching_families(model_id: str) -> list[Family]:
    name = model_id.lower().rsplit("/", 1)[-1]  # "models/gemini-x" and "org/model" forms
    return [f for f in FAMILIES if f.pattern.search(name)]


def infer_capabilities(
    model_id: str,
    endpoint_types: Iterable[str] = (),
    tags: Iterable[str] = (),
    gemini: Mapping[str, Any] | None = None,
) -> Capabilities:
    """Capabilities of `model_id` from the gateway's evidence and the family table."""
    families = matching_families(model_id)
    # A TTS, image, embedding or video family outranks a chat family it shares a prefix with
    # ("gpt-4o-mini-tts" is not a gpt-4o chat model).
    special = [f for f in families if f.capabilities & NON_CHAT]
    used = special or families
    from_families: set[Capability] = set()
    for family in used:
        from_families |= family.capabilities
    from_gateway: set[Capability] = set()
    for endpoint in endpoint_types:
        from_gateway |= ENDPOINT_CAPABILITIES.get(endpoint, frozenset())
    for tag in tags:
        capability = TAG_CAPABILITIES.get(tag.strip().lower())
        if capability is not None:
            from_gateway.add(capability)
    context = max_output = None
    if gemini is not None:
        methods = gemini.get("supportedGenerationMethods")
        # new-api lists every model with generateContent (it converts the call), so only
        # embedContent says something about the model itself.
        if isinstance(methods, list) and "embedContent" in methods:
            from_gateway.add(C.EMBEDDING)
        context = _positive(gemini.get("inputTokenLimit"))
        max_output = _positive(gemini.get("outputTokenLimit"))
    flags = from_gateway | from_families
    # new-api lists TTS, image and embedding models under the catch-all openai endpoint too;
    # that listing alone does not make them chat models. Claude's endpoint is real evidence.
    if flags & NON_CHAT and "anthropic" not in endpoint_types:
        flags.discard(C.CHAT)
    elif C.GEMINI_NATIVE in flags:
        flags.add(C.CHAT)
    if context is None:
        context = next((f.context_length for f in used if f.context_length), None)
    vendor = next((f.vendor for f in families if f.vendor), "")
    return Capabilities(frozenset(flags), context, max_output, vendor)


def _positive(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None
