"""Chat: conversations sidebar, streaming transcript, composer and model picker.

The pane only arranges widgets and turns clicks into service calls; streaming on screen is the
controller's job, markdown is `core.render`, persistence and the gateway are `ChatService`'s.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QTextDocument
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from bluesdesk.core.render import render_in_worker
from bluesdesk.errors import BluesdeskError
from bluesdesk.services.chat import (
    ChatService,
    MessageChanged,
    ServiceEvent,
    catalog_prices,
    catalog_styles,
    estimate_tokens,
)
from bluesdesk.store.conversations import Conversation, ConversationStore, StoredMessage
from bluesdesk.ui.chat.actions import ActionBar, UndoBar
from bluesdesk.ui.chat.composer import Composer
from bluesdesk.ui.chat.controller import ChatController
from bluesdesk.ui.chat.params import ParamsDrawer
from bluesdesk.ui.chat.picker import (
    PickerEntry,
    cost_text,
    entry_for,
    fill_picker,
    is_chat_model,
    make_searchable,
)
from bluesdesk.ui.chat.sidebar import Sidebar
from bluesdesk.ui.chat.transcript import SHOW_LIMIT, WINDOW, TranscriptView
from bluesdesk.ui.context import AppContext
from bluesdesk.ui.widgets.elided_label import ElidedLabel
from bluesdesk.ui.widgets.empty_state import EmptyState
from bluesdesk.ui.widgets.pane import Pane

OPEN_ROWS = 2 * WINDOW  # rows read when a conversation opens (hidden alternatives included)
LIST_PAGE = 200  # conversations the sidebar lists at first, and adds per "Show older"
DEFAULT_OUTPUT_TOKENS = (
    4096  # the cost bound when neither max_tokens nor the model's limit is known
)


SAVE_NOTICE = "Couldn't save"


def save_notice(error: BluesdeskError | None) -> str:
    """What the pane says while answers wait in memory for the database to take them."""
    reason = error.user_message if error is not None else ""
    if "full" in reason.lower():
        return f"{SAVE_NOTICE}: disk is full — free space; the answer is kept and will be saved"
    why = f" ({reason})" if reason else ""
    return f"{SAVE_NOTICE}{why}: the answer is kept and will be saved"


def service_for(ctx: AppContext) -> ChatService | None:
    """The app's ChatService, or one built over the context's database (tests, older apps)."""
    existing = getattr(ctx, "chat", None)
    if isinstance(existing, ChatService):
        if existing.style_provider is None and ctx.catalog is not None:
            existing.style_provider = catalog_styles(ctx.catalog)
        return existing
    if ctx.db is None:
        return None

    async def client_for(profile_id: str) -> Any:
        profile = ctx.profiles.profile(profile_id) if profile_id else None
        return await ctx.profiles.client(profile)

    catalog = ctx.catalog
    return ChatService(
        ConversationStore(ctx.db),
        client_for,
        price_for=catalog_prices(catalog) if catalog is not None else None,
        style_for=catalog_styles(catalog) if catalog is not None else None,
    )


class ChatPane(Pane):
    """Signals:
    read_aloud_requested(str): speak this answer (MainWindow hands it to the Speech pane).
    open_settings_requested(): the key was refused; the user wants to fix it.
    open_pane_requested(str): show another pane ("account" to top up).
    show_in_logs_requested(str): show the gateway's log entry of this request id (Account pane).
    """

    key = "chat"
    read_aloud_requested = Signal(str)
    open_settings_requested = Signal()
    open_pane_requested = Signal(str)
    show_in_logs_requested = Signal(str)

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
        self.entries: dict[str, PickerEntry] = {}

        self.sidebar = Sidebar()
        self._list_limit = LIST_PAGE
        self.title = ElidedLabel(self.tr("New conversation"))
        self.title.setObjectName("paneTitle")
        self.model_box = QComboBox()
        self.model_box.setEditable(True)
        self.model_box.setMinimumWidth(240)
        self.model_box.setToolTip(self.tr("The model this conversation uses (type to search)"))
        self.model_box.setPlaceholderText(self.tr("Model"))
        make_searchable(self.model_box)
        self.model_info = QLabel()
        self.model_info.setObjectName("mutedText")
        self.params_button = QPushButton(self.tr("Parameters"))
        self.params_button.setCheckable(True)
        self.params_button.setToolTip(self.tr("System prompt, temperature, presets…"))
        self.transcript = TranscriptView()
        self.drawer = ParamsDrawer()
        self.drawer.hide()
        self.composer = Composer()
        self.action_bar = ActionBar()
        self.undo_bar = UndoBar()
        self.error_label = QLabel()
        self.error_label.setObjectName("errorText")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()

        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.model_info)
        header.addWidget(self.model_box)
        header.addWidget(self.params_button)
        middle = QHBoxLayout()
        middle.setSpacing(0)
        middle.addWidget(self.transcript, 1)
        middle.addWidget(self.drawer)
        main = QVBoxLayout()
        main.setSpacing(8)
        main.addLayout(header)
        main.addLayout(middle, 1)
        main.addWidget(self.action_bar)
        main.addWidget(self.undo_bar)
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

        # Timers that coalesce edits: the drawer saves after a pause, the cost follows typing.
        self.save_timer = QTimer(self)
        self.save_timer.setSingleShot(True)
        self.save_timer.setInterval(400)
        self.save_timer.timeout.connect(self._save_params)
        self.cost_timer = QTimer(self)
        self.cost_timer.setSingleShot(True)
        self.cost_timer.setInterval(200)
        self.cost_timer.timeout.connect(self.update_cost)

        self.empty = self.unavailable
        if self.service is None or ctx is None:
            self.body.setCurrentIndex(1)
            self.controller: ChatController | None = None
            self.mark_ready()
            return
        self.controller = ChatController(self.service, self.transcript, ctx.runner)
        self.controller.busy_changed.connect(self.composer.set_busy)
        self.controller.busy_changed.connect(self._busy_changed)
        self.controller.finished.connect(self._answer_finished)
        self.composer.send_requested.connect(self.send)
        self.composer.edit_submitted.connect(self.edit_and_resend)
        self.composer.edit_last_requested.connect(self.edit_last)
        self.composer.stop_requested.connect(self.controller.stop)
        self.composer.edit.textChanged.connect(self.cost_timer.start)
        self.sidebar.new_requested.connect(self.new_conversation)
        self.sidebar.opened.connect(self.open_conversation)
        self.sidebar.search_changed.connect(self._search)
        self.sidebar.command.connect(self._command)
        self.sidebar.import_requested.connect(self._import_dialog)
        self.sidebar.more_requested.connect(self._show_older)
        self.transcript.action.connect(self._message_action)
        self.transcript.load_earlier.connect(self._show_earlier)
        self.transcript.show_in_logs.connect(self.show_in_logs_requested)
        self.model_box.currentTextChanged.connect(self._model_changed)
        self.params_button.toggled.connect(self.drawer.setVisible)
        self.drawer.changed.connect(self.save_timer.start)
        self.drawer.changed.connect(self.cost_timer.start)
        self.drawer.save_preset_requested.connect(
            lambda name: self._run(self._save_preset(name), "chat:preset")
        )
        self.drawer.delete_preset_requested.connect(
            lambda name: self._run(self._delete_preset(name), "chat:preset")
        )
        self.action_bar.action.connect(self._error_action)
        self.service.listeners.append(self._service_event)
        self._add_shortcuts()

    # ---- Pane hooks

    def on_shown(self) -> None:
        if self.service is None:
            self.mark_ready()
            return
        if not self._loaded:
            self._loaded = True
            self._run(self._load_list(), "chat:list")
            self._run(self._load_presets(), "chat:presets")
        self._load_models()

    def on_profile_changed(self) -> None:
        if self.isVisible():
            self._load_models()

    def on_theme_changed(self, dark: bool) -> None:
        self.transcript.set_dark(dark)
        self.unavailable.recolor(dark)

    def use_model(self, model_id: str) -> None:
        """Select `model_id` in the picker (the Models pane's "Use in Chat")."""
        if self.model_box.findText(model_id) < 0:
            self.model_box.addItem(model_id)
        self.model_box.setCurrentText(model_id)

    def set_draft(self, text: str) -> None:
        """Put `text` in the composer, unsent (a transcript from the Speech pane)."""
        self.composer.cancel_edit()
        self.composer.edit.setPlainText(text)
        self.composer.edit.setFocus()
        self.composer.edit.moveCursor(self.composer.edit.textCursor().MoveOperation.End)

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

    def _service_event(self, event: ServiceEvent) -> None:
        """Answers the database refused (a notice until they are saved); a billed cost that
        arrived after the answer (its stats line is rewritten)."""
        if not shiboken6.isValid(self) or not shiboken6.isValid(self.error_label):
            return  # the pane closed; the service lives on
        if isinstance(event, MessageChanged):
            self.transcript.update_stats(event.message)
        elif event.unsaved:
            self.show_error(save_notice(event.error))
        elif self.error_label.text().startswith(SAVE_NOTICE):
            self.show_error("")

    def _busy(self) -> bool:
        return self.controller is not None and self.controller.busy

    def _refresh_list(self) -> None:
        if not self.sidebar.search.text().strip():
            self._run(self._load_list(), "chat:list")

    def _show_older(self) -> None:
        self._list_limit += LIST_PAGE
        self._run(self._load_list(), "chat:list")

    async def _load_list(self) -> None:
        assert self.service is not None
        # One more than shown tells whether older conversations exist.
        conversations = await self.service.store.list_conversations(limit=self._list_limit + 1)
        more = len(conversations) > self._list_limit
        conversations = conversations[: self._list_limit]
        current = self.conversation.id if self.conversation else ""
        self.sidebar.show_conversations(conversations, current, more=more)
        if self.conversation is not None:
            fresh = next((c for c in conversations if c.id == current), None)
            if fresh is not None:
                self.conversation = fresh
                self.title.setText(fresh.title or self.tr("New conversation"))
        self.mark_ready()

    # ---- the model picker

    def _load_models(self) -> None:
        if self.ctx is None:
            return
        active = self.ctx.profiles.active()
        if active is None or active.id == self._models_for:
            return
        self._models_for = active.id
        self._run(self._fill_models(active.id), "chat:models")

    async def _fill_models(self, profile_id: str) -> None:
        assert self.service is not None and self.ctx is not None
        try:
            entries = await self._catalog_entries()
            if not entries:  # no catalog (yet): the relay's plain list
                ids = await self.service.model_ids(profile_id)
                entries = [PickerEntry(i) for i in ids]
        except BluesdeskError:
            self._models_for = ""  # try again next time the pane shows
            raise
        if not shiboken6.isValid(self.model_box):  # the window closed while we waited
            return
        self.entries = {e.id: e for e in entries}
        ids = [e.id for e in entries]
        keep = self.model_box.currentText()
        chosen = keep or (self.conversation.model if self.conversation else "") or _default(ids)
        fill_picker(self.model_box, entries, chosen)
        self._show_model_info()
        self.update_cost()

    async def _catalog_entries(self) -> list[PickerEntry]:
        """Chat models from the catalog, favourites first; fetched once if never fetched."""
        assert self.ctx is not None
        catalog = self.ctx.catalog
        active = self.ctx.profiles.active()
        if catalog is None or active is None:
            return []
        models = await catalog.models(active)
        if not models:
            try:
                await catalog.refresh(active)
            except BluesdeskError:
                return []  # the relay list below still works (or says why it does not)
            models = await catalog.models(active)
        starred = await catalog.favourites(active)
        return [entry_for(m, m.id in starred) for m in models if is_chat_model(m)]

    def _show_model_info(self) -> None:
        entry = self.entries.get(self.model_box.currentText().strip())
        if entry is None:
            self.model_info.setText("")
            self.drawer.set_auto_style("")
            return
        self.model_info.setText(" · ".join(entry.badges))
        self.drawer.set_auto_style(entry.style)

    def update_cost(self) -> None:
        """The estimate under the composer: prompt (history + draft) and max output tokens."""
        text = ""
        if self.ctx is not None and self.ctx.catalog is not None:
            model = self.model_box.currentText().strip()
            active = self.ctx.profiles.active()
            price = self.ctx.catalog.price(model, profile=active) if model and active else None
            if price is not None:
                system, _, params = self.drawer.values()
                history = sum(estimate_tokens(m.text) for m in self.transcript.messages)
                prompt = history + estimate_tokens(system + self.composer.edit.toPlainText())
                limit = params.get("max_tokens")
                snapshot = self.ctx.catalog.loaded(active)
                found = snapshot.model(model) if snapshot is not None else None
                known = isinstance(limit, int) or bool(found and found.max_output)
                if not isinstance(limit, int):
                    limit = (found.max_output if found else None) or DEFAULT_OUTPUT_TOKENS
                est = self.ctx.catalog.estimate(model, prompt, limit, profile=active)
                text = cost_text(price, est, known)
        self.composer.cost_label.setText(text)
        self.composer.cost_label.setVisible(bool(text))

    # ---- conversations

    def _add_shortcuts(self) -> None:
        """Keys for what people do most; they act while focus is in this pane (F1 lists them)."""
        for text, keys, slot in (
            (self.tr("New chat"), "Ctrl+N", self.new_conversation),
            (self.tr("Search conversations"), "Ctrl+F", self._focus_search),
            (self.tr("Write a message"), "Ctrl+L", self.composer.edit.setFocus),
            (self.tr("Regenerate the last answer"), "Ctrl+R", self._regenerate_last),
            (self.tr("Copy the last answer"), "Ctrl+Shift+C", self._copy_last),
            (self.tr("Parameters"), "Ctrl+Shift+P", self.params_button.toggle),
        ):
            action = QAction(text, self)
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(lambda *_, run=slot: run())
            self.addAction(action)

    def _focus_search(self) -> None:
        self.sidebar.search.setFocus()
        self.sidebar.search.selectAll()

    def _last_answer(self) -> StoredMessage | None:
        return next((m for m in reversed(self.transcript.messages) if m.role == "assistant"), None)

    def _regenerate_last(self) -> None:
        last = self._last_answer()
        if last is not None:
            self._message_action("regen", last.id)

    def _copy_last(self) -> None:
        last = self._last_answer()
        if last is not None:
            self._message_action("copy", last.id)

    def new_conversation(self) -> None:
        if self._busy():
            assert self.controller is not None
            self.controller.stop()
        self.conversation = None
        self.title.setText(self.tr("New conversation"))
        self.transcript.show_messages([])
        self.show_error("")
        self.action_bar.clear()
        self.composer.cancel_edit()
        self.composer.edit.setFocus()

    def open_conversation(self, conversation_id: str, message_id: int = 0) -> None:
        self._run(self._open(conversation_id, message_id), "chat:open")

    async def _open(self, conversation_id: str, message_id: int) -> None:
        assert self.service is not None
        conversation = await self.service.store.get_conversation(conversation_id)
        if conversation is None:
            return
        # At a search hit, everything is read (rows are cheap; only a window is laid out).
        messages, not_loaded = await read_for_view(
            self.service.store, conversation_id, everything=bool(message_id)
        )
        self.conversation = conversation
        self.title.setText(conversation.title or self.tr("New conversation"))
        if conversation.model:
            self.model_box.blockSignals(True)
            self.model_box.setCurrentText(conversation.model)
            self.model_box.blockSignals(False)
            self._show_model_info()
        self.drawer.set_values(
            conversation.system_prompt, conversation.api_style, _params(conversation)
        )
        self.show_error("")
        self.composer.cancel_edit()
        self.transcript.show_messages(messages, not_loaded=not_loaded, around=message_id)
        shown = self.transcript.messages
        if shown and shown[-1].role == "assistant":
            self.action_bar.show_for(shown[-1])  # e.g. "interrupted" after a restart: Continue
        else:
            self.action_bar.clear()
        self.update_cost()

    def _show_earlier(self) -> None:
        if self.transcript.not_loaded and self.conversation is not None:
            self._run(self._read_earlier(self.conversation.id), "chat:open")
        else:
            self.transcript.page_earlier()

    async def _read_earlier(self, conversation_id: str) -> None:
        assert self.service is not None
        messages = await self.service.store.get_messages(conversation_id)
        if self.conversation is not None and self.conversation.id == conversation_id:
            self.transcript.page_earlier(messages)

    def _model_changed(self, model: str) -> None:
        self._show_model_info()
        self.cost_timer.start()
        if self.conversation is not None and model and model != self.conversation.model:
            conv_id = self.conversation.id
            self._run(self._save_model(conv_id, model), "chat:model")

    async def _save_model(self, conversation_id: str, model: str) -> None:
        assert self.service is not None
        await self.service.store.update_conversation(conversation_id, model=model)
        if self.conversation is not None and self.conversation.id == conversation_id:
            self.conversation = await self.service.store.get_conversation(conversation_id)

    # ---- parameters and presets

    def _save_params(self) -> None:
        if self.conversation is None:
            return  # kept in the drawer until the conversation exists
        self._run(self._store_params(self.conversation.id), "chat:params")

    async def _store_params(self, conversation_id: str) -> None:
        assert self.service is not None
        system, style, params = self.drawer.values()
        await self.service.store.update_conversation(
            conversation_id, system_prompt=system, api_style=style, params_json=json.dumps(params)
        )
        if self.conversation is not None and self.conversation.id == conversation_id:
            self.conversation = await self.service.store.get_conversation(conversation_id)

    async def _load_presets(self) -> None:
        assert self.service is not None
        self.drawer.set_presets(await self.service.presets())

    async def _save_preset(self, name: str) -> None:
        assert self.service is not None
        system, _, params = self.drawer.values()
        await self.service.save_preset(name, system, params)
        await self._load_presets()
        self.drawer.preset_box.setCurrentText(name)

    async def _delete_preset(self, name: str) -> None:
        assert self.service is not None
        await self.service.delete_preset(name)
        await self._load_presets()

    # ---- sending

    def send(self, text: str) -> None:
        model = self.model_box.currentText().strip()
        images = self.composer.attachments.urls()
        refusal = self._refusal(model, images)
        if refusal:
            self.show_error(refusal)
            self.composer.edit.setPlainText(text)
            return
        self.show_error("")
        self.action_bar.clear()
        self.composer.attachments.clear()
        self._run(self._send(text, model, images), "chat:send")

    def _refusal(self, model: str, images: tuple[str, ...]) -> str:
        """Why this message cannot be sent as it is ("" when it can)."""
        if not model:
            return self.tr("Pick a model first.")
        problem = self.drawer.problem_text()
        if problem:
            return problem
        entry = self.entries.get(model)
        if images and entry is not None and entry.vision is False:
            with_vision = [e.id for e in self.entries.values() if e.vision][:3]
            hint = (
                self.tr(" Models that can: {names}.").format(names=", ".join(with_vision))
                if with_vision
                else ""
            )
            return (
                self.tr(
                    "{model} cannot see images: pick a model with vision, or remove the {n}"
                    " attached image(s)."
                ).format(model=model, n=len(images))
                + hint
            )
        return ""

    async def _send(self, text: str, model: str, images: tuple[str, ...] = ()) -> None:
        assert self.service is not None and self.ctx is not None and self.controller is not None
        if self.conversation is None:
            active = self.ctx.profiles.active()
            if active is None:
                raise ValueError(self.tr("Add a gateway in Settings (or start the demo) first."))
            system, style, params = self.drawer.values()
            self.conversation = await self.service.new_conversation(
                profile_id=active.id,
                model=model,
                api_style=style,
                system_prompt=system,
                params=params,
            )
            self.transcript.show_messages([])
        else:
            if self.conversation.model != model:
                await self._save_model(self.conversation.id, model)
            if self.save_timer.isActive():  # drawer edits not saved yet: they apply now
                self.save_timer.stop()
                await self._store_params(self.conversation.id)
        assert self.conversation is not None
        self.controller.send(self.conversation.id, text, images)

    def edit_last(self) -> None:
        """Up in an empty composer: edit the last message you sent."""
        if self._busy():
            return
        last = next((m for m in reversed(self.transcript.messages) if m.role == "user"), None)
        if last is not None:
            self.composer.start_edit(last.id, last.text)

    def edit_and_resend(self, message_id: int, text: str) -> None:
        if self.controller is None or self._busy():
            return
        self.show_error("")
        self.action_bar.clear()
        self.controller.edit_and_resend(message_id, text)

    def _message_action(self, name: str, message_id: int) -> None:
        message = self.transcript.message(message_id)
        if name == "copy":
            if message is not None:
                QGuiApplication.clipboard().setText(message.text)
        elif name == "copytext" and message is not None:
            self._run(self._copy_as_text(message.text), "chat:copy")
        elif name == "copyid" and message is not None and message.request_id:
            QGuiApplication.clipboard().setText(message.request_id)
        elif name == "regen" and self.controller is not None and not self.controller.busy:
            # The new answer streams in the old one's place; the old one becomes an alternative.
            shown = [m for m in self.transcript.messages if m.id != message_id]
            self.transcript.show_messages(shown, not_loaded=self.transcript.not_loaded)
            self.action_bar.clear()
            self.controller.regenerate(message_id)
        elif name in ("prev", "next") and message is not None:
            self._run(self._page(message_id, name == "next"), "chat:page")
        elif name == "edit" and message is not None and not self._busy():
            self.composer.start_edit(message.id, message.text)
        elif name == "delete" and not self._busy():
            self._run(self._delete_message(message_id), "chat:delete-message")
        elif name == "fork":
            self._run(self._fork(message_id), "chat:fork")
        elif name == "speak" and message is not None and message.text:
            self.read_aloud_requested.emit(message.text)

    async def _copy_as_text(self, markdown: str) -> None:
        """The answer as the reader sees it, without markdown marks (rendered in the worker;
        past `SHOW_LIMIT` the source itself: laying out a huge document would freeze)."""
        text = markdown
        if len(markdown) <= SHOW_LIMIT:
            rendered = await asyncio.wrap_future(render_in_worker(markdown))
            document = QTextDocument()
            document.setHtml(rendered.html)
            text = document.toPlainText().strip()
        QGuiApplication.clipboard().setText(text)

    def _answer_finished(self, message: StoredMessage) -> None:
        if message.alt_group and self.conversation is not None:
            # Re-read so the alternatives counter (‹ 2/2 ›) is right.
            self._run(self._open(self.conversation.id, 0), "chat:open")
        else:
            follow = self.transcript.at_end()
            self.action_bar.show_for(message)
            if follow:  # the bar takes room from the transcript: keep the answer's end in view
                QTimer.singleShot(0, self._scroll_transcript_to_end)
        self._refresh_list()
        self.update_cost()

    def _scroll_transcript_to_end(self) -> None:
        if shiboken6.isValid(self.transcript):
            self.transcript.scroll_to_end()

    def _busy_changed(self, busy: bool) -> None:
        if busy:
            self.action_bar.clear()

    def _error_action(self, name: str, message_id: int) -> None:
        if name in ("retry", "continue") and self.controller is not None and not self._busy():
            self.show_error("")
            if name == "retry":
                self.controller.retry(message_id)
            else:
                self.controller.continue_answer(message_id)
        elif name == "settings":
            self.open_settings_requested.emit()
        elif name == "pick_model":
            self.model_box.setFocus()
            self.model_box.showPopup()
        elif name == "top_up":
            self.open_pane_requested.emit("account")

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

    async def _delete_message(self, message_id: int) -> None:
        assert self.service is not None and self.conversation is not None
        conversation_id = self.conversation.id
        removed = await self.service.delete_message(message_id)
        await self._open(conversation_id, 0)
        if removed:

            async def undo() -> None:
                assert self.service is not None
                await self.service.undo_delete_messages(removed)
                if self.conversation is not None and self.conversation.id == conversation_id:
                    await self._open(conversation_id, 0)

            self.undo_bar.offer(self.tr("Message deleted."), lambda: self._run(undo(), "chat:undo"))

    async def _fork(self, message_id: int) -> None:
        assert self.service is not None
        fork = await self.service.fork(message_id)
        self.conversation = fork
        await self._load_list()
        await self._open(fork.id, 0)

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
            self._run(self.delete_conversation(conversation_id), "chat:delete")
        elif name == "duplicate":
            self._run(self.duplicate(conversation_id), "chat:duplicate")
        elif name in ("export_md", "export_json"):
            suffix = "md" if name == "export_md" else "json"
            path, _ = QFileDialog.getSaveFileName(
                self, self.tr("Export conversation"), f"conversation.{suffix}"
            )
            if path:
                self._run(self.export_to(conversation_id, Path(path)), "chat:export")
        elif name == "export_all":
            path, _ = QFileDialog.getSaveFileName(
                self, self.tr("Export all conversations"), "conversations.json"
            )
            if path:
                self._run(self.export_all_to(Path(path)), "chat:export")

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

    async def delete_conversation(self, conversation_id: str) -> None:
        """Delete now; "Undo" in the pane puts it back (same id, same messages)."""
        assert self.service is not None
        if self._busy() and self.conversation and self.conversation.id == conversation_id:
            assert self.controller is not None
            self.controller.stop()
        deleted = await self.service.delete_conversation(conversation_id)
        if self.conversation is not None and self.conversation.id == conversation_id:
            self.new_conversation()
        await self._load_list()
        if deleted is None:
            return

        async def undo() -> None:
            assert self.service is not None and deleted is not None
            await self.service.undo_delete_conversation(deleted)
            await self._load_list()
            await self._open(deleted[0].id, 0)

        title = deleted[0].title or self.tr("Conversation")
        self.undo_bar.offer(
            self.tr("Deleted “{title}”.").format(title=title),
            lambda: self._run(undo(), "chat:undo"),
        )

    async def duplicate(self, conversation_id: str) -> None:
        assert self.service is not None
        copy = await self.service.duplicate(conversation_id)
        self.conversation = copy
        await self._load_list()
        await self._open(copy.id, 0)

    async def export_to(self, conversation_id: str, path: Path) -> None:
        assert self.service is not None
        if path.suffix.lower() == ".json":
            text = await self.service.export_json(conversation_id)
        else:
            text = await self.service.export_markdown(conversation_id)
        await asyncio.to_thread(path.write_text, text, encoding="utf-8")

    async def export_all_to(self, path: Path) -> None:
        assert self.service is not None
        text = await self.service.export_all_json()
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
        imported = await self.service.import_json_many(text)
        await self._load_list()
        await self._open(imported[0].id, 0)


async def read_for_view(
    store: ConversationStore, conversation_id: str, *, everything: bool = False
) -> tuple[list[StoredMessage], int]:
    """What opening a conversation reads: its last messages (all of them with `everything`),
    and how many earlier ones were left unread. A 10,000-message chat opens as fast as a short
    one; "Show earlier messages" reads the rest."""
    if everything:
        return await store.get_messages(conversation_id), 0
    # Read a little more than the window: hidden alternatives take rows without showing.
    messages = await store.get_messages(conversation_id, last=OPEN_ROWS)
    if len(messages) < OPEN_ROWS:
        return messages, 0
    total = await store.count_messages(conversation_id)
    return messages, total - len(messages)


def _params(conversation: Conversation) -> dict[str, Any]:
    try:
        value = json.loads(conversation.params_json or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _default(ids: list[str]) -> str:
    """A sensible first pick: a small, cheap chat model when the gateway has one."""
    for preferred in ("gpt-4o-mini", "gpt-4.1-mini"):
        if preferred in ids:
            return preferred
    chat = [i for i in ids if not any(k in i for k in ("image", "tts", "whisper", "embed", "dall"))]
    return (chat or ids or [""])[0]
