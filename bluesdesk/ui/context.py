"""What the composition root hands to the UI: services, the task runner and app-level hooks.

Built by `bluesdesk.app` (or a test) from real parts; the UI never creates services itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from bluesdesk.core.models import GatewayProfile, ResponseMeta
from bluesdesk.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from bluesdesk.gateway.http import GatewayClient, GatewayPool
    from bluesdesk.secrets.keystore import KeyStore
    from bluesdesk.services.account import AccountService
    from bluesdesk.services.catalog import CatalogService
    from bluesdesk.services.chat import ChatService
    from bluesdesk.services.images import ImageService
    from bluesdesk.services.profiles import ProfileService
    from bluesdesk.services.speech import SpeechService
    from bluesdesk.settings import SettingsStore
    from bluesdesk.store.db import Database
    from bluesdesk.ui.theme import ThemeManager


class ConnectionBus(QObject):
    """Gateway feedback for the status bar, from wherever it is observed.

    Signals:
        meta_received(object): a `ResponseMeta` after any response of the active profile.
        state_changed(str, str): connection state ("unknown", "ok", "error") and a detail text.
    """

    meta_received = Signal(object)
    state_changed = Signal(str, str)
    notice = Signal(str)

    def on_meta(self, meta: ResponseMeta) -> None:
        # Called by GatewayClient after every response (same thread: the qasync loop).
        self.meta_received.emit(meta)
        if meta.status:
            if meta.status < 400:
                self.state_changed.emit("ok", "")
            else:
                self.state_changed.emit("error", f"HTTP {meta.status}")


@dataclass
class AppContext:
    settings: SettingsStore
    keys: KeyStore
    profiles: ProfileService
    runner: TaskRunner
    bus: ConnectionBus = field(default_factory=ConnectionBus)
    db: Database | None = None
    pool: GatewayPool | None = None
    # Starts the built-in emulator and selects a "Demo gateway" profile (first-run "Try the demo").
    start_demo: Callable[[], Awaitable[None]] | None = None
    chat: ChatService | None = None  # conversations and streamed answers (the Chat pane)
    catalog: CatalogService | None = None  # models, prices, favourites (Models pane, pickers)
    images: ImageService | None = None  # generated images and the gallery (Images pane)
    speech: SpeechService | None = None  # speech clips and transcripts (Speech pane)
    account: AccountService | None = None  # console sign-in, balance, API keys (Account pane)
    notices: list[str] = field(default_factory=list)
    theme: ThemeManager | None = None  # the app's light/dark switch (Settings → Appearance)

    def __post_init__(self) -> None:
        if self.pool is not None:
            # Every client the pool makes (panes' and services') reports here; only the active
            # profile's responses reach the status bar.
            self.pool.meta_listeners.append(self._on_pool_meta)

    def _on_pool_meta(self, profile: GatewayProfile, meta: ResponseMeta) -> None:
        active = self.profiles.active()
        if active is not None and active.id == profile.id:
            self.bus.on_meta(meta)

    def detach(self) -> None:
        if self.pool is not None and self._on_pool_meta in self.pool.meta_listeners:
            self.pool.meta_listeners.remove(self._on_pool_meta)

    def notify(self, text: str) -> None:
        """A lasting notice for the status bar (e.g. keys kept in memory only)."""
        if text not in self.notices:
            self.notices.append(text)
        self.bus.notice.emit(text)

    async def client(self, profile: GatewayProfile | None = None) -> GatewayClient:
        """The pool's client for `profile` (default: the active one), with its key."""
        return await self.profiles.client(profile)
