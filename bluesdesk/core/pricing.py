"""Model prices exactly as new-api computes them (reference §1 Quota, §8 Pricing formulas).

Pure functions over the JSON of `GET /api/status` and `GET /api/pricing` (modern and the
2025-04 shape without vendors). Amounts are USD until they are formatted for display.

With Q = `quota_per_unit` (from /api/status; never assumed) and G = the group's ratio:

* per-token models (`quota_type` 0): input per 1M tokens = model_ratio × G × 1e6 / Q,
  output = input × completion_ratio, cached input = input × cache_ratio;
* per-request models (`quota_type` 1): model_price × G per call.

Arithmetic runs in `Decimal` on the shortest text of each float, so a ratio of 0.075 gives
exactly 0.15 $/1M and not 0.15000000000000002; results are handed out as the nearest float.
Malformed input raises `PricingParseError` (a ValueError) and nothing else.
"""

from __future__ import annotations

import decimal
import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

PER_MILLION = Decimal(1_000_000)


class PricingParseError(ValueError):
    """/api/status or /api/pricing did not have the shape new-api documents."""


class DisplayType(enum.StrEnum):
    """new-api's `quota_display_type`: how the console shows money."""

    USD = "USD"
    CNY = "CNY"
    CUSTOM = "CUSTOM"
    TOKENS = "TOKENS"  # raw quota units


class PriceKind(enum.StrEnum):
    PER_TOKEN = "per_token"
    PER_REQUEST = "per_request"


# ---- /api/status ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuotaSettings:
    """The money settings of one gateway, from /api/status."""

    quota_per_unit: float  # quota units per 1 USD
    display_type: DisplayType = DisplayType.USD
    usd_exchange_rate: float = 1.0  # CNY per USD, for DisplayType.CNY
    custom_symbol: str = ""
    custom_exchange_rate: float = 1.0  # custom units per USD, for DisplayType.CUSTOM
    system_name: str = ""
    version: str = ""

    def convert(self, usd: float) -> float:
        """`usd` in the display unit (quota units for TOKENS)."""
        return _to_float(self._convert(_dec(usd)))

    def _convert(self, usd: Decimal) -> Decimal:
        if self.display_type is DisplayType.CNY:
            return usd * _dec(self.usd_exchange_rate)
        if self.display_type is DisplayType.CUSTOM:
            return usd * _dec(self.custom_exchange_rate)
        if self.display_type is DisplayType.TOKENS:
            return usd * _dec(self.quota_per_unit)
        return usd

    @property
    def symbol(self) -> str:
        return {
            DisplayType.USD: "$",
            DisplayType.CNY: "¥",
            DisplayType.CUSTOM: self.custom_symbol or "¤",
            DisplayType.TOKENS: "",
        }[self.display_type]


def _envelope_data(payload: Any, what: str) -> Any:
    """`data` of a `{"success": true, "data": …}` envelope; a bare object passes through."""
    if isinstance(payload, Mapping) and "success" in payload:
        if payload.get("success") is not True:
            raise PricingParseError(f"{what}: the gateway answered success=false")
        return payload.get("data")
    return payload


