"""The main window: navigation rail, one page per pane, status bar, first-run screen.

The shell (rail, status bar, first-run screen) is cheap; the panes are not (their modules pull in
the services, markdown, QtMultimedia…). So the app can show the shell first and build the panes
after the first paint (`defer_panes=True` + `load_panes()`); their modules are imported only then.
Tests and simple callers get every pane at once.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import time
from collections.abc import Callable, Mapping

from PySide6.QtCore import QByteArray, QCoreApplication, Qt, Signal, SignalInstance
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QPaintEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from bluesdesk.errors import BluesdeskError
from bluesdesk.ui import icons, settings_bridge
from bluesdesk.ui.context import AppContext
from bluesdesk.ui.first_run import FirstRunPage
from bluesdesk.ui.nav_rail import NavRail
from bluesdesk.ui.status_bar import StatusBar
from bluesdesk.ui.theme import ThemeManager
from bluesdesk.ui.widgets.busy_indicator import BusyIndicator
from bluesdesk.ui.widgets.pane import Pane

log = logging.getLogger(__name__)

PANE_KEYS = ("chat", "images", "speech", "models", "account", "settings")

PaneFactory = Callable[[AppContext], Pane]

# Imported on first use: these modules are most of the app's import time.
_PANE_CLASSES = {
    "chat": ("bluesdesk.ui.chat.pane", "ChatPane"),
    "images": ("bluesdesk.ui.images.pane", "ImagesPane"),
    "speech": ("bluesdesk.ui.speech.pane", "SpeechPane"),
    "models": ("bluesdesk.ui.models.pane", "ModelsPane"),
    "account": ("bluesdesk.ui.account.pane", "AccountPane"),
    "settings": ("bluesdesk.ui.preferences.pane", "PreferencesPane"),
}


def default_pane_factory(key: str) -> PaneFactory:
    module_name, class_name = _PANE_CLASSES[key]

    def make(ctx: AppContext) -> Pane:
        cls = getattr(importlib.import_module(module_name), class_name)
        pane = cls(ctx)
        assert isinstance(pane, Pane)
        return pane

    return make


def _pane_method(pane: QWidget, name: str) -> Callable[..., object] | None:
    """`pane.name` if it is a plain method (a pane may not have it yet, or have a signal)."""
    method = getattr(pane, name, None)
    if method is None or isinstance(method, SignalInstance) or not callable(method):
        return None
    return method


def _pane_signal(pane: QWidget, name: str) -> SignalInstance | None:
    signal = getattr(pane, name, None)
    return signal if isinstance(signal, SignalInstance) else None


def _loading_page() -> QWidget:
    page = QWidget()
    page.setObjectName("pane")
    label = QLabel(QCoreApplication.translate("MainWindow", "Loading…"))
    label.setObjectName("paneSubtitle")
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    QVBoxLayout(page).addWidget(label)
    return page


class MainWindow(QMainWindow):
    """Signals:
    closed(): the window was closed (the app shuts down its services then).
    pane_changed(str): the visible pane changed.
    panes_loaded(): every pane exists (at once, or at the end of `load_panes()`).

    `panes` maps each key to a built pane; with `defer_panes=True` it fills in during
    `load_panes()`, and `show_pane()` builds a missing one on the spot.
    """

    closed = Signal()
    pane_changed = Signal(str)
    panes_loaded = Signal()

    def __init__(
        self,
        ctx: AppContext,
        theme: ThemeManager | None = None,
        *,
        defer_panes: bool = False,
        first_run: bool = True,
        pane_factories: Mapping[str, PaneFactory] | None = None,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.theme = theme
        self.setWindowTitle(self.tr("bluesdesk"))
        self.setWindowIcon(icons.app_icon())
        self.setMinimumSize(720, 480)
        self.painted = False
        self._paint_waiters: list[asyncio.Future[None]] = []
        self._factories = {key: default_pane_factory(key) for key in PANE_KEYS}
        self._factories.update(pane_factories or {})

        self.labels = {
            "chat": self.tr("Chat"),
            "images": self.tr("Images"),
            "speech": self.tr("Speech"),
            "models": self.tr("Models"),
            "account": self.tr("Account"),
            "settings": self.tr("Settings"),
        }
        self.panes: dict[str, Pane] = {}
        self.rail = NavRail()
        self.stack = QStackedWidget()
        self.loading_page = _loading_page()
        self.stack.addWidget(self.loading_page)
        for index, key in enumerate(PANE_KEYS):
            shortcut = QKeySequence(f"Ctrl+{index + 1}").toString(
                QKeySequence.SequenceFormat.NativeText
            )
            self.rail.add(key, self.labels[key], shortcut, bottom=key == "settings")
            action = QAction(self.tr("Show {0}").replace("{0}", self.labels[key]), self)
            action.setShortcut(QKeySequence(f"Ctrl+{index + 1}"))
            action.triggered.connect(lambda *_, k=key: self.show_pane(k))
            self.addAction(action)
        self.rail.selected.connect(self.show_pane)

        prefs_action = QAction(self.tr("Preferences"), self)
        prefs_action.setShortcut(QKeySequence("Ctrl+,"))
        prefs_action.triggered.connect(lambda *_: self.show_pane("settings"))
        self.addAction(prefs_action)
        self.shortcuts_action = QAction(self.tr("Keyboard shortcuts"), self)
        self.shortcuts_action.setShortcuts([QKeySequence("F1"), QKeySequence("?")])
        self.shortcuts_action.triggered.connect(lambda *_: self.show_shortcuts())
        self.addAction(self.shortcuts_action)
        quit_action = QAction(self.tr("Quit"), self)
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        quit_action.triggered.connect(lambda *_: self.close())
        self.addAction(quit_action)
        self.shortcuts_dialog: QWidget | None = None

        shell = QWidget()
        row = QHBoxLayout(shell)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.rail)
        row.addWidget(self.stack, 1)

        self.first_run = FirstRunPage()
        self.first_run.demo_requested.connect(self._on_first_run_demo)
        self.first_run.connect_requested.connect(self._on_first_run_connect)
        self.pages = QStackedWidget()
        self.pages.addWidget(shell)
        self.pages.addWidget(self.first_run)
        self.setCentralWidget(self.pages)

        self.status = StatusBar()
        self.setStatusBar(self.status)
        self.busy = BusyIndicator()
        self.status.addPermanentWidget(self.busy)
        ctx.runner.busy_changed.connect(self.busy.set_busy)
        self.busy.set_busy(ctx.runner.busy)
        ctx.bus.meta_received.connect(self.status.show_meta)
        ctx.bus.state_changed.connect(self.status.set_connection)
        ctx.bus.notice.connect(self.status.set_notice)
        # Panes show their own errors inline; anything they leave reaches the status bar.
        ctx.runner.failed.connect(self._on_task_failed)
        for notice in ctx.notices:
            self.status.set_notice(notice)

        self._active_id = ""
        self._close_requested = False
        self._hold_close = False
        ctx.profiles.listeners.append(self._on_profiles_changed)
        if theme is not None:
            theme.changed.connect(self._on_theme_changed)
            self._on_theme_changed(theme.dark)

        settings = ctx.settings.current
        self.current_key = ""
        if settings.ui.geometry:
            self.restoreGeometry(QByteArray.fromBase64(settings.ui.geometry.encode("ascii")))
        else:
            self.resize(1180, 760)
        if first_run and not settings.first_run_done and not ctx.profiles.profiles():
            self.pages.setCurrentWidget(self.first_run)
        self._on_profiles_changed()
        last = settings.ui.last_pane if settings.ui.last_pane in PANE_KEYS else "chat"
        if defer_panes:
            # Only mark the pane: `load_panes()` builds it first, after the window has painted.
            self.current_key = last
            self.rail.set_current(last)
        else:
            for key in PANE_KEYS:
                self._build_pane(key)
            self.show_pane(last, remember=False)
            self.panes_loaded.emit()

    # ---- Building panes

    def panes_ready(self) -> bool:
        return all(key in self.panes for key in PANE_KEYS)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self.painted:
            self.painted = True
            for waiter in self._paint_waiters:
                if not waiter.done():
                    waiter.set_result(None)
            self._paint_waiters.clear()

    async def wait_painted(self, timeout: float = 2.0) -> None:
        """Return once the window has painted (or after `timeout`, e.g. when it is hidden).

        Some platforms paint inside `show()`, others on the next expose event.
        """
        if self.painted:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._paint_waiters.append(waiter)
        try:
            await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            log.debug("no paint event within %.1f s", timeout)

    async def load_panes(self) -> None:
        """Build the missing panes, the visible one first, letting Qt paint between them."""
        order = [self.current_key] + [k for k in PANE_KEYS if k != self.current_key]
        for key in order:
            if self._close_requested:
                return
            if key in self.panes:
                continue
            started = time.perf_counter()
            self._build_pane(key)
            log.debug("pane %s built in %.0f ms", key, (time.perf_counter() - started) * 1000)
            if key == self.current_key and self.stack.currentWidget() is self.loading_page:
                self._present(key)
            await asyncio.sleep(0)
        self.panes = {key: self.panes[key] for key in PANE_KEYS}
        self.panes_loaded.emit()

    def _build_pane(self, key: str) -> Pane:
        pane = self._factories[key](self.ctx)
        self.panes[key] = pane
        self.stack.addWidget(pane)
        if self.theme is not None:
            pane.on_theme_changed(self.theme.dark)
        # Panes finish setting up on their first profile change (e.g. "no profile" is ready).
        pane.on_profile_changed()
        # Cross-pane requests; a pane that has not grown the signal yet is simply not wired.
        use = _pane_signal(pane, "use_model")
        if use is not None:
            use.connect(self.use_model)
        read_aloud = _pane_signal(pane, "read_aloud_requested")
        if read_aloud is not None:
            read_aloud.connect(self.read_aloud)
        to_chat = _pane_signal(pane, "send_to_chat_requested")
        if to_chat is not None:
            to_chat.connect(self.send_to_chat)
        open_pane = _pane_signal(pane, "open_pane_requested")
        if open_pane is not None:
            open_pane.connect(self.open_pane)
        open_settings = _pane_signal(pane, "open_settings_requested")
        if open_settings is not None:
            open_settings.connect(lambda *_: self.show_pane("settings"))
        show_in_logs = _pane_signal(pane, "show_in_logs_requested")
        if show_in_logs is not None:
            show_in_logs.connect(self.show_in_logs)
        return pane

    def pane(self, key: str) -> Pane:
        """The pane for `key`, built now if it does not exist yet."""
        pane = self.panes.get(key)
        return pane if pane is not None else self._build_pane(key)

    # ---- Navigation

    def show_pane(self, key: str, *, remember: bool = True) -> None:
        if self.pages.currentWidget() is self.first_run and remember:
            self._finish_first_run()
        self.rail.set_current(key)
        if self.current_key == key and self.stack.currentWidget() is self.panes.get(key):
            return
        self.pane(key)
        self.current_key = key
        self._present(key)
        if remember:
            try:
                settings_bridge.update_ui(self.ctx.settings, last_pane=key)
            except BluesdeskError as exc:
                self.status.showMessage(exc.user_message, 5000)

    def _present(self, key: str) -> None:
        pane = self.panes[key]
        self.stack.setCurrentWidget(pane)
        pane.on_shown()
        self.pane_changed.emit(key)

    def current_pane(self) -> Pane:
        return self.pane(self.current_key)

    def showing_first_run(self) -> bool:
        return self.pages.currentWidget() is self.first_run

    # ---- Cross-pane hooks

    def use_model(self, key: str, model_id: str) -> None:
        """Show pane `key` with `model_id` picked in its model picker."""
        self.show_pane(key)
        pane = self.panes[key]
        use = _pane_method(pane, "use_model")
        if use is not None:
            use(model_id)
            return
        # Older panes: pick it in their model box directly.
        for name in ("model_box", "model_combo"):
            combo = getattr(pane, name, None)
            if isinstance(combo, QComboBox):
                found = combo.findText(model_id)
                if found >= 0:
                    combo.setCurrentIndex(found)
                elif combo.isEditable():
                    combo.setCurrentText(model_id)
                break

    def read_aloud(self, text: str) -> None:
        """Chat's "Read aloud": the Speech pane speaks `text`."""
        if not text.strip():
            return
        self.show_pane("speech")
        speak = _pane_method(self.panes["speech"], "speak_text")
        if speak is None:
            self.status.showMessage(self.tr("The Speech pane cannot read text aloud yet."), 5000)
            return
        speak(text)

    def send_to_chat(self, text: str) -> None:
        """Put `text` (a transcript, a prompt) in the Chat composer, not sent yet."""
        if not text.strip():
            return
        self.show_pane("chat")
        chat = self.panes["chat"]
        draft = _pane_method(chat, "set_draft")
        if draft is not None:
            draft(text)
            return
        composer = getattr(chat, "composer", None)
        edit = getattr(composer, "edit", None)
        set_text = _pane_method(edit, "setPlainText") if isinstance(edit, QWidget) else None
        if set_text is None:
            self.status.showMessage(self.tr("The Chat pane cannot take text yet."), 5000)
            return
        set_text(text)
        assert isinstance(edit, QWidget)
        edit.setFocus()

    def show_in_logs(self, request_id: str) -> None:
        """A chat message's "show in logs": the Account pane's Logs tab on that request."""
        if not request_id:
            return
        self.show_pane("account")
        show = _pane_method(self.panes["account"], "show_request_in_logs")
        if show is not None:
            show(request_id)

    def open_pane(self, key: str) -> None:
        """A pane asks for another one (e.g. Chat → Account to top up); unknown keys are ignored."""
        if key in PANE_KEYS:
            self.show_pane(key)
        else:
            log.warning("a pane asked for an unknown pane %r", key)

    # ---- Help

    def show_shortcuts(self) -> None:
        from bluesdesk.ui.widgets.shortcuts_dialog import ShortcutsDialog

        if self.shortcuts_dialog is None:
            self.shortcuts_dialog = ShortcutsDialog(self)
        self.shortcuts_dialog.show()
        self.shortcuts_dialog.raise_()
        self.shortcuts_dialog.activateWindow()

    # ---- First run

    def _finish_first_run(self) -> None:
        self.pages.setCurrentIndex(0)
        try:
            settings_bridge.update(self.ctx.settings, first_run_done=True)
        except BluesdeskError as exc:
            self.status.showMessage(exc.user_message, 5000)

    def _on_first_run_demo(self) -> None:
        start = self.ctx.start_demo
        if start is None:
            self.first_run.show_error(self.tr("The demo gateway is not available in this build."))
            return

        async def run() -> None:
            self.first_run.set_busy(True)
            self.first_run.show_error("")
            try:
                await start()
            except BluesdeskError as exc:
                self.first_run.show_error(exc.describe())
                return
            finally:
                self.first_run.set_busy(False)
            self._finish_first_run()
            self.show_pane("models")

        self.ctx.runner.run(run(), key="first-run:demo")

    def _on_first_run_connect(self) -> None:
        self._finish_first_run()
        self.show_pane("settings")
        start = _pane_method(self.panes["settings"], "start_new_profile")
        if start is not None:
            start()

    # ---- Reactions

    def _on_profiles_changed(self) -> None:
        active = self.ctx.profiles.active()
        new_id = active.id if active is not None else ""
        # The same profile (maybe renamed) keeps its figures; another one starts clean.
        self.status.set_profile(active, reset=new_id != self._active_id or active is None)
        self._active_id = new_id
        for pane in list(self.panes.values()):
            pane.on_profile_changed()

    def _on_task_failed(self, key: str, error: object) -> None:
        if isinstance(error, BluesdeskError):
            self.status.showMessage(error.user_message, 10_000)

    def _on_theme_changed(self, dark: bool) -> None:
        self.rail.recolor(dark)
        for pane in self.panes.values():
            pane.on_theme_changed(dark)

    def hold_close(self) -> None:
        """Keep the window open after a close request until `release_close()`.

        The app shuts its services down first; a window that refuses to close also stops a
        QApplication.quit(), which would otherwise end the event loop under the shutdown.
        """
        self._hold_close = True

    def release_close(self) -> None:
        self._hold_close = False

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._close_requested:
            self._close_requested = True
            self._save_and_detach()
            self.closed.emit()
        if self._hold_close:
            event.ignore()
            return
        super().closeEvent(event)

    def _save_and_detach(self) -> None:
        geometry = bytes(self.saveGeometry().toBase64().data()).decode("ascii")
        try:
            settings_bridge.update_ui(self.ctx.settings, geometry=geometry)
        except BluesdeskError as exc:
            log.warning("window geometry not saved: %s", exc)
        self.ctx.runner.failed.disconnect(self._on_task_failed)
        self.ctx.runner.busy_changed.disconnect(self.busy.set_busy)
        self.busy.set_busy(False)
        if self._on_profiles_changed in self.ctx.profiles.listeners:
            self.ctx.profiles.listeners.remove(self._on_profiles_changed)
        for pane in self.panes.values():
            detach = getattr(pane, "detach", None)
            if callable(detach):
                detach()
