"""The whole app in-process for the UI-level fault matrix: services as `bluesdesk.app` builds them,
the real `MainWindow` with every pane, a retry policy without delays, a heartbeat timer.

`open_app` goes through `bluesdesk.app._load_services`, the same function the app runs after its
first paint, so the panes see exactly the services (catalog over the console session, chat with
catalog prices, images and speech over the media folder) the user's panes see. Each pane's main
action is a `Driver`: `prepare` puts something on screen that must survive the fault (a finished
answer, a picture, a clip, the catalog, the key table), `act` does what the user does (type and
press Enter, click Generate, Refresh, Sign in), `settled` says when the pane has finished showing
the outcome, `shown` reads the text the user would read.
"""

from __future__ import annotations

import asyncio
import gc
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QWidget

from bluesdesk.app import _load_services
from bluesdesk.core.models import GatewayKind, GatewayProfile
from bluesdesk.core.retry import RetryPolicy
from bluesdesk.emulator.accounts import DEMO
from bluesdesk.gateway.http import GatewayPool
from bluesdesk.paths import Paths
from bluesdesk.secrets.keystore import KeyStore
from bluesdesk.services.profiles import ProfileService
from bluesdesk.settings import SettingsStore
from bluesdesk.store.db import Database
from bluesdesk.ui.context import AppContext
from bluesdesk.ui.main_window import MainWindow
from bluesdesk.ui.tasks import TaskRunner
from tests.ui.conftest import run_async

MAX_RETRIES = 2
# No waiting between attempts, and a server's Retry-After is capped to nothing: cells stay fast
# while the attempt count still follows the policy.
POLICY = RetryPolicy(
    max_retries=MAX_RETRIES, base_delay=0.0, max_delay=0.0, jitter=0.0, max_retry_after=0.0
)
TIMEOUT_S = 1.0
PROFILE_ID = "emu"
LEFT = Qt.MouseButton.LeftButton
WAIT_MS = 20_000
EARLIER_PROMPT = "echo: Lisbon has trams"
EARLIER_ANSWER = "Lisbon has trams"
CHAT_PROMPT = "echo: " + " ".join(f"word{i}" for i in range(60))
CHAT_ANSWER = CHAT_PROMPT.removeprefix("echo: ")


class Heartbeat:
    """A 10 ms timer on the GUI thread; the longest gap between its ticks is how long the event
    loop was blocked (plus timer slack)."""

    def __init__(self, interval_ms: int = 10) -> None:
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.max_gap_ms = 0.0
        self.ticks = 0
        self._last = 0.0

    def start(self) -> None:
        # The collector is paused while it beats: a full pass over the test process's heap
        # (500+ ms seen in CI, far bigger than the app's, which freezes its start-up heap) is
        # not the pane's doing.
        gc.collect()
        gc.disable()
        self._last = time.perf_counter()
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.max_gap_ms = max(self.max_gap_ms, (now - self._last) * 1000)
        self._last = now
        self.ticks += 1

    def stop(self) -> float:
        self._tick()  # the time since the last tick counts too
        self.timer.stop()
        gc.enable()
        return self.max_gap_ms


@dataclass
class App:
    root: Path
    ctx: AppContext
    window: MainWindow
    db: Database | None
    crashes: list[BaseException] = field(default_factory=list)

    def pane(self, key: str) -> Any:
        return self.window.panes[key]

    def show(self, qtbot: Any, key: str) -> Any:
        """Click the pane's button in the navigation rail."""
        qtbot.mouseClick(self.window.rail.buttons[key], LEFT)
        assert self.window.current_key == key
        return self.pane(key)

    def close(self, qtbot: Any) -> None:
        """Shut down as the app does: tasks, window, gateway clients, database."""
        run_async(qtbot, self.ctx.runner.shutdown(3.0))
        self.window.close()
        self.ctx.detach()
        assert self.ctx.pool is not None
        run_async(qtbot, self.ctx.pool.aclose())
        if self.db is not None:
            run_async(qtbot, self.db.close())
        self.window.deleteLater()
        assert self.crashes == [], f"a bug escaped a UI task: {self.crashes!r}"

    def db_messages(self) -> list[tuple[str, str, str]]:
        """(role, text, state) of every stored message, read from the file as a user could."""
        with sqlite3.connect(self.root / "bluesdesk.db") as conn:
            rows = conn.execute("SELECT role, text, state FROM messages ORDER BY id").fetchall()
        return [(str(r), str(t), str(s)) for r, t, s in rows]


