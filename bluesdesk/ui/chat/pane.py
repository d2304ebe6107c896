"""Chat: conversations sidebar, streaming transcript, composer and model picker.

The pane only arranges widgets and turns clicks into service calls; streaming on screen is the
controller's job, markdown is `core.render`, persistence and the gateway are `ChatService`'s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from bluesdesk.errors import BluesdeskError
from bluesdesk.services.chat import ChatService
from bluesdesk.store.conversations import Conversation, ConversationStore, StoredMessage
from bluesdesk.ui.chat.composer import Composer
from bluesdesk.ui.chat.controller import ChatController
from bluesdesk.ui.chat.sidebar import Sidebar
from bluesdesk.ui.chat.transcript import TranscriptView
from bluesdesk.ui.context import AppContext
from bluesdesk.ui.widgets.empty_state import EmptyState
from bluesdesk.ui.widgets.pane import Pane


def service_for(ctx: AppContext) -> ChatService | None:
    """The app's ChatService, or one built over the context's database (tests, older apps)."""
    existing = getattr(ctx, "chat", None)
    if isinstance(existing, ChatService):
        return existing
    if ctx.db is None:
        return None

    async def client_for(profile_id: str) -> Any:
        profile = ctx.profiles.profile(profile_id) if profile_id else None
        return await ctx.profiles.client(profile)

    return ChatService(ConversationStore(ctx.db), client_for)


class ChatPane(Pane):
    key = "chat"

    def __init__(
        self,
        ctx: AppContext | None = None,
        parent: QWidget | None = None,
        *,
        service: ChatService | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.service = service or (service_for(ctx) if ctx is not None else None)
        self.conversation: Conversation | None = None
        self._loaded = False
        self._models_for = ""

        self.sidebar = Sidebar()
        self.title = QLabel(self.tr("New conversation"))
        self.title.setObjectName("paneTitle")
        self.model_box = QComboBox()
        self.model_box.setEditable(True)
        self.model_box.setMinimumWidth(220)
        self.model_box.setToolTip(self.tr("The model this conversation uses"))
        self.model_box.setPlaceholderText(self.tr("Model"))
        self.transcript = TranscriptView()
        self.composer = Composer()
        self.error_label = QLabel()
        self.error_label.setObjectName("errorText")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()

        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.model_box)
        main = QVBoxLayout()
        main.setSpacing(8)
        main.addLayout(header)
        main.addWidget(self.transcript, 1)
        main.addWidget(self.error_label)
        main.addWidget(self.composer)
        chat_page = QWidget()
        row = QHBoxLayout(chat_page)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(16)
        row.addWidget(self.sidebar)
        row.addLayout(main, 1)

        self.unavailable = EmptyState(
            "chat",
            self.tr("Chat needs its database"),
            self.tr("The conversation store could not be opened; see the log for why."),
        )
        self.body = QStackedWidget()
        self.body.addWidget(chat_page)
        self.body.addWidget(self.unavailable)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 14)
        layout.addWidget(self.body)

        self.empty = self.unavailable
        if self.service is None or ctx is None:
            self.body.setCurrentIndex(1)
            self.controller: ChatController | None = None
            self.mark_ready()
            return
        self.controller = ChatController(self.service, self.transcript, ctx.runner)
        self.controller.busy_changed.connect(self.composer.set_busy)
        self.controller.finished.connect(self._answer_finished)
        self.composer.send_requested.connect(self.send)
        self.composer.stop_requested.connect(self.controller.stop)
        self.sidebar.new_requested.connect(self.new_conversation)
        self.sidebar.opened.connect(self.open_conversation)
        self.sidebar.search_changed.connect(self._search)
        self.sidebar.command.connect(self._command)
        self.sidebar.import_requested.connect(self._import_dialog)
        self.transcript.action.connect(self._message_action)
        self.transcript.load_earlier.connect(
            lambda: self.transcript.show_messages(self.transcript.messages, everything=True)
        )
        self.model_box.currentTextChanged.connect(self._model_changed)

    # ---- Pane hooks

    def on_shown(self) -> None:
        if self.service is None:
            self.mark_ready()
            return
        if not self._loaded:
            self._loaded = True
            self._run(self._load_list(), "chat:list")
        self._load_models()

    def on_profile_changed(self) -> None:
        if self.isVisible():
            self._load_models()

    def on_theme_changed(self, dark: bool) -> None:
        self.transcript.set_dark(dark)
        self.unavailable.recolor(dark)

    # ---- helpers

    def _run(self, coro: Coroutine[Any, Any, Any], key: str) -> None:
        assert self.ctx is not None
        self.ctx.runner.run(self._guarded(coro), key=key)

    async def _guarded(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Expected failures show in the pane, next to what the user did."""
        try:
            await coro
        except (BluesdeskError, ValueError) as exc:
            if not shiboken6.isValid(self.error_label):  # the window closed meanwhile
                return
            text = exc.describe() if isinstance(exc, BluesdeskError) else str(exc)
            self.show_error(text)
        except RuntimeError:
            # A task that outlived its window finds its widgets deleted; nothing is left to update.
            if shiboken6.isValid(self) and shiboken6.isValid(self.error_label):
                raise

    def show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def _refresh_list(self) -> None:
        if not self.sidebar.search.text().strip():
            self._run(self._load_list(), "chat:list")

    async def _load_list(self) -> None:
        assert self.service is not None
        conversations = await self.service.store.list_conversations()
        current = self.conversation.id if self.conversation else ""
        self.sidebar.show_conversations(conversations, current)
        if self.conversation is not None:
            fresh = next((c for c in conversations if c.id == current), None)
            if fresh is not None:
                self.conversation = fresh
                self.title.setText(fresh.title or self.tr("New conversation"))
        self.mark_ready()

    def _load_models(self) -> None:
        if self.ctx is None:
            return
        active = self.ctx.profiles.active()
        if active is None or active.id == self._models_for:
            return
        self._models_for = active.id
        self._run(self._fill_models(active.id), "chat:models")

    async def _fill_models(self, profile_id: str) -> None:
        assert self.service is not None
        try:
            ids = await self.service.model_ids(profile_id)
        except BluesdeskError:
            self._models_for = ""  # try again next time the pane shows
            raise
        if not shiboken6.isValid(self.model_box):  # the window closed while we waited
            return
        keep = self.model_box.currentText()
        self.model_box.blockSignals(True)
        self.model_box.clear()
        self.model_box.addItems(ids)
        self.model_box.setCurrentText(
            keep or (self.conversation.model if self.conversation else "") or _default(ids)
        )
        self.model_box.blockSignals(False)

    # ---- conversations

    def new_conversation(self) -> None:
        if self.controller is not None and self.controller.busy:
            self.controller.stop()
        self.conversation = None
        self.title.setText(self.tr("New conversation"))
        self.transcript.show_messages([])
        self.show_error("")
        self.composer.edit.setFocus()

    def open_conversation(self, conversation_id: str, message_id: int = 0) -> None:
        self._run(self._open(conversation_id, message_id), "chat:open")

    async def _open(self, conversation_id: str, message_id: int) -> None:
        assert self.service is not None
        conversation = await self.service.store.get_conversation(conversation_id)
        if conversation is None:
            return
        messages = await self.service.store.get_messages(conversation_id)
        self.conversation = conversation
        self.title.setText(conversation.title or self.tr("New conversation"))
        if conversation.model:
            self.model_box.blockSignals(True)
            self.model_box.setCurrentText(conversation.model)
            self.model_box.blockSignals(False)
        self.show_error("")
        self.transcript.show_messages(messages, everything=bool(message_id))
        if message_id:
            self.transcript.scrollToAnchor(f"m{message_id}")

    def _model_changed(self, model: str) -> None:
        if self.conversation is not None and model and model != self.conversation.model:
            conv_id = self.conversation.id
            self._run(self._save_model(conv_id, model), "chat:model")

    async def _save_model(self, conversation_id: str, model: str) -> None:
        assert self.service is not None
        await self.service.store.update_conversation(conversation_id, model=model)
        if self.conversation is not None and self.conversation.id == conversation_id:
            self.conversation = await self.service.store.get_conversation(conversation_id)

    # ---- sending

    def send(self, text: str) -> None:
        model = self.model_box.currentText().strip()
        if not model:
            self.show_error(self.tr("Pick a model first."))
            self.composer.edit.setPlainText(text)
            return
        self.show_error("")
        self._run(self._send(text, model), "chat:send")

    async def _send(self, text: str, model: str) -> None:
        assert self.service is not None and self.ctx is not None and self.controller is not None
        if self.conversation is None:
            active = self.ctx.profiles.active()
            if active is None:
                raise ValueError(self.tr("Add a gateway in Settings (or start the demo) first."))
            self.conversation = await self.service.new_conversation(
                profile_id=active.id, model=model
            )
            self.transcript.show_messages([])
        elif self.conversation.model != model:
            await self._save_model(self.conversation.id, model)
        assert self.conversation is not None
        self.controller.send(self.conversation.id, text)

    def _message_action(self, name: str, message_id: int) -> None:
        message = self.transcript.message(message_id)
        if name == "copy":
            if message is not None:
                QGuiApplication.clipboard().setText(message.text)
        elif name == "regen" and self.controller is not None and not self.controller.busy:
            # The new answer streams in the old one's place; the old one becomes an alternative.
            shown = [m for m in self.transcript.messages if m.id != message_id]
            self.transcript.show_messages(shown, everything=True)
            self.controller.regenerate(message_id)
        elif name in ("prev", "next") and message is not None:
            self._run(self._page(message_id, name == "next"), "chat:page")

    def _answer_finished(self, message: StoredMessage) -> None:
        if message.alt_group and self.conversation is not None:
            # Re-read so the alternatives counter (‹ 2/2 ›) is right.
            self._run(self._open(self.conversation.id, 0), "chat:open")
        self._refresh_list()

    async def _page(self, message_id: int, forward: bool) -> None:
        assert self.service is not None and self.conversation is not None
        messages = await self.service.store.get_messages(self.conversation.id)
        current = next((m for m in messages if m.id == message_id), None)
        if current is None or not current.alt_group:
            return
        group = [m for m in messages if m.alt_group == current.alt_group]
        index = group.index(current) + (1 if forward else -1)
        await self.service.store.show_alternative(group[index % len(group)].id)
        await self._open(self.conversation.id, 0)

    # ---- sidebar commands

    def _search(self, text: str) -> None:
        if not text.strip():
            self._run(self._load_list(), "chat:list")
            return
        self._run(self._do_search(text), "chat:search")

    async def _do_search(self, text: str) -> None:
        assert self.service is not None
        titles, hits = await self.service.search(text)
        self.sidebar.show_results(titles, hits)

    def _command(self, name: str, conversation_id: str) -> None:
        if name == "rename":
            current = self.conversation.title if self.conversation else ""
            title, ok = QInputDialog.getText(
                self, self.tr("Rename"), self.tr("Title"), text=current
            )
            if ok:
                self._run(self._rename(conversation_id, title.strip()), "chat:rename")
        elif name == "pin":
            self._run(self._toggle_pin(conversation_id), "chat:pin")
        elif name == "delete":
            self._run(self._delete(conversation_id), "chat:delete")
        elif name in ("export_md", "export_json"):
            suffix = "md" if name == "export_md" else "json"
            path, _ = QFileDialog.getSaveFileName(
                self, self.tr("Export conversation"), f"conversation.{suffix}"
            )
            if path:
                self._run(self.export_to(conversation_id, Path(path)), "chat:export")

    async def _rename(self, conversation_id: str, title: str) -> None:
        assert self.service is not None
        await self.service.store.rename_conversation(conversation_id, title)
        await self._load_list()

    async def _toggle_pin(self, conversation_id: str) -> None:
        assert self.service is not None
        conversation = await self.service.store.get_conversation(conversation_id)
        if conversation is not None:
            await self.service.store.set_pinned(conversation_id, not conversation.pinned)
            await self._load_list()

    async def _delete(self, conversation_id: str) -> None:
        assert self.service is not None
        await self.service.store.delete_conversation(conversation_id)
        if self.conversation is not None and self.conversation.id == conversation_id:
            self.new_conversation()
        await self._load_list()

    async def export_to(self, conversation_id: str, path: Path) -> None:
        assert self.service is not None
        if path.suffix.lower() == ".json":
            text = await self.service.export_json(conversation_id)
        else:
            text = await self.service.export_markdown(conversation_id)
        await asyncio.to_thread(path.write_text, text, encoding="utf-8")

    def _import_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Import conversation"), "", self.tr("JSON (*.json)")
        )
        if path:
            self._run(self.import_from(Path(path)), "chat:import")

    async def import_from(self, path: Path) -> None:
        assert self.service is not None
        try:
            text = await asyncio.to_thread(path.read_text, encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"Could not read {path.name}: {exc}") from exc
        conversation = await self.service.import_json(text)
        await self._load_list()
        await self._open(conversation.id, 0)


def _default(ids: list[str]) -> str:
    """A sensible first pick: a small, cheap chat model when the gateway has one."""
    for preferred in ("gpt-4o-mini", "gpt-4.1-mini"):
        if preferred in ids:
            return preferred
    chat = [i for i in ids if not any(k in i for k in ("image", "tts", "whisper", "embed", "dall"))]
    return (chat or ids or [""])[0]
