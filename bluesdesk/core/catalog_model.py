"""One gateway's model catalog: what each listing said, merged into one row per model.

`RawCatalog` is exactly what the gateway sent (JSON values), and is what the cache stores, so a
better merge applies to cached data too. `merge_catalog` turns it into a `CatalogSnapshot`:
models with vendor, capabilities, groups and pricing, plus the group ratios and money settings
that `CatalogSnapshot.price` needs. Pure: no I/O, and malformed pieces degrade to "unknown"
(with a note) instead of raising.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bluesdesk.core.capabilities import Capabilities, Capability, infer_capabilities
from bluesdesk.core.pricing import (
    Estimate,
    Price,
    PricingEntry,
    PricingParseError,
    PricingTable,
    QuotaSettings,
    Vendor,
    compute_price,
    estimate,
    parse_pricing,
    parse_status,
)

DEFAULT_GROUP = "default"
RAW_FORMAT = 1  # bump when RawCatalog's JSON changes incompatibly; old caches are then ignored


@dataclass(frozen=True, slots=True)
class RawCatalog:
    """The gateway's answers. None = that route was not asked, absent, or unusable."""

    relay_models: list[Any]  # GET /v1/models `data`
    gemini_models: list[Any] | None = None  # GET /v1beta/models `models`
    pricing: Mapping[str, Any] | None = None  # the whole GET /api/pricing body
    status: Mapping[str, Any] | None = None  # GET /api/status `data`
    user_models: list[Any] | None = None  # GET /api/user/models `data` (logged in)
    self_groups: Mapping[str, Any] | None = None  # GET /api/user/self/groups `data`
    fetched_at: float = 0.0
    notes: tuple[str, ...] = ()  # why optional parts are missing, for the UI

    def to_json(self) -> dict[str, Any]:
        return {
            "format": RAW_FORMAT,
            "relay_models": self.relay_models,
            "gemini_models": self.gemini_models,
            "pricing": dict(self.pricing) if self.pricing is not None else None,
            "status": dict(self.status) if self.status is not None else None,
            "user_models": self.user_models,
            "self_groups": dict(self.self_groups) if self.self_groups is not None else None,
            "fetched_at": self.fetched_at,
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, value: Any) -> RawCatalog | None:
        """The stored form back, or None if it is not one we wrote (an older format)."""
        if not isinstance(value, Mapping) or value.get("format") != RAW_FORMAT:
            return None
        relay = value.get("relay_models")
        if not isinstance(relay, list):
            return None
        fetched = value.get("fetched_at")
        notes = value.get("notes")
        return cls(
            relay_models=relay,
            gemini_models=_list_or_none(value.get("gemini_models")),
            pricing=_map_or_none(value.get("pricing")),
            status=_map_or_none(value.get("status")),
            user_models=_list_or_none(value.get("user_models")),
            self_groups=_map_or_none(value.get("self_groups")),
            fetched_at=float(fetched) if isinstance(fetched, int | float) else 0.0,
            notes=tuple(n for n in notes if isinstance(n, str)) if isinstance(notes, list) else (),
        )


@dataclass(frozen=True, slots=True)
class GroupInfo:
    name: str
    ratio: float | None  # None: the gateway gave no numeric ratio (e.g. "auto")
    description: str = ""
    usable: bool = False  # the user (or anonymous visitor) may put keys in it


@dataclass(frozen=True, slots=True)
class CatalogModel:
    """One model as the Models pane and the pickers show it."""

    id: str
    display_name: str
    vendor: str
    vendor_icon: str = ""
    owned_by: str = ""
    created: int = 0
    description: str = ""
    tags: tuple[str, ...] = ()
    endpoint_types: tuple[str, ...] = ()
    capabilities: frozenset[Capability] = frozenset()
    context_length: int | None = None
    max_output: int | None = None
    groups: tuple[str, ...] = ()  # groups it is enabled in (from /api/pricing)
    pricing: PricingEntry | None = None  # None: price unknown
    available: bool = True  # the API key's own model list names it
    sources: frozenset[str] = frozenset()  # "relay", "gemini", "pricing", "user"

    def has(self, capability: Capability) -> bool:
        return capability in self.capabilities


