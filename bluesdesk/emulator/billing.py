"""Pricing arithmetic, new-api style: the one formula billing, dry runs and seeded logs share."""

from __future__ import annotations

import json
import math
from typing import Any

from bluesdesk.emulator.catalog import CatalogModel
from bluesdesk.emulator.tokens import count_tokens


def quota_for(
    model: CatalogModel,
    prompt_tokens: int,
    completion_tokens: int,
    cached_tokens: int,
    requests: int,
    group_ratio: float,
    quota_per_unit: int,
) -> int:
    """Quota units one call costs.

    Per token (quota_type 0): cached prompt tokens are billed at `cache_ratio`, the rest of the
    prompt at 1, completion at `completion_ratio`; the sum times model_ratio and group_ratio.
    A priced call that rounds to zero still costs 1, as upstream. A free model (ratio 0) costs 0.
    Per request (quota_type 1): model_price USD × quota_per_unit × group_ratio × requests.
    """
    if model.quota_type == 1:
        return _half_up(model.model_price * quota_per_unit * group_ratio * max(requests, 1))
    cached = min(max(cached_tokens, 0), max(prompt_tokens, 0))
    weighted = (
        (prompt_tokens - cached)
        + cached * model.cache_ratio
        + completion_tokens * model.completion_ratio
    )
    ratio = model.model_ratio * group_ratio
    if ratio == 0:
        return 0
    return max(1, _half_up(weighted * ratio))


def _half_up(value: float) -> int:
    """Round half away from zero, as Go's decimal rounding upstream (not banker's rounding)."""
    return math.floor(value + 0.5)


def other_json(
    model: CatalogModel,
    group_ratio: float,
    *,
    cached_tokens: int,
    frt_ms: int | None,
    request_path: str,
) -> str:
    """The consume log's `other` field: a JSON string, as new-api writes it."""
    other: dict[str, Any] = {
        "model_ratio": model.model_ratio,
        "group_ratio": group_ratio,
        "completion_ratio": model.completion_ratio,
        "cache_tokens": cached_tokens,
        "cache_ratio": model.cache_ratio,
        "model_price": model.model_price if model.quota_type == 1 else -1,
        "user_group_ratio": -1,
        "frt": frt_ms if frt_ms is not None else -1,
        "request_path": request_path,
    }
    return json.dumps(other, separators=(",", ":"))


def estimate_prompt_tokens(body: Any) -> int:
    """Rough prompt size of a request body for dry runs: every string in it, tokenised."""
    texts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, str):
            texts.append(node)
        elif isinstance(node, dict):
            for k, v in node.items():
                if k not in {"model", "stream", "role", "type"}:
                    walk(v)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(body)
    return sum(count_tokens(t) for t in texts)


def estimate_completion_tokens(body: Any, model: CatalogModel) -> int:
    """What a dry run assumes the reply costs: max_tokens when given, else a modest default."""
    if isinstance(body, dict):
        for name in ("max_tokens", "max_completion_tokens", "max_output_tokens"):
            value = body.get(name)
            if isinstance(value, int) and value > 0:
                return value
    return min(512, model.max_output) if model.max_output else 0


def usd(quota: int, quota_per_unit: int) -> float:
    return quota / quota_per_unit if quota_per_unit else 0.0