def open_app(qtbot: Any, root: Path, relay_url: str) -> App:
    """Settings, keyring, pool, profile, then the pane services and the window, as the app does."""
    paths = Paths.under(root)
    paths.ensure()
    settings = SettingsStore(paths.settings_file)
    settings.load()
    keys = KeyStore()
    pool = GatewayPool(policy=POLICY)
    profiles = ProfileService(settings, keys, pool)
    crashes: list[BaseException] = []
    ctx = AppContext(
        settings=settings,
        keys=keys,
        profiles=profiles,
        runner=TaskRunner(crash_handler=crashes.append),
        pool=pool,
    )
    profile = GatewayProfile(
        id=PROFILE_ID,
        name="Emulator",
        base_url=relay_url,
        kind=GatewayKind.BLUESMINDS,
        timeout_s=TIMEOUT_S,
    )

    async def start() -> Database | None:
        await profiles.save(profile, DEMO.api_key)
        await profiles.set_active(profile.id)
        return await _load_services(ctx, paths)

    db = run_async(qtbot, start())
    window = MainWindow(ctx)
    window.resize(1180, 760)
    window.show()
    qtbot.waitExposed(window)
    return App(root=root, ctx=ctx, window=window, db=db, crashes=crashes)


def idle(app: App) -> Callable[[], bool]:
    return lambda: not app.ctx.runner.busy


def visible_texts(*widgets: QWidget) -> list[str]:
    """The text of each label that is on screen (hidden labels keep stale text)."""
    out = []
    for widget in widgets:
        if isinstance(widget, QLabel) and widget.isVisible() and widget.text().strip():
            out.append(widget.text())
    return out


# ---- each pane's main action --------------------------------------------------------------------


@dataclass
class Driver:
    key: str  # the pane
    path: str  # the emulator path of its main request
    prepare: Callable[[App, Any], Any]  # → what must survive ("earlier" state)
    act: Callable[[App, Any], None]
    settled: Callable[[App], bool]
    shown: Callable[[App], list[str]]
    kept: Callable[[App, Any, Any], None]  # asserts the earlier state survived
    succeeded: Callable[[App, Any], bool]  # the action worked (a new item is there)


def _answer(app: App) -> str:
    """What the user sees of the last answer: the transcript after its last "Assistant"."""
    return str(app.pane("chat").transcript.plain_text().rsplit("Assistant", 1)[-1])


def _chat_send(app: App, qtbot: Any, text: str) -> None:
    pane = app.pane("chat")
    pane.composer.edit.setFocus()
    pane.composer.edit.setPlainText(text)
    qtbot.keyClick(pane.composer.edit, Qt.Key.Key_Return)


def _chat_prepare(app: App, qtbot: Any) -> Any:
    pane = app.pane("chat")
    qtbot.waitUntil(lambda: pane.is_ready() and pane.model_box.count() > 0, timeout=WAIT_MS)
    qtbot.waitUntil(idle(app), timeout=WAIT_MS)
    _chat_send(app, qtbot, EARLIER_PROMPT)
    qtbot.waitUntil(
        lambda: pane.controller is not None and not pane.controller.busy and
        EARLIER_ANSWER in _answer(app),
        timeout=WAIT_MS,
    )  # fmt: skip
    qtbot.waitUntil(lambda: pane.sidebar.list.count() == 1, timeout=WAIT_MS)
    qtbot.waitUntil(idle(app), timeout=WAIT_MS)
    conversation = pane.conversation
    return len(app.db_messages()), conversation.id if conversation is not None else ""


def _chat_act(app: App, qtbot: Any) -> None:
    _chat_send(app, qtbot, CHAT_PROMPT)


def _chat_settled(app: App) -> bool:
    pane = app.pane("chat")
    runner = app.ctx.runner
    if runner.is_running("chat:send") or runner.is_running("chat:reply"):
        return False
    rows = app.db_messages()
    sent = any(r[0] == "user" and r[1] == CHAT_PROMPT for r in rows)
    return sent or pane.error_label.isVisible()


def _chat_shown(app: App) -> list[str]:
    pane = app.pane("chat")
    texts = [_answer(app), *visible_texts(pane.error_label, pane.action_bar.label)]
    if pane.action_bar.isVisible():
        texts.append(pane.action_bar.button.text())
    return texts


def _chat_kept(app: App, qtbot: Any, before: Any) -> None:
    pane = app.pane("chat")
    count, conversation_id = before
    rows = app.db_messages()
    assert len(rows) >= count
    assert any(r[1] == EARLIER_ANSWER and r[2] == "complete" for r in rows)
    titles = [pane.sidebar.list.item(i).text() for i in range(pane.sidebar.list.count())]
    assert any(EARLIER_PROMPT in t for t in titles), titles
    if pane.conversation is not None and pane.conversation.id == conversation_id:
        assert EARLIER_ANSWER in pane.transcript.plain_text()  # the same conversation, on screen
    last = rows[-1]
    if last[0] == "assistant" and last[2] in ("interrupted", "error") and last[1]:
        # Nothing received is lost: the partial text is stored and shown.
        assert CHAT_ANSWER.startswith(last[1])
        assert last[1].strip() in _answer(app)


