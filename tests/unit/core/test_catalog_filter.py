"""The Models pane's pure filter over precomputed rows, and the merge that feeds it."""

from __future__ import annotations

from typing import Any

from bluesdesk.core.capabilities import Capability
from bluesdesk.core.catalog_filter import ModelFilter, filter_rows, make_rows, narrows
from bluesdesk.core.catalog_model import RawCatalog, merge_catalog

STATUS = {"quota_per_unit": 500000, "quota_display_type": "USD"}
PRICING: dict[str, Any] = {
    "success": True,
    "data": [
        {
            "model_name": "gpt-4o",
            "quota_type": 0,
            "model_ratio": 1.25,
            "completion_ratio": 4,
            "cache_ratio": 0.5,
            "enable_groups": ["default", "vip"],
            "vendor_id": 1,
            "supported_endpoint_types": ["openai"],
            "tags": "flagship",
        },
        {
            "model_name": "gpt-4.1",
            "quota_type": 0,
            "model_ratio": 0,
            "completion_ratio": 4,
            "enable_groups": ["default"],
            "vendor_id": 1,
            "supported_endpoint_types": ["openai"],
        },
        {
            "model_name": "claude-opus-4-5",
            "quota_type": 0,
            "model_ratio": 2.5,
            "completion_ratio": 5,
            "enable_groups": ["vip"],
            "vendor_id": 2,
            "supported_endpoint_types": ["anthropic", "openai"],
        },
        {
            "model_name": "dall-e-3",
            "quota_type": 1,
            "model_price": 0.04,
            "enable_groups": ["all"],
            "vendor_id": 1,
            "supported_endpoint_types": ["image-generation"],
        },
    ],
    "vendors": [
        {"id": 1, "name": "OpenAI", "icon": "OpenAI"},
        {"id": 2, "name": "Anthropic", "icon": "Claude.Color"},
    ],
    "group_ratio": {"default": 1, "vip": 0.8},
    "usable_group": {"default": "Default"},
}
RELAY = [
    {"id": "gpt-4o", "owned_by": "openai", "created": 5, "supported_endpoint_types": ["openai"]},
    {"id": "gpt-4.1", "owned_by": "openai"},
    {"id": "dall-e-3", "owned_by": "openai"},
    {"id": "llama-local", "owned_by": "me"},
]


def snapshot() -> Any:
    return merge_catalog(
        RawCatalog(relay_models=RELAY, pricing=PRICING, status=STATUS, fetched_at=100.0)
    )


def test_merge_unions_sources_and_keeps_unpriced_models() -> None:
    snap = snapshot()
    ids = [m.id for m in snap.models]
    assert ids == ["claude-opus-4-5", "dall-e-3", "gpt-4.1", "gpt-4o", "llama-local"]
    gpt = snap.model("gpt-4o")
    assert gpt.vendor == "OpenAI" and gpt.vendor_icon == "OpenAI" and gpt.created == 5
    assert gpt.sources == {"relay", "pricing"} and gpt.available
    claude = snap.model("claude-opus-4-5")
    assert not claude.available  # priced, but the key's list does not name it
    assert claude.has(Capability.CLAUDE_NATIVE)
    assert snap.model("dall-e-3").groups == ("default", "vip")  # "all" expanded
    llama = snap.model("llama-local")
    assert llama.pricing is None and snap.price("llama-local") is None
    assert llama.vendor == "Meta"  # the family table's hint


def test_snapshot_prices_per_group() -> None:
    snap = snapshot()
    assert snap.price("gpt-4o").input_per_m == 2.5
    assert snap.price("gpt-4o", "vip").input_per_m == 2.0
    assert snap.price("claude-opus-4-5", "default") is None
    assert [(p.group, p.input_per_m) for p in snap.prices("gpt-4o")] == [
        ("vip", 2.0),
        ("default", 2.5),
    ]
    assert snap.estimate("gpt-4o", 1000, 500).high == 0.0075


def test_no_status_means_no_prices_at_all() -> None:
    snap = merge_catalog(RawCatalog(relay_models=RELAY, pricing=PRICING))
    assert snap.price("gpt-4o") is None
    assert any("quota per unit" in n for n in snap.notes)


def test_malformed_pricing_degrades_to_unknown_with_a_note() -> None:
    snap = merge_catalog(
        RawCatalog(relay_models=RELAY, pricing={"success": True, "data": "x"}, status=STATUS)
    )
    assert [m.id for m in snap.models] == ["dall-e-3", "gpt-4.1", "gpt-4o", "llama-local"]
    assert snap.price("gpt-4o") is None
    assert any("Prices unavailable" in n for n in snap.notes)


