"""The API tokens table model and the create-key dialog (every field new-api accepts)."""

from __future__ import annotations

import time
from datetime import datetime

from PySide6.QtCore import QDateTime, QObject
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from bluesdesk.core.pricing import QuotaSettings
from bluesdesk.gateway.console import TOKEN_NAME_MAX, ApiToken, TokenSpec
from bluesdesk.services.account import quota_from_display, quota_text
from bluesdesk.ui.account.model_picker import ModelPicker
from bluesdesk.ui.account.rows_model import Column, RowsTableModel

STATUS_TEXT = {1: "Enabled", 2: "Disabled", 3: "Expired", 4: "Exhausted"}


def _when(ts: int) -> str:
    if ts <= 0:
        return "—"
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


class TokensModel(RowsTableModel[ApiToken]):
    """One page of the user's API tokens."""

    def __init__(self, parent: QObject | None = None) -> None:
        self.settings: QuotaSettings | None = None
        super().__init__(self._columns(), parent)

    def _columns(self) -> tuple[Column[ApiToken], ...]:
        def remaining(t: ApiToken) -> str:
            return "Unlimited" if t.unlimited_quota else quota_text(t.remain_quota, self.settings)

        def key(t: ApiToken) -> str:
            return ("sk-" + t.key) if t.key and not t.key.startswith("sk-") else t.key

        return (
            Column("Name", lambda t: t.name),
            Column(
                "Status",
                lambda t: STATUS_TEXT.get(t.status, str(t.status)),
                sort_key=lambda t: t.status,
            ),
            Column("Remaining", remaining, sort_key=lambda t: (t.unlimited_quota, t.remain_quota)),
            Column(
                "Used",
                lambda t: quota_text(t.used_quota, self.settings),
                sort_key=lambda t: t.used_quota,
            ),
            Column(
                "Expires",
                lambda t: "Never" if t.expired_time == -1 else _when(t.expired_time),
                sort_key=lambda t: t.expired_time if t.expired_time != -1 else 2**62,
            ),
            Column(
                "Last used", lambda t: _when(t.accessed_time), sort_key=lambda t: t.accessed_time
            ),
            Column("Group", lambda t: t.group or "(user's group)"),
            Column(
                "Models",
                lambda t: ", ".join(t.model_limits) if t.model_limits_enabled else "All",
            ),
            Column("Key", key),
        )

    @property
    def tokens(self) -> list[ApiToken]:
        return self.rows

    def set_tokens(self, tokens: list[ApiToken], settings: QuotaSettings | None) -> None:
        self.settings = settings
        self.set_rows(tokens)

    def token_at(self, row: int) -> ApiToken | None:
        return self.row_at(row)


