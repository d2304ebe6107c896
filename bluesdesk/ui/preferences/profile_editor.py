"""The form for one gateway profile. Holds no key beyond the password field's text."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from bluesdesk.core.models import ApiStyle, GatewayProfile
from bluesdesk.ui import icons


class ProfileEditor(QWidget):
    """Signals:
    save_requested(): Save was clicked.
    test_requested(): Test connection was clicked.
    activate_requested(): Use this gateway was clicked.
    """

    save_requested = Signal()
    test_requested = Signal()
    activate_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._profile: GatewayProfile | None = None
        self._original_key: str | None = None
        self._dark = False

        self.heading = QLabel()
        self.heading.setObjectName("emptyTitle")
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("profileName")
        self.base_url_edit = QLineEdit()
        self.base_url_edit.setObjectName("profileBaseUrl")
        self.base_url_edit.setPlaceholderText("https://gateway.example.com/v1")
        self.management_url_edit = QLineEdit()
        self.management_url_edit.setObjectName("profileManagementUrl")
        self.management_url_edit.setPlaceholderText(self.tr("Optional: the gateway's console URL"))
        self.style_combo = QComboBox()
        self.style_combo.setObjectName("profileApiStyle")
        for style, label in (
            (ApiStyle.OPENAI, self.tr("OpenAI (chat/completions)")),
            (ApiStyle.CLAUDE, self.tr("Claude (messages)")),
            (ApiStyle.GEMINI, self.tr("Gemini (generateContent)")),
        ):
            self.style_combo.addItem(label, style.value)
        self.rpm_spin = QSpinBox()
        self.rpm_spin.setObjectName("profileRpm")
        self.rpm_spin.setRange(0, 100_000)
        self.rpm_spin.setSpecialValueText(self.tr("No limit"))
        self.rpm_spin.setSuffix(self.tr(" requests/min"))
        self.rpm_spin.lineEdit().setTextMargins(7, 0, 0, 0)  # line up with the line edits
        self.key_edit = QLineEdit()
        self.key_edit.setObjectName("profileApiKey")
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("sk-…")
        self.reveal_action = QAction(self.tr("Show key"), self)
        self.reveal_action.setCheckable(True)
        self.reveal_action.toggled.connect(self._on_reveal_toggled)
        self.key_edit.addAction(self.reveal_action, QLineEdit.ActionPosition.TrailingPosition)
        self.key_note = QLabel(self.tr("Stored only in your system keyring, never in a file."))
        self.key_note.setObjectName("muted")

        form = QFormLayout()
        form.setSpacing(10)
        form.addRow(self.tr("Name"), self.name_edit)
        form.addRow(self.tr("Base URL"), self.base_url_edit)
        form.addRow(self.tr("Management URL"), self.management_url_edit)
        form.addRow(self.tr("API style"), self.style_combo)
        form.addRow(self.tr("Rate limit"), self.rpm_spin)
        form.addRow(self.tr("API key"), self.key_edit)
        form.addRow("", self.key_note)

        self.test_button = QPushButton(self.tr("Test connection"))
        self.test_button.clicked.connect(lambda *_: self.test_requested.emit())
        self.activate_button = QPushButton(self.tr("Use this gateway"))
        self.activate_button.clicked.connect(lambda *_: self.activate_requested.emit())
        self.save_button = QPushButton(self.tr("Save"))
        self.save_button.setProperty("primary", True)
        self.save_button.setShortcut("Ctrl+S")
        self.save_button.clicked.connect(lambda *_: self.save_requested.emit())
        buttons = QHBoxLayout()
        buttons.addWidget(self.test_button)
        buttons.addStretch(1)
        buttons.addWidget(self.activate_button)
        buttons.addWidget(self.save_button)

        self.result_label = QLabel()
        self.result_label.setObjectName("okText")
        self.result_label.setWordWrap(True)
        self.result_label.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 18, 22, 18)
        layout.setSpacing(12)
        layout.addWidget(self.heading)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.result_label)
        layout.addStretch(1)
        self._on_reveal_toggled(False)

    # ---- Loading and reading the form

    def load(self, profile: GatewayProfile, *, is_new: bool, is_active: bool) -> None:
        self._profile = profile
        self.heading.setText(self.tr("New gateway") if is_new else profile.name)
        self.name_edit.setText(profile.name)
        self.base_url_edit.setText(profile.base_url)
        self.management_url_edit.setText(profile.management_url)
        index = self.style_combo.findData(profile.api_style.value)
        self.style_combo.setCurrentIndex(max(index, 0))
        self.rpm_spin.setValue(profile.rpm_limit)
        self.set_key(None)
        self.set_active_state(is_active=is_active, is_new=is_new)
        self.clear_result()

    def set_active_state(self, *, is_active: bool, is_new: bool = False) -> None:
        self.activate_button.setEnabled(not is_new and not is_active)
        self.activate_button.setText(
            self.tr("In use") if is_active else self.tr("Use this gateway")
        )

    def set_key(self, key: str | None) -> None:
        """Show the stored key (None: no key stored); unchanged text means "keep the key"."""
        self._original_key = key
        self.key_edit.setText(key or "")
        self.key_edit.setCursorPosition(0)

    def profile(self) -> GatewayProfile | None:
        """The profile as the form describes it (same id and kind as loaded)."""
        if self._profile is None:
            return None
        return GatewayProfile(
            id=self._profile.id,
            name=self.name_edit.text().strip(),
            base_url=self.base_url_edit.text().strip(),
            kind=self._profile.kind,
            management_url=self.management_url_edit.text().strip(),
            api_style=ApiStyle(self.style_combo.currentData()),
            rpm_limit=self.rpm_spin.value(),
            timeout_s=self._profile.timeout_s,
            demo=self._profile.demo,
        )

    def key_text(self) -> str:
        return self.key_edit.text().strip()

    def key_change(self) -> str | None:
        """For `ProfileService.save`: None = unchanged, "" = delete, else the new key."""
        text = self.key_text()
        if text == (self._original_key or ""):
            return None
        return text

    def validate(self) -> str:
        """An error text for the user, or "" if the form can be saved."""
        if not self.name_edit.text().strip():
            return self.tr("Give the profile a name.")
        url = self.base_url_edit.text().strip()
        if not url.startswith(("http://", "https://")):
            return self.tr("The base URL must start with https:// (or http:// for a local server).")
        mgmt = self.management_url_edit.text().strip()
        if mgmt and not mgmt.startswith(("http://", "https://")):
            return self.tr("The management URL must start with https:// or http://.")
        return ""

    # ---- Feedback

    def show_result(self, text: str, *, ok: bool) -> None:
        self.result_label.setObjectName("okText" if ok else "errorText")
        self.result_label.setText(text)
        self.result_label.show()
        style = self.result_label.style()
        style.unpolish(self.result_label)
        style.polish(self.result_label)

    def clear_result(self) -> None:
        self.result_label.clear()
        self.result_label.hide()

    def set_busy(self, busy: bool) -> None:
        self.save_button.setEnabled(not busy)
        self.test_button.setEnabled(not busy)

    def recolor(self, dark: bool) -> None:
        self._dark = dark
        self._on_reveal_toggled(self.reveal_action.isChecked())

    def _on_reveal_toggled(self, shown: bool) -> None:
        self.key_edit.setEchoMode(
            QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        )
        colour = "#9ca3af" if self._dark else "#6b7280"
        self.reveal_action.setIcon(icons.icon("eye-off" if shown else "eye", colour, size=18))
        self.reveal_action.setText(self.tr("Hide key") if shown else self.tr("Show key"))
        self.reveal_action.setToolTip(self.reveal_action.text())