def parse_status(payload: Any) -> QuotaSettings:
    """QuotaSettings from /api/status (the envelope or its `data`)."""
    data = _envelope_data(payload, "/api/status")
    if not isinstance(data, Mapping):
        raise PricingParseError("/api/status: data is not an object")
    qpu = _number(data.get("quota_per_unit"), "/api/status quota_per_unit")
    if qpu is None or qpu <= 0:
        raise PricingParseError("/api/status: quota_per_unit is missing or not positive")
    raw_type = data.get("quota_display_type")
    if isinstance(raw_type, str) and raw_type.upper() in DisplayType.__members__:
        display = DisplayType(raw_type.upper())
    elif raw_type in (None, ""):
        # Servers before quota_display_type had only the display_in_currency switch.
        in_currency = data.get("display_in_currency") is not False
        display = DisplayType.USD if in_currency else DisplayType.TOKENS
    else:
        raise PricingParseError(f"/api/status: unknown quota_display_type {raw_type!r}")
    usd_rate = _number(data.get("usd_exchange_rate"), "/api/status usd_exchange_rate")
    custom_rate = _number(
        data.get("custom_currency_exchange_rate"), "/api/status custom_currency_exchange_rate"
    )
    if display is DisplayType.CNY and not usd_rate:
        raise PricingParseError("/api/status: CNY display without a usd_exchange_rate")
    if display is DisplayType.CUSTOM and not custom_rate:
        raise PricingParseError("/api/status: CUSTOM display without an exchange rate")
    symbol = data.get("custom_currency_symbol")
    return QuotaSettings(
        quota_per_unit=qpu,
        display_type=display,
        usd_exchange_rate=usd_rate or 1.0,
        custom_symbol=symbol if isinstance(symbol, str) else "",
        custom_exchange_rate=custom_rate or 1.0,
        system_name=_text(data.get("system_name")),
        version=_text(data.get("version")),
    )


# ---- /api/pricing -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PricingEntry:
    """One model of /api/pricing. `cache_ratio` is None where the server did not say (2025-04)."""

    model: str
    quota_type: int
    model_ratio: float = 0.0
    model_price: float = 0.0
    completion_ratio: float = 1.0
    cache_ratio: float | None = None
    enable_groups: tuple[str, ...] = ()
    endpoint_types: tuple[str, ...] = ()
    vendor_id: int | None = None
    description: str = ""
    tags: tuple[str, ...] = ()
    owner_by: str = ""

    @property
    def kind(self) -> PriceKind:
        return PriceKind.PER_REQUEST if self.quota_type == 1 else PriceKind.PER_TOKEN

    def enabled_in(self, group: str) -> bool:
        return group in self.enable_groups or "all" in self.enable_groups


@dataclass(frozen=True, slots=True)
class Vendor:
    id: int
    name: str
    icon: str = ""
    description: str = ""


@dataclass(frozen=True, slots=True)
class PricingTable:
    entries: Mapping[str, PricingEntry]
    group_ratio: Mapping[str, float]
    usable_groups: Mapping[str, str]  # name → description
    vendors: Mapping[int, Vendor]
    endpoints: Mapping[str, tuple[str, str]]  # endpoint type → (method, path)
    auto_groups: tuple[str, ...] = ()
    version: str = ""
    legacy: bool = False  # the 2025-04 shape: no vendors, endpoints or cache ratios

    def ratio(self, group: str) -> float | None:
        """The group's price multiplier, or None for a group the gateway did not list."""
        return self.group_ratio.get(group)

    def vendor_of(self, entry: PricingEntry) -> Vendor | None:
        return self.vendors.get(entry.vendor_id) if entry.vendor_id is not None else None


