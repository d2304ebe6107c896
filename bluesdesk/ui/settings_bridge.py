"""Change one part of the (frozen) settings and save at once, on top of the latest values."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bluesdesk.settings import Settings, SettingsStore


def update_ui(store: SettingsStore, **changes: Any) -> Settings:
    return store.update(lambda s: dataclasses.replace(s, ui=dataclasses.replace(s.ui, **changes)))


def update(store: SettingsStore, **changes: Any) -> Settings:
    return store.update(lambda s: dataclasses.replace(s, **changes))
