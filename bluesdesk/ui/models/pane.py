"""Models: the active gateway's catalog (models, capabilities, prices), searchable per keystroke.

Opens from the SQLite cache at once, then refreshes in the background. States: no profile,
loading (nothing cached yet), offline (cached data and its age), gateway error (message + Retry),
and empty. The table is a QTableView over `ModelsTableModel` and `ModelsProxy` (no widget per
row); the filter itself is `core.catalog_filter`.
"""

from __future__ import annotations

import logging
import time

import shiboken6
from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from bluesdesk.core.catalog_filter import make_rows
from bluesdesk.core.catalog_model import CatalogSnapshot
from bluesdesk.core.models import GatewayKind, GatewayProfile
from bluesdesk.errors import BluesdeskError, ConnectionFailed
from bluesdesk.services.catalog import CatalogService
from bluesdesk.ui.context import AppContext
from bluesdesk.ui.models.badges import BadgeDelegate
from bluesdesk.ui.models.details import DetailsPanel
from bluesdesk.ui.models.filters import FilterBar
from bluesdesk.ui.models.memory_cache import MemoryModelCache
from bluesdesk.ui.models.table import MODEL_ROLE, Column, ModelsProxy, ModelsTableModel
from bluesdesk.ui.models.vendors import VendorDelegate
from bluesdesk.ui.widgets.empty_state import EmptyState
from bluesdesk.ui.widgets.pane import Pane

log = logging.getLogger(__name__)


