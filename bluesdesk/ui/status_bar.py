"""Status bar: active profile, connection dot, last request id (click copies), limits, credits,
and the console balance of the signed-in account (`watch_balance`), re-read after paid calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QStatusBar, QToolButton, QWidget

from bluesdesk.core.models import GatewayProfile, ResponseMeta
from bluesdesk.errors import BluesdeskError

if TYPE_CHECKING:
    from bluesdesk.ui.context import AppContext

BALANCE_MIN_INTERVAL = 5.0  # seconds between two /api/user/self reads


def _fmt_number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}".rstrip("0").rstrip(".")


class StatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizeGripEnabled(False)
        self.dot = QLabel("●")
        self.dot.setObjectName("connDot")
        self.dot.setProperty("state", "unknown")
        self.profile_label = QLabel()
        self.profile_label.setObjectName("statusProfile")
        self.notice_label = QLabel()
        self.notice_label.setObjectName("statusNotice")
        self.notice_label.hide()
        self.request_button = QToolButton()
        self.request_button.setObjectName("statusRequestId")
        self.request_button.setToolTip(self.tr("Last request id — click to copy"))
        self.request_button.clicked.connect(self._copy_request_id)
        self.request_button.hide()
        self.limit_label = QLabel()
        self.limit_label.setObjectName("statusLimits")
        self.limit_label.hide()
        self.credit_label = QLabel()
        self.credit_label.setObjectName("statusCredits")
        self.credit_label.hide()
        self.addWidget(self.dot)
        self.addWidget(self.profile_label)
        self.addWidget(self.notice_label)
        self.balance_label = QLabel()
        self.balance_label.setObjectName("statusBalance")
        self.balance_label.setToolTip(self.tr("Console balance of the signed-in account"))
        self.balance_label.hide()
        self.balance_watcher: BalanceWatcher | None = None
        self.addPermanentWidget(self.limit_label)
        self.addPermanentWidget(self.credit_label)
        self.addPermanentWidget(self.balance_label)
        self.addPermanentWidget(self.request_button)
        self.request_id = ""
        self.set_profile(None)

    # ---- Updates

    def set_profile(self, profile: GatewayProfile | None, *, reset: bool = True) -> None:
        """Show `profile`; `reset` clears the figures of the previous profile."""
        if profile is None:
            self.profile_label.setText(self.tr("No gateway profile — add one in Settings"))
            self.profile_label.setToolTip("")
        else:
            host = urlsplit(profile.base_url).netloc or profile.base_url
            self.profile_label.setText(f"{profile.name} · {host}")
            self.profile_label.setToolTip(profile.base_url)
        if not reset:
            return
        self.set_connection("unknown", "")
        self.request_id = ""
        self.request_button.hide()
        self.limit_label.hide()
        self.credit_label.hide()
        self.balance_label.hide()
        if self.balance_watcher is not None:
            self.balance_watcher.refresh()

    def watch_balance(self, ctx: AppContext) -> None:
        """Show the account balance and keep it fresh (MainWindow calls this once)."""
        if self.balance_watcher is None and ctx.account is not None:
            self.balance_watcher = BalanceWatcher(ctx, self.show_balance, self)
            self.balance_watcher.refresh()

    def show_balance(self, text: str) -> None:
        """`text` "" hides the balance (signed out, or another profile)."""
        self.balance_label.setText(self.tr("Balance {0}").replace("{0}", text) if text else "")
        self.balance_label.setVisible(bool(text))

    def set_connection(self, state: str, detail: str) -> None:
        self.dot.setProperty("state", state)
        tips = {
            "unknown": self.tr("Connection not checked yet"),
            "ok": self.tr("Connected"),
            "error": self.tr("Connection problem"),
        }
        tip = tips.get(state, state)
        self.dot.setToolTip(f"{tip}\n{detail}" if detail else tip)
        style = self.dot.style()
        style.unpolish(self.dot)
        style.polish(self.dot)

    def set_notice(self, text: str) -> None:
        self.notice_label.setText(text)
        self.notice_label.setVisible(bool(text))

    def show_meta(self, meta: ResponseMeta) -> None:
        if meta.request_id:
            self.request_id = meta.request_id
            short = meta.request_id if len(meta.request_id) <= 18 else meta.request_id[:16] + "…"
            self.request_button.setText(self.tr("req {0}").replace("{0}", short))
            self.request_button.show()
        if meta.ratelimit_limit is not None or meta.ratelimit_remaining is not None:
            remaining = "?" if meta.ratelimit_remaining is None else str(meta.ratelimit_remaining)
            limit = "?" if meta.ratelimit_limit is None else str(meta.ratelimit_limit)
            self.limit_label.setText(
                self.tr("Requests left {0}/{1}").replace("{0}", remaining).replace("{1}", limit)
            )
            self.limit_label.show()
        if meta.credits_remaining is not None:
            text = self.tr("Credits {0}").replace("{0}", _fmt_number(meta.credits_remaining))
            if meta.credits_consumed is not None:
                text += self.tr(" (−{0})").replace("{0}", _fmt_number(meta.credits_consumed))
            self.credit_label.setText(text)
            self.credit_label.show()

    def _copy_request_id(self) -> None:
        if self.request_id:
            QGuiApplication.clipboard().setText(self.request_id)
            self.showMessage(self.tr("Request id copied"), 2000)


class BalanceWatcher(QObject):
    """Re-reads /api/user/self after responses of the active profile, at most every
    `min_interval` seconds (a burst of calls costs one read, made when the burst is over).

    The read itself goes through the pool and reports its own response; those are ignored,
    or every read would schedule the next."""

    def __init__(
        self,
        ctx: AppContext,
        show: Callable[[str], None],
        parent: QObject | None = None,
        *,
        min_interval: float = BALANCE_MIN_INTERVAL,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.show = show
        self.min_interval = min_interval
        self.reads = 0
        self._reading = False
        self._last_read = float("-inf")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.refresh)
        ctx.bus.meta_received.connect(self._on_meta)
        if ctx.account is not None:
            ctx.account.listeners.append(self._on_account_changed)

    @property
    def idle(self) -> bool:
        """Nothing read or scheduled right now."""
        return not self._reading and not self._timer.isActive()

    def _on_meta(self, meta: ResponseMeta) -> None:
        if self._reading or not 200 <= meta.status < 300 or not self._signed_in():
            return
        wait = self._last_read + self.min_interval - time.monotonic()
        if wait <= 0:
            self.refresh()
        elif not self._timer.isActive():
            self._timer.start(int(wait * 1000) + 1)

    def _on_account_changed(self, profile_id: str) -> None:
        active = self.ctx.profiles.active()
        if active is not None and active.id == profile_id:
            self.refresh()

    def _signed_in(self) -> bool:
        account = self.ctx.account
        return (
            account is not None and self.ctx.profiles.active() is not None and (account.signed_in())
        )

    def refresh(self) -> None:
        """Read the balance now (or hide it when nobody is signed in)."""
        if not self._signed_in():
            self.show("")
            return
        if self._reading:
            return
        self._reading = True
        self._last_read = time.monotonic()
        self.ctx.runner.run(self._read(), key="status:balance")

    async def _read(self) -> None:
        account = self.ctx.account
        try:
            assert account is not None
            self.show(await account.balance())
            self.reads += 1
        except BluesdeskError:
            self.show("")  # signed out or unreachable: the Account pane says why
        finally:
            self._reading = False
