"""Images: a prompt form on the left, the persisted gallery on the right, a viewer on demand.

Generation runs on the TaskRunner under one key, so Cancel is `runner.cancel(key)`; gateway
errors (refusals, quota, 429) are shown as text under the form. The model list comes from the
active gateway, filtered to image models; price display waits for the catalog service.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import shiboken6
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListView,
    QMenu,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from bluesdesk.errors import BluesdeskError
from bluesdesk.gateway import list_models
from bluesdesk.services.images import (
    QUALITIES,
    RESPONSE_FORMATS,
    SIZES,
    STYLES,
    ImageRequest,
    ImageService,
    image_models,
)
from bluesdesk.store.media import ImageRecord
from bluesdesk.ui.context import AppContext
from bluesdesk.ui.images.gallery import THUMB, GalleryModel
from bluesdesk.ui.images.viewer import ImageViewer
from bluesdesk.ui.widgets.empty_state import EmptyState
from bluesdesk.ui.widgets.pane import Pane

GENERATE_KEY = "images.generate"
FALLBACK_MODELS = ("dall-e-3", "dall-e-2", "gpt-image-1")
PROMPT_HISTORY = 20


class ImagesPane(Pane):
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
        self.size_combo = QComboBox()
        self.size_combo.addItems(SIZES)
        self.n_spin = QSpinBox()
        self.n_spin.setRange(1, 4)
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
        self.price_label = QLabel(self.tr("Price: not known (no catalog)"))
        self.price_label.setObjectName("muted")

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

        form = QFormLayout()
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
        self.gallery_view = QListView()
        self.gallery_view.setViewMode(QListView.ViewMode.IconMode)
        self.gallery_view.setIconSize(THUMB)
        self.gallery_view.setGridSize(QSize(THUMB.width() + 12, THUMB.height() + 12))
        self.gallery_view.setResizeMode(QListView.ResizeMode.Adjust)
        self.gallery_view.setMovement(QListView.Movement.Static)
        self.gallery_view.setUniformItemSizes(True)
        self.gallery_view.setLayoutMode(QListView.LayoutMode.Batched)
        self.gallery_view.setBatchSize(200)
        self.gallery_view.setSelectionMode(QListView.SelectionMode.SingleSelection)
        self.gallery_view.setModel(self.gallery)
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
        self._update_actions()

    # ---- lifecycle ----------------------------------------------------------------------------

    def on_shown(self) -> None:
        if self.service is None or self.ctx is None:
            return
        if not self._gallery_loaded:
            self.ctx.runner.run(self.load_gallery(), key="images.gallery")
        self._refresh_models()

    def on_profile_changed(self) -> None:
        if self.isVisible():
            self._refresh_models()

    def _refresh_models(self) -> None:
        if self.ctx is None:
            return
        active = self.ctx.profiles.active()
        if active is not None and active.id != self._models_for:
            self._models_for = active.id
            self.ctx.runner.run(self._load_models(), key=self.models_key)

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
        assert self.ctx is not None
        try:
            client = await self.ctx.client()
            names = image_models(await list_models(client))
        except BluesdeskError:
            return  # keep the fallback names; the Models pane explains connection problems
        if names and shiboken6.isValid(self.model_combo):  # the pane may be gone by now
            current = self.model_combo.currentText()
            self.model_combo.clear()
            self.model_combo.addItems(names)
            if current in names:
                self.model_combo.setCurrentText(current)

    # ---- generating ---------------------------------------------------------------------------

    def request(self) -> ImageRequest:
        return ImageRequest(
            model=self.model_combo.currentText().strip(),
            prompt=self.prompt_edit.toPlainText().strip(),
            size=self.size_combo.currentText(),
            n=self.n_spin.value(),
            quality=str(self.quality_combo.currentData() or ""),
            style=str(self.style_combo.currentData() or ""),
            response_format=str(self.format_combo.currentData()),
        )

    def generate(self) -> None:
        if self.ctx is None or self.service is None:
            return
        request = self.request()
        if not request.prompt or not request.model:
            self._show_error(self.tr("Write a prompt and pick a model first."))
            return
        self.ctx.runner.run(self._generate(request), key=self.generate_key)

    def cancel(self) -> None:
        if self.ctx is not None:
            self.ctx.runner.cancel(self.generate_key)

    @property
    def busy(self) -> bool:
        return self.ctx is not None and self.ctx.runner.is_running(self.generate_key)

    async def _generate(self, request: ImageRequest) -> None:
        assert self.ctx is not None and self.service is not None
        self._set_busy(True)
        self.error_label.hide()
        noun = self.tr("image") if request.n == 1 else self.tr("images")
        self.status_label.setText(self.tr("Generating {n} {noun} with {model}…").format(
            n=request.n, noun=noun, model=request.model))  # fmt: skip
        try:
            client = await self.ctx.client()
            made = await self.service.generate(client, request)
        except asyncio.CancelledError:
            self.status_label.setText(self.tr("Cancelled."))
            raise
        except BluesdeskError as exc:
            self.status_label.setText("")
            self._show_error(exc)
        else:
            self.gallery.prepend(made)
            self.gallery_view.setCurrentIndex(self.gallery.index(0))
            self.status_label.setText(self.tr("Generated {count} with {model}.").format(
                count=len(made), model=request.model))  # fmt: skip
            self._refill_history()
        finally:
            self._set_busy(False)
            self._update_actions()

    def _set_busy(self, busy: bool) -> None:
        self.generate_button.setEnabled(not busy)
        self.cancel_button.setVisible(busy)
        self.progress.setVisible(busy)

    def _show_error(self, error: BluesdeskError | str) -> None:
        text = error.describe() if isinstance(error, BluesdeskError) else error
        self.error_label.setText(text)
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
        self.model_combo.setCurrentText(record.model)
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