def _chat_succeeded(app: App, before: Any) -> bool:
    rows = app.db_messages()
    return rows[-1] == ("assistant", CHAT_ANSWER, "complete")


def _images_prepare(app: App, qtbot: Any) -> Any:
    pane = app.pane("images")
    qtbot.waitUntil(lambda: pane.is_ready(), timeout=WAIT_MS)
    qtbot.waitUntil(idle(app), timeout=WAIT_MS)
    if pane.gallery.rowCount() == 0:
        _images_act(app, qtbot)
        qtbot.waitUntil(lambda: pane.gallery.rowCount() == 1, timeout=WAIT_MS)
        qtbot.waitUntil(idle(app), timeout=WAIT_MS)
    return [r.id for r in pane.gallery.records()]


def _images_act(app: App, qtbot: Any) -> None:
    pane = app.pane("images")
    pane.prompt_edit.setPlainText("A lighthouse at dusk")
    pane._select_model("dall-e-2")
    pane.size_combo.setCurrentText("256x256")
    qtbot.mouseClick(pane.generate_button, LEFT)


def _images_settled(app: App) -> bool:
    pane = app.pane("images")
    return not pane.busy and (pane.error_label.isVisible() or pane.status_label.text() != "")


def _images_shown(app: App) -> list[str]:
    pane = app.pane("images")
    return visible_texts(pane.error_label, pane.status_label)


def _images_kept(app: App, qtbot: Any, before: Any) -> None:
    pane = app.pane("images")
    ids = [r.id for r in pane.gallery.records()]
    assert all(i in ids for i in before)
    for record in pane.gallery.records():
        assert pane.service.file_of(record).is_file()


def _images_succeeded(app: App, before: Any) -> bool:
    return app.pane("images").gallery.rowCount() > len(before)


def _speech_prepare(app: App, qtbot: Any) -> Any:
    pane = app.pane("speech")
    qtbot.waitUntil(lambda: pane.is_ready(), timeout=WAIT_MS)
    qtbot.waitUntil(idle(app), timeout=WAIT_MS)
    # No playback in the matrix: a clip stopped while the next action changes the combo boxes
    # can deadlock PySide (the FFmpeg thread tears its objects down holding a Qt signal lock
    # and waits for the GIL, which the GUI thread holds while waiting for that lock).
    if pane.autoplay_check.isChecked():
        qtbot.mouseClick(pane.autoplay_check, LEFT)
    if not pane.clips():
        _speech_act(app, qtbot)
        qtbot.waitUntil(lambda: len(pane.clips()) == 1, timeout=WAIT_MS)
        qtbot.waitUntil(idle(app), timeout=WAIT_MS)
    assert not pane.player.playing
    return [c.id for c in pane.clips()]


def _speech_act(app: App, qtbot: Any) -> None:
    pane = app.pane("speech")
    pane.text_edit.setPlainText("Hello there.")
    pane.model_combo.setCurrentText("tts-1")
    pane.voice_combo.setCurrentText("nova")
    pane.format_combo.setCurrentText("wav")
    qtbot.mouseClick(pane.generate_button, LEFT)


def _speech_settled(app: App) -> bool:
    pane = app.pane("speech")
    return not pane.busy and (pane.error_label.isVisible() or pane.status_label.text() != "")


def _speech_shown(app: App) -> list[str]:
    pane = app.pane("speech")
    return visible_texts(pane.error_label, pane.status_label)


def _speech_kept(app: App, qtbot: Any, before: Any) -> None:
    pane = app.pane("speech")
    ids = [c.id for c in pane.clips()]
    assert all(i in ids for i in before)


def _speech_succeeded(app: App, before: Any) -> bool:
    return len(app.pane("speech").clips()) > len(before)


def _models_prepare(app: App, qtbot: Any) -> Any:
    pane = app.pane("models")
    qtbot.waitUntil(lambda: pane.is_ready() and not pane.progress.isVisible(), timeout=WAIT_MS)
    qtbot.waitUntil(idle(app), timeout=WAIT_MS)
    return pane.models()


def _models_act(app: App, qtbot: Any) -> None:
    qtbot.mouseClick(app.pane("models").refresh_button, LEFT)


def _models_settled(app: App) -> bool:
    pane = app.pane("models")
    return not app.ctx.runner.is_running("models:load") and not pane.progress.isVisible()


