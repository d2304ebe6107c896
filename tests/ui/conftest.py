"""UI fixtures: real services on a private data dir and an in-memory keyring; a shown window."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from bluesdesk.core.models import GatewayKind, GatewayProfile
from bluesdesk.emulator.accounts import DEMO
from bluesdesk.gateway.http import GatewayPool
from bluesdesk.paths import Paths
from bluesdesk.secrets.keystore import KeyStore
from bluesdesk.services.catalog import CatalogService
from bluesdesk.services.profiles import ProfileService, new_profile_id
from bluesdesk.settings import SettingsStore
from bluesdesk.store import Database, ModelCache
from bluesdesk.ui.context import AppContext
from bluesdesk.ui.tasks import TaskRunner
from bluesdesk.ui.widgets.pane import Pane

P = TypeVar("P", bound=Pane)


def run_async(qtbot: Any, coro: Any, timeout: int = 10_000) -> Any:
    """Drive `coro` on the qasync loop from a sync test and return its result."""
    future = asyncio.ensure_future(coro)
    qtbot.waitUntil(future.done, timeout=timeout)
    return future.result()


def make_context() -> AppContext:
    paths = Paths.resolve()  # BLUESDESK_HOME from the `home` fixture
    paths.ensure()
    store = SettingsStore(paths.settings_file)
    store.load()
    pool = GatewayPool()
    keys = KeyStore()
    crashes: list[BaseException] = []
    runner = TaskRunner(crash_handler=crashes.append)
    ctx = AppContext(
        settings=store,
        keys=keys,
        profiles=ProfileService(store, keys, pool),
        runner=runner,
        pool=pool,
    )
    ctx.crashes = crashes  # type: ignore[attr-defined]
    return ctx


@pytest.fixture
def ctx(home, memory_keyring, aloop, qtbot):
    context = make_context()
    yield context
    qtbot.waitUntil(lambda: not context.runner.busy, timeout=5000)
    assert context.crashes == [], "a bug escaped a UI task"  # type: ignore[attr-defined]
    context.detach()
    assert context.pool is not None
    run_async(qtbot, context.pool.aclose())


@pytest.fixture
def make_window(ctx, qtbot):
    from bluesdesk.ui.main_window import MainWindow

    def make() -> MainWindow:
        window = MainWindow(ctx)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        return window

    return make


@pytest.fixture
def emulator_profile(ctx, emulator, qtbot) -> GatewayProfile:
    """A BluesMinds profile on the emulator with the demo key, saved (so the active one)."""
    profile = GatewayProfile(
        id=new_profile_id(), name="Emulator", base_url=emulator.relay_url,
        kind=GatewayKind.BLUESMINDS,
    )  # fmt: skip
    run_async(qtbot, ctx.profiles.save(profile, api_key=DEMO.api_key))
    return profile


def show_pane(pane: P, ctx: AppContext, qtbot: Any) -> P:
    """Show `pane` as the main window would; return it once loaded, its model list included."""
    qtbot.addWidget(pane)
    pane.resize(1100, 720)
    pane.show()
    pane.on_shown()
    qtbot.waitUntil(pane.is_ready, timeout=10_000)
    models_key = pane.models_key  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: not ctx.runner.is_running(models_key), timeout=10_000)
    return pane


@pytest.fixture
def open_media_pane(ctx, emulator_profile, qtbot) -> Iterator[Callable[[Any, Any], Any]]:
    """A factory of shown media panes on the emulator profile: `open_media_pane(ImagesPane,
    ImageService)` gives each pane its service on a database connection of its own (a restart),
    closed after the test."""
    paths = Paths.resolve()
    dbs: list[Database] = []

    def make(pane_class: Any, service_class: Any) -> Any:
        db = run_async(qtbot, Database.open(paths.db_file))
        dbs.append(db)
        return show_pane(pane_class(ctx, service_class(db, paths.media_dir)), ctx, qtbot)

    yield make
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10_000)
    for db in dbs:
        run_async(qtbot, db.close())


@pytest.fixture
def catalog_db(ctx, emulator_profile, qtbot) -> Iterator[Database]:
    """The data folder's database, open, with the model catalog on it as `ctx.catalog` (for the
    emulator profile); closed after the test, once the panes' work is done."""
    db = run_async(qtbot, Database.open(Paths.resolve().db_file))
    ctx.catalog = CatalogService(ctx.profiles, ModelCache(db))
    yield db
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10_000)
    run_async(qtbot, db.close())
