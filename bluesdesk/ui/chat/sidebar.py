"""The conversations sidebar: search box, New, and the list (pinned first, newest next)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from bluesdesk.store.conversations import Conversation, SearchHit

CONV_ROLE = Qt.ItemDataRole.UserRole
MESSAGE_ROLE = Qt.ItemDataRole.UserRole + 1


class Sidebar(QWidget):
    """Signals:
    opened(str, int): open conversation (id) and scroll to a message (0 = the end).
    new_requested(); search_changed(str); import_requested()
    command(str, str): a context-menu command ("rename", "pin", "duplicate", "delete",
        "export_md", "export_json", "export_all") for a conversation id.
    """

    opened = Signal(str, int)
    new_requested = Signal()
    search_changed = Signal(str)
    import_requested = Signal()
    command = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("Search conversations…"))
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.search_changed)
        self.new_button = QPushButton(self.tr("New chat"))
        self.new_button.setProperty("primary", True)
        self.new_button.clicked.connect(lambda *_: self.new_requested.emit())
        self.import_button = QPushButton(self.tr("Import…"))
        self.import_button.clicked.connect(lambda *_: self.import_requested.emit())
        self.list = QListWidget()
        self.list.setObjectName("conversationList")
        self.list.setUniformItemSizes(False)
        self.list.setWordWrap(True)
        # Titles wrap; a sideways scroll bar would only ever show the wrap's spare pixels.
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.itemActivated.connect(self._activate)
        self.list.itemClicked.connect(self._activate)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button, 1)
        buttons.addWidget(self.import_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        self.setFixedWidth(250)

    def show_conversations(self, conversations: list[Conversation], current: str = "") -> None:
        self.list.clear()
        for conv in conversations:
            title = conv.title or self.tr("New conversation")
            item = QListWidgetItem(("📌 " if conv.pinned else "") + title)
            item.setData(CONV_ROLE, conv.id)
            item.setData(MESSAGE_ROLE, 0)
            item.setToolTip(conv.model)
            self.list.addItem(item)
            if conv.id == current:
                item.setSelected(True)
                self.list.setCurrentItem(item)

    def show_results(self, titles: list[Conversation], hits: list[SearchHit]) -> None:
        """Search results: title matches, then messages with the matched words in [brackets]."""
        self.list.clear()
        for conv in titles:
            item = QListWidgetItem(conv.title)
            item.setData(CONV_ROLE, conv.id)
            item.setData(MESSAGE_ROLE, 0)
            self.list.addItem(item)
        for hit in hits:
            snippet = hit.snippet.replace("\n", " ")
            item = QListWidgetItem(f"{hit.conversation_title}\n  {snippet}")
            item.setData(CONV_ROLE, hit.conversation_id)
            item.setData(MESSAGE_ROLE, hit.message_id)
            self.list.addItem(item)

    def _activate(self, item: QListWidgetItem) -> None:
        self.opened.emit(str(item.data(CONV_ROLE)), int(item.data(MESSAGE_ROLE) or 0))

    def _menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is None:
            return
        conv_id = str(item.data(CONV_ROLE))
        menu = QMenu(self)
        for name, label in (
            ("rename", self.tr("Rename…")),
            ("pin", self.tr("Pin / unpin")),
            ("duplicate", self.tr("Duplicate")),
            ("export_md", self.tr("Export as Markdown…")),
            ("export_json", self.tr("Export as JSON…")),
            ("export_all", self.tr("Export all conversations…")),
            ("delete", self.tr("Delete")),
        ):
            action = menu.addAction(label)
            action.triggered.connect(lambda *_, n=name: self.command.emit(n, conv_id))
        menu.popup(self.list.viewport().mapToGlobal(pos))
