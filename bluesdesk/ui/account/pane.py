"""Account: sign in to the gateway's console, see the balance, and manage API keys.

Three pages: no gateway (or no account service), the sign-in form (password, 2FA code, or a
pasted access token — only the latter when /api/status says password login is off or behind
Turnstile), and the signed-in view: the overview card above four tabs (usage charts, API keys,
logs, and channels for admins). Every gateway call runs through the TaskRunner; failures are
shown in the pane, and a `SignedOut` from the service brings the sign-in form back.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from bluesdesk.core.pricing import QuotaSettings
from bluesdesk.errors import BluesdeskError, GatewayError
from bluesdesk.gateway.console import ApiToken, LoginOptions
from bluesdesk.services.account import AccountService, Overview, SignedOut, quota_text
from bluesdesk.ui.account.channels import ChannelsTab
from bluesdesk.ui.account.charts import UsageCharts
from bluesdesk.ui.account.logs import LogsTab
from bluesdesk.ui.account.messages import error_text
from bluesdesk.ui.account.rows_model import make_rows_view
from bluesdesk.ui.account.tokens import TokenDialog, TokensModel
from bluesdesk.ui.context import AppContext
from bluesdesk.ui.widgets.empty_state import EmptyState
from bluesdesk.ui.widgets.pane import Pane

log = logging.getLogger(__name__)

PAGE_SIZE = 20
LIVE_INTERVAL_MS = 15_000  # RPM/TPM cover the last 60 s; refresh while the pane is shown
TAB_USAGE, TAB_KEYS, TAB_LOGS, TAB_CHANNELS = range(4)


def _short_key(key: str) -> str:
    return key[:7] + "…" + key[-4:] if len(key) > 12 else key


class AccountPane(Pane):
    key = "account"

    def __init__(self, ctx: AppContext | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.account: AccountService | None = ctx.account if ctx is not None else None
        self._loaded_for = ""
        self.page = 1
        self.search_text = ""
        self.overview: Overview | None = None
        self.login_options: LoginOptions | None = None
        self.revealed_key = ""  # the last revealed key (shown and copied), never logged
        self.models_offered: int | None = None  # catalog models in the last key dialog
        self.pending_request = ""  # a "show in logs" that waits for the console login
        self.live_timer = QTimer(self)
        self.live_timer.setInterval(LIVE_INTERVAL_MS)
        self.live_timer.timeout.connect(self._refresh_live)

        title = QLabel(self.tr("Account"))
        title.setObjectName("paneTitle")
        self.subtitle = QLabel()
        self.subtitle.setObjectName("paneSubtitle")
        self.refresh_button = QPushButton(self.tr("Refresh"))
        self.refresh_button.clicked.connect(lambda *_: self.refresh())
        self.sign_out_button = QPushButton(self.tr("Sign out"))
        self.sign_out_button.clicked.connect(lambda *_: self._run(self._sign_out(), "signout"))
        header = QHBoxLayout()
        titles = QVBoxLayout()
        titles.setSpacing(2)
        titles.addWidget(title)
        titles.addWidget(self.subtitle)
        header.addLayout(titles, 1)
        header.addWidget(self.refresh_button)
        header.addWidget(self.sign_out_button)

        self.error_label = QLabel()
        self.error_label.setObjectName("errorText")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()

        self.empty = EmptyState(
            "account",
            self.tr("Your gateway account will appear here"),
            self.tr(
                "Add a gateway profile in Settings (or try the demo), then sign in to its "
                "console here to see your balance and manage your API keys."
            ),
        )
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self._build_sign_in())
        self.stack.addWidget(self._build_signed_in())

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        layout.addLayout(header)
        layout.addWidget(self.error_label)
        layout.addWidget(self.stack, 1)

        if self.account is not None:
            self.account.listeners.append(self._on_account_changed)
        self._show_state()
        self.mark_ready()

    # ---- building ---------------------------------------------------------------------------

    def _build_sign_in(self) -> QWidget:
        page = QWidget()
        card = QFrame()
        card.setObjectName("card")
        card.setMaximumWidth(460)
        self.signed_out_label = QLabel()
        self.signed_out_label.setObjectName("muted")
        self.signed_out_label.setWordWrap(True)
        heading = QLabel(self.tr("Sign in to the gateway console"))
        heading.setObjectName("emptyTitle")
        self.login_note = QLabel()
        self.login_note.setObjectName("muted")
        self.login_note.setWordWrap(True)
        self.login_note.hide()
        self.username_edit = QLineEdit()
        self.username_edit.setPlaceholderText(self.tr("User name or email"))
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setPlaceholderText(self.tr("Password"))
        self.password_edit.returnPressed.connect(self._sign_in_clicked)
        self.sign_in_button = QPushButton(self.tr("Sign in"))
        self.sign_in_button.setProperty("primary", True)
        self.sign_in_button.clicked.connect(lambda *_: self._sign_in_clicked())

        self.twofa_box = QWidget()
        self.code_edit = QLineEdit()
        self.code_edit.setPlaceholderText(self.tr("6-digit code or backup code"))
        self.code_edit.returnPressed.connect(self._verify_clicked)
        self.verify_button = QPushButton(self.tr("Verify"))
        self.verify_button.setProperty("primary", True)
        self.verify_button.clicked.connect(lambda *_: self._verify_clicked())
        self.cancel_2fa_button = QPushButton(self.tr("Cancel"))
        self.cancel_2fa_button.clicked.connect(lambda *_: self._cancel_2fa())
        twofa = QFormLayout(self.twofa_box)
        twofa.setContentsMargins(0, 0, 0, 0)
        twofa.addRow(QLabel(self.tr("The gateway asks for your two-factor code.")))
        code_row = QHBoxLayout()
        code_row.addWidget(self.code_edit, 1)
        code_row.addWidget(self.verify_button)
        code_row.addWidget(self.cancel_2fa_button)
        twofa.addRow(code_row)

        self.password_box = QWidget()
        form = QFormLayout(self.password_box)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(self.tr("User"), self.username_edit)
        form.addRow(self.tr("Password"), self.password_edit)
        form.addRow("", self.sign_in_button)

        paste_heading = QLabel(
            self.tr("Or paste a system access token (console → Settings → Access token):")
        )
        paste_heading.setObjectName("muted")
        paste_heading.setWordWrap(True)
        self.token_edit = QLineEdit()
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_edit.setPlaceholderText(self.tr("Access token"))
        self.user_id_edit = QLineEdit()
        self.user_id_edit.setPlaceholderText(self.tr("User id (a number)"))
        self.use_token_button = QPushButton(self.tr("Use token"))
        self.use_token_button.clicked.connect(lambda *_: self._use_token_clicked())
        paste = QFormLayout()
        paste.addRow(self.tr("Token"), self.token_edit)
        paste.addRow(self.tr("User id"), self.user_id_edit)
        paste.addRow("", self.use_token_button)

        inner = QVBoxLayout(card)
        inner.setContentsMargins(20, 16, 20, 16)
        inner.setSpacing(10)
        inner.addWidget(heading)
        inner.addWidget(self.signed_out_label)
        inner.addWidget(self.login_note)
        inner.addWidget(self.password_box)
        inner.addWidget(self.twofa_box)
        inner.addSpacing(8)
        inner.addWidget(paste_heading)
        inner.addLayout(paste)
        outer = QVBoxLayout(page)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(card, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(1)
        return page

    def _build_signed_in(self) -> QWidget:
        page = QWidget()
        card = QFrame()
        card.setObjectName("card")
        grid = QGridLayout(card)
        grid.setContentsMargins(16, 12, 16, 12)
        grid.setHorizontalSpacing(32)
        self.figures: dict[str, QLabel] = {}
        names = (
            ("user", self.tr("Signed in as")),
            ("balance", self.tr("Balance")),
            ("used", self.tr("Used")),
            ("requests", self.tr("Requests")),
            ("group", self.tr("Group")),
            ("today", self.tr("Today")),
            ("live", self.tr("Last minute")),
        )
        per_row = 4  # two rows keep the card narrower than the main window's pane area
        for index, (name, caption) in enumerate(names):
            label = QLabel(caption)
            label.setObjectName("muted")
            value = QLabel("—")
            value.setObjectName("emptyTitle")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            row, column = 2 * (index // per_row), index % per_row
            grid.addWidget(label, row, column)
            grid.addWidget(value, row + 1, column)
            self.figures[name] = value

        self.charts = UsageCharts()
        self.charts.days_changed.connect(lambda *_: self._run(self._load_usage(), "usage"))

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.charts, self.tr("Usage"))
        self.tabs.addTab(self._build_keys_tab(), self.tr("API keys"))
        if self.account is not None:
            self.logs_tab: LogsTab | None = LogsTab(self.account, self._run, self._quota)
            self.channels_tab: ChannelsTab | None = ChannelsTab(
                self.account, self._run, self._quota
            )
            self.tabs.addTab(self.logs_tab, self.tr("Logs"))
            self.tabs.addTab(self.channels_tab, self.tr("Channels"))
            self.tabs.setTabVisible(TAB_CHANNELS, False)
        else:
            self.logs_tab = self.channels_tab = None
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self._tab_loaded: set[int] = set()

        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)
        layout.addWidget(card)
        layout.addWidget(self.tabs, 1)
        return page

    def _build_keys_tab(self) -> QWidget:
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText(self.tr("Search keys by name"))
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.returnPressed.connect(self._search_clicked)
        self.create_button = QPushButton(self.tr("Create…"))
        self.create_button.setProperty("primary", True)
        self.create_button.clicked.connect(lambda *_: self._create_clicked())
        self.edit_button = QPushButton(self.tr("Edit…"))
        self.edit_button.clicked.connect(lambda *_: self._edit_clicked())
        self.copy_button = QPushButton(self.tr("Copy key"))
        self.copy_button.setToolTip(
            self.tr("Reveal the whole key and copy it (the gateway allows 20 per 20 minutes)")
        )
        self.copy_button.clicked.connect(lambda *_: self._copy_clicked())
        self.use_button = QPushButton(self.tr("Use this key in bluesdesk"))
        self.use_button.setToolTip(self.tr("Keep this key as the profile's API key (keyring)"))
        self.use_button.clicked.connect(lambda *_: self._use_clicked())
        self.toggle_button = QPushButton(self.tr("Disable"))
        self.toggle_button.clicked.connect(lambda *_: self._toggle_clicked())
        self.delete_button = QPushButton(self.tr("Delete"))
        self.delete_button.setProperty("danger", True)
        self.delete_button.clicked.connect(lambda *_: self._delete_clicked())
        self.prev_button = QPushButton("‹")
        self.prev_button.setToolTip(self.tr("Previous page"))
        self.prev_button.clicked.connect(lambda *_: self._go_page(self.page - 1))
        self.next_button = QPushButton("›")
        self.next_button.setToolTip(self.tr("Next page"))
        self.next_button.clicked.connect(lambda *_: self._go_page(self.page + 1))
        self.page_label = QLabel()
        self.page_label.setObjectName("muted")
        toolbar = QHBoxLayout()
        toolbar.addWidget(self.search_edit, 1)
        toolbar.addWidget(self.create_button)
        toolbar.addWidget(self.edit_button)
        toolbar.addWidget(self.copy_button)
        toolbar.addWidget(self.use_button)
        toolbar.addWidget(self.toggle_button)
        toolbar.addWidget(self.delete_button)
        toolbar.addSpacing(12)
        toolbar.addWidget(self.prev_button)
        toolbar.addWidget(self.page_label)
        toolbar.addWidget(self.next_button)
        self.key_label = QLabel()
        self.key_label.setObjectName("muted")
        self.key_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.key_label.hide()

        self.tokens_model = TokensModel(self)
        self.tokens_view = make_rows_view(self.tokens_model, multi_select=True)
        self.tokens_view.selectionModel().selectionChanged.connect(self._update_buttons)
        self.tokens_view.doubleClicked.connect(lambda *_: self._edit_clicked())

        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addLayout(toolbar)
        layout.addWidget(self.key_label)
        layout.addWidget(self.tokens_view, 1)
        return tab

    # ---- state ------------------------------------------------------------------------------

    def _profile_ok(self) -> bool:
        return (
            self.account is not None
            and self.ctx is not None
            and self.ctx.profiles.active() is not None
        )

    def _show_state(self) -> None:
        if not self._profile_ok():
            self.stack.setCurrentIndex(0)
            self.subtitle.setText("")
            self.refresh_button.hide()
            self.sign_out_button.hide()
            return
        assert self.account is not None and self.ctx is not None
        profile = self.ctx.profiles.active()
        assert profile is not None
        signed_in = self.account.signed_in(profile)
        self.refresh_button.setVisible(signed_in)
        self.sign_out_button.setVisible(signed_in)
        if signed_in:
            user = self.account.user(profile)
            who = user.display_name or user.username if user is not None else ""
            self.subtitle.setText(self.tr("{0} on {1}").format(who, profile.name))
            self.tabs.setTabVisible(TAB_CHANNELS, self.account.is_admin(profile))
            self.stack.setCurrentIndex(2)
        else:
            self.subtitle.setText(profile.name)
            waiting = self.account.awaiting_2fa(profile)
            options = self.login_options
            password_ok = options is None or options.password_form
            self.twofa_box.setVisible(waiting)
            self.password_box.setVisible(not waiting and password_ok)
            message = self.account.message(profile)
            self.signed_out_label.setText(message)
            self.signed_out_label.setVisible(bool(message))
            self.stack.setCurrentIndex(1)
        self._update_buttons()

    def _on_account_changed(self, profile_id: str) -> None:
        self._show_state()

    def on_shown(self) -> None:
        if not self._profile_ok() or self.ctx is None:
            self._show_state()
            return
        profile = self.ctx.profiles.active()
        if profile is not None and profile.id != self._loaded_for:
            self._loaded_for = profile.id
            self.mark_loading()
            self._run(self._restore(), "restore")
        self.live_timer.start()

    def hideEvent(self, event: Any) -> None:
        self.live_timer.stop()
        super().hideEvent(event)

    def on_profile_changed(self) -> None:
        self._loaded_for = ""
        self.overview = None
        self.login_options = None
        self.apply_login_options(None)
        self._clear_signed_in()
        self._show_state()
        if self.isVisible():
            self.on_shown()

    def _clear_signed_in(self) -> None:
        self.tokens_model.set_tokens([], None)
        self.page = 1
        self.revealed_key = ""
        self.pending_request = ""
        self.key_label.hide()
        self._tab_loaded.clear()
        if self.logs_tab is not None:
            self.logs_tab.model.set_entries([], None)
        if self.channels_tab is not None:
            self.channels_tab.model.set_channels([], None)

    def apply_login_options(self, options: LoginOptions | None) -> None:
        """Offer only the pasted token when the gateway turned password login off or puts it
        behind Turnstile (a challenge bluesdesk cannot show)."""
        self.login_options = options
        note = ""
        if options is not None and options.turnstile:
            note = self.tr(
                "This gateway protects password sign-in with a Turnstile check, which "
                "bluesdesk cannot show. Sign in on the web console, then paste an access token."
            )
        elif options is not None and not options.password_login:
            note = self.tr(
                "Password sign-in is turned off on this gateway. Paste an access token instead."
            )
        self.login_note.setText(note)
        self.login_note.setVisible(bool(note))
        self._show_state()

    def _quota(self) -> QuotaSettings | None:
        return self.overview.quota if self.overview is not None else None

    def refresh(self) -> None:
        self._run(self._load(), "load")

    # ---- actions ----------------------------------------------------------------------------

    def _run(self, coro: Awaitable[Any], what: str) -> None:
        async def guarded() -> None:
            try:
                await coro
                self._set_error("")
            except SignedOut as exc:
                self._set_error("")
                self.signed_out_label.setText(exc.user_message)
                self.signed_out_label.show()
                self._show_state()
            except BluesdeskError as exc:
                self._set_error(error_text(exc, what))
            finally:
                if not self.is_ready():
                    self.mark_ready()

        if self.ctx is not None:
            self.ctx.runner.run(guarded(), key=f"account:{what}")

    def _set_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    async def _restore(self) -> None:
        assert self.account is not None
        try:
            self.apply_login_options(await self.account.login_options())
        except GatewayError:
            self.apply_login_options(None)  # offer every form; sign-in will say what is wrong
        if await self.account.restore() is not None:
            await self._load()
        self._show_state()

    async def _load(self) -> None:
        assert self.account is not None
        self.overview = await self.account.overview()
        self._show_overview(self.overview)
        self._tab_loaded.clear()
        self._show_state()
        await self._load_tokens()
        self._tab_loaded.add(TAB_KEYS)
        await self._load_usage()
        self._tab_loaded.add(TAB_USAGE)
        if self.pending_request:
            self.show_request_in_logs(self.pending_request)
        else:
            self._on_tab_changed(self.tabs.currentIndex())

    async def _load_usage(self) -> None:
        assert self.account is not None
        summary = await self.account.usage(self.charts.days)
        self.charts.show_summary(summary, self._quota())

    def _on_tab_changed(self, index: int) -> None:
        """Logs and channels load when first shown (and again after a refresh)."""
        if index in self._tab_loaded or self.stack.currentIndex() != 2:
            return
        if index == TAB_LOGS and self.logs_tab is not None:
            self._tab_loaded.add(index)
            self.logs_tab.reload()
        elif index == TAB_CHANNELS and self.channels_tab is not None:
            self._tab_loaded.add(index)
            self.channels_tab.reload()

    def show_request_in_logs(self, request_id: str) -> None:
        """Open the Logs tab filtered on `request_id` (for a chat message's "show in logs").

        Before the console login is restored (or while signed out) the request waits and is
        shown as soon as the account has loaded."""
        if self.logs_tab is None or self.stack.currentIndex() != 2:
            self.pending_request = request_id
            return
        self.pending_request = ""
        self._tab_loaded.add(TAB_LOGS)
        self.tabs.setCurrentIndex(TAB_LOGS)
        self.logs_tab.show_request(request_id)

    def _refresh_live(self) -> None:
        if self.account is None or not self.isVisible() or self.stack.currentIndex() != 2:
            return

        async def live() -> None:
            assert self.account is not None
            stat = await self.account.log_stat()
            self.figures["live"].setText(f"{stat.rpm} RPM · {stat.tpm:,} TPM")

        self._run(live(), "live")

    def _search_clicked(self) -> None:
        self.search_text = self.search_edit.text().strip()
        self.page = 1
        self._run(self._load_tokens(), "tokens")

    async def _fetch_tokens(self) -> Any:
        assert self.account is not None
        if self.search_text:
            return await self.account.search_tokens(self.search_text, self.page, PAGE_SIZE)
        return await self.account.tokens(self.page, PAGE_SIZE)

    async def _load_tokens(self) -> None:
        assert self.account is not None
        found = await self._fetch_tokens()
        if not found.items and self.page > 1:
            self.page -= 1
            found = await self._fetch_tokens()
        self.tokens_model.set_tokens(found.items, self._quota())
        total = f" of {(found.total - 1) // PAGE_SIZE + 1}" if found.total else ""
        self.page_label.setText(self.tr("Page {0}{1}").format(self.page, total))
        self.prev_button.setEnabled(self.page > 1)
        self.next_button.setEnabled(found.has_next)
        self._update_buttons()

    def _show_overview(self, overview: Overview) -> None:
        user = overview.user
        self.figures["user"].setText(f"{user.display_name or user.username} ({user.role_name})")
        self.figures["balance"].setText(overview.balance_text)
        self.figures["used"].setText(overview.used_text)
        self.figures["requests"].setText(f"{user.request_count:,}")
        ratio = f" ×{overview.group_ratio:g}" if overview.group_ratio is not None else ""
        self.figures["group"].setText(f"{user.group}{ratio}")
        today = overview.dashboard.get("today") if overview.dashboard else None
        if isinstance(today, dict) and isinstance(today.get("quota"), int):
            self.figures["today"].setText(
                f"{quota_text(today['quota'], overview.quota)} · {today.get('requests', 0)} req"
            )
        else:
            self.figures["today"].setText("—")
        stat = overview.stat
        self.figures["live"].setText(
            f"{stat.rpm} RPM · {stat.tpm:,} TPM" if stat is not None else "—"
        )

    def _sign_in_clicked(self) -> None:
        username, password = self.username_edit.text().strip(), self.password_edit.text()
        if not username or not password:
            self._set_error(self.tr("Enter your user name and password."))
            return

        async def sign_in() -> None:
            assert self.account is not None
            self.sign_in_button.setEnabled(False)
            try:
                done = await self.account.sign_in(username, password)
            finally:
                self.sign_in_button.setEnabled(True)
                self.password_edit.clear()  # never kept beyond the request
            if done:
                await self._load()
            else:
                self.code_edit.setFocus()
            self._show_state()

        self._run(sign_in(), "signin")

    def _verify_clicked(self) -> None:
        code = self.code_edit.text().strip()
        if not code:
            return

        async def verify() -> None:
            assert self.account is not None
            await self.account.submit_2fa(code)
            self.code_edit.clear()
            await self._load()

        self._run(verify(), "signin")

    def _cancel_2fa(self) -> None:
        async def cancel() -> None:
            assert self.account is not None
            await self.account.cancel_2fa()

        self._run(cancel(), "signin")

    def _use_token_clicked(self) -> None:
        token, raw_id = self.token_edit.text().strip(), self.user_id_edit.text().strip()
        if not token or not raw_id.isdigit():
            self._set_error(self.tr("Paste the access token and enter your numeric user id."))
            return

        async def use() -> None:
            assert self.account is not None
            await self.account.sign_in_with_token(token, int(raw_id))
            self.token_edit.clear()
            await self._load()

        self._run(use(), "signin")

    async def _sign_out(self) -> None:
        assert self.account is not None
        await self.account.sign_out()
        self.overview = None
        self._clear_signed_in()

    def _go_page(self, page: int) -> None:
        self.page = max(1, page)
        self._run(self._load_tokens(), "tokens")

    def selected_tokens(self) -> list[ApiToken]:
        rows = sorted(i.row() for i in self.tokens_view.selectionModel().selectedRows())
        return [t for t in (self.tokens_model.token_at(r) for r in rows) if t is not None]

    def selected_token(self) -> ApiToken | None:
        """The selected key when exactly one is selected."""
        found = self.selected_tokens()
        return found[0] if len(found) == 1 else None

    def _update_buttons(self, *_: Any) -> None:
        chosen = self.selected_tokens()
        token = self.selected_token()
        for button in (self.edit_button, self.copy_button, self.use_button, self.toggle_button):
            button.setEnabled(token is not None)
        self.delete_button.setEnabled(bool(chosen))
        self.delete_button.setText(
            self.tr("Delete {0}").format(len(chosen)) if len(chosen) > 1 else self.tr("Delete")
        )
        self.toggle_button.setText(
            self.tr("Enable") if token is not None and not token.enabled else self.tr("Disable")
        )

    def _groups(self) -> list[str]:
        return [self.overview.user.group] if self.overview is not None else []

    def _create_clicked(self) -> None:
        dialog = TokenDialog(self._quota(), self._groups(), self)
        dialog.setModal(True)
        dialog.accepted.connect(lambda: self._create(dialog))
        dialog.open()
        self.token_dialog = dialog  # tests drive it
        self._offer_models(dialog)

    def _offer_models(self, dialog: TokenDialog) -> None:
        """Fill the dialog's model whitelist from the catalog (fetched once if never yet)."""
        catalog = self.ctx.catalog if self.ctx is not None else None
        if catalog is None:
            return  # no catalog service: the "Other models" field still works

        async def offer() -> None:
            profile = self.ctx.profiles.active() if self.ctx is not None else None
            found = await catalog.models_for(profile, None)
            if not found and catalog.loaded(profile) is None:
                try:
                    await catalog.refresh(profile)
                except GatewayError as exc:  # the whitelist can still be typed
                    log.info("account: catalog for the key dialog: %s", exc.user_message)
                    return
                found = await catalog.models_for(profile, None)
            dialog.model_picker.set_models(m.id for m in found)
            self.models_offered = len(found)

        self._run(offer(), "key-models")

    def _create(self, dialog: TokenDialog) -> None:
        spec = dialog.spec()

        async def create() -> None:
            assert self.account is not None
            created = await self.account.create_token(spec)
            self.page = 1
            self.search_text = ""
            self.search_edit.clear()
            await self._load_tokens()
            if created is not None:
                self._select_token(created.id)

        self._run(create(), "create")

    def _select_token(self, token_id: int) -> None:
        for row, token in enumerate(self.tokens_model.tokens):
            if token.id == token_id:
                self.tokens_view.selectRow(row)
                return

    def _edit_clicked(self) -> None:
        token = self.selected_token()
        if token is None:
            return
        dialog = TokenDialog(self._quota(), self._groups(), self, token=token)
        dialog.setModal(True)
        dialog.accepted.connect(lambda: self._save_edit(token.id, dialog))
        dialog.open()
        self.token_dialog = dialog  # tests drive it
        self._offer_models(dialog)

    def _save_edit(self, token_id: int, dialog: TokenDialog) -> None:
        spec = dialog.spec()

        async def save() -> None:
            assert self.account is not None
            await self.account.update_token(token_id, spec)
            await self._load_tokens()
            self._select_token(token_id)

        self._run(save(), "edit")

    def _copy_clicked(self) -> None:
        token = self.selected_token()
        if token is None:
            return

        async def reveal() -> None:
            assert self.account is not None
            key = await self.account.reveal_key(token.id)
            self.revealed_key = key
            QGuiApplication.clipboard().setText(key)
            self.key_label.setText(
                self.tr("“{0}”: {1} — copied to the clipboard").format(token.name, key)
            )
            self.key_label.show()

        self._run(reveal(), "reveal")

    def _use_clicked(self) -> None:
        token = self.selected_token()
        if token is None:
            return

        async def use() -> None:
            assert self.account is not None
            key = await self.account.use_key(token.id)
            self.revealed_key = key
            self.key_label.setText(
                self.tr("bluesdesk now calls the gateway with “{0}” ({1}).").format(
                    token.name, _short_key(key)
                )
            )
            self.key_label.show()

        self._run(use(), "use-key")

    def _toggle_clicked(self) -> None:
        token = self.selected_token()
        if token is None:
            return
        self._act(lambda a: a.set_token_enabled(token.id, not token.enabled), "toggle")

    def _delete_clicked(self) -> None:
        chosen = self.selected_tokens()
        if not chosen:
            return
        if len(chosen) == 1:
            text = self.tr("Delete the key “{0}”? Programs using it will stop working.").format(
                chosen[0].name
            )
        else:
            text = (
                self.tr("Delete these {0} keys? Programs using them will stop working.").format(
                    len(chosen)
                )
                + "\n\n"
                + ", ".join(t.name for t in chosen[:10])
                + ("…" if len(chosen) > 10 else "")
            )
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            self.tr("Delete API keys") if len(chosen) > 1 else self.tr("Delete API key"),
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        ids = [t.id for t in chosen]

        async def delete(account: AccountService) -> None:
            if len(ids) == 1:
                await account.delete_token(ids[0])
            else:
                await account.delete_tokens(ids)

        box.buttonClicked.connect(
            lambda button: (
                self._act(delete, "delete")
                if box.standardButton(button) == QMessageBox.StandardButton.Yes
                else None
            )
        )
        box.open()
        self.confirm_box = box  # tests drive it

    def _act(self, call: Callable[[AccountService], Awaitable[Any]], what: str) -> None:
        async def act() -> None:
            assert self.account is not None
            await call(self.account)
            await self._load_tokens()

        self._run(act(), what)