def parse_pricing(payload: Any) -> PricingTable:
    """A PricingTable from the whole /api/pricing body (its extra keys sit beside `data`)."""
    if not isinstance(payload, Mapping):
        raise PricingParseError("/api/pricing: the body is not an object")
    if payload.get("success") is False:
        raise PricingParseError("/api/pricing: the gateway answered success=false")
    items = payload.get("data")
    if not isinstance(items, list):
        raise PricingParseError("/api/pricing: data is not a list")
    entries: dict[str, PricingEntry] = {}
    for index, item in enumerate(items):
        entry = _pricing_entry(item, index)
        entries[entry.model] = entry
    group_ratio: dict[str, float] = {}
    raw_ratios = payload.get("group_ratio")
    if raw_ratios is not None and not isinstance(raw_ratios, Mapping):
        raise PricingParseError("/api/pricing: group_ratio is not an object")
    for name, value in (raw_ratios or {}).items():
        ratio = _number(value, f"/api/pricing group_ratio[{name!r}]")
        if ratio is None or ratio < 0:
            raise PricingParseError(f"/api/pricing: group {name!r} has no valid ratio")
        group_ratio[str(name)] = ratio
    usable: dict[str, str] = {}
    raw_usable = payload.get("usable_group")
    if isinstance(raw_usable, Mapping):
        usable = {str(k): _text(v) for k, v in raw_usable.items()}
    vendors: dict[int, Vendor] = {}
    raw_vendors = payload.get("vendors")
    if isinstance(raw_vendors, list):
        for raw in raw_vendors:
            if isinstance(raw, Mapping) and _is_int(raw.get("id")):
                vendors[int(raw["id"])] = Vendor(
                    id=int(raw["id"]),
                    name=_text(raw.get("name")),
                    icon=_text(raw.get("icon")),
                    description=_text(raw.get("description")),
                )
    endpoints: dict[str, tuple[str, str]] = {}
    raw_endpoints = payload.get("supported_endpoint")
    if isinstance(raw_endpoints, Mapping):
        for name, spec in raw_endpoints.items():
            if isinstance(spec, Mapping):
                endpoints[str(name)] = (_text(spec.get("method")), _text(spec.get("path")))
    auto = payload.get("auto_groups")
    return PricingTable(
        entries=entries,
        group_ratio=group_ratio,
        usable_groups=usable,
        vendors=vendors,
        endpoints=endpoints,
        auto_groups=tuple(str(g) for g in auto) if isinstance(auto, list) else (),
        version=_text(payload.get("pricing_version")),
        legacy="vendors" not in payload and "supported_endpoint" not in payload,
    )


def _pricing_entry(item: Any, index: int) -> PricingEntry:
    where = f"/api/pricing data[{index}]"
    if not isinstance(item, Mapping):
        raise PricingParseError(f"{where} is not an object")
    name = item.get("model_name")
    if not isinstance(name, str) or not name:
        raise PricingParseError(f"{where} has no model_name")
    where = f"/api/pricing {name!r}"
    quota_type = item.get("quota_type", 0)
    if not _is_int(quota_type) or quota_type not in (0, 1):
        raise PricingParseError(f"{where}: unknown quota_type {quota_type!r}")
    ratio = _number(item.get("model_ratio"), f"{where} model_ratio") or 0.0
    price = _number(item.get("model_price"), f"{where} model_price") or 0.0
    completion = _number(item.get("completion_ratio"), f"{where} completion_ratio")
    cache = _number(item.get("cache_ratio"), f"{where} cache_ratio")
    if min(ratio, price, completion or 0.0, cache or 0.0) < 0:
        raise PricingParseError(f"{where}: a negative ratio or price")
    groups = item.get("enable_groups")
    vendor = item.get("vendor_id")
    vendor_id = vendor if isinstance(vendor, int) and not isinstance(vendor, bool) else 0
    return PricingEntry(
        model=name,
        quota_type=int(quota_type),
        model_ratio=ratio,
        model_price=price,
        # new-api treats an unset completion ratio as 1 (output costs what input costs).
        completion_ratio=1.0 if completion is None else completion,
        cache_ratio=cache,
        enable_groups=_strings(groups),
        endpoint_types=_strings(item.get("supported_endpoint_types")),
        vendor_id=vendor_id if vendor_id > 0 else None,
        description=_text(item.get("description")),
        tags=split_tags(item.get("tags")),
        owner_by=_text(item.get("owner_by")),
    )


def split_tags(raw: Any) -> tuple[str, ...]:
    """new-api keeps tags as one comma-separated string; lists are accepted too."""
    parts = raw.split(",") if isinstance(raw, str) else raw if isinstance(raw, list) else []
    return tuple(p.strip() for p in parts if isinstance(p, str) and p.strip())


# ---- Prices -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Price:
    """What one model costs in one group, in USD. Per-token figures are per 1M tokens."""

    model: str
    group: str
    group_ratio: float
    kind: PriceKind
    input_per_m: float | None = None
    output_per_m: float | None = None
    cached_per_m: float | None = None  # None when the gateway gives no cache ratio
    per_request: float | None = None

    @property
    def free(self) -> bool:
        if self.kind is PriceKind.PER_REQUEST:
            return self.per_request == 0
        return self.input_per_m == 0 and self.output_per_m == 0

    @property
    def headline(self) -> float:
        """The figure a price range compares: input per 1M tokens, or the price of one call."""
        value = self.per_request if self.kind is PriceKind.PER_REQUEST else self.input_per_m
        return value or 0.0


