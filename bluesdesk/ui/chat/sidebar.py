"""The conversations sidebar: search box, New, and the list (pinned first, newest next)."""

from __future__ import annotations

import html
import re

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QAbstractTextDocumentLayout, QPainter, QPalette, QTextDocument
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from bluesdesk.store.conversations import Conversation, SearchHit

CONV_ROLE = Qt.ItemDataRole.UserRole
MESSAGE_ROLE = Qt.ItemDataRole.UserRole + 1
MORE_ROLE = Qt.ItemDataRole.UserRole + 2  # the "older conversations" item at the list's end
_HIT = re.compile(r"\[([^\[\]\n]+)\]")  # the store's snippets put matched words in [brackets]


def hit_html(text: str, *, dark: bool) -> str:
    """A search result's text as HTML, its matched words highlighted instead of bracketed."""
    background, colour = ("#854d0e", "#fef3c7") if dark else ("#fde68a", "#1f2328")
    # Item texts reach a delegate with their newlines as Unicode line separators.
    title, _, text = text.replace("\u2028", "\n").rpartition("\n")
    out: list[str] = [f"<b>{html.escape(title.strip())}</b><br>"] if title.strip() else []
    text = text.strip()
    pos = 0
    for match in _HIT.finditer(text):
        out.append(html.escape(text[pos : match.start()]))
        out.append(
            f'<span style="background-color:{background};color:{colour};font-weight:600">'
            f"{html.escape(match.group(1))}</span>"
        )
        pos = match.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)


class HitDelegate(QStyledItemDelegate):
    """Draws message hits with their matches highlighted; other items as usual."""

    def _document(self, option: QStyleOptionViewItem, text: str, width: int) -> QTextDocument:
        dark = option.palette.color(QPalette.ColorRole.Base).lightness() < 128
        document = QTextDocument()
        document.setDefaultFont(option.font)
        document.setDocumentMargin(0)
        document.setHtml(hit_html(text, dark=dark))
        document.setTextWidth(max(40, width))
        return document

    @staticmethod
    def _text_rect(option: QStyleOptionViewItem) -> QRect:
        widget = option.widget  # always the list here
        return widget.style().subElementRect(
            QStyle.SubElement.SE_ItemViewItemText, option, widget
        )

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        if not index.data(MESSAGE_ROLE):
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text, opt.text = opt.text, ""
        widget = opt.widget
        widget.style().drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        area = self._text_rect(opt)
        document = self._document(opt, text, area.width())
        context = QAbstractTextDocumentLayout.PaintContext()
        # The text colour even when selected: the style sheet's selection is a light tint in
        # the light theme, where the palette's "highlighted text" (white) was unreadable.
        context.palette.setColor(
            QPalette.ColorRole.Text, opt.palette.color(QPalette.ColorRole.Text)
        )
        painter.save()
        painter.translate(area.topLeft())
        painter.setClipRect(area.translated(-area.topLeft()))
        document.documentLayout().draw(painter, context)
        painter.restore()

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        base = super().sizeHint(option, index)
        if not index.data(MESSAGE_ROLE):
            return base
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        widget = opt.widget
        width = widget.viewport().width() if isinstance(widget, QListWidget) else base.width()
        opt.rect = QRect(0, 0, width, base.height())
        area = self._text_rect(opt)
        document = self._document(opt, opt.text, area.width())
        padding = base.height() - area.height()
        return QSize(width, max(base.height(), int(document.size().height()) + padding))


class Sidebar(QWidget):
    """Signals:
    opened(str, int): open conversation (id) and scroll to a message (0 = the end).
    new_requested(); search_changed(str); import_requested()
    more_requested(): the "Show older conversations" item was clicked.
    command(str, str): a context-menu command ("rename", "pin", "duplicate", "delete",
        "export_md", "export_json", "export_all") for a conversation id.
    """

    opened = Signal(str, int)
    new_requested = Signal()
    search_changed = Signal(str)
    import_requested = Signal()
    command = Signal(str, str)
    more_requested = Signal()

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
        self.list.setItemDelegate(HitDelegate(self.list))
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

    def show_conversations(
        self, conversations: list[Conversation], current: str = "", *, more: bool = False
    ) -> None:
        """The list, newest first (pinned on top); `more`: older ones exist beyond it."""
        bar = self.list.verticalScrollBar()
        position = bar.value()  # a reload (an answer ended, "older" clicked) keeps the place
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
        if more:
            item = QListWidgetItem(self.tr("Show older conversations…"))
            item.setData(MORE_ROLE, True)
            item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            self.list.addItem(item)
        bar.setValue(position)

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
        if item.data(MORE_ROLE):
            self.more_requested.emit()
            return
        self.opened.emit(str(item.data(CONV_ROLE)), int(item.data(MESSAGE_ROLE) or 0))

    def _menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is None or item.data(MORE_ROLE):
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
