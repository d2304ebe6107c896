"""Shared fixtures: headless Qt with one qasync loop, a private data dir, keyrings, the emulator.

Qt is imported lazily so that the non-GUI suites never load PySide6.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Qt warns about missing runtime dirs under root; give it a private one.
os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp/bluesdesk-test-runtime")
Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, parents=True, exist_ok=True)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private BLUESDESK_HOME for one test (settings, database, logs all land here)."""
    root = tmp_path / "bluesdesk-home"
    root.mkdir()
    monkeypatch.setenv("BLUESDESK_HOME", str(root))
    return root


@pytest.fixture
def memory_keyring() -> Iterator[Any]:
    """Our in-memory keyring backend, selected through keyring's documented `set_keyring`."""
    import keyring

    from tests.helpers.memkeyring import MemoryKeyring

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture(scope="session")
def emulator() -> Iterator[Any]:
    """One BluesMinds-flavoured emulator for the whole session, streaming as fast as it can."""
    from bluesdesk.emulator import EmulatorConfig, EmulatorServer, Flavor

    server = EmulatorServer(EmulatorConfig(flavor=Flavor.BLUESMINDS, port=0, tokens_per_second=0))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _emulator_faults_reset(request: pytest.FixtureRequest) -> Iterator[None]:
    """A fault armed by one test must never leak into the next."""
    yield
    if "emulator" in request.fixturenames:
        request.getfixturevalue("emulator").reset_faults()


@pytest.fixture(scope="session")
def qloop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    """The qasync loop, already running inside Qt's (STACK-NOTES recipe C).

    Never stopped or closed between tests: `stop()` would set Qt's quitNow flag and break every
    later `qtbot.wait*`.
    """
    import qasync

    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    sys.set_asyncgen_hooks(
        firstiter=loop._asyncgen_firstiter_hook,  # qasync installs none itself
        finalizer=loop._asyncgen_finalizer_hook,
    )
    # qasync's default executor makes QThreads; one still alive when the interpreter exits
    # aborts the process ("QThread: Destroyed while thread is still running"). Plain threads,
    # shut down at the end of the session, do not.
    executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="qloop-executor")
    loop.set_default_executor(executor)
    yield loop
    executor.shutdown(wait=True, cancel_futures=True)


@pytest.fixture
def aloop(qloop: asyncio.AbstractEventLoop, qtbot: Any) -> Iterator[asyncio.AbstractEventLoop]:
    """Per-test view of `qloop`: cancels whatever a test left running and waits for it to end."""
    before = set(asyncio.all_tasks(qloop))
    yield qloop
    leftover = [t for t in asyncio.all_tasks(qloop) if t not in before and not t.done()]
    for task in leftover:
        task.cancel()
    if leftover:
        qtbot.waitUntil(lambda: all(t.done() for t in leftover), timeout=5000)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the Qt tests last.

    The qasync loop of `qloop` stays registered as asyncio's running loop for the rest of the
    process, after which `asyncio.run()` (used by the Qt-free async tests) refuses to start.
    """

    def uses_qt(item: pytest.Item) -> bool:
        names = getattr(item, "fixturenames", ())
        return any(n in names for n in ("qloop", "aloop", "qapp", "qtbot"))

    items.sort(key=uses_qt)