def compute_price(
    entry: PricingEntry, group: str, group_ratio: float, settings: QuotaSettings
) -> Price:
    """The §8 formulas for `entry` in `group` (whose multiplier is `group_ratio`)."""
    g = _dec(group_ratio)
    if entry.kind is PriceKind.PER_REQUEST:
        return Price(
            model=entry.model,
            group=group,
            group_ratio=group_ratio,
            kind=PriceKind.PER_REQUEST,
            per_request=_to_float(_dec(entry.model_price) * g),
        )
    input_per_m = _dec(entry.model_ratio) * g * PER_MILLION / _dec(settings.quota_per_unit)
    cached = None
    if entry.cache_ratio is not None:
        cached = _to_float(input_per_m * _dec(entry.cache_ratio))
    return Price(
        model=entry.model,
        group=group,
        group_ratio=group_ratio,
        kind=PriceKind.PER_TOKEN,
        input_per_m=_to_float(input_per_m),
        output_per_m=_to_float(input_per_m * _dec(entry.completion_ratio)),
        cached_per_m=cached,
    )


def price_in_group(
    table: PricingTable, settings: QuotaSettings, model: str, group: str
) -> Price | None:
    """The model's price in `group`; None if the model is unpriced, not enabled there, or the
    group's ratio is unknown (a wrong price is worse than none)."""
    entry = table.entries.get(model)
    ratio = table.ratio(group)
    if entry is None or ratio is None or not entry.enabled_in(group):
        return None
    return compute_price(entry, group, ratio, settings)


def prices_by_group(table: PricingTable, settings: QuotaSettings, model: str) -> list[Price]:
    """The model's price in every group it is enabled in and the gateway gives a ratio for."""
    entry = table.entries.get(model)
    if entry is None:
        return []
    return [
        compute_price(entry, group, ratio, settings)
        for group, ratio in sorted(table.group_ratio.items())
        if entry.enabled_in(group)
    ]


# ---- Estimates --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Estimate:
    """The cost of one call, in USD: `low` if the answer is empty, `high` at max_output_tokens."""

    low: float
    high: float


def estimate(price: Price, prompt_tokens: int, max_output_tokens: int) -> Estimate:
    if prompt_tokens < 0 or max_output_tokens < 0:
        raise ValueError("token counts cannot be negative")
    if price.kind is PriceKind.PER_REQUEST:
        each = price.per_request or 0.0
        return Estimate(each, each)
    prompt = _dec(price.input_per_m or 0.0) * prompt_tokens / PER_MILLION
    output = _dec(price.output_per_m or 0.0) * max_output_tokens / PER_MILLION
    return Estimate(_to_float(prompt), _to_float(prompt + output))


# ---- Display ----------------------------------------------------------------------------------


def format_amount(usd: float, settings: QuotaSettings) -> str:
    """`usd` as the gateway's console shows money: "$2.50", "¥18.25", "¤2.50", "1,250,000"."""
    value = settings._convert(_dec(usd))
    if settings.display_type is DisplayType.TOKENS:
        return _decimal_text(value, min_places=0, max_places=2)
    return settings.symbol + _decimal_text(value, min_places=2, max_places=6)


@dataclass(frozen=True, slots=True)
class PriceText:
    """A Price formatted for the table and the details panel."""

    input: str = ""
    output: str = ""
    cached: str = ""
    per_request: str = ""

    @property
    def summary(self) -> str:
        if self.per_request:
            return f"{self.per_request} / request"
        return f"{self.input} in · {self.output} out / 1M tokens"


def format_price(price: Price | None, settings: QuotaSettings | None) -> PriceText:
    """Display texts; every field says "price unknown" when there is no price to show."""
    if price is None or settings is None:
        return PriceText("price unknown", "price unknown", "", "")
    if price.kind is PriceKind.PER_REQUEST:
        return PriceText(per_request=format_amount(price.per_request or 0.0, settings))
    return PriceText(
        input=format_amount(price.input_per_m or 0.0, settings),
        output=format_amount(price.output_per_m or 0.0, settings),
        cached=(
            format_amount(price.cached_per_m, settings) if price.cached_per_m is not None else ""
        ),
    )


