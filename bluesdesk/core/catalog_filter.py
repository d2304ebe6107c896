"""The Models pane's search and filters as one pure function, fast enough to run per keystroke.

`make_rows` precomputes, once per catalog (or favourite change), everything a filter looks at:
a lower-cased haystack of id, name, vendor, tags and description, the capability set, groups,
and the effective price in the active group. `filter_rows` then only does set and substring
tests, so 5,000 models filter in a few milliseconds.

Text: whitespace-separated terms, every term must occur (case-insensitive). Price bounds compare
`Price.headline` (input USD per 1M tokens, or USD per call) and exclude models whose price is
unknown; "free only" keeps models whose known price is zero.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from bluesdesk.core.capabilities import Capability
from bluesdesk.core.catalog_model import CatalogModel
from bluesdesk.core.pricing import Price


@dataclass(frozen=True, slots=True)
class ModelFilter:
    text: str = ""
    vendors: frozenset[str] = frozenset()  # any of these (case-insensitive); empty = all
    capabilities: frozenset[Capability] = frozenset()  # all of these
    group: str = ""  # enabled in this group; "" = any
    price_min: float | None = None
    price_max: float | None = None
    free_only: bool = False
    favourites_only: bool = False
    available_only: bool = False  # only models the API key can call

    @property
    def empty(self) -> bool:
        return self == ModelFilter()


@dataclass(frozen=True, slots=True)
class FilterRow:
    model_id: str
    haystack: str
    vendor: str  # lower-cased
    capabilities: frozenset[Capability]
    groups: frozenset[str]
    headline: float | None  # effective price in the active group; None = unknown
    free: bool
    favourite: bool
    available: bool


def make_row(model: CatalogModel, price: Price | None, favourite: bool) -> FilterRow:
    parts = [model.id, model.display_name, model.vendor, model.owned_by, *model.tags]
    if model.description:
        parts.append(model.description)
    return FilterRow(
        model_id=model.id,
        haystack="\n".join(parts).lower(),
        vendor=model.vendor.lower(),
        capabilities=model.capabilities,
        groups=frozenset(model.groups),
        headline=price.headline if price is not None else None,
        free=price is not None and price.free,
        favourite=favourite,
        available=model.available,
    )


def make_rows(
    models: Iterable[CatalogModel],
    prices: Mapping[str, Price | None],
    favourites: Iterable[str] = (),
) -> list[FilterRow]:
    starred = set(favourites)
    return [make_row(m, prices.get(m.id), m.id in starred) for m in models]


def filter_rows(
    rows: Sequence[FilterRow], flt: ModelFilter, *, within: Sequence[int] | None = None
) -> list[int]:
    """Indexes into `rows` of the rows that pass `flt`, in order. `within`: only these indexes
    (ascending) can pass, e.g. the result of a filter that `flt` narrows (see `narrows`)."""
    tests = _tests(flt)
    if not tests:
        return list(range(len(rows))) if within is None else list(within)
    # One pass per test over the survivors of the previous one: the selective tests run first,
    # so later (costlier) ones see few rows, and no per-row generator is needed.
    first, *rest = tests
    if within is None:
        found = [i for i, row in enumerate(rows) if first(row)]
    else:
        found = [i for i in within if first(rows[i])]
    for test in rest:
        found = [i for i in found if test(rows[i])]
    return found


def narrows(old: ModelFilter, new: ModelFilter) -> bool:
    """True if every row passing `new` also passes `old`: the same filter but for the text,
    where each term of the old text occurs within a term of the new one (typing forward)."""
    if replace(old, text="") != replace(new, text=""):
        return False
    new_terms = new.text.lower().split()
    return all(any(t in n for n in new_terms) for t in old.text.lower().split())


def _tests(flt: ModelFilter) -> list[Callable[[FilterRow], bool]]:
    """The cheap, selective tests first; each closes over precomputed values."""
    tests: list[Callable[[FilterRow], bool]] = []
    if flt.favourites_only:
        tests.append(lambda r: r.favourite)
    if flt.available_only:
        tests.append(lambda r: r.available)
    if flt.free_only:
        tests.append(lambda r: r.free)
    if flt.vendors:
        vendors = frozenset(v.lower() for v in flt.vendors)
        tests.append(lambda r: r.vendor in vendors)
    if flt.group:
        group = flt.group
        tests.append(lambda r: group in r.groups)
    if flt.capabilities:
        needed = flt.capabilities
        tests.append(lambda r: needed <= r.capabilities)
    low, high = flt.price_min, flt.price_max
    if low is not None or high is not None:
        lo = low if low is not None else float("-inf")
        hi = high if high is not None else float("inf")
        tests.append(lambda r: r.headline is not None and lo <= r.headline <= hi)
    terms = flt.text.lower().split()
    if len(terms) == 1:
        term = terms[0]
        tests.append(lambda r: term in r.haystack)
    elif terms:
        tests.append(lambda r: all(t in r.haystack for t in terms))
    return tests
