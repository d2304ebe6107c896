"""Account: sign in to the gateway's console, see the balance, and manage API keys.

Three pages: no gateway (or no account service), the sign-in form (password, 2FA code, or a
pasted access token), and the signed-in view (overview card + API keys table). Every gateway
call runs through the TaskRunner; failures are shown in the pane, and a `SignedOut` from the
service brings the sign-in form back with its message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from bluesdesk.errors import BluesdeskError
from bluesdesk.gateway.console import ApiToken
from bluesdesk.services.account import AccountService, Overview, SignedOut
from bluesdesk.ui.account.tokens import TokenDialog, TokensModel
from bluesdesk.ui.context import AppContext
from bluesdesk.ui.widgets.empty_state import EmptyState
from bluesdesk.ui.widgets.pane import Pane

PAGE_SIZE = 20


def _error_text(exc: BluesdeskError) -> str:
    return exc.user_message


class AccountPane(Pane):
    key = "account"

    def __init__(self, ctx: AppContext | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.account: AccountService | None = ctx.account if ctx is not None else None
        self._loaded_for = ""
        self.page = 1
        self.overview: Overview | None = None

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
            ("live", self.tr("Last minute")),
        )
        for column, (name, caption) in enumerate(names):
            label = QLabel(caption)
            label.setObjectName("muted")
            value = QLabel("—")
            value.setObjectName("emptyTitle")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(label, 0, column)
            grid.addWidget(value, 1, column)
            self.figures[name] = value

        keys_title = QLabel(self.tr("API keys"))
        keys_title.setObjectName("emptyTitle")
        self.create_button = QPushButton(self.tr("Create…"))
        self.create_button.setProperty("primary", True)
        self.create_button.clicked.connect(lambda *_: self._create_clicked())
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
        toolbar.addWidget(keys_title)
        toolbar.addStretch(1)
        toolbar.addWidget(self.create_button)
        toolbar.addWidget(self.toggle_button)
        toolbar.addWidget(self.delete_button)
        toolbar.addSpacing(16)
        toolbar.addWidget(self.prev_button)
        toolbar.addWidget(self.page_label)
        toolbar.addWidget(self.next_button)

        self.tokens_model = TokensModel(self)
        self.tokens_view = QTableView()
        self.tokens_view.setModel(self.tokens_model)
        self.tokens_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tokens_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tokens_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tokens_view.setShowGrid(False)
        self.tokens_view.setAlternatingRowColors(True)
        self.tokens_view.verticalHeader().hide()
        self.tokens_view.horizontalHeader().setStretchLastSection(True)
        self.tokens_view.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.tokens_view.selectionModel().selectionChanged.connect(self._update_buttons)

        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)
        layout.addWidget(card)
        layout.addLayout(toolbar)
        layout.addWidget(self.tokens_view, 1)
        return page

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
            self.stack.setCurrentIndex(2)
        else:
            self.subtitle.setText(profile.name)
            waiting = self.account.awaiting_2fa(profile)
            self.twofa_box.setVisible(waiting)
            self.password_box.setVisible(not waiting)
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

    def on_profile_changed(self) -> None:
        self._loaded_for = ""
        self.overview = None
        self.tokens_model.set_tokens([], None)
        self._show_state()
        if self.isVisible():
            self.on_shown()

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
                self.signed_out_label.setText(_error_text(exc))
                self.signed_out_label.show()
                self._show_state()
            except BluesdeskError as exc:
                self._set_error(_error_text(exc))
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
        if await self.account.restore() is not None:
            await self._load()
        self._show_state()

    async def _load(self) -> None:
        assert self.account is not None
        self.overview = await self.account.overview()
        self._show_overview(self.overview)
        await self._load_tokens()
        self._show_state()

    async def _load_tokens(self) -> None:
        assert self.account is not None
        found = await self.account.tokens(self.page, PAGE_SIZE)
        if not found.items and self.page > 1:
            self.page -= 1
            found = await self.account.tokens(self.page, PAGE_SIZE)
        settings = self.overview.quota if self.overview is not None else None
        self.tokens_model.set_tokens(found.items, settings)
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
        self.tokens_model.set_tokens([], None)
        self.page = 1

    def _go_page(self, page: int) -> None:
        self.page = max(1, page)
        self._run(self._load_tokens(), "tokens")

    def selected_token(self) -> ApiToken | None:
        rows = self.tokens_view.selectionModel().selectedRows()
        return self.tokens_model.token_at(rows[0].row()) if rows else None

    def _update_buttons(self, *_: Any) -> None:
        token = self.selected_token()
        self.toggle_button.setEnabled(token is not None)
        self.delete_button.setEnabled(token is not None)
        self.toggle_button.setText(
            self.tr("Enable") if token is not None and not token.enabled else self.tr("Disable")
        )

    def _create_clicked(self) -> None:
        settings = self.overview.quota if self.overview is not None else None
        groups = [self.overview.user.group] if self.overview is not None else []
        dialog = TokenDialog(settings, groups, self)
        dialog.setModal(True)
        dialog.accepted.connect(lambda: self._create(dialog))
        dialog.open()
        self.token_dialog = dialog  # tests drive it

    def _create(self, dialog: TokenDialog) -> None:
        spec = dialog.spec()

        async def create() -> None:
            assert self.account is not None
            await self.account.create_token(spec)
            self.page = 1
            await self._load_tokens()

        self._run(create(), "create")

    def _toggle_clicked(self) -> None:
        token = self.selected_token()
        if token is None:
            return
        self._act(lambda a: a.set_token_enabled(token.id, not token.enabled), "toggle")

    def _delete_clicked(self) -> None:
        token = self.selected_token()
        if token is None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            self.tr("Delete API key"),
            self.tr("Delete the key “{0}”? Programs using it will stop working.").format(
                token.name
            ),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.buttonClicked.connect(
            lambda button: (
                self._act(lambda a: a.delete_token(token.id), "delete")
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
