"""A bug in a task: logged and shown with a redacted traceback, in a non-modal dialog."""

from __future__ import annotations

import logging

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from bluesdesk.ui.crash import CrashReporter
from bluesdesk.ui.tasks import TaskRunner

pytestmark = pytest.mark.gui

SECRET = "sk-" + "s" * 48


def test_unexpected_error_shows_redacted_details(aloop, qtbot, caplog):
    parent = QWidget()
    qtbot.addWidget(parent)
    reporter = CrashReporter(parent)
    runner = TaskRunner(crash_handler=reporter)

    async def buggy() -> None:
        raise ValueError(f"bad header Authorization: Bearer {SECRET}")

    with (
        caplog.at_level(logging.ERROR, logger="bluesdesk.crash"),
        qtbot.waitSignal(runner.finished),
    ):
        runner.run(buggy(), key="bug")
    box = reporter.last_dialog
    assert box is not None and box.isVisible()
    # open(), never exec(): other tasks keep running while the dialog is up.
    assert box.windowModality() != Qt.WindowModality.ApplicationModal
    assert box.windowTitle() == "Something went wrong"
    assert "ValueError" in box.detailedText()
    assert SECRET not in box.detailedText()
    assert SECRET not in caplog.text
    assert "ValueError" in caplog.text
    box.close()
