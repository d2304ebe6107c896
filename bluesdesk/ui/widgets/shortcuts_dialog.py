"""Help → Keyboard shortcuts (F1): every shortcut the window and its panes define, grouped.

Read from the live widgets (window actions, pane buttons and actions with a shortcut) so the list
cannot drift from the code; keys handled in `keyPressEvent` (the chat composer) cannot be
discovered and are listed by hand.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QDialog,
    QDialogButtonBox,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

Entry = tuple[str, str]  # (what it does, keys)


class _Window(Protocol):
    """What the dialog reads from the main window."""

    panes: dict[str, QWidget]
    labels: dict[str, str]

    def actions(self) -> list[QAction]: ...


def _keys(sequences: list[QKeySequence]) -> str:
    texts = [
        s.toString(QKeySequence.SequenceFormat.NativeText) for s in sequences if not s.isEmpty()
    ]
    return QCoreApplication.translate("ShortcutsDialog", " or ").join(texts)


def _clean(text: str) -> str:
    return text.replace("&&", "\x00").replace("&", "").replace("\x00", "&").strip()


def _typed_keys() -> dict[str, list[Entry]]:
    tr = QCoreApplication.translate
    return {
        "chat": [
            (tr("ShortcutsDialog", "Send the message"), tr("ShortcutsDialog", "Enter")),
            (
                tr("ShortcutsDialog", "New line in the message"),
                tr("ShortcutsDialog", "Shift+Enter"),
            ),
            (tr("ShortcutsDialog", "Stop the answer"), tr("ShortcutsDialog", "Esc")),
            (
                tr("ShortcutsDialog", "Edit the last message (empty message box)"),
                tr("ShortcutsDialog", "Up"),
            ),
        ],
    }


def window_entries(window: _Window) -> list[Entry]:
    entries = []
    for action in window.actions():
        keys = _keys(action.shortcuts())
        if keys and action.text():
            entries.append((_clean(action.text()), keys))
    return entries


def pane_entries(pane: QWidget) -> list[Entry]:
    entries: list[Entry] = []
    for button in pane.findChildren(QAbstractButton):
        keys = _keys([button.shortcut()])
        label = _clean(button.text()) or button.toolTip().split("(")[0].strip()
        if keys and label:
            entries.append((label, keys))
    for action in pane.findChildren(QAction):
        keys = _keys(action.shortcuts())
        if keys and action.text():
            entries.append((_clean(action.text()), keys))
    return entries


def collect(window: _Window) -> list[tuple[str, list[Entry]]]:
    """Sections in display order: ("Anywhere", …), then one per pane that has shortcuts."""
    sections = [(QCoreApplication.translate("ShortcutsDialog", "Anywhere"), window_entries(window))]
    typed = _typed_keys()
    for key, pane in window.panes.items():
        entries = typed.get(key, []) + pane_entries(pane)
        unique = list(dict.fromkeys(entries))  # a button and its action may both carry one
        if unique:
            sections.append((window.labels.get(key, key), unique))
    return sections


class ShortcutsDialog(QDialog):
    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setWindowTitle(self.tr("Keyboard shortcuts"))
        self.setModal(False)
        self.resize(460, 520)
        self.tree = QTreeWidget()
        self.tree.setObjectName("shortcutList")
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels([self.tr("Action"), self.tr("Keys")])
        self.tree.setRootIsDecorated(False)
        self.tree.setSelectionMode(QTreeWidget.SelectionMode.NoSelection)
        self.tree.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree)
        layout.addWidget(buttons)
        self.refresh()

    def refresh(self) -> None:
        """Re-read the shortcuts (panes may have been built since the dialog was made)."""
        self.tree.clear()
        window = self.parent()
        for title, entries in collect(window):  # type: ignore[arg-type]
            section = QTreeWidgetItem([title, ""])
            font = section.font(0)
            font.setBold(True)
            section.setFont(0, font)
            section.setFirstColumnSpanned(True)
            self.tree.addTopLevelItem(section)
            for what, keys in entries:
                section.addChild(QTreeWidgetItem([what, keys]))
            section.setExpanded(True)
        self.tree.resizeColumnToContents(0)

    def rows(self) -> list[tuple[str, str, str]]:
        """(section, action, keys) for every listed shortcut, in display order."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            section = self.tree.topLevelItem(i)
            assert section is not None
            for j in range(section.childCount()):
                child = section.child(j)
                assert child is not None
                out.append((section.text(0), child.text(0), child.text(1)))
        return out

    def showEvent(self, event: object) -> None:
        self.refresh()
        super().showEvent(event)  # type: ignore[arg-type]
