"""What the user sees when a bug (not an expected `BluesdeskError`) escapes a task."""

from __future__ import annotations

import logging
import traceback

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QMessageBox, QWidget

from bluesdesk.core.redact import redact_known

log = logging.getLogger("bluesdesk.crash")


def redacted_traceback(exc: BaseException) -> str:
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return redact_known(text)


class CrashReporter:
    """Logs a redacted traceback and shows a non-modal dialog.

    Never `exec()`: we may be inside a task, and a nested loop would stall every other task.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        self.parent = parent
        self.last_dialog: QMessageBox | None = None

    def __call__(self, exc: BaseException) -> None:
        details = redacted_traceback(exc)
        log.error("unexpected error (a bug):\n%s", details)
        tr = QCoreApplication.translate
        box = QMessageBox(self.parent)
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle(tr("CrashReporter", "Something went wrong"))
        box.setText(
            tr("CrashReporter", "bluesdesk hit an unexpected error. Your data was not lost.")
        )
        box.setInformativeText(
            tr("CrashReporter", "The details below were written to the log file (keys redacted).")
        )
        box.setDetailedText(details)
        box.open()
        self.last_dialog = box
