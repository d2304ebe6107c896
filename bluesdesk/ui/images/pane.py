"""Images: a prompt form on the left, the persisted gallery on the right, a viewer on demand.

Three modes share the form: Generate (/v1/images/generations), Edit (/v1/images/edits: a file or
the selected gallery image, an optional mask) and Async task (/v1/tasks: submit, follow the
progress, cancel on the gateway). Work runs on the TaskRunner under one key, so Cancel is
`runner.cancel(key)` (for a task, a cancel request to the gateway); gateway errors (refusals,
quota, 429) are shown as text under the form. The model list comes from the catalog (image
models, favourites first), else from the gateway's model list; the price per image comes from
the catalog when the gateway publishes one.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTabBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from bluesdesk.core.capabilities import Capability
from bluesdesk.core.pricing import PriceKind
from bluesdesk.errors import BluesdeskError
from bluesdesk.gateway import list_models
from bluesdesk.services.images import (
    QUALITIES,
    RESPONSE_FORMATS,
    SIZES,
    STYLES,
    TASK_POLL_WAIT_S,
    EditRequest,
    ImageRequest,
    ImageService,
    TaskRequest,
    TaskState,
    image_models,
    read_image_file,
)
from bluesdesk.store.media import ImageRecord
from bluesdesk.ui.catalog_models import CatalogPane, catalog_models
from bluesdesk.ui.context import AppContext
from bluesdesk.ui.images.gallery import GalleryModel, make_gallery_view
from bluesdesk.ui.images.viewer import ImageViewer
from bluesdesk.ui.widgets.empty_state import EmptyState

GENERATE_KEY = "images.generate"
FALLBACK_MODELS = ("dall-e-3", "dall-e-2", "gpt-image-1")
PROMPT_HISTORY = 20
MODES = ("generate", "edit", "task")
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp *.gif)"


class ImagesPane(CatalogPane):
    key = "images"

    def __init__(
        self,
        ctx: AppContext | None = None,
        service: ImageService | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.service = service or (getattr(ctx, "images", None) if ctx is not None else None)
        self._models_for = ""
        self._gallery_loaded = False
        self.viewer: ImageViewer | None = None
        # Keys are per pane: two panes (tests, a future second window) never cancel each other.
        self.generate_key = f"{GENERATE_KEY}.{id(self)}"
        self.models_key = f"images.models.{id(self)}"
        self.favourite_models: list[str] = []
        self._wanted_model = ""
        self.edit_source: Path | None = None
        self.edit_mask: Path | None = None
        self.task: TaskState | None = None  # the async task being followed
        # Extra body fields for /v1/tasks (gateway options; tests set the emulator's duration).
        self.task_options: dict[str, Any] = {}
        self.task_poll_wait = TASK_POLL_WAIT_S
        self.task_min_interval = 1.0

        title = QLabel(self.tr("Images"))
        title.setObjectName("paneTitle")
        self.subtitle = QLabel(self.tr("Generate pictures with the gateway's image models"))
        self.subtitle.setObjectName("paneSubtitle")

        # ---- the form
        self.prompt_edit = QPlainTextEdit()
        self.prompt_edit.setPlaceholderText(self.tr("Describe the picture…"))
        self.prompt_edit.setTabChangesFocus(True)
        self.history_button = QToolButton()
        self.history_button.setText(self.tr("Recent prompts"))
        self.history_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.history_menu = QMenu(self.history_button)
        self.history_button.setMenu(self.history_menu)
        self.model_combo = QComboBox()
        self.model_combo.setEditable(True)
        self.model_combo.addItems(FALLBACK_MODELS)
        self.model_combo.currentTextChanged.connect(lambda *_: self._update_price())
        self.mode_tabs = QTabBar()
        self.mode_tabs.setExpanding(False)
        for label in (self.tr("Generate"), self.tr("Edit"), self.tr("Async task")):
            self.mode_tabs.addTab(label)
        self.mode_tabs.currentChanged.connect(lambda *_: self._apply_mode())
        self.size_combo = QComboBox()
        self.size_combo.addItems(SIZES)
        self.n_spin = QSpinBox()
        self.n_spin.setRange(1, 4)
        self.n_spin.valueChanged.connect(lambda *_: self._update_price())
        self.quality_combo = QComboBox()
        self.quality_combo.addItem(self.tr("default"), "")
        for q in QUALITIES:
            self.quality_combo.addItem(q, q)
        self.style_combo = QComboBox()
        self.style_combo.addItem(self.tr("default"), "")
        for s in STYLES:
            self.style_combo.addItem(s, s)
        self.format_combo = QComboBox()
        for f in RESPONSE_FORMATS:
            self.format_combo.addItem({"b64_json": "base64", "url": "URL"}[f], f)
        self.price_label = QLabel()
        self.price_label.setObjectName("muted")
        self.price_label.setWordWrap(True)

        # ---- edit mode: the source picture and an optional mask
        self.source_label = QLabel()
        self.source_label.setObjectName("muted")
        self.source_label.setWordWrap(True)
        self.choose_source_button = QPushButton(self.tr("Choose image…"))
        self.choose_source_button.clicked.connect(lambda *_: self._ask_source())
        self.use_selected_button = QPushButton(self.tr("Use selected"))
        self.use_selected_button.setToolTip(self.tr("Edit the image selected in the gallery"))
        self.use_selected_button.clicked.connect(lambda *_: self.use_selected_as_source())
        self.mask_label = QLabel()
        self.mask_label.setObjectName("muted")
        self.mask_label.setWordWrap(True)
        self.choose_mask_button = QPushButton(self.tr("Choose mask…"))
        self.choose_mask_button.setToolTip(
            self.tr("A PNG of the same size; its transparent parts are what gets repainted")
        )
        self.choose_mask_button.clicked.connect(lambda *_: self._ask_mask())
        self.clear_mask_button = QPushButton(self.tr("No mask"))
        self.clear_mask_button.clicked.connect(lambda *_: self.set_edit_mask(None))
        self.edit_box = QWidget()
        edit_layout = QVBoxLayout(self.edit_box)
        edit_layout.setContentsMargins(0, 0, 0, 0)
        source_row = QHBoxLayout()
        source_row.addWidget(self.choose_source_button)
        source_row.addWidget(self.use_selected_button)
        source_row.addStretch(1)
        mask_row = QHBoxLayout()
        mask_row.addWidget(self.choose_mask_button)
        mask_row.addWidget(self.clear_mask_button)
        mask_row.addStretch(1)
        edit_layout.addWidget(self.source_label)
        edit_layout.addLayout(source_row)
        edit_layout.addWidget(self.mask_label)
        edit_layout.addLayout(mask_row)

        self.generate_button = QPushButton(self.tr("Generate"))
        self.generate_button.setDefault(True)
        self.generate_button.setShortcut("Ctrl+Return")
        self.generate_button.setToolTip(self.tr("Generate (Ctrl+Enter)"))
        self.generate_button.clicked.connect(lambda *_: self.generate())
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.clicked.connect(lambda *_: self.cancel())
        self.cancel_button.hide()
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(6)
        self.progress.hide()
        self.status_label = QLabel()
        self.status_label.setObjectName("muted")
        self.status_label.setWordWrap(True)
        self.error_label = QLabel()
        self.error_label.setObjectName("errorText")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()

        form = self.form = QFormLayout()
        form.addRow(self.tr("Model"), self.model_combo)
        form.addRow(self.tr("Size"), self.size_combo)
        form.addRow(self.tr("Images"), self.n_spin)
        form.addRow(self.tr("Quality"), self.quality_combo)
        form.addRow(self.tr("Style"), self.style_combo)
        form.addRow(self.tr("Output"), self.format_combo)
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        prompt_head = QHBoxLayout()
        prompt_head.addWidget(QLabel(self.tr("Prompt")))
        prompt_head.addStretch(1)
        prompt_head.addWidget(self.history_button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 8, 0)
        left_layout.addWidget(self.mode_tabs)
        left_layout.addWidget(self.edit_box)
        left_layout.addLayout(prompt_head)
        left_layout.addWidget(self.prompt_edit, 1)
        left_layout.addLayout(form)
        left_layout.addWidget(self.price_label)
        left_layout.addLayout(buttons)
        left_layout.addWidget(self.progress)
        left_layout.addWidget(self.status_label)
        left_layout.addWidget(self.error_label)
        left.setMinimumWidth(280)

        # ---- the gallery
        media_dir = self.service.media_dir if self.service is not None else Path()
        self.gallery = GalleryModel(media_dir, self)
        self.gallery_view = make_gallery_view(self.gallery)
        self.gallery_view.doubleClicked.connect(lambda index: self.open_viewer(index.row()))
        self.gallery_view.selectionModel().currentChanged.connect(lambda *_: self._update_actions())
        self.gallery_empty = EmptyState(
            "images",
            self.tr("No images yet"),
            self.tr("Write a prompt and press Generate; every picture is kept here."),
        )
        self.gallery_stack = QStackedWidget()
        self.gallery_stack.addWidget(self.gallery_view)
        self.gallery_stack.addWidget(self.gallery_empty)

        self.open_button = QPushButton(self.tr("Open"))
        self.save_button = QPushButton(self.tr("Save as…"))
        self.copy_image_button = QPushButton(self.tr("Copy image"))
        self.copy_prompt_button = QPushButton(self.tr("Copy prompt"))
        self.rerun_button = QPushButton(self.tr("Re-run"))
        self.delete_button = QPushButton(self.tr("Delete"))
        self.open_button.clicked.connect(lambda *_: self.open_viewer(self._current_row()))
        self.save_button.clicked.connect(lambda *_: self._ask_save(self._current_id()))
        self.copy_image_button.clicked.connect(lambda *_: self.copy_image(self._current_id()))
        self.copy_prompt_button.clicked.connect(lambda *_: self.copy_prompt(self._current_id()))
        self.rerun_button.clicked.connect(lambda *_: self.rerun(self._current_id()))
        self.delete_button.clicked.connect(lambda *_: self.delete(self._current_id()))
        self.action_buttons = (
            self.open_button,
            self.save_button,
            self.copy_image_button,
            self.copy_prompt_button,
            self.rerun_button,
            self.delete_button,
        )
        actions = QHBoxLayout()
        for button in self.action_buttons:
            actions.addWidget(button)
        actions.addStretch(1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(8, 0, 0, 0)
        right_layout.addWidget(self.gallery_stack, 1)
        right_layout.addLayout(actions)

        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([340, 700])

        self.unavailable = EmptyState(
            "images",
            self.tr("Images need the data folder"),
            self.tr("The image service is not running, so nothing can be generated or kept."),
        )
        self.body = QStackedWidget()
        self.body.addWidget(splitter)
        self.body.addWidget(self.unavailable)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        titles = QVBoxLayout()
        titles.setSpacing(2)
        titles.addWidget(title)
        titles.addWidget(self.subtitle)
        layout.addLayout(titles)
        layout.addWidget(self.body, 1)

        if self.service is None or self.ctx is None:
            self.body.setCurrentWidget(self.unavailable)
            self.mark_ready()
        self.set_edit_source(None)
        self.set_edit_mask(None)
        self._apply_mode()
        self._update_actions()
        self.follow_catalog()

    # ---- lifecycle ----------------------------------------------------------------------------

    def on_shown(self) -> None:
        if self.service is None or self.ctx is None:
            return
        if not self._gallery_loaded:
            self.ctx.runner.run(self.load_gallery(), key="images.gallery")
        self.refresh_models()

    def on_profile_changed(self) -> None:
        if self.isVisible():
            self.refresh_models()

    async def load_gallery(self) -> None:
        assert self.service is not None
        try:
            records = await self.service.gallery()
        except BluesdeskError as exc:
            self._show_error(exc)
        else:
            self.gallery.set_records(records)
            self._gallery_loaded = True
            self._refill_history()
        self._update_actions()
        self.mark_ready()

    async def _load_models(self) -> None:
        names, favourites = await self._catalog_models()
        if not names:
            assert self.ctx is not None
            try:
                names = image_models(await list_models(await self.ctx.client()))
            except BluesdeskError:
                names = []  # keep the fallback names; the Models pane explains the problem
        if not shiboken6.isValid(self.model_combo):  # the pane may be gone by now
            return
        if names:
            self._fill_models(names, favourites)
        self._update_price()

    async def _catalog_models(self) -> tuple[list[str], list[str]]:
        """(image model ids, favourites first; the favourites among them) from the catalog,
        fetching it once if it was never fetched. Empty when there is no catalog."""
        models, starred = await catalog_models(self.ctx)
        names = [m.id for m in models if m.has(Capability.IMAGE_GENERATION)]
        return names, [n for n in names if n in starred]

    def _fill_models(self, names: list[str], favourites: list[str]) -> None:
        current = self._wanted_model or self.model_combo.currentText()
        self.favourite_models = favourites
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for name in names:
            self.model_combo.addItem(("★ " if name in favourites else "") + name, name)
        self.model_combo.blockSignals(False)
        self._select_model(current if current in names else names[0])

    def _select_model(self, model_id: str) -> None:
        index = self.model_combo.findData(model_id)
        if index >= 0:
            self.model_combo.setCurrentIndex(index)
        else:
            self.model_combo.setCurrentText(model_id)
        self._update_price()

    def model(self) -> str:
        """The picked model id (the combo shows favourites with a star)."""
        index = self.model_combo.currentIndex()
        text = self.model_combo.currentText().strip()
        data = self.model_combo.itemData(index) if index >= 0 else None
        if isinstance(data, str) and self.model_combo.itemText(index) == text:
            return data
        return text.removeprefix("★ ").strip()

    def use_model(self, model_id: str) -> None:
        """Pick `model_id` (the Models pane's "Use in Images"), now and after a model reload."""
        self._wanted_model = model_id
        self._select_model(model_id)

    # ---- price ----------------------------------------------------------------------------------

    def price_per_image(self) -> float | None:
        """What one picture of the picked model costs, if the catalog knows a per-call price."""
        price = self.catalog_price(self.model())
        if price is None or price.kind is not PriceKind.PER_REQUEST:
            return None
        return price.per_request

    def _money(self, usd: float) -> str:
        return self.money(usd, decimals=4)

    def _update_price(self) -> None:
        if not shiboken6.isValid(self.price_label):
            return
        catalog = self.ctx.catalog if self.ctx is not None else None
        if catalog is None:
            self.price_label.setText(self.tr("Price: unknown (no model catalog)"))
            return
        each = self.price_per_image()
        if each is None:
            price = self.catalog_price(self.model())
            if price is not None and price.kind is PriceKind.PER_TOKEN:
                text = self.tr("Price: charged per token ({amount} per 1M input tokens)")
                self.price_label.setText(text.format(amount=self._money(price.input_per_m or 0)))
            else:
                self.price_label.setText(self.tr("Price: unknown for this model"))
            return
        count = 1 if self.mode == "task" else self.n_spin.value()
        if each == 0:
            self.price_label.setText(self.tr("Price: free"))
        elif count == 1:
            self.price_label.setText(self.tr("Price: {each} per image").format(
                each=self._money(each)))  # fmt: skip
        else:
            self.price_label.setText(self.tr("Price: {each} per image · {total} for {n}").format(
                each=self._money(each), total=self._money(each * count), n=count))  # fmt: skip

    # ---- modes ----------------------------------------------------------------------------------

    @property
    def mode(self) -> str:
        return MODES[max(0, self.mode_tabs.currentIndex())]

    def set_mode(self, mode: str) -> None:
        self.mode_tabs.setCurrentIndex(MODES.index(mode))

    def _apply_mode(self) -> None:
        mode = self.mode
        self.edit_box.setVisible(mode == "edit")
        self.form.setRowVisible(self.size_combo, mode != "edit")  # an edit keeps the source size
        for widget in (self.quality_combo, self.style_combo):
            self.form.setRowVisible(widget, mode == "generate")
        self.form.setRowVisible(self.n_spin, mode != "task")
        self.form.setRowVisible(self.format_combo, mode != "task")
        self.generate_button.setText(
            {"generate": self.tr("Generate"), "edit": self.tr("Edit"),
             "task": self.tr("Submit task")}[mode]
        )  # fmt: skip
        self._update_price()

    def set_edit_source(self, path: Path | None) -> None:
        self.edit_source = path
        self.source_label.setText(
            self.tr("Image: {name}").format(name=path.name) if path is not None
            else self.tr("Image: none chosen — pick a file or a gallery image")
        )  # fmt: skip

    def set_edit_mask(self, path: Path | None) -> None:
        self.edit_mask = path
        self.mask_label.setText(
            self.tr("Mask: {name}").format(name=path.name) if path is not None
            else self.tr("Mask: none (the model decides what to change)")
        )  # fmt: skip
        self.clear_mask_button.setEnabled(path is not None)

    def use_selected_as_source(self) -> None:
        """Edit the gallery's selected image."""
        path = self.file_of(self._current_id())
        if path is not None:
            self.set_edit_source(path)
            self.set_mode("edit")

    def _ask_source(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Image to edit"), str(Path.home()), self.tr(IMAGE_FILTER)
        )
        if path:
            self.set_edit_source(Path(path))

    def _ask_mask(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Mask"), str(Path.home()), self.tr("PNG image (*.png)")
        )
        if path:
            self.set_edit_mask(Path(path))

    # ---- generating ---------------------------------------------------------------------------

    def request(self) -> ImageRequest:
        return ImageRequest(
            model=self.model(),
            prompt=self.prompt_edit.toPlainText().strip(),
            size=self.size_combo.currentText(),
            n=self.n_spin.value(),
            quality=str(self.quality_combo.currentData() or ""),
            style=str(self.style_combo.currentData() or ""),
            response_format=str(self.format_combo.currentData()),
        )

    def generate(self) -> None:
        """Run the current mode: generate, edit, or submit an async task."""
        if self.ctx is None or self.service is None or self.busy:
            return
        request = self.request()
        if not request.prompt or not request.model:
            self._show_error(self.tr("Write a prompt and pick a model first."))
            return
        if self.mode == "edit":
            if self.edit_source is None:
                self._show_error(self.tr("Choose the image to edit first."))
                return
            job = self._edit(request, self.edit_source, self.edit_mask)
        elif self.mode == "task":
            job = self._run_task(
                TaskRequest(request.model, request.prompt, request.size, dict(self.task_options))
            )
        else:
            job = self._generate(request)
        self.ctx.runner.run(job, key=self.generate_key)

    def cancel(self) -> None:
        if self.ctx is None:
            return
        if self.task is not None and not self.task.finished:
            # The follow-up poll sees "cancelled" and ends the job.
            self.ctx.runner.run(self._cancel_task(self.task.id), key=f"{self.generate_key}.cancel")
            self.cancel_button.setEnabled(False)
            self.status_label.setText(self.tr("Cancelling the task…"))
        else:
            self.ctx.runner.cancel(self.generate_key)

    @property
    def busy(self) -> bool:
        return self.ctx is not None and self.ctx.runner.is_running(self.generate_key)

    @asynccontextmanager
    async def _job(
        self, status: str, *, cancelled: str, determinate: bool = False
    ) -> AsyncIterator[None]:
        """The busy state around one gateway job: `status` while it runs, `cancelled` when
        cancelled; a BluesdeskError ends the block and is shown under the form."""
        self._set_busy(True, determinate=determinate)
        self.error_label.hide()
        self.status_label.setText(status)
        try:
            yield
        except asyncio.CancelledError:
            self.status_label.setText(cancelled)
            raise
        except BluesdeskError as exc:
            self.status_label.setText("")
            self._show_error(exc)
        finally:
            self._set_busy(False)
            self._update_actions()

    async def _generate(self, request: ImageRequest) -> None:
        assert self.ctx is not None and self.service is not None
        noun = self.tr("image") if request.n == 1 else self.tr("images")
        status = self.tr("Generating {n} {noun} with {model}…").format(
            n=request.n, noun=noun, model=request.model)  # fmt: skip
        async with self._job(status, cancelled=self.tr("Cancelled.")):
            client = await self.ctx.client()
            made = await self.service.generate(
                client, request, price_per_image=self.price_per_image()
            )
            self._add_made(made)
            self.status_label.setText(self.tr("Generated {count} with {model}.").format(
                count=len(made), model=request.model))  # fmt: skip

    async def _edit(self, request: ImageRequest, source: Path, mask: Path | None) -> None:
        assert self.ctx is not None and self.service is not None
        status = self.tr("Editing {name} with {model}…").format(
            name=source.name, model=request.model)  # fmt: skip
        async with self._job(status, cancelled=self.tr("Cancelled.")):
            try:
                image = await asyncio.to_thread(read_image_file, source)
                mask_png = await asyncio.to_thread(read_image_file, mask) if mask else None
            except (OSError, ValueError) as exc:
                self.status_label.setText("")
                self._show_error(self.tr("Could not read the picture: {err}").format(
                    err=getattr(exc, "strerror", None) or exc))  # fmt: skip
                return
            edit = EditRequest(
                model=request.model, prompt=request.prompt, image=image, mask=mask_png,
                n=request.n, response_format=request.response_format,
            )  # fmt: skip
            made = await self.service.edit(
                await self.ctx.client(), edit, price_per_image=self.price_per_image()
            )
            self._add_made(made)
            self.status_label.setText(self.tr("Edited {name}: {count} new.").format(
                name=source.name, count=len(made)))  # fmt: skip

    async def _run_task(self, request: TaskRequest) -> None:
        assert self.ctx is not None and self.service is not None
        self.task = None
        status = self.tr("Submitting a task to {model}…").format(model=request.model)
        cancelled = self.tr("Stopped following the task.")
        async with self._job(status, cancelled=cancelled, determinate=True):
            state, made = await self.service.run_task(
                await self.ctx.client(), request, on_update=self._on_task_update,
                price_per_image=self.price_per_image(), poll_wait=self.task_poll_wait,
                min_interval=self.task_min_interval,
            )  # fmt: skip
            if made:
                self._add_made(made)
                self.status_label.setText(self.tr("Task finished: {count} new.").format(
                    count=len(made)))  # fmt: skip
            elif state.status == "cancelled":
                self.status_label.setText(self.tr("Task cancelled."))
            else:
                self.status_label.setText("")
                self._show_error(state.error or self.tr("The task {status}.").format(
                    status=state.status))  # fmt: skip

    def _on_task_update(self, state: TaskState) -> None:
        self.task = state
        if not shiboken6.isValid(self.progress):
            return
        self.progress.setValue(state.progress)
        if state.status == "queued":
            self.status_label.setText(self.tr("Task queued…"))
        elif state.status == "in_progress":
            self.status_label.setText(self.tr("Task running: {p}%").format(p=state.progress))

    async def _cancel_task(self, task_id: str) -> None:
        assert self.ctx is not None and self.service is not None
        try:
            await self.service.cancel_task(await self.ctx.client(), task_id)
        except BluesdeskError as exc:
            # Most likely it finished meanwhile; the poll reports what really happened.
            self._show_error(exc)

    def _add_made(self, made: list[ImageRecord]) -> None:
        self.gallery.prepend(made)
        self.gallery_view.setCurrentIndex(self.gallery.index(0))
        self._refill_history()

    def _set_busy(self, busy: bool, *, determinate: bool = False) -> None:
        if not shiboken6.isValid(self.generate_button):
            return
        self.generate_button.setEnabled(not busy)
        self.mode_tabs.setEnabled(not busy)
        self.cancel_button.setVisible(busy)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 100 if determinate else 0)
        self.progress.setValue(0)
        self.progress.setTextVisible(determinate)
        self.progress.setMaximumHeight(18 if determinate else 6)
        self.progress.setVisible(busy)

    def _show_error(self, error: BluesdeskError | str) -> None:
        # Every error that reaches this pane carries its own hint (ConsoleRejected included).
        self.error_label.setText(error.describe() if isinstance(error, BluesdeskError) else error)
        self.error_label.show()

    def _refill_history(self) -> None:
        self.history_menu.clear()
        seen: list[str] = []
        for record in self.gallery.records():
            if record.prompt not in seen:
                seen.append(record.prompt)
            if len(seen) >= PROMPT_HISTORY:
                break
        for prompt in seen:
            label = prompt if len(prompt) <= 60 else prompt[:57] + "…"
            action = self.history_menu.addAction(label.replace("\n", " "))
            action.triggered.connect(lambda *_, p=prompt: self.prompt_edit.setPlainText(p))
        self.history_button.setEnabled(bool(seen))

    # ---- gallery actions ----------------------------------------------------------------------

    def _current_row(self) -> int:
        return self.gallery_view.currentIndex().row()

    def _current_id(self) -> int:
        record = self.gallery.record(self._current_row())
        return record.id if record is not None else -1

    def _find(self, image_id: int) -> ImageRecord | None:
        return next((r for r in self.gallery.records() if r.id == image_id), None)

    def _update_actions(self) -> None:
        has = self.gallery.record(self._current_row()) is not None
        for button in self.action_buttons:
            button.setEnabled(has)
        self.gallery_stack.setCurrentWidget(
            self.gallery_view if self.gallery.rowCount() else self.gallery_empty
        )

    def file_of(self, image_id: int) -> Path | None:
        record = self._find(image_id)
        if record is None or self.service is None:
            return None
        return self.service.file_of(record)

    def open_viewer(self, row: int) -> ImageViewer | None:
        record = self.gallery.record(row)
        if record is None or self.service is None:
            return None
        viewer = ImageViewer(record, QPixmap(str(self.service.file_of(record))), self)
        viewer.save_as.connect(self._ask_save)
        viewer.copy_image.connect(self.copy_image)
        viewer.copy_prompt.connect(self.copy_prompt)
        viewer.rerun.connect(viewer.accept)
        viewer.rerun.connect(self.rerun)
        viewer.delete.connect(self.delete)
        viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.viewer = viewer
        viewer.show()
        return viewer

    def _ask_save(self, image_id: int) -> None:
        source = self.file_of(image_id)
        if source is None:
            return
        target, _ = QFileDialog.getSaveFileName(
            self,
            self.tr("Save image as"),
            str(Path.home() / source.name),
            self.tr("PNG image (*.png);;JPEG image (*.jpg *.jpeg);;WebP image (*.webp)"),
        )
        if target:
            self.save_to(image_id, Path(target))

    def save_to(self, image_id: int, target: Path) -> bool:
        """Write the image to `target`: a byte copy for .png, else converted by suffix."""
        source = self.file_of(image_id)
        if source is None:
            return False
        try:
            if target.suffix.lower() in ("", ".png"):
                if target.suffix == "":
                    target = target.with_suffix(".png")
                shutil.copyfile(source, target)
                ok = True
            else:
                ok = QImage(str(source)).save(str(target))
        except OSError as exc:
            self._show_error(self.tr("Could not save the image: {err}").format(err=exc.strerror))
            return False
        if not ok:
            self._show_error(self.tr("Could not save the image to {path}.").format(path=target))
            return False
        self.status_label.setText(self.tr("Saved to {path}.").format(path=target))
        return True

    def copy_image(self, image_id: int) -> None:
        source = self.file_of(image_id)
        if source is not None:
            QGuiApplication.clipboard().setImage(QImage(str(source)))
            self.status_label.setText(self.tr("Image copied."))

    def copy_prompt(self, image_id: int) -> None:
        record = self._find(image_id)
        if record is not None:
            QGuiApplication.clipboard().setText(record.prompt)
            self.status_label.setText(self.tr("Prompt copied."))

    def rerun(self, image_id: int) -> None:
        """Put the image's prompt and settings back into the form and generate again."""
        record = self._find(image_id)
        if record is None:
            return
        self.prompt_edit.setPlainText(record.prompt)
        self.set_mode("generate")
        self._select_model(record.model)
        params = record.params
        _select(self.size_combo, str(params.get("size") or ""), by_data=False)
        self.n_spin.setValue(int(params.get("n") or 1))
        _select(self.quality_combo, str(params.get("quality") or ""))
        _select(self.style_combo, str(params.get("style") or ""))
        _select(self.format_combo, str(params.get("response_format") or "b64_json"))
        self.generate()

    def delete(self, image_id: int) -> None:
        if self.ctx is not None and image_id >= 0:
            self.ctx.runner.run(self._delete(image_id), key=f"images.delete.{image_id}")

    async def _delete(self, image_id: int) -> None:
        assert self.service is not None
        try:
            await self.service.delete(image_id)
        except BluesdeskError as exc:
            self._show_error(exc)
            return
        self.gallery.remove(image_id)
        self._refill_history()
        self._update_actions()


def _select(combo: QComboBox, value: str, *, by_data: bool = True) -> None:
    index = combo.findData(value) if by_data else combo.findText(value)
    if index >= 0:
        combo.setCurrentIndex(index)
