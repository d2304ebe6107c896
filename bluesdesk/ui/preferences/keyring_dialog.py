"""Asked when the system keyring cannot store a key: keep it in memory for this run, or cancel."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget

from bluesdesk.errors import BluesdeskError


class KeyringDialog(QMessageBox):
    """Non-modal (`open()`); `keep_button` / `cancel_button` tell the answer via `buttonClicked`."""

    def __init__(self, error: BluesdeskError, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setIcon(QMessageBox.Icon.Warning)
        self.setWindowTitle(self.tr("No system keyring"))
        self.setText(self.tr("bluesdesk could not store the API key in the system keyring."))
        self.setInformativeText(
            error.describe()
            + "\n\n"
            + self.tr(
                "You can keep keys in memory for this run only: they are forgotten when "
                "bluesdesk quits. Keys are never written to a file."
            )
        )
        self.keep_button: QPushButton = self.addButton(
            self.tr("Keep for this run only"), QMessageBox.ButtonRole.AcceptRole
        )
        self.cancel_button: QPushButton = self.addButton(QMessageBox.StandardButton.Cancel)
        self.setDefaultButton(self.keep_button)