def age_text(seconds: float) -> str:
    """How long ago, coarsely: "just now", "12 min ago", "3 h ago", "2 days ago"."""
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    days = int(seconds // 86400)
    return "1 day ago" if days == 1 else f"{days} days ago"


class ModelsPane(Pane):
    """Signals:
    use_model(str, str): "Use in Chat/Images/Speech": the pane key and the model id.
    """

    key = "models"
    use_model = Signal(str, str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        # Without a database (a bare AppContext) the catalog still works, for this session only.
        self.catalog: CatalogService = ctx.catalog or CatalogService(
            ctx.profiles, MemoryModelCache()
        )
        self.catalog.listeners.append(self._on_catalog_changed)
        self.snapshot: CatalogSnapshot | None = None
        self.state = "idle"
        self._profile: GatewayProfile | None = None
        self._group = ""
        self._stale = True

        # ---- header
        title = QLabel(self.tr("Models"))
        title.setObjectName("paneTitle")
        self.subtitle = QLabel()
        self.subtitle.setObjectName("paneSubtitle")
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # the refresh reports no steps: a busy indicator
        self.progress.setTextVisible(False)
        self.progress.setFixedSize(120, 6)
        self.progress.hide()
        self.refresh_button = QPushButton(self.tr("Refresh"))
        self.refresh_button.setShortcut("F5")
        self.refresh_button.setToolTip(self.tr("Fetch the catalog from the gateway again (F5)"))
        self.refresh_button.clicked.connect(lambda *_: self.reload())
        header = QHBoxLayout()
        titles = QVBoxLayout()
        titles.setSpacing(2)
        titles.addWidget(title)
        titles.addWidget(self.subtitle)
        header.addLayout(titles, 1)
        header.addWidget(self.progress)
        header.addWidget(self.refresh_button)

        # ---- error / offline banner
        self.banner = QFrame()
        self.banner.setObjectName("card")
        self.error_label = QLabel()
        self.error_label.setObjectName("errorText")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.retry_button = QPushButton(self.tr("Retry"))
        self.retry_button.clicked.connect(lambda *_: self.reload())
        banner_row = QHBoxLayout(self.banner)
        banner_row.setContentsMargins(12, 8, 8, 8)
        banner_row.addWidget(self.error_label, 1)
        banner_row.addWidget(self.retry_button)
        self.banner.hide()
        self.notes_label = QLabel()
        self.notes_label.setObjectName("muted")
        self.notes_label.setWordWrap(True)
        self.notes_label.hide()

        # ---- table + details
        self.filters = FilterBar()
        self.filter_edit = self.filters.search  # the search box
        self.count_label = self.filters.count_label
        self.table_model = ModelsTableModel(self)
        self.proxy = ModelsProxy(self)
        self.proxy.setSourceModel(self.table_model)
        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setItemDelegateForColumn(Column.CAPABILITIES, BadgeDelegate(self.view))
        self.view.setItemDelegateForColumn(Column.VENDOR, VendorDelegate(self.view))
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setShowGrid(False)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # ids differ at both ends
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(28)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        head = self.view.horizontalHeader()
        head.setHighlightSections(False)
        head.setStretchLastSection(False)
        head.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        head.setSectionResizeMode(Column.MODEL, QHeaderView.ResizeMode.Stretch)
        for column, width in (
            (Column.VENDOR, 100),
            (Column.CAPABILITIES, 170),
            (Column.CONTEXT, 54),
            (Column.GROUPS, 84),
            (Column.INPUT, 96),
            (Column.OUTPUT, 68),
            (Column.STAR, 28),
        ):
            self.view.setColumnWidth(column, width)
        head.setSortIndicator(Column.MODEL, Qt.SortOrder.AscendingOrder)
        self.view.setSortingEnabled(True)
        self.view.clicked.connect(self._on_clicked)
        self.view.selectionModel().currentRowChanged.connect(lambda *_: self._show_details())
        self.details = DetailsPanel()
        self.details.use_requested.connect(self.use_model)

        self.no_match = QWidget()
        no_match_row = QHBoxLayout(self.no_match)
        no_match_row.setContentsMargins(0, 0, 0, 0)
        no_match_label = QLabel(self.tr("No model matches these filters."))
        no_match_label.setObjectName("muted")
        self.clear_button = QPushButton(self.tr("Clear filters"))
        self.clear_button.clicked.connect(lambda *_: self.filters.clear())
        no_match_row.addWidget(no_match_label)
        no_match_row.addWidget(self.clear_button)
        no_match_row.addStretch(1)
        self.no_match.hide()

        table_side = QWidget()
        table_layout = QVBoxLayout(table_side)
        table_layout.setContentsMargins(0, 0, 0, 0)
        table_layout.addWidget(self.no_match)
        table_layout.addWidget(self.view, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(table_side)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([800, 270])
        self.splitter.setChildrenCollapsible(False)
        content = QWidget()
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(0, 0, 0, 0)
        content_layout.setSpacing(8)
        content_layout.addWidget(self.filters)
        content_layout.addWidget(self.splitter, 1)
        self.filters.changed.connect(self._apply_filter)

        # ---- other pages
        self.no_profile = EmptyState(
            "models",
            self.tr("No gateway yet"),
            self.tr("Add a gateway profile in Settings (or try the demo) to see its models here."),
        )
        self.loading_page = EmptyState(
            "models", self.tr("Loading the catalog…"), self.tr("Asking the gateway for its models.")
        )
        self.empty_page = EmptyState(
            "models",
            self.tr("No models"),
            self.tr("The gateway lists no models for this key."),
        )
        self.body = QStackedWidget()
        for page in (content, self.no_profile, self.loading_page, self.empty_page):
            self.body.addWidget(page)
        self.content_page = content

        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 22, 28, 18)
        layout.setSpacing(10)
        layout.addLayout(header)
        layout.addWidget(self.banner)
        layout.addWidget(self.notes_label)
        layout.addWidget(self.body, 1)
        self._update_counts()

    # ---- Pane hooks

    def on_shown(self) -> None:
        if self._stale:
            self.reload()

    def on_profile_changed(self) -> None:
        active = self.ctx.profiles.active()
        if active is None or self._profile is None or active.id != self._profile.id:
            self._stale = True
            if active is None:
                self._show_no_profile()
            elif self.isVisible():
                self.reload()

    def on_theme_changed(self, dark: bool) -> None:
        for page in (self.no_profile, self.loading_page, self.empty_page):
            page.recolor(dark)

    def detach(self) -> None:
        if self._on_catalog_changed in self.catalog.listeners:
            self.catalog.listeners.remove(self._on_catalog_changed)

    # ---- Reading (tests, other panes)

    def models(self) -> list[str]:
        return [m.id for m in self.table_model.models]

    def visible_models(self) -> list[str]:
        """The ids shown, in table order."""
        column = Column.MODEL
        return [self.proxy.index(r, column).data() for r in range(self.proxy.rowCount())]

    def selected_model(self) -> str:
        model = self.details.model
        return model.id if model is not None else ""

    def select_model(self, model_id: str) -> bool:
        row = self.table_model.row_of(model_id)
        if row < 0:
            return False
        index = self.proxy.mapFromSource(self.table_model.index(row, Column.MODEL))
        if not index.isValid():
            return False
        self.view.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.view.scrollTo(index)
        return True

    # ---- Loading

    def reload(self) -> None:
        active = self.ctx.profiles.active()
        if active is None:
            self._show_no_profile()
            return
        self._stale = False
        self.mark_loading()
        if self._profile is None or self._profile.id != active.id:
            self.snapshot = None
            self.table_model.set_catalog([], [], [], None)
            self.proxy.refilter()
            self._show_details()
        self._profile = active
        self.ctx.runner.run(self._load(active), key="models:load")

    async def _load(self, profile: GatewayProfile) -> None:
        self.refresh_button.setEnabled(False)
        self.progress.show()
        try:
            if self.snapshot is None:
                try:
                    cached = await self.catalog.snapshot(profile)
                except BluesdeskError as exc:  # an unreadable cache is not fatal: fetch instead
                    log.warning("catalog cache unreadable: %s", exc)
                    cached = None
                if cached is not None:
                    await self._show_snapshot(profile, cached)
                    self.subtitle.setText(self._summary(profile, refreshing=True))
                    self.mark_ready()  # cached data is shown: good enough for a screenshot
                else:
                    self.body.setCurrentWidget(self.loading_page)
                    self.subtitle.setText(
                        self.tr("Loading models from {0}…").replace("{0}", profile.name)
                    )
            try:
                await self.catalog.refresh(profile)
                if not shiboken6.isValid(self.subtitle):  # the window closed meanwhile
                    return
            except ConnectionFailed as exc:
                if not shiboken6.isValid(self.subtitle):
                    return
                self._show_failure(profile, exc, offline=True)
            except BluesdeskError as exc:
                if not shiboken6.isValid(self.subtitle):
                    return
                self._show_failure(profile, exc, offline=False)
            else:
                self.state = "ok"
                self.banner.hide()
                snapshot = self.catalog.loaded(profile)
                if snapshot is not None:
                    await self._show_snapshot(profile, snapshot)
        finally:
            if shiboken6.isValid(self.progress):
                self.progress.hide()
                self.refresh_button.setEnabled(True)
        self.mark_ready()

    def _show_failure(self, profile: GatewayProfile, exc: BluesdeskError, *, offline: bool) -> None:
        self._stale = True  # try again next time the pane is shown
        self.ctx.bus.state_changed.emit("error", exc.user_message)
        if self.snapshot is not None:
            age = age_text(max(0.0, time.time() - self.snapshot.fetched_at))
            if offline:
                self.state = "offline"
                lead = self.tr("Offline: showing the catalog from {0}.").replace("{0}", age)
            else:
                self.state = "error"
                lead = self.tr("Could not refresh (showing the catalog from {0}).").replace(
                    "{0}", age
                )
            self.error_label.setText(f"{lead}\n{exc.describe()}")
            self.subtitle.setText(self._summary(profile))
        else:
            self.state = "offline" if offline else "error"
            self.error_label.setText(exc.describe())
            self.subtitle.setText(
                self.tr("Could not load the models of {0}").replace("{0}", profile.name)
            )
            self.body.setCurrentWidget(self.empty_page)
            self.empty_page.title_label.setText(self.tr("No models to show"))
            self.empty_page.body_label.setText(
                self.tr("The gateway could not be reached and nothing is cached yet.")
                if offline
                else self.tr("The gateway answered with an error. Press Retry to try again.")
            )
        self.banner.show()

    async def _show_snapshot(self, profile: GatewayProfile, snapshot: CatalogSnapshot) -> None:
        """Put a (new) snapshot in the table, keeping filters, sort order and selection."""
        keep = self.selected_model()
        starred = await self.catalog.favourites(profile)
        group = self.catalog.key_group(profile)
        self.snapshot = snapshot
        self._group = group
        # Priced once here for both the table and the filter rows (5,000 Decimal computations).
        prices = [snapshot.price(m.id, group) for m in snapshot.models]
        rows = make_rows(
            snapshot.models,
            {m.id: p for m, p in zip(snapshot.models, prices, strict=True)},
            starred,
        )
        self.table_model.set_catalog(snapshot.models, rows, prices, snapshot.settings)
        self.filters.set_choices(
            (m.vendor for m in snapshot.models), (g for m in snapshot.models for g in m.groups)
        )
        self.filters.set_currency(snapshot.settings)
        self.proxy.set_filter(self.filters.current())
        head = self.view.horizontalHeader()
        self.proxy.sort(head.sortIndicatorSection(), head.sortIndicatorOrder())
        notes = list(snapshot.notes)
        self.notes_label.setText("\n".join(notes))
        self.notes_label.setVisible(bool(notes))
        if snapshot.models:
            self.body.setCurrentWidget(self.content_page)
        else:
            self.state = "empty"
            self.empty_page.title_label.setText(self.tr("No models"))
            self.empty_page.body_label.setText(self.tr("The gateway lists no models for this key."))
            self.body.setCurrentWidget(self.empty_page)
        self.subtitle.setText(self._summary(profile))
        if not (keep and self.select_model(keep)):
            self._show_details()
        self._update_counts()

    def _summary(self, profile: GatewayProfile, *, refreshing: bool = False) -> str:
        count = len(self.table_model.models)
        text = (
            self.tr("1 model on {0}")
            if count == 1
            else self.tr("{n} models on {0}").replace("{n}", f"{count:,}")
        ).replace("{0}", profile.name)
        if self.snapshot is not None and (refreshing or self.state in ("offline", "error")):
            age = age_text(max(0.0, time.time() - self.snapshot.fetched_at))
            text += self.tr(" · cached {0}").replace("{0}", age)
        if refreshing:
            text += self.tr(" · refreshing…")
        return text

    def _show_no_profile(self) -> None:
        self._profile = None
        self.snapshot = None
        self.state = "no-profile"
        self.table_model.set_catalog([], [], [], None)
        self.proxy.refilter()
        self.subtitle.setText("")
        self.banner.hide()
        self.notes_label.hide()
        self.body.setCurrentWidget(self.no_profile)
        self.refresh_button.setEnabled(False)
        self._show_details()
        self.mark_ready()

    # ---- Catalog changes (refresh, favourites, key group)

    def _on_catalog_changed(self, profile_id: str) -> None:
        if self._profile is not None and profile_id == self._profile.id:
            self.ctx.runner.run(self._sync(self._profile), key="models:sync")

    async def _sync(self, profile: GatewayProfile) -> None:
        snapshot = self.catalog.loaded(profile)
        if snapshot is None or self._profile is None or self._profile.id != profile.id:
            return
        if snapshot is not self.snapshot or self.catalog.key_group(profile) != self._group:
            await self._show_snapshot(profile, snapshot)
            return
        starred = await self.catalog.favourites(profile)
        if not shiboken6.isValid(self.view):
            return
        if self.table_model.set_favourites(starred) and self.filters.favourites_only.isChecked():
            self.proxy.refilter()
            self._update_counts()

    # ---- Interaction

    def _apply_filter(self) -> None:
        self.proxy.set_filter(self.filters.current())
        self._update_counts()

    def _update_counts(self) -> None:
        shown, total = self.proxy.rowCount(), self.table_model.rowCount()
        self.count_label.setText(
            self.tr("{0} of {1} models").replace("{0}", f"{shown:,}").replace("{1}", f"{total:,}")
        )
        self.no_match.setVisible(total > 0 and shown == 0)

    def _on_clicked(self, index: QModelIndex) -> None:
        if index.column() != Column.STAR or self._profile is None:
            return
        source = self.proxy.mapToSource(index)
        row = source.row()
        if not 0 <= row < len(self.table_model.rows):
            return
        model_id = self.table_model.rows[row].model_id
        starred = not self.table_model.rows[row].favourite
        self.toggle_favourite(model_id, starred)

    def toggle_favourite(self, model_id: str, starred: bool) -> None:
        profile = self._profile
        if profile is None:
            return
        self.ctx.runner.run(
            self.catalog.set_favourite(profile, model_id, starred), key=f"models:star:{model_id}"
        )

    def _show_details(self) -> None:
        index = self.view.selectionModel().currentIndex()
        model = index.data(MODEL_ROLE) if index.isValid() else None
        credits = self._profile is not None and self._profile.kind is GatewayKind.BLUESMINDS
        self.details.show_model(model, self.snapshot, self._group, credits=credits)
