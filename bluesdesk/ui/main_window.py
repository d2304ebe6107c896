"""The main window: navigation rail, one page per pane, status bar, first-run screen."""

from __future__ import annotations

import logging

from PySide6.QtCore import QByteArray, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QMainWindow, QStackedWidget, QWidget

from bluesdesk.errors import BluesdeskError
from bluesdesk.ui import icons, settings_bridge
from bluesdesk.ui.account.pane import AccountPane
from bluesdesk.ui.chat.pane import ChatPane
from bluesdesk.ui.context import AppContext
from bluesdesk.ui.first_run import FirstRunPage
from bluesdesk.ui.images.pane import ImagesPane
from bluesdesk.ui.models.pane import ModelsPane
from bluesdesk.ui.nav_rail import NavRail
from bluesdesk.ui.preferences.pane import PreferencesPane
from bluesdesk.ui.speech.pane import SpeechPane
from bluesdesk.ui.status_bar import StatusBar
from bluesdesk.ui.theme import ThemeManager
from bluesdesk.ui.widgets.pane import Pane

log = logging.getLogger(__name__)

PANE_KEYS = ("chat", "images", "speech", "models", "account", "settings")


class MainWindow(QMainWindow):
    """Signals:
    closed(): the window was closed (the app shuts down its services then).
    pane_changed(str): the visible pane changed.
    """

    closed = Signal()
    pane_changed = Signal(str)

    def __init__(self, ctx: AppContext, theme: ThemeManager | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.theme = theme
        self.setWindowTitle(self.tr("bluesdesk"))
        self.setWindowIcon(icons.app_icon())
        self.setMinimumSize(720, 480)

        labels = {
            "chat": self.tr("Chat"),
            "images": self.tr("Images"),
            "speech": self.tr("Speech"),
            "models": self.tr("Models"),
            "account": self.tr("Account"),
            "settings": self.tr("Settings"),
        }
        self.panes: dict[str, Pane] = {
            "chat": ChatPane(ctx),
            "images": ImagesPane(ctx),
            "speech": SpeechPane(ctx),
            "models": ModelsPane(ctx),
            "account": AccountPane(ctx),
            "settings": PreferencesPane(ctx),
        }
        self.rail = NavRail()
        self.stack = QStackedWidget()
        for index, key in enumerate(PANE_KEYS):
            shortcut = QKeySequence(f"Ctrl+{index + 1}").toString(
                QKeySequence.SequenceFormat.NativeText
            )
            self.rail.add(key, labels[key], shortcut, bottom=key == "settings")
            self.stack.addWidget(self.panes[key])
            action = QAction(labels[key], self)
            action.setShortcut(QKeySequence(f"Ctrl+{index + 1}"))
            action.triggered.connect(lambda *_, k=key: self.show_pane(k))
            self.addAction(action)
        self.rail.selected.connect(self.show_pane)
        models_pane = self.panes["models"]
        assert isinstance(models_pane, ModelsPane)
        models_pane.use_model.connect(self.use_model)

        quit_action = QAction(self.tr("Quit"), self)
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        quit_action.triggered.connect(lambda *_: self.close())
        self.addAction(quit_action)
        prefs_action = QAction(self.tr("Preferences"), self)
        prefs_action.setShortcut(QKeySequence("Ctrl+,"))
        prefs_action.triggered.connect(lambda *_: self.show_pane("settings"))
        self.addAction(prefs_action)

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
        if not settings.first_run_done and not ctx.profiles.profiles():
            self.pages.setCurrentWidget(self.first_run)
        self._on_profiles_changed()
        last = settings.ui.last_pane if settings.ui.last_pane in self.panes else "chat"
        self.show_pane(last, remember=False)

    # ---- Navigation

    def show_pane(self, key: str, *, remember: bool = True) -> None:
        pane = self.panes[key]
        if self.pages.currentWidget() is self.first_run and remember:
            self._finish_first_run()
        self.rail.set_current(key)
        if self.current_key == key:
            return
        self.current_key = key
        self.stack.setCurrentWidget(pane)
        pane.on_shown()
        self.pane_changed.emit(key)
        if remember:
            try:
                settings_bridge.update_ui(self.ctx.settings, last_pane=key)
            except BluesdeskError as exc:
                self.status.showMessage(exc.user_message, 5000)

    def use_model(self, key: str, model_id: str) -> None:
        """Show pane `key` with `model_id` picked in its model box (if it has one)."""
        self.show_pane(key)
        pane = self.panes[key]
        for name in ("model_box", "model_combo"):
            combo = getattr(pane, name, None)
            if isinstance(combo, QComboBox):
                found = combo.findText(model_id)
                if found >= 0:
                    combo.setCurrentIndex(found)
                elif combo.isEditable():
                    combo.setCurrentText(model_id)
                break

    def current_pane(self) -> Pane:
        return self.panes[self.current_key]

    def showing_first_run(self) -> bool:
        return self.pages.currentWidget() is self.first_run

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
        prefs = self.panes["settings"]
        assert isinstance(prefs, PreferencesPane)
        prefs.start_new_profile()

    # ---- Reactions

    def _on_profiles_changed(self) -> None:
        active = self.ctx.profiles.active()
        new_id = active.id if active is not None else ""
        # The same profile (maybe renamed) keeps its figures; another one starts clean.
        self.status.set_profile(active, reset=new_id != self._active_id or active is None)
        self._active_id = new_id
        for pane in self.panes.values():
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
        if self._on_profiles_changed in self.ctx.profiles.listeners:
            self.ctx.profiles.listeners.remove(self._on_profiles_changed)
        for pane in self.panes.values():
            detach = getattr(pane, "detach", None)
            if callable(detach):
                detach()