def _models_shown(app: App) -> list[str]:
    pane = app.pane("models")
    texts = visible_texts(pane.error_label, pane.subtitle)
    if pane.empty_page.isVisible():
        texts += visible_texts(pane.empty_page.title_label, pane.empty_page.body_label)
    if pane.banner.isVisible():
        texts.append(pane.retry_button.text())
    return texts


def _models_kept(app: App, qtbot: Any, before: Any) -> None:
    assert app.pane("models").models() == before


def _models_succeeded(app: App, before: Any) -> bool:
    pane = app.pane("models")
    return pane.state == "ok" and bool(pane.models())


def _account_ready(app: App, qtbot: Any) -> Any:
    pane = app.pane("account")
    qtbot.waitUntil(lambda: pane.is_ready(), timeout=WAIT_MS)
    qtbot.waitUntil(idle(app), timeout=WAIT_MS)
    return pane


def _sign_in_prepare(app: App, qtbot: Any) -> Any:
    pane = _account_ready(app, qtbot)
    assert pane.stack.currentIndex() == 1  # the sign-in form
    return None


def _sign_in_act(app: App, qtbot: Any) -> None:
    pane = app.pane("account")
    pane.username_edit.setText(DEMO.username)
    pane.password_edit.setText(DEMO.password)
    qtbot.mouseClick(pane.sign_in_button, LEFT)


def _account_settled(app: App) -> bool:
    return not any(
        app.ctx.runner.is_running(f"account:{what}") for what in ("signin", "load", "restore")
    )


def _account_shown(app: App) -> list[str]:
    pane = app.pane("account")
    return visible_texts(pane.error_label, pane.signed_out_label)


def _sign_in_kept(app: App, qtbot: Any, before: Any) -> None:
    pane = app.pane("account")
    if pane.stack.currentIndex() == 1:
        assert pane.username_edit.text() == DEMO.username  # only the password is cleared


def _sign_in_succeeded(app: App, before: Any) -> bool:
    pane = app.pane("account")
    return pane.stack.currentIndex() == 2 and not pane.error_label.isVisible()


def _tokens_prepare(app: App, qtbot: Any) -> Any:
    pane = _account_ready(app, qtbot)
    if pane.stack.currentIndex() == 1:
        _sign_in_act(app, qtbot)
        qtbot.waitUntil(lambda: pane.stack.currentIndex() == 2, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: pane.tokens_model.rowCount() > 0, timeout=WAIT_MS)
        qtbot.waitUntil(idle(app), timeout=WAIT_MS)
    return [t.id for t in pane.tokens_model.tokens]


def _tokens_act(app: App, qtbot: Any) -> None:
    qtbot.mouseClick(app.pane("account").refresh_button, LEFT)


def _tokens_kept(app: App, qtbot: Any, before: Any) -> None:
    pane = app.pane("account")
    if pane.stack.currentIndex() == 2:  # still signed in: the table keeps its rows
        assert [t.id for t in pane.tokens_model.tokens] == before


def _tokens_succeeded(app: App, before: Any) -> bool:
    pane = app.pane("account")
    signed_in = pane.stack.currentIndex() == 2
    return signed_in and not pane.error_label.isVisible() and pane.tokens_model.rowCount() > 0


DRIVERS: dict[str, Driver] = {
    "chat stream": Driver(
        "chat", "/v1/chat/completions", _chat_prepare, _chat_act, _chat_settled, _chat_shown,
        _chat_kept, _chat_succeeded,
    ),
    "image": Driver(
        "images", "/v1/images/generations", _images_prepare, _images_act, _images_settled,
        _images_shown, _images_kept, _images_succeeded,
    ),
    "speech": Driver(
        "speech", "/v1/audio/speech", _speech_prepare, _speech_act, _speech_settled,
        _speech_shown, _speech_kept, _speech_succeeded,
    ),
    "model refresh": Driver(
        "models", "/v1/models", _models_prepare, _models_act, _models_settled, _models_shown,
        _models_kept, _models_succeeded,
    ),
    "sign-in": Driver(
        "account", "/api/user/login", _sign_in_prepare, _sign_in_act, _account_settled,
        _account_shown, _sign_in_kept, _sign_in_succeeded,
    ),
    "token list": Driver(
        "account", "/api/token/", _tokens_prepare, _tokens_act, _account_settled,
        _account_shown, _tokens_kept, _tokens_succeeded,
    ),
}  # fmt: skip


def stop_in_thread(qtbot: Any, server: Any) -> None:
    """Stop an emulator without blocking the GUI thread's loop."""
    run_async(qtbot, asyncio.to_thread(server.stop))
