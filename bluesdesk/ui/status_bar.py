"""Status bar: active profile, connection dot, last request id (click copies), limits, credits."""

from __future__ import annotations

from urllib.parse import urlsplit

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QStatusBar, QToolButton, QWidget

from bluesdesk.core.models import GatewayProfile, ResponseMeta


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
        self.addPermanentWidget(self.limit_label)
        self.addPermanentWidget(self.credit_label)
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