@dataclass(frozen=True, slots=True)
class CatalogSnapshot:
    models: tuple[CatalogModel, ...]
    groups: Mapping[str, GroupInfo]
    settings: QuotaSettings | None  # None: /api/status unknown, so no prices
    vendors: Mapping[int, Vendor] = field(default_factory=dict)
    endpoints: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    fetched_at: float = 0.0
    notes: tuple[str, ...] = ()
    by_id: Mapping[str, CatalogModel] = field(default_factory=dict)

    @property
    def priced(self) -> bool:
        return self.settings is not None and any(m.pricing for m in self.models)

    def model(self, model_id: str) -> CatalogModel | None:
        return self.by_id.get(model_id)

    def ratio(self, group: str) -> float | None:
        info = self.groups.get(group)
        return info.ratio if info is not None else None

    def price(self, model_id: str, group: str = DEFAULT_GROUP) -> Price | None:
        """The model's effective price in `group`; None when it cannot be known for sure."""
        model = self.by_id.get(model_id)
        ratio = self.ratio(group)
        if model is None or model.pricing is None or self.settings is None or ratio is None:
            return None
        if not model.pricing.enabled_in(group):
            return None
        return compute_price(model.pricing, group, ratio, self.settings)

    def prices(self, model_id: str) -> list[Price]:
        """The model's price in each group it is enabled in, cheapest group first."""
        model = self.by_id.get(model_id)
        if model is None:
            return []
        found = [p for g in model.groups if (p := self.price(model_id, g)) is not None]
        return sorted(found, key=lambda p: (p.group_ratio, p.group))

    def estimate(
        self, model_id: str, prompt_tokens: int, max_output_tokens: int, group: str = DEFAULT_GROUP
    ) -> Estimate | None:
        price = self.price(model_id, group)
        return None if price is None else estimate(price, prompt_tokens, max_output_tokens)


def merge_catalog(raw: RawCatalog) -> CatalogSnapshot:
    notes = list(raw.notes)
    settings: QuotaSettings | None = None
    if raw.status is not None:
        try:
            settings = parse_status(raw.status)
        except PricingParseError as exc:
            notes.append(f"Prices unavailable: {exc}")
    table: PricingTable | None = None
    if raw.pricing is not None:
        try:
            table = parse_pricing(raw.pricing)
        except PricingParseError as exc:
            notes.append(f"Prices unavailable: {exc}")
    if table is not None and settings is None and raw.status is None:
        notes.append("Prices unavailable: the gateway's /api/status (quota per unit) is missing.")

    relay = _relay_items(raw.relay_models)
    gemini = _gemini_items(raw.gemini_models or [])
    user = [m for m in raw.user_models or [] if isinstance(m, str) and m]
    groups = _groups(table, raw.self_groups)

    order: list[str] = []
    seen: set[str] = set()
    ids_from = (
        list(relay),
        list(gemini),
        list(table.entries) if table is not None else [],
        user,
    )
    for ids in ids_from:
        for model_id in ids:
            if model_id not in seen:
                seen.add(model_id)
                order.append(model_id)
    user_set = set(user)
    models: list[CatalogModel] = []
    for model_id in order:
        models.append(
            _merge_one(
                model_id,
                relay.get(model_id),
                gemini.get(model_id),
                table,
                groups,
                in_user=model_id in user_set,
            )
        )
    models.sort(key=lambda m: m.id.lower())
    return CatalogSnapshot(
        models=tuple(models),
        groups=groups,
        settings=settings if table is not None else None,
        vendors=dict(table.vendors) if table is not None else {},
        endpoints=dict(table.endpoints) if table is not None else {},
        fetched_at=raw.fetched_at,
        notes=tuple(notes),
        by_id={m.id: m for m in models},
    )


