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


# Filled in by the platform owner: at least 60 models, every model the seeds name.
MODELS: dict[str, CatalogModel] = {}

GROUP_RATIOS: dict[str, float] = {"default": 1.0, "vip": 0.8}
