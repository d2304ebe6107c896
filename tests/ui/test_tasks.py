"""TaskRunner: strong refs, names, keyed cancellation, busy signal and error routing."""

from __future__ import annotations

import asyncio

import pytest

from bluesdesk.errors import AuthFailed
from bluesdesk.ui.tasks import TaskRunner

pytestmark = pytest.mark.gui


@pytest.fixture
def runner(aloop, qtbot):
    crashes: list[BaseException] = []
    r = TaskRunner(crash_handler=crashes.append)
    r.crashes = crashes  # type: ignore[attr-defined]
    yield r
    qtbot.waitUntil(lambda: not r.busy, timeout=5000)


async def _wait(event: asyncio.Event) -> str:
    await event.wait()
    return "done"


def test_run_names_task_and_reports_busy(runner, qtbot):
    event = asyncio.Event()
    with qtbot.waitSignal(runner.busy_changed) as started:
        task = runner.run(_wait(event), key="load")
    assert started.args == [True]
    assert task.get_name() == "bluesdesk:load"
    assert runner.is_running("load")
    with qtbot.waitSignal(runner.busy_changed) as stopped:
        event.set()
    assert stopped.args == [False]
    assert task.result() == "done"
    assert not runner.busy


def test_same_key_cancels_the_earlier_task(runner, qtbot):
    first = runner.run(_wait(asyncio.Event()), key="k")
    event = asyncio.Event()
    second = runner.run(_wait(event), key="k")
    qtbot.waitUntil(first.done, timeout=2000)
    assert first.cancelled()
    assert not second.done()
    event.set()
    qtbot.waitUntil(second.done, timeout=2000)
    assert second.result() == "done"


def test_expected_errors_go_to_failed_and_bugs_to_crash_handler(runner, qtbot):
    async def auth() -> None:
        raise AuthFailed("The key was rejected.", status=401)

    async def bug() -> None:
        raise ZeroDivisionError("oops")

    with qtbot.waitSignal(runner.failed) as failed:
        runner.run(auth(), key="auth")
    key, error = failed.args
    assert key == "auth"
    assert isinstance(error, AuthFailed)
    assert runner.crashes == []

    with qtbot.waitSignal(runner.finished):
        runner.run(bug(), key="bug")
    assert len(runner.crashes) == 1
    assert isinstance(runner.crashes[0], ZeroDivisionError)


def test_shutdown_cancels_everything(runner, qtbot):
    tasks = [runner.run(_wait(asyncio.Event())) for _ in range(3)]
    done = asyncio.ensure_future(runner.shutdown(timeout=2))
    qtbot.waitUntil(done.done, timeout=3000)
    assert all(t.cancelled() for t in tasks)
    assert not runner.busy


def test_busy_reads_what_its_signal_last_said_even_between_a_tasks_end_and_its_callback(
    runner, qtbot
):
    said: list[bool] = []
    runner.busy_changed.connect(said.append)
    seen: list[tuple[bool, bool, bool]] = []

    async def last_step() -> None:
        # Runs once the task is done but before the runner's done-callback (scheduled after it).
        asyncio.get_running_loop().call_soon(
            lambda: seen.append((task.done(), runner.busy, said[-1]))
        )

    task = runner.run(last_step())
    qtbot.waitUntil(lambda: said == [True, False], timeout=5000)
    assert seen == [(True, True, True)]  # done, and still busy as the indicator shows
    assert not runner.busy
