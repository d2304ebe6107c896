"""Price formulas of reference §8 against figures worked out by hand, display types, and the
typed error for malformed /api/status and /api/pricing bodies."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bluesdesk.core.pricing import (
    DisplayType,
    PriceKind,
    PricingEntry,
    PricingParseError,
    QuotaSettings,
    compute_price,
    credit_view,
    estimate,
    format_amount,
    format_price,
    parse_pricing,
    parse_status,
    price_in_group,
    prices_by_group,
)

USD = QuotaSettings(quota_per_unit=500_000)

GPT_4O = {
    "model_name": "gpt-4o",
    "quota_type": 0,
    "model_ratio": 1.25,
    "model_price": 0,
    "completion_ratio": 4,
    "cache_ratio": 0.5,
    "owner_by": "",
    "enable_groups": ["default", "vip"],
    "supported_endpoint_types": ["openai"],
    "vendor_id": 1,
    "description": "",
    "tags": "a, b",
    "billing_mode": "",
}
DALL_E = {
    "model_name": "dall-e-3",
    "quota_type": 1,
    "model_ratio": 0,
    "model_price": 0.04,
    "completion_ratio": 1,
    "enable_groups": ["default", "vip"],
}
VIP_ONLY = {**GPT_4O, "model_name": "gpt-5.1", "enable_groups": ["vip"]}
MODERN = {
    "success": True,
    "data": [GPT_4O, DALL_E, VIP_ONLY],
    "vendors": [{"id": 1, "name": "OpenAI", "icon": "OpenAI"}],
    "group_ratio": {"default": 1, "vip": 0.8},
    "usable_group": {"default": "Default group"},
    "supported_endpoint": {"openai": {"path": "/v1/chat/completions", "method": "POST"}},
    "auto_groups": ["default"],
    "pricing_version": "v9",
}
LEGACY = {
    "success": True,
    "data": [
        {
            "model_name": "gpt-4o",
            "quota_type": 0,
            "model_ratio": 1.25,
            "model_price": 0,
            "owner_by": "",
            "completion_ratio": 4,
            "enable_groups": ["default"],
        },
    ],
    "group_ratio": {"default": 1, "vip": 0.8},
    "usable_group": {"default": ""},
}


def entry(raw: dict[str, Any]) -> PricingEntry:
    return parse_pricing({"success": True, "data": [raw]}).entries[raw["model_name"]]


# ---- per-token ----------------------------------------------------------------------------------


def test_per_token_default_group() -> None:
    # 1.25 × 1 × 1e6 / 500000 = 2.5 $/1M in; × 4 = 10 out; × 0.5 = 1.25 cached.
    price = compute_price(entry(GPT_4O), "default", 1.0, USD)
    assert price.kind is PriceKind.PER_TOKEN
    assert (price.input_per_m, price.output_per_m, price.cached_per_m) == (2.5, 10.0, 1.25)
    assert price.per_request is None
    assert not price.free


def test_per_token_group_ratio_applies_to_every_figure() -> None:
    # vip 0.8: 2.5 × 0.8 = 2.0 in, 8.0 out, 1.0 cached.
    price = compute_price(entry(GPT_4O), "vip", 0.8, USD)
    assert (price.input_per_m, price.output_per_m, price.cached_per_m) == (2.0, 8.0, 1.0)


def test_custom_quota_per_unit_is_used_not_assumed() -> None:
    # Q = 1,000,000: 1.25 × 1e6 / 1e6 = 1.25 in, 5 out. Q = 250,000: 5 in, 20 out.
    one_million = compute_price(entry(GPT_4O), "default", 1.0, QuotaSettings(1_000_000))
    assert (one_million.input_per_m, one_million.output_per_m) == (1.25, 5.0)
    quarter = compute_price(entry(GPT_4O), "default", 1.0, QuotaSettings(250_000))
    assert (quarter.input_per_m, quarter.output_per_m) == (5.0, 20.0)


def test_decimal_arithmetic_gives_exact_cents() -> None:
    # 0.075 × 2 = 0.15 exactly (binary floats would give 0.15000000000000002).
    mini = {**GPT_4O, "model_name": "gpt-4o-mini", "model_ratio": 0.075}
    price = compute_price(entry(mini), "default", 1.0, USD)
    assert price.input_per_m == 0.15
    assert price.output_per_m == 0.6
    assert price.cached_per_m == 0.075


def test_free_model_and_zero_group() -> None:
    free = compute_price(entry({**GPT_4O, "model_ratio": 0}), "default", 1.0, USD)
    assert free.free
    promo = compute_price(entry(GPT_4O), "promo", 0.0, USD)
    assert promo.free and promo.input_per_m == 0.0


# ---- per-request --------------------------------------------------------------------------------


def test_per_request_price_times_group_ratio() -> None:
    dall_e = entry(DALL_E)
    assert compute_price(dall_e, "default", 1.0, USD).per_request == 0.04
    vip = compute_price(dall_e, "vip", 0.8, USD)
    assert vip.kind is PriceKind.PER_REQUEST
    assert vip.per_request == 0.032  # 0.04 × 0.8
    assert vip.input_per_m is None
    # quota_per_unit does not enter per-request prices.
    assert compute_price(dall_e, "default", 1.0, QuotaSettings(1_000_000)).per_request == 0.04


# ---- table lookups ------------------------------------------------------------------------------


def test_price_in_group_unknown_cases_are_none() -> None:
    table = parse_pricing(MODERN)
    assert price_in_group(table, USD, "gpt-4o", "vip") is not None
    assert price_in_group(table, USD, "gpt-5.1", "default") is None  # not enabled there
    assert price_in_group(table, USD, "gpt-4o", "svip") is None  # no ratio for the group
    assert price_in_group(table, USD, "nope", "default") is None
    groups = [(p.group, p.input_per_m) for p in prices_by_group(table, USD, "gpt-4o")]
    assert groups == [("default", 2.5), ("vip", 2.0)]


def test_modern_shape_fields() -> None:
    table = parse_pricing(MODERN)
    gpt = table.entries["gpt-4o"]
    assert gpt.endpoint_types == ("openai",)
    assert gpt.tags == ("a", "b")
    assert table.vendor_of(gpt) is not None and table.vendor_of(gpt).name == "OpenAI"  # type: ignore[union-attr]
    assert table.endpoints["openai"] == ("POST", "/v1/chat/completions")
    assert table.auto_groups == ("default",)
    assert table.version == "v9"
    assert not table.legacy


def test_legacy_shape_has_no_cache_price_and_no_vendors() -> None:
    table = parse_pricing(LEGACY)
    assert table.legacy
    assert table.vendors == {}
    price = price_in_group(table, USD, "gpt-4o", "default")
    assert price is not None
    assert (price.input_per_m, price.output_per_m, price.cached_per_m) == (2.5, 10.0, None)
    assert format_price(price, USD).cached == ""


def test_group_all_enables_every_group() -> None:
    table = parse_pricing({**MODERN, "data": [{**GPT_4O, "enable_groups": ["all"]}]})
    assert price_in_group(table, USD, "gpt-4o", "vip") is not None


# ---- /api/status and display types --------------------------------------------------------------


def status(**fields: Any) -> dict[str, Any]:
    return {"success": True, "message": "", "data": {"quota_per_unit": 500000, **fields}}


def test_parse_status_each_display_type() -> None:
    usd = parse_status(status(quota_display_type="USD"))
    assert (usd.display_type, usd.quota_per_unit) == (DisplayType.USD, 500000.0)
    cny = parse_status(status(quota_display_type="CNY", usd_exchange_rate=7.3))
    assert (cny.display_type, cny.usd_exchange_rate) == (DisplayType.CNY, 7.3)
    custom = parse_status(
        status(
            quota_display_type="CUSTOM",
            custom_currency_symbol="¤",
            custom_currency_exchange_rate=10,
        )
    )
    assert (custom.display_type, custom.custom_symbol, custom.custom_exchange_rate) == (
        DisplayType.CUSTOM,
        "¤",
        10.0,
    )
    assert parse_status(status(quota_display_type="TOKENS")).display_type is DisplayType.TOKENS


def test_old_status_without_display_type_uses_display_in_currency() -> None:
    assert parse_status(status(display_in_currency=True)).display_type is DisplayType.USD
    assert parse_status(status(display_in_currency=False)).display_type is DisplayType.TOKENS


def test_format_amount_in_each_display_type() -> None:
    # 2.5 USD: $2.50; × 7.3 = ¥18.25; × 10 = ¤25.00; × 500000 quota = 1,250,000.
    assert format_amount(2.5, USD) == "$2.50"
    assert format_amount(2.5, QuotaSettings(500_000, DisplayType.CNY, usd_exchange_rate=7.3)) == (
        "¥18.25"
    )
    custom = QuotaSettings(500_000, DisplayType.CUSTOM, custom_symbol="¤", custom_exchange_rate=10)
    assert format_amount(2.5, custom) == "¤25.00"
    assert format_amount(2.5, QuotaSettings(500_000, DisplayType.TOKENS)) == "1,250,000"
    # Small amounts keep their significant digits, large ones get separators.
    assert format_amount(0.0375, USD) == "$0.0375"
    assert format_amount(1234.5, USD) == "$1,234.50"


def test_format_price_texts() -> None:
    texts = format_price(compute_price(entry(GPT_4O), "vip", 0.8, USD), USD)
    assert (texts.input, texts.output, texts.cached) == ("$2.00", "$8.00", "$1.00")
    assert texts.summary == "$2.00 in · $8.00 out / 1M tokens"
    per_call = format_price(compute_price(entry(DALL_E), "vip", 0.8, USD), USD)
    assert per_call.summary == "$0.032 / request"
    assert format_price(None, USD).input == "price unknown"


def test_bluesminds_credit_view() -> None:
    # The seeds: effective price = base price × token group multiplier, in credits (¤).
    credits = QuotaSettings(
        500_000, DisplayType.CUSTOM, custom_symbol="¤", custom_exchange_rate=1.0
    )
    vip = credit_view(entry(GPT_4O), 0.8, credits)
    assert (vip.base, vip.multiplier, vip.effective, vip.unit) == (2.5, 0.8, 2.0, "1M input tokens")
    assert vip.text() == "2.000 ¤ per 1M input tokens (base 2.500 ¤ × 0.8)"
    promo = credit_view(entry(DALL_E), 0.0, credits)
    assert (promo.base, promo.effective, promo.unit) == (0.04, 0.0, "request")
    assert vip.equation() == "2.500 ¤ × 0.8 = 2.000 ¤ per 1M input tokens"
    assert promo.equation() == "0.040 ¤ × 0 = 0.000 ¤ per request"
    # Credits at 2 per USD (CUSTOM rate): base and effective scale, the multiplier does not.
    double = QuotaSettings(500_000, DisplayType.CUSTOM, custom_symbol="cr", custom_exchange_rate=2)
    assert credit_view(entry(GPT_4O), 1.25, double).equation() == (
        "5.000 cr × 1.25 = 6.250 cr per 1M input tokens"
    )


# ---- estimates ----------------------------------------------------------------------------------


def test_estimate_per_token_and_per_request() -> None:
    # 1000 prompt tokens × 2.5 $/1M = 0.0025; + 500 × 10 $/1M = 0.005 → 0.0075 at most.
    est = estimate(compute_price(entry(GPT_4O), "default", 1.0, USD), 1000, 500)
    assert (est.low, est.high) == (0.0025, 0.0075)
    call = estimate(compute_price(entry(DALL_E), "default", 1.0, USD), 5000, 5000)
    assert (call.low, call.high) == (0.04, 0.04)
    with pytest.raises(ValueError):
        estimate(compute_price(entry(DALL_E), "default", 1.0, USD), -1, 0)


# ---- malformed input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "text",
        {"success": False, "message": "pricing is disabled"},
        {"success": True, "data": {"gpt-4o": 1}},
        {"success": True, "data": [1]},
        {"success": True, "data": [{"quota_type": 0}]},
        {"success": True, "data": [{**GPT_4O, "quota_type": 2}]},
        {"success": True, "data": [{**GPT_4O, "model_ratio": "lots"}]},
        {"success": True, "data": [{**GPT_4O, "model_ratio": True}]},
        {"success": True, "data": [{**GPT_4O, "completion_ratio": -1}]},
        {"success": True, "data": [{**GPT_4O, "model_price": float("nan")}]},
        {"success": True, "data": [], "group_ratio": [1]},
        {"success": True, "data": [], "group_ratio": {"vip": "x"}},
        {"success": True, "data": [], "group_ratio": {"vip": None}},
    ],
)
def test_malformed_pricing_raises_typed_error(body: Any) -> None:
    with pytest.raises(PricingParseError):
        parse_pricing(body)


@pytest.mark.parametrize(
    "body",
    [
        None,
        {"success": False, "message": "nope"},
        {"success": True, "data": "x"},
        {"success": True, "data": {}},
        status(quota_per_unit=0),
        status(quota_per_unit=-5),
        status(quota_per_unit="many"),
        status(quota_display_type="EUR"),
        status(quota_display_type="CNY", usd_exchange_rate=0),
        status(quota_display_type=3),
    ],
)
def test_malformed_status_raises_typed_error(body: Any) -> None:
    with pytest.raises(PricingParseError):
        parse_status(body)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
field_values: st.SearchStrategy[Any] = st.sampled_from(
    [None, True, -1, 0, 1, 2, 0.5, "1", "x", [], {}, ["vip"]]
)


@settings(max_examples=200, deadline=None)
@given(
    fields=st.dictionaries(
        st.sampled_from([*list(GPT_4O), "group_ratio"]), field_values, max_size=5
    ),
    noise=json_values,
)
def test_any_json_parses_or_raises_only_the_typed_error(fields: dict[str, Any], noise: Any) -> None:
    item = {**GPT_4O, **fields}
    for body in (
        noise,
        {"success": True, "data": [item], "group_ratio": fields.get("group_ratio", {})},
        {"success": True, "data": noise},
        {"success": True, "data": {"quota_per_unit": noise, "quota_display_type": noise}},
    ):
        json.dumps(body)  # only JSON-shaped input
        for parse in (parse_pricing, parse_status):
            with contextlib.suppress(PricingParseError):
                parse(body)
