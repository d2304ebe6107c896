"""The emulator's model catalog: what /v1/models lists, what /api/pricing serves, what billing uses.

One table, so the prices a client shows are the prices the emulator charges.
"""

from __future__ import annotations

from dataclasses import dataclass

# new-api endpoint type names (constant/endpoint_type.go upstream).
EP_OPENAI = "openai"
EP_RESPONSES = "openai-response"
EP_ANTHROPIC = "anthropic"
EP_GEMINI = "gemini"
EP_IMAGE = "image-generation"
EP_EMBEDDINGS = "embeddings"
EP_VIDEO = "openai-video"

# Capability names used across the emulator (and mirrored by the client's catalog).
CAPABILITIES = frozenset(
    {
        "chat", "vision", "tools", "json", "reasoning", "thinking", "image", "image_edit",
        "tts", "stt", "embedding", "task",
    }
)


@dataclass(frozen=True, slots=True)
class CatalogModel:
    name: str
    vendor: str  # display name, matches a vendor in /api/pricing "vendors"
    owned_by: str  # /v1/models owned_by
    quota_type: int  # 0 = per token (ratios), 1 = per request (model_price)
    model_ratio: float = 0.0
    model_price: float = 0.0  # USD per request when quota_type == 1
    completion_ratio: float = 1.0
    cache_ratio: float = 1.0
    enable_groups: tuple[str, ...] = ("default", "vip")
    endpoint_types: tuple[str, ...] = (EP_OPENAI,)
    capabilities: frozenset[str] = frozenset({"chat"})
    context_length: int = 128_000
    max_output: int = 16_384
    tags: str = ""
    description: str = ""
    created: int = 1_700_000_000

    def has(self, capability: str) -> bool:
        return capability in self.capabilities


# At least 60 models, every model the seeds name.
MODELS: dict[str, CatalogModel] = {}

GROUP_RATIOS: dict[str, float] = {"default": 1.0, "vip": 0.8}


def _m(
    name: str,
    vendor: str,
    owned_by: str,
    *,
    ratio: float = 0.0,
    price: float = 0.0,
    completion: float = 1.0,
    cache: float = 1.0,
    groups: tuple[str, ...] = ("default", "vip"),
    endpoints: tuple[str, ...] = (EP_OPENAI,),
    caps: str = "chat",
    context: int = 128_000,
    max_output: int = 16_384,
    tags: str = "",
    description: str = "",
    created: int = 1_700_000_000,
) -> CatalogModel:
    """One catalog row; `price` > 0 makes the model per-request (quota_type 1)."""
    return CatalogModel(
        name=name,
        vendor=vendor,
        owned_by=owned_by,
        quota_type=1 if price > 0 else 0,
        model_ratio=0.0 if price > 0 else ratio,
        model_price=price,
        completion_ratio=completion,
        cache_ratio=cache,
        enable_groups=groups,
        endpoint_types=endpoints,
        capabilities=frozenset(caps.split(",")),
        context_length=context,
        max_output=max_output,
        tags=tags,
        description=description,
        created=created,
    )


_VIP = ("vip",)
_CHAT = (EP_OPENAI, EP_RESPONSES)
_CLAUDE = (EP_ANTHROPIC, EP_OPENAI)
_GEMINI = (EP_GEMINI, EP_OPENAI)

