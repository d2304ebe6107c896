"""UI fixtures: real services on a private data dir and an in-memory keyring; a shown window."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bluesdesk.gateway.http import GatewayPool
from bluesdesk.paths import Paths
from bluesdesk.secrets.keystore import KeyStore
from bluesdesk.services.profiles import ProfileService
from bluesdesk.settings import SettingsStore
from bluesdesk.ui.context import AppContext
from bluesdesk.ui.tasks import TaskRunner


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