def test_raw_catalog_round_trips_through_json() -> None:
    raw = RawCatalog(
        relay_models=RELAY,
        pricing=PRICING,
        status=STATUS,
        user_models=["x"],
        self_groups={"vip": {"ratio": 0.8, "desc": "VIP"}},
        fetched_at=7.0,
        notes=("n",),
    )
    assert RawCatalog.from_json(raw.to_json()) == raw
    assert RawCatalog.from_json({"format": 0}) is None
    assert RawCatalog.from_json([1, 2]) is None


def rows(favourites: tuple[str, ...] = ()) -> Any:
    snap = snapshot()
    prices = {m.id: snap.price(m.id, "default") for m in snap.models}
    return snap, make_rows(snap.models, prices, favourites)


def ids_for(flt: ModelFilter, favourites: tuple[str, ...] = ()) -> list[str]:
    snap, found = rows(favourites)
    return [snap.models[i].id for i in filter_rows(found, flt)]


def test_empty_filter_keeps_everything() -> None:
    assert len(ids_for(ModelFilter())) == 5
    assert ModelFilter().empty


def test_text_terms_all_match_case_insensitively() -> None:
    assert ids_for(ModelFilter(text="GPT")) == ["gpt-4.1", "gpt-4o"]
    assert ids_for(ModelFilter(text="openai flagship")) == ["gpt-4o"]  # vendor + tag
    assert ids_for(ModelFilter(text="nothing-like-this")) == []


def test_vendor_capability_group_filters() -> None:
    assert ids_for(ModelFilter(vendors=frozenset({"anthropic"}))) == ["claude-opus-4-5"]
    assert ids_for(ModelFilter(capabilities=frozenset({Capability.IMAGE_GENERATION}))) == [
        "dall-e-3"
    ]
    assert ids_for(ModelFilter(group="vip")) == ["claude-opus-4-5", "dall-e-3", "gpt-4o"]
    assert ids_for(ModelFilter(available_only=True)) == [
        "dall-e-3",
        "gpt-4.1",
        "gpt-4o",
        "llama-local",
    ]


def test_price_range_and_free_only_skip_unknown_prices() -> None:
    # Headline prices in default: gpt-4o 2.5 $/1M, gpt-4.1 0, dall-e-3 0.04 per call.
    assert ids_for(ModelFilter(price_max=1.0)) == ["dall-e-3", "gpt-4.1"]
    assert ids_for(ModelFilter(price_min=1.0)) == ["gpt-4o"]
    assert ids_for(ModelFilter(free_only=True)) == ["gpt-4.1"]


def test_favourites_only() -> None:
    assert ids_for(ModelFilter(favourites_only=True), ("gpt-4o", "dall-e-3")) == [
        "dall-e-3",
        "gpt-4o",
    ]


def test_narrows_when_typing_forward_only() -> None:
    assert narrows(ModelFilter(text="gp"), ModelFilter(text="gpt"))
    assert narrows(ModelFilter(), ModelFilter(text="g"))
    assert narrows(ModelFilter(text="gpt 4o"), ModelFilter(text="gpt-4o"))  # both inside one term
    assert narrows(ModelFilter(text="GPT"), ModelFilter(text="gpt mini"))
    assert not narrows(ModelFilter(text="gpt"), ModelFilter(text="gp"))  # backspace widens
    assert not narrows(ModelFilter(text="gpt"), ModelFilter(text="claude"))
    assert not narrows(
        ModelFilter(text="g", free_only=True), ModelFilter(text="gp")
    )  # another filter was switched off: more rows may pass
    assert narrows(ModelFilter(text="g"), ModelFilter(text="gp", free_only=False))


def test_filter_within_earlier_results_gives_the_same_rows() -> None:
    _, found = rows()
    typed = ["g", "gp", "gpt", "gpt-", "gpt-4", "gpt-4o"]
    previous: list[int] | None = None
    for text in typed:
        flt = ModelFilter(text=text)
        full = filter_rows(found, flt)
        if previous is not None:
            assert filter_rows(found, flt, within=previous) == full
        previous = full
    assert previous and len(previous) == 1
    # Restricted to some rows, only those can pass; with no test at all, exactly those.
    assert filter_rows(found, ModelFilter(), within=[1, 3]) == [1, 3]
    assert set(filter_rows(found, ModelFilter(text="gpt"), within=[0])) <= {0}