# model_ratio is USD per 1M input tokens / 2 (new-api's convention with quota_per_unit 500000).
_ROWS: tuple[CatalogModel, ...] = (
    # OpenAI
    _m("gpt-4o", "OpenAI", "openai", ratio=1.25, completion=4, cache=0.5, endpoints=_CHAT,
       caps="chat,vision,tools,json", tags="flagship,vision", description="Flagship multimodal",
       created=1_715_367_049),
    _m("gpt-4o-mini", "OpenAI", "openai", ratio=0.075, completion=4, cache=0.5, endpoints=_CHAT,
       caps="chat,vision,tools,json", tags="fast,cheap", created=1_721_172_741),
    _m("gpt-4.1", "OpenAI", "openai", ratio=0.0, completion=4, cache=0.25, endpoints=_CHAT,
       caps="chat,vision,tools,json", context=1_047_576, max_output=32_768, tags="free,promotional",
       description="Promotional: free on this gateway", created=1_744_316_542),
    _m("gpt-4.1-mini", "OpenAI", "openai", ratio=0.2, completion=4, cache=0.25, endpoints=_CHAT,
       caps="chat,vision,tools,json", context=1_047_576, max_output=32_768, created=1_744_318_173),
    _m("gpt-4.1-nano", "OpenAI", "openai", ratio=0.05, completion=4, cache=0.25, endpoints=_CHAT,
       caps="chat,tools,json", context=1_047_576, max_output=32_768, created=1_744_321_707),
    _m("gpt-4-vision-preview", "OpenAI", "openai", ratio=5, completion=3, caps="chat,vision",
       max_output=4096, tags="legacy", created=1_698_894_917),
    _m("gpt-4-turbo", "OpenAI", "openai", ratio=5, completion=3, caps="chat,vision,tools,json",
       max_output=4096, tags="legacy", created=1_712_361_441),
    _m("gpt-3.5-turbo", "OpenAI", "openai", ratio=0.25, completion=3, caps="chat,tools,json",
       context=16_385, max_output=4096, tags="legacy", created=1_677_610_602),
    _m("gpt-5", "OpenAI", "openai", ratio=0.625, completion=8, cache=0.1, endpoints=_CHAT,
       caps="chat,vision,tools,json,reasoning", context=400_000, max_output=128_000,
       created=1_754_425_777),
    _m("gpt-5-mini", "OpenAI", "openai", ratio=0.125, completion=8, cache=0.1, endpoints=_CHAT,
       caps="chat,vision,tools,json,reasoning", context=400_000, max_output=128_000,
       created=1_754_425_867),
    _m("gpt-5.1", "OpenAI", "openai", ratio=0.625, completion=8, cache=0.1, groups=_VIP,
       endpoints=_CHAT, caps="chat,vision,tools,json,reasoning", context=200_000,
       max_output=128_000, tags="vip,high-end", description="High-end; vip group only",
       created=1_762_992_000),
    _m("o1", "OpenAI", "openai", ratio=7.5, completion=4, cache=0.5, endpoints=_CHAT,
       caps="chat,vision,tools,json,reasoning", context=200_000, max_output=100_000,
       created=1_734_375_816),
    _m("o3", "OpenAI", "openai", ratio=1, completion=4, cache=0.25, endpoints=_CHAT,
       caps="chat,vision,tools,json,reasoning", context=200_000, max_output=100_000,
       created=1_744_225_308),
    _m("o3-mini", "OpenAI", "openai", ratio=0.55, completion=4, cache=0.5, endpoints=_CHAT,
       caps="chat,tools,json,reasoning", context=200_000, max_output=100_000,
       created=1_737_146_383),
    _m("o4-mini", "OpenAI", "openai", ratio=0.55, completion=4, cache=0.25, endpoints=_CHAT,
       caps="chat,vision,tools,json,reasoning", context=200_000, max_output=100_000,
       created=1_744_225_351),
    _m("chatgpt-4o-latest", "OpenAI", "openai", ratio=2.5, completion=3, caps="chat,vision,json",
       created=1_723_515_131),
    _m("dall-e-3", "OpenAI", "openai", price=0.04, endpoints=(EP_IMAGE,), caps="image",
       context=4000, max_output=0, tags="image", created=1_698_785_189),
    _m("dall-e-2", "OpenAI", "openai", price=0.02, endpoints=(EP_IMAGE,), caps="image,image_edit",
       context=1000, max_output=0, tags="image", created=1_698_798_177),
    _m("gpt-image-1", "OpenAI", "openai", price=0.06, endpoints=(EP_IMAGE,),
       caps="image,image_edit", context=32_000, max_output=0, tags="image",
       created=1_745_517_030),
    _m("tts-1", "OpenAI", "openai", price=0.015, caps="tts", context=4096, max_output=0,
       tags="audio", created=1_681_940_951),
    _m("tts-1-hd", "OpenAI", "openai", price=0.03, caps="tts", context=4096, max_output=0,
       tags="audio", created=1_699_046_015),
    _m("gpt-4o-mini-tts", "OpenAI", "openai", price=0.012, caps="tts", context=2000,
       max_output=0, tags="audio", created=1_742_403_959),
    _m("whisper-1", "OpenAI", "openai", price=0.006, caps="stt", context=0, max_output=0,
       tags="audio", created=1_677_532_384),
    _m("gpt-4o-transcribe", "OpenAI", "openai", price=0.006, caps="stt", context=16_000,
       max_output=0, tags="audio", created=1_742_068_463),
    _m("text-embedding-3-small", "OpenAI", "openai", ratio=0.01, endpoints=(EP_EMBEDDINGS,),
       caps="embedding", context=8191, max_output=0, tags="embedding", created=1_705_948_997),
    _m("text-embedding-3-large", "OpenAI", "openai", ratio=0.065, endpoints=(EP_EMBEDDINGS,),
       caps="embedding", context=8191, max_output=0, tags="embedding", created=1_705_953_180),
    _m("text-embedding-ada-002", "OpenAI", "openai", ratio=0.05, endpoints=(EP_EMBEDDINGS,),
       caps="embedding", context=8191, max_output=0, tags="embedding,legacy",
       created=1_671_217_299),
    _m("sora-2", "OpenAI", "openai", price=0.5, endpoints=(EP_VIDEO,), caps="task",
       context=0, max_output=0, tags="video,async", description="Async video task",
       created=1_759_708_800),
    # Anthropic
    _m("claude-opus-4-5", "Anthropic", "anthropic", ratio=2.5, completion=5, cache=0.1,
       groups=_VIP, endpoints=_CLAUDE, caps="chat,vision,tools,json,thinking", context=200_000,
       max_output=64_000, tags="vip", description="Claude Opus 4.5", created=1_763_942_400),
    _m("claude-sonnet-4-5", "Anthropic", "anthropic", ratio=1.5, completion=5, cache=0.1,
       endpoints=_CLAUDE, caps="chat,vision,tools,json", context=200_000, max_output=64_000,
       tags="balanced", created=1_759_104_000),
    _m("claude-sonnet-4-5-thinking", "Anthropic", "anthropic", ratio=1.5, completion=5,
       cache=0.1, endpoints=_CLAUDE, caps="chat,vision,tools,json,thinking,reasoning",
       context=200_000, max_output=64_000, tags="thinking", created=1_759_104_000),
    _m("claude-haiku-4-5", "Anthropic", "anthropic", ratio=0.5, completion=5, cache=0.1,
       endpoints=_CLAUDE, caps="chat,vision,tools,json", context=200_000, max_output=64_000,
       tags="fast", created=1_760_486_400),
    _m("claude-opus-4-1", "Anthropic", "anthropic", ratio=7.5, completion=5, cache=0.1,
       groups=_VIP, endpoints=_CLAUDE, caps="chat,vision,tools,json,thinking", context=200_000,
       max_output=32_000, created=1_754_352_000),
    _m("claude-sonnet-4", "Anthropic", "anthropic", ratio=1.5, completion=5, cache=0.1,
       endpoints=_CLAUDE, caps="chat,vision,tools,json,thinking", context=200_000,
       max_output=64_000, created=1_747_872_000),
    _m("claude-3-7-sonnet", "Anthropic", "anthropic", ratio=1.5, completion=5, cache=0.1,
       endpoints=_CLAUDE, caps="chat,vision,tools,json,thinking", context=200_000,
       max_output=64_000, tags="legacy", created=1_740_355_200),
    _m("claude-3-5-haiku", "Anthropic", "anthropic", ratio=0.4, completion=5, cache=0.1,
       endpoints=_CLAUDE, caps="chat,tools,json", context=200_000, max_output=8192,
       tags="legacy", created=1_729_555_200),
    # Google
    _m("gemini-2.5-pro", "Google", "google", ratio=0.625, completion=8, cache=0.25, groups=_VIP,
       endpoints=_GEMINI, caps="chat,vision,tools,json,reasoning", context=1_048_576,
       max_output=65_536, tags="vip", created=1_750_118_400),
    _m("gemini-2.5-flash", "Google", "google", ratio=0.15, completion=8.33, cache=0.25,
       endpoints=_GEMINI, caps="chat,vision,tools,json,reasoning", context=1_048_576,
       max_output=65_536, created=1_750_118_400),
    _m("gemini-2.5-flash-lite", "Google", "google", ratio=0.05, completion=4, cache=0.25,
       endpoints=_GEMINI, caps="chat,vision,tools,json", context=1_048_576, max_output=65_536,
       created=1_753_142_400),
    _m("gemini-2.0-flash", "Google", "google", ratio=0.05, completion=4, cache=0.25,
       endpoints=_GEMINI, caps="chat,vision,tools,json", context=1_048_576, max_output=8192,
       tags="long-context", created=1_738_713_600),
    _m("gemini-2.0-flash-lite", "Google", "google", ratio=0.0375, completion=4,
       endpoints=_GEMINI, caps="chat,vision,json", context=1_048_576, max_output=8192,
       created=1_740_528_000),
    _m("gemini-2.5-flash-image", "Google", "google", price=0.039, endpoints=(EP_IMAGE, EP_GEMINI),
       caps="image,image_edit", context=32_768, max_output=0, tags="image",
       created=1_756_166_400),
    _m("text-embedding-004", "Google", "google", ratio=0.01, endpoints=(EP_EMBEDDINGS,),
       caps="embedding", context=2048, max_output=0, tags="embedding", created=1_715_644_800),
    _m("veo-3", "Google", "google", price=0.75, endpoints=(EP_VIDEO,), caps="task", context=0,
       max_output=0, tags="video,async", created=1_753_142_400),
    # DeepSeek
    _m("deepseek-chat", "DeepSeek", "deepseek", ratio=0.135, completion=4, cache=0.25,
       caps="chat,tools,json", context=128_000, max_output=8192, created=1_735_689_600),
    _m("deepseek-reasoner", "DeepSeek", "deepseek", ratio=0.275, completion=4, cache=0.25,
       caps="chat,tools,reasoning", context=128_000, max_output=64_000, tags="reasoning",
       created=1_737_331_200),
    _m("deepseek-v3.1", "DeepSeek", "deepseek", ratio=0.28, completion=3, cache=0.25,
       caps="chat,tools,json,reasoning", context=128_000, max_output=8192,
       created=1_755_648_000),
    # xAI
    _m("grok-3", "xAI", "xai", ratio=1.5, completion=5, cache=0.25, groups=_VIP,
       caps="chat,tools,json", context=131_072, max_output=16_384, tags="vip",
       created=1_739_836_800),
    _m("grok-3-mini", "xAI", "xai", ratio=0.15, completion=1.67, caps="chat,tools,json,reasoning",
       context=131_072, max_output=16_384, created=1_739_836_800),
    _m("grok-4", "xAI", "xai", ratio=1.5, completion=5, cache=0.25, groups=_VIP,
       caps="chat,vision,tools,json,reasoning", context=256_000, max_output=32_768,
       created=1_752_192_000),
    # Alibaba
    _m("qwen-max", "Alibaba", "alibaba", ratio=0.8, completion=4, groups=_VIP,
       caps="chat,vision,tools,json", context=131_072, max_output=8192, tags="vip",
       created=1_737_936_000),
    _m("qwen-plus", "Alibaba", "alibaba", ratio=0.2, completion=3, caps="chat,tools,json",
       context=131_072, max_output=8192, created=1_737_936_000),
    _m("qwen-turbo", "Alibaba", "alibaba", ratio=0.025, completion=4, caps="chat,tools,json",
       context=1_000_000, max_output=8192, created=1_737_936_000),
    _m("qwen-vl-max", "Alibaba", "alibaba", ratio=0.4, completion=4, caps="chat,vision",
       context=131_072, max_output=8192, created=1_737_936_000),
    _m("qwen3-coder-plus", "Alibaba", "alibaba", ratio=0.5, completion=5, caps="chat,tools,json",
       context=1_000_000, max_output=65_536, tags="code", created=1_753_142_400),
    # Mistral
    _m("mistral-large", "Mistral", "mistralai", ratio=1, completion=3, caps="chat,tools,json",
       context=128_000, max_output=8192, created=1_731_542_400),
    _m("mistral-small", "Mistral", "mistralai", ratio=0.05, completion=3, caps="chat,tools,json",
       context=32_000, max_output=8192, created=1_738_281_600),
    _m("codestral", "Mistral", "mistralai", ratio=0.15, completion=3, caps="chat,json",
       context=256_000, max_output=8192, tags="code", created=1_736_380_800),
    _m("pixtral-large", "Mistral", "mistralai", ratio=1, completion=3, caps="chat,vision,tools",
       context=128_000, max_output=8192, created=1_731_542_400),
    # Meta
    _m("llama-3.3-70b-instruct", "Meta", "meta", ratio=0.3, completion=1, caps="chat,tools,json",
       context=128_000, max_output=8192, tags="open-source", created=1_733_443_200),
    _m("llama-3.1-8b-instruct", "Meta", "meta", ratio=0.025, completion=1, caps="chat,json",
       context=128_000, max_output=8192, tags="open-source", created=1_721_692_800),
    _m("llama-4-maverick", "Meta", "meta", ratio=0.1, completion=3, caps="chat,vision,tools,json",
       context=1_048_576, max_output=16_384, tags="open-source", created=1_743_897_600),
    # Others
    _m("glm-4.7-flash", "Zhipu", "zhipu", ratio=0.05, completion=2, caps="chat,tools,json",
       context=128_000, max_output=16_384, created=1_764_547_200),
    _m("kimi-k2", "Moonshot", "moonshot", ratio=0.3, completion=4, caps="chat,tools,json",
       context=131_072, max_output=16_384, created=1_752_192_000),
    _m("mj-imagine", "Midjourney", "midjourney", price=0.1, endpoints=(EP_IMAGE,),
       caps="image,task", context=0, max_output=0, tags="image,async",
       description="Async Midjourney-style imagine task", created=1_700_000_000),
    _m("stable-diffusion-3.5-large", "Stability", "stability", price=0.065,
       endpoints=(EP_IMAGE,), caps="image", context=0, max_output=0, tags="image,open-source",
       created=1_729_641_600),
)

MODELS.update({m.name: m for m in _ROWS})