@dataclass(frozen=True, slots=True)
class CreditView:
    """BluesMinds' way of quoting a price: effective = base price × token group multiplier."""

    unit: str  # "request" or "1M input tokens"
    base: float  # credits at multiplier 1
    multiplier: float
    effective: float
    symbol: str = "¤"

    def text(self) -> str:
        effective = _decimal_text(_dec(self.effective), min_places=3, max_places=6)
        base = _decimal_text(_dec(self.base), min_places=3, max_places=6)
        return (
            f"{effective} {self.symbol} per {self.unit}"
            f" (base {base} {self.symbol} × {_decimal_text(_dec(self.multiplier), 0, 4)})"
        )

    def equation(self) -> str:
        """The way BluesMinds quotes a group's price, base × multiplier = effective:
        "2.500 ¤ × 0.8 = 2.000 ¤ per 1M input tokens"."""
        base = _decimal_text(_dec(self.base), min_places=3, max_places=6)
        effective = _decimal_text(_dec(self.effective), min_places=3, max_places=6)
        multiplier = _decimal_text(_dec(self.multiplier), 0, 4)
        return f"{base} {self.symbol} × {multiplier} = {effective} {self.symbol} per {self.unit}"


def credit_view(entry: PricingEntry, group_ratio: float, settings: QuotaSettings) -> CreditView:
    """The price of `entry` in credits: the CUSTOM currency when the gateway shows one, else
    the plain unit. Computed from the base price, so a 0× (promotional) group still shows it."""
    per_usd = (
        _dec(settings.custom_exchange_rate)
        if settings.display_type is DisplayType.CUSTOM
        else Decimal(1)
    )
    base_price = compute_price(entry, "", 1.0, settings)
    if base_price.kind is PriceKind.PER_REQUEST:
        unit, base_usd = "request", _dec(base_price.per_request or 0.0)
    else:
        unit, base_usd = "1M input tokens", _dec(base_price.input_per_m or 0.0)
    base = base_usd * per_usd
    return CreditView(
        unit=unit,
        base=_to_float(base),
        multiplier=group_ratio,
        effective=_to_float(base * _dec(group_ratio)),
        symbol=settings.custom_symbol or "¤",
    )


# ---- Helpers ----------------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any, what: str) -> float | None:
    """A finite number, None when absent; a numeric string is accepted (some servers send one)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise PricingParseError(f"{what} is a boolean, not a number")
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:  # an int beyond ~1e308
            raise PricingParseError(f"{what} is not finite") from None
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise PricingParseError(f"{what} is not a number: {value[:40]!r}") from None
    else:
        raise PricingParseError(f"{what} is not a number")
    if not math.isfinite(number):
        raise PricingParseError(f"{what} is not finite")
    return number


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return split_tags(value)
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str) and v)
    return ()


def _dec(value: float) -> Decimal:
    # repr() is the shortest text that round-trips, so 0.1 becomes Decimal("0.1").
    return Decimal(repr(float(value)))


def _to_float(value: Decimal) -> float:
    return float(value)


def _decimal_text(value: Decimal, min_places: int, max_places: int) -> str:
    """Rounded to `max_places`, trailing zeros dropped down to `min_places`, with separators."""
    quantum = Decimal(1).scaleb(-max_places)
    # Enough precision for every digit of a huge amount: the default 28 digits overflow at ~1e22.
    context = decimal.Context(prec=max(28, value.adjusted() + max_places + 3))
    rounded = value.quantize(quantum, context=context)
    text = f"{rounded:,.{max_places}f}"
    if "." in text:
        whole, frac = text.split(".")
        frac = frac.rstrip("0").ljust(min_places, "0")
        text = f"{whole}.{frac}" if frac else whole
    return text