class TokenDialog(QDialog):
    """Create an API key, or edit every field of `token`. New keys follow the web console's
    defaults: unlimited, never expires."""

    def __init__(
        self,
        settings: QuotaSettings | None,
        groups: list[str],
        parent: QWidget | None = None,
        token: ApiToken | None = None,
    ) -> None:
        super().__init__(parent)
        self.token = token
        self.setWindowTitle(self.tr("Edit API key") if token else self.tr("New API key"))
        self.setMinimumWidth(460)  # room for long model ids in the whitelist
        self.settings = settings
        self.name_edit = QLineEdit()
        self.name_edit.setMaxLength(TOKEN_NAME_MAX)
        self.name_edit.setPlaceholderText(self.tr("e.g. laptop"))
        self.unlimited_check = QCheckBox(self.tr("Unlimited quota"))
        self.unlimited_check.setChecked(True)
        self.quota_spin = QDoubleSpinBox()
        self.quota_spin.setRange(0.0, 1_000_000_000.0)
        self.quota_spin.setDecimals(2)
        self.quota_spin.setPrefix(settings.symbol if settings is not None else "")
        self.quota_spin.setValue(10.0)
        self.quota_spin.setEnabled(False)
        self.unlimited_check.toggled.connect(lambda on: self.quota_spin.setEnabled(not on))
        self.never_check = QCheckBox(self.tr("Never expires"))
        self.never_check.setChecked(True)
        self.expiry_edit = QDateTimeEdit(QDateTime.currentDateTime().addDays(30))
        self.expiry_edit.setCalendarPopup(True)
        self.expiry_edit.setEnabled(False)
        self.never_check.toggled.connect(lambda on: self.expiry_edit.setEnabled(not on))
        self.model_picker = ModelPicker()
        self.model_picker.setToolTip(self.tr("Check the models this key may call; none: all"))
        self.models_edit = QLineEdit()
        self.models_edit.setPlaceholderText(self.tr("Other models, comma separated"))
        self.ips_edit = QPlainTextEdit()
        self.ips_edit.setPlaceholderText(self.tr("Any address (or one IP / CIDR per line)"))
        self.ips_edit.setFixedHeight(60)
        self.group_combo = QComboBox()
        self.group_combo.setEditable(True)
        self.group_combo.addItem("")
        self.group_combo.addItems(groups)
        self.group_combo.setToolTip(self.tr("Empty: your account's group"))
        self.retry_check = QCheckBox(self.tr("Retry in other groups when this one fails"))
        self.problem_label = QLabel()
        self.problem_label.setObjectName("errorText")
        self.problem_label.setWordWrap(True)
        self.problem_label.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(self.tr("Save") if token else self.tr("Create"))
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(self.tr("Name"), self.name_edit)
        form.addRow(self.unlimited_check)
        form.addRow(self.tr("Quota"), self.quota_spin)
        form.addRow(self.never_check)
        form.addRow(self.tr("Expires"), self.expiry_edit)
        form.addRow(self.tr("Models"), self.model_picker)
        form.addRow(self.tr("Other models"), self.models_edit)
        form.addRow(self.tr("Allowed IPs"), self.ips_edit)
        form.addRow(self.tr("Group"), self.group_combo)
        form.addRow(self.retry_check)
        form.addRow(self.problem_label)
        form.addRow(buttons)
        if token is not None:
            self._fill(token)

    def _fill(self, token: ApiToken) -> None:
        self.name_edit.setText(token.name)
        self.unlimited_check.setChecked(token.unlimited_quota)
        if self.settings is None:
            self.quota_spin.setValue(float(token.remain_quota))
        else:
            usd = token.remain_quota / self.settings.quota_per_unit
            self.quota_spin.setValue(self.settings.convert(usd))
        self.never_check.setChecked(token.expired_time == -1)
        if token.expired_time > 0:
            self.expiry_edit.setDateTime(QDateTime.fromSecsSinceEpoch(token.expired_time))
        if token.model_limits_enabled:
            self.model_picker.set_checked(token.model_limits)
        self.ips_edit.setPlainText("\n".join(token.allow_ips))
        self.group_combo.setCurrentText(token.group)
        self.retry_check.setChecked(token.cross_group_retry)

    def spec(self) -> TokenSpec:
        typed = [m.strip() for m in self.models_edit.text().split(",") if m.strip()]
        models = tuple(dict.fromkeys([*self.model_picker.checked(), *typed]))
        ips = tuple(
            line.strip() for line in self.ips_edit.toPlainText().splitlines() if line.strip()
        )
        unlimited = self.unlimited_check.isChecked()
        quota = 0 if unlimited else quota_from_display(self.quota_spin.value(), self.settings)
        expires = -1
        if not self.never_check.isChecked():
            expires = int(self.expiry_edit.dateTime().toSecsSinceEpoch())
        return TokenSpec(
            name=self.name_edit.text().strip(),
            unlimited_quota=unlimited,
            remain_quota=quota,
            expired_time=expires,
            model_limits=models,
            allow_ips=ips,
            group=self.group_combo.currentText().strip(),
            cross_group_retry=self.retry_check.isChecked(),
        )

    def _accept(self) -> None:
        spec = self.spec()
        problems = spec.problems()
        if spec.expired_time != -1 and spec.expired_time <= time.time():
            problems.append(self.tr("The expiry is in the past."))
        if problems:
            self.problem_label.setText(" ".join(problems))
            self.problem_label.show()
            return
        self.accept()