def _merge_one(
    model_id: str,
    relay: Mapping[str, Any] | None,
    gemini: Mapping[str, Any] | None,
    table: PricingTable | None,
    groups: Mapping[str, GroupInfo],
    *,
    in_user: bool,
) -> CatalogModel:
    entry = table.entries.get(model_id) if table is not None else None
    relay_endpoints = _strings((relay or {}).get("supported_endpoint_types"))
    endpoints = entry.endpoint_types if entry and entry.endpoint_types else relay_endpoints
    tags = entry.tags if entry else ()
    caps: Capabilities = infer_capabilities(model_id, endpoints, tags, gemini)
    vendor_obj = table.vendor_of(entry) if table is not None and entry is not None else None
    owned_by = _text((relay or {}).get("owned_by")) or (entry.owner_by if entry else "")
    vendor = (vendor_obj.name if vendor_obj else "") or caps.vendor_hint or owned_by
    enabled: tuple[str, ...] = entry.enable_groups if entry is not None else ()
    if "all" in enabled:
        enabled = tuple(sorted(groups))
    created = (relay or {}).get("created")
    sources = {
        name
        for name, present in (
            ("relay", relay is not None),
            ("gemini", gemini is not None),
            ("pricing", entry is not None),
            ("user", in_user),
        )
        if present
    }
    description = (entry.description if entry else "") or _text((gemini or {}).get("description"))
    return CatalogModel(
        id=model_id,
        display_name=_text((gemini or {}).get("displayName")) or model_id,
        vendor=vendor,
        vendor_icon=vendor_obj.icon if vendor_obj else "",
        owned_by=owned_by,
        created=created if isinstance(created, int) and not isinstance(created, bool) else 0,
        description=description,
        tags=tags,
        endpoint_types=endpoints,
        capabilities=caps.flags,
        context_length=caps.context_length,
        max_output=caps.max_output,
        groups=enabled,
        pricing=entry,
        available=relay is not None or gemini is not None,
        sources=frozenset(sources),
    )


def _groups(
    table: PricingTable | None, self_groups: Mapping[str, Any] | None
) -> dict[str, GroupInfo]:
    """Group ratios from /api/pricing, completed by /api/user/self/groups when logged in."""
    found: dict[str, GroupInfo] = {}
    if table is not None:
        for name, ratio in table.group_ratio.items():
            found[name] = GroupInfo(
                name, ratio, table.usable_groups.get(name, ""), name in table.usable_groups
            )
        for name, desc in table.usable_groups.items():
            if name not in found:
                found[name] = GroupInfo(name, None, desc, True)
    for name, info in (self_groups or {}).items():
        if not isinstance(info, Mapping):
            continue
        raw_ratio = info.get("ratio")
        given: float | None = (
            float(raw_ratio)
            if isinstance(raw_ratio, int | float) and not isinstance(raw_ratio, bool)
            else None
        )
        known = found.get(str(name))
        found[str(name)] = GroupInfo(
            str(name),
            known.ratio if known is not None and known.ratio is not None else given,
            _text(info.get("desc")) or (known.description if known else ""),
            True,
        )
    return found


def _relay_items(items: list[Any]) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    for item in items:
        if isinstance(item, str) and item:
            found.setdefault(item, {"id": item})
        elif isinstance(item, Mapping) and isinstance(item.get("id"), str) and item["id"]:
            found.setdefault(item["id"], item)
    return found


def _gemini_items(items: list[Any]) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    for item in items:
        if isinstance(item, Mapping) and isinstance(item.get("name"), str) and item["name"]:
            # new-api sends bare names; Google itself prefixes "models/".
            found.setdefault(item["name"].removeprefix("models/"), item)
    return found


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str) and v)
    return ()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _list_or_none(value: Any) -> list[Any] | None:
    return value if isinstance(value, list) else None


def _map_or_none(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None
