"""Model pickers fed by the catalog, shared by the Images and Speech panes.

`catalog_models(ctx)` reads the active profile's catalog (fetching it once if it never was), and
`CatalogPane` keeps a pane's pickers in step with the catalog (a star set in the Models pane or a
refresh notifies the catalog's listeners, and the pane reloads its models on the next show) and
prices its work from the catalog, in the gateway's display currency when the catalog knows it.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtWidgets import QWidget

from bluesdesk.core.catalog_model import CatalogModel
from bluesdesk.core.pricing import Price, format_amount
from bluesdesk.errors import BluesdeskError
from bluesdesk.ui.context import AppContext
from bluesdesk.ui.widgets.pane import Pane


async def catalog_models(ctx: AppContext | None) -> tuple[list[CatalogModel], frozenset[str]]:
    """(the active profile's catalog models, favourites first; its favourite ids).

    Fetches the catalog once if it was never fetched. Empty without a catalog service or when
    the gateway fails: the panes then fall back to the gateway's plain model list."""
    catalog = ctx.catalog if ctx is not None else None
    if ctx is None or catalog is None:
        return [], frozenset()
    try:
        profile = ctx.profiles.active()
        models = await catalog.models(profile)
        if not models:
            await catalog.refresh(profile)
            models = await catalog.models(profile)
        starred = await catalog.favourites(profile)
    except BluesdeskError:
        return [], frozenset()
    return models, starred


class CatalogPane(Pane):
    """A pane whose model pickers come from the catalog.

    Subclasses set `ctx` and `models_key` (the runner key of their model load), implement
    `_load_models`, call `follow_catalog()` once built and `refresh_models()` when shown.
    `_models_for` is the profile whose models were loaded; a catalog change for that profile
    clears it (so the next `on_shown` reloads) and reloads at once when the pane is visible."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx: AppContext | None = None
        self.models_key = ""
        self._models_for = ""

    async def _load_models(self) -> None:
        """Fill the pane's model pickers for the active profile."""
        raise NotImplementedError

    def refresh_models(self) -> None:
        """Load the active profile's models on the task runner, unless they are loaded."""
        if self.ctx is None:
            return
        active = self.ctx.profiles.active()
        if active is not None and active.id != self._models_for:
            self._models_for = active.id
            self.ctx.runner.run(self._load_models(), key=self.models_key)

    def follow_catalog(self) -> None:
        if self.ctx is not None and self.ctx.catalog is not None:
            # Starring a model in the Models pane reorders this pane's picker.
            self.ctx.catalog.listeners.append(self._on_catalog_changed)

    def _on_catalog_changed(self, profile_id: str) -> None:
        if not shiboken6.isValid(self):  # deleted without detach (tests): forget us
            self.detach()
            return
        if profile_id == self._models_for:
            self._models_for = ""  # reload on the next show
            if self.isVisible():
                self.on_shown()

    def detach(self) -> None:
        """Stop listening to the catalog (MainWindow calls this when it closes)."""
        catalog = self.ctx.catalog if self.ctx is not None else None
        if catalog is not None and self._on_catalog_changed in catalog.listeners:
            catalog.listeners.remove(self._on_catalog_changed)

    def catalog_price(self, model: str) -> Price | None:
        """The catalog's price of `model` for the active profile; None without a catalog, an
        active profile or a price the gateway publishes."""
        catalog = self.ctx.catalog if self.ctx is not None else None
        active = self.ctx.profiles.active() if self.ctx is not None else None
        if catalog is None or active is None:
            return None
        return catalog.price(model, profile=active)

    def money(self, usd: float, decimals: int) -> str:
        """`usd` in the gateway's display currency when the loaded catalog says which, else in
        dollars with up to `decimals` places."""
        catalog = self.ctx.catalog if self.ctx is not None else None
        active = self.ctx.profiles.active() if self.ctx is not None else None
        snapshot = catalog.loaded(active) if catalog is not None and active is not None else None
        if snapshot is not None and snapshot.settings is not None:
            return format_amount(usd, snapshot.settings)
        return f"${usd:.{decimals}f}".rstrip("0").rstrip(".")
