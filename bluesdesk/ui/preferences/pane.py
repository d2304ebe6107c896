"""Settings pane: the list of gateway profiles and the editor for the selected one.

All I/O (keyring, settings file via the service, test requests) runs through the TaskRunner;
errors are shown inline, never as a traceback.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from bluesdesk.core.models import GatewayKind, GatewayProfile
from bluesdesk.errors import BluesdeskError, KeyringUnavailable
from bluesdesk.services.profiles import PRESETS, ProfilePreset
from bluesdesk.ui import settings_bridge
from bluesdesk.ui.context import AppContext
from bluesdesk.ui.preferences.keyring_dialog import KeyringDialog
from bluesdesk.ui.preferences.profile_editor import ProfileEditor
from bluesdesk.ui.widgets.empty_state import EmptyState
from bluesdesk.ui.widgets.pane import Pane

ID_ROLE = Qt.ItemDataRole.UserRole


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


class PreferencesPane(Pane):
    key = "settings"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._new_profile: GatewayProfile | None = None  # being created, not saved yet
        self.confirm_box: QMessageBox | None = None
        self.keyring_dialog: KeyringDialog | None = None

        title = QLabel(self.tr("Settings"))
        title.setObjectName("paneTitle")
        subtitle = QLabel(self.tr("Gateways you connect to. API keys stay in your system keyring."))
        subtitle.setObjectName("paneSubtitle")

        # Appearance: System follows the OS light/dark switch; the choice is saved at once.
        self.theme_box = QComboBox()
        self.theme_box.setObjectName("themeBox")
        for value, label in (
            ("system", self.tr("System")),
            ("light", self.tr("Light")),
            ("dark", self.tr("Dark")),
        ):
            self.theme_box.addItem(label, value)
        self.theme_box.setToolTip(self.tr("Colour theme; System follows your desktop"))
        theme_label = QLabel(self.tr("Theme"))
        theme_label.setBuddy(self.theme_box)
        self.theme_note = QLabel()
        self.theme_note.setObjectName("errorText")
        self.theme_note.hide()
        self._sync_theme_box()
        self.theme_box.currentIndexChanged.connect(lambda *_: self._on_theme_picked())

        # Left: the list of profiles and its actions.
        self.list = QListWidget()
        self.list.setObjectName("profileList")
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.currentItemChanged.connect(lambda *_: self._on_selection_changed())
        self.new_button = QPushButton(self.tr("New"))
        self.new_button.setToolTip(self.tr("Add a gateway from a preset (Ctrl+N)"))
        self.new_button.setShortcut("Ctrl+N")
        self.preset_menu = QMenu(self.new_button)
        self._fill_preset_menu()
        self.new_button.setMenu(self.preset_menu)
        self.duplicate_button = QPushButton(self.tr("Duplicate"))
        self.duplicate_button.clicked.connect(lambda *_: self.duplicate_selected())
        self.delete_button = QPushButton(self.tr("Delete"))
        self.delete_button.setProperty("danger", True)
        self.delete_button.clicked.connect(lambda *_: self.confirm_delete())
        list_buttons = QHBoxLayout()
        list_buttons.addWidget(self.new_button)
        list_buttons.addWidget(self.duplicate_button)
        list_buttons.addWidget(self.delete_button)
        left_card = QFrame()
        left_card.setObjectName("card")
        left_card.setMinimumWidth(300)
        left_card.setMaximumWidth(340)
        left = QVBoxLayout(left_card)
        left.setContentsMargins(14, 14, 14, 14)
        heading = QLabel(self.tr("Gateway profiles"))
        heading.setObjectName("emptyTitle")
        left.addWidget(heading)
        left.addWidget(self.list, 1)
        left.addLayout(list_buttons)

        # Right: the editor, or an empty state when nothing is selected.
        self.editor = ProfileEditor()
        self.editor.save_requested.connect(self.save_current)
        self.editor.test_requested.connect(self.test_current)
        self.editor.activate_requested.connect(self.activate_current)
        self.empty = EmptyState(
            "settings",
            self.tr("No gateway selected"),
            self.tr(
                "Pick a profile on the left, or add one with New: presets fill in the URLs "
                "of BluesMinds, MindProxy and BlueNexus."
            ),
        )
        self.right_card = QFrame()
        self.right_card.setObjectName("card")
        right = QVBoxLayout(self.right_card)
        right.setContentsMargins(0, 0, 0, 0)
        right.addWidget(self.editor)
        right.addWidget(self.empty)

        row = QHBoxLayout()
        row.setSpacing(16)
        row.addWidget(left_card)
        row.addWidget(self.right_card, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 22, 28, 18)
        layout.setSpacing(4)
        titles = QVBoxLayout()
        titles.setSpacing(4)
        titles.addWidget(title)
        titles.addWidget(subtitle)
        header = QHBoxLayout()
        header.addLayout(titles, 1)
        header.addWidget(self.theme_note)
        header.addWidget(theme_label)
        header.addWidget(self.theme_box)
        layout.addLayout(header)
        layout.addSpacing(12)
        layout.addLayout(row, 1)

        self.refresh()
        self._ready = True

    # ---- Pane hooks

    def on_profile_changed(self) -> None:
        self.refresh()

    def on_theme_changed(self, dark: bool) -> None:
        self.empty.recolor(dark)
        self.editor.recolor(dark)

    # ---- Appearance

    def theme_preference(self) -> str:
        return str(self.theme_box.currentData())

    def set_theme_preference(self, preference: str) -> None:
        """Pick `preference` ("system", "light", "dark") as if the user had chosen it."""
        index = self.theme_box.findData(preference)
        if index >= 0:
            self.theme_box.setCurrentIndex(index)

    def _sync_theme_box(self) -> None:
        theme = self.ctx.theme
        current = theme.preference if theme is not None else self.ctx.settings.current.ui.theme
        index = self.theme_box.findData(current)
        self.theme_box.blockSignals(True)
        self.theme_box.setCurrentIndex(max(index, 0))
        self.theme_box.blockSignals(False)

    def _on_theme_picked(self) -> None:
        preference = self.theme_preference()
        try:
            settings_bridge.update_ui(self.ctx.settings, theme=preference)
        except BluesdeskError as exc:
            self.theme_note.setText(exc.user_message)
            self.theme_note.show()
        else:
            self.theme_note.hide()
        if self.ctx.theme is not None:
            self.ctx.theme.set_preference(preference)

    # ---- The list

    def _fill_preset_menu(self) -> None:
        for preset in PRESETS:
            action = self.preset_menu.addAction(preset.label)
            action.setToolTip(preset.note)
            action.triggered.connect(lambda *_, p=preset: self.start_new_profile(p))

    def refresh(self, select_id: str | None = None) -> None:
        """Rebuild the list from the service, keeping (or moving to) a selection."""
        if select_id is None:
            select_id = self.selected_id()
        active = self.ctx.profiles.active()
        active_id = active.id if active is not None else ""
        if not select_id and self._new_profile is None:
            select_id = active_id  # open on the profile in use rather than on nothing
        self.list.blockSignals(True)
        self.list.clear()
        for profile in self.ctx.profiles.profiles():
            details = [_host(profile.base_url)]
            if profile.id == active_id:
                details.append(self.tr("in use"))
            if profile.demo:
                details.append(self.tr("demo"))
            item = QListWidgetItem(f"{profile.name}\n{' · '.join(details)}")
            item.setData(ID_ROLE, profile.id)
            item.setToolTip(profile.base_url)
            if profile.id == active_id:
                font = QFont(item.font())
                font.setBold(True)
                item.setFont(font)
            self.list.addItem(item)
            if profile.id == select_id:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        if self._new_profile is None:
            self._on_selection_changed(reload_key=select_id != self._editor_id())

    def selected_id(self) -> str:
        item: QListWidgetItem | None = self.list.currentItem()  # None despite the stubs
        return str(item.data(ID_ROLE)) if item is not None else ""

    def select(self, profile_id: str) -> None:
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(ID_ROLE) == profile_id:
                self.list.setCurrentItem(item)
                return

    def item_texts(self) -> list[str]:
        return [self.list.item(row).text() for row in range(self.list.count())]

    def _editor_id(self) -> str:
        profile = self.editor.profile()
        return profile.id if profile is not None else ""

    def _on_selection_changed(self, *, reload_key: bool = True) -> None:
        profile_id = self.selected_id()
        profile = next((p for p in self.ctx.profiles.profiles() if p.id == profile_id), None)
        if profile is None:
            if self._new_profile is None:
                self._show_editor(False)
            self.duplicate_button.setEnabled(False)
            self.delete_button.setEnabled(False)
            return
        self._new_profile = None
        self.duplicate_button.setEnabled(True)
        self.delete_button.setEnabled(True)
        active = self.ctx.profiles.active()
        if not reload_key and self._editor_id() == profile.id:
            # Same profile refreshed (e.g. after save): keep what the user typed in the key field.
            self.editor.set_active_state(is_active=active is not None and active.id == profile.id)
            return
        self.editor.load(
            profile, is_new=False, is_active=active is not None and active.id == profile.id
        )
        self._update_key_note()
        self._show_editor(True)
        self.ctx.runner.run(self._load_key(profile.id), key="prefs:key")

    async def _load_key(self, profile_id: str) -> None:
        try:
            key = await self.ctx.profiles.api_key(profile_id)
        except BluesdeskError as exc:
            self.editor.show_result(exc.describe(), ok=False)
            return
        if self._editor_id() == profile_id:
            self.editor.set_key(key)

    def _update_key_note(self) -> None:
        if self.ctx.keys.memory_only:
            self.editor.key_note.setText(
                self.tr("No system keyring: kept in memory for this run only, never in a file.")
            )
        else:
            self.editor.key_note.setText(
                self.tr("Stored only in your system keyring, never in a file.")
            )

    def _show_editor(self, shown: bool) -> None:
        self.editor.setVisible(shown)
        self.empty.setVisible(not shown)

    # ---- Actions

    def start_new_profile(self, preset: ProfilePreset | None = None) -> None:
        """Fill the editor from `preset` (default: Custom) for a profile not saved yet."""
        if preset is None:
            preset = next(p for p in PRESETS if p.kind is GatewayKind.CUSTOM)
        profile = preset.to_profile(name=self._unique_name(preset.label))
        self._new_profile = profile
        self.list.blockSignals(True)
        self.list.setCurrentRow(-1)
        self.list.clearSelection()
        self.list.blockSignals(False)
        self.duplicate_button.setEnabled(False)
        self.delete_button.setEnabled(False)
        self.editor.load(profile, is_new=True, is_active=False)
        self._update_key_note()
        self._show_editor(True)
        self.editor.name_edit.setFocus()

    def _unique_name(self, base: str) -> str:
        names = {p.name for p in self.ctx.profiles.profiles()}
        if base not in names:
            return base
        n = 2
        while f"{base} {n}" in names:
            n += 1
        return f"{base} {n}"

    def save_current(self) -> None:
        problem = self.editor.validate()
        if problem:
            self.editor.show_result(problem, ok=False)
            return
        profile = self.editor.profile()
        if profile is None:
            return
        self.editor.show_result(self.tr("Saving…"), ok=True)
        self.ctx.runner.run(self._save(profile, self.editor.key_change()), key="prefs:save")

    async def _save(self, profile: GatewayProfile, key: str | None) -> None:
        self.editor.set_busy(True)
        try:
            await self.ctx.profiles.save(profile, api_key=key)
        except KeyringUnavailable as exc:
            self._ask_keyring(exc, profile, key)
            return
        except BluesdeskError as exc:
            self.editor.show_result(exc.describe(), ok=False)
            return
        finally:
            self.editor.set_busy(False)
        self._new_profile = None
        if key is not None:
            self.editor.set_key(key or None)
        self.refresh(select_id=profile.id)
        self.editor.heading.setText(profile.name)
        self.editor.show_result(self.tr("Saved."), ok=True)

    def _ask_keyring(
        self, exc: KeyringUnavailable, profile: GatewayProfile, key: str | None
    ) -> None:
        dialog = KeyringDialog(exc, self)
        self.keyring_dialog = dialog

        def on_clicked(button: object) -> None:
            if button is dialog.keep_button:
                self.ctx.keys.use_memory_only()
                self._update_key_note()
                self.ctx.notify(self.tr("API keys are kept in memory for this run only"))
                self.ctx.runner.run(self._save(profile, key), key="prefs:save")
            else:
                self.editor.show_result(
                    self.tr("Not saved: the key could not be stored."), ok=False
                )

        dialog.buttonClicked.connect(on_clicked)
        dialog.open()

    def test_current(self) -> None:
        problem = self.editor.validate()
        if problem:
            self.editor.show_result(problem, ok=False)
            return
        profile = self.editor.profile()
        if profile is None:
            return
        self.editor.show_result(
            self.tr("Connecting to {0}…").replace("{0}", _host(profile.base_url)), ok=True
        )
        self.ctx.runner.run(self._test(profile, self.editor.key_text()), key="prefs:test")

    async def _test(self, profile: GatewayProfile, key: str) -> None:
        self.editor.test_button.setEnabled(False)
        try:
            report = await self.ctx.profiles.test_connection(profile, key)
        except BluesdeskError as exc:
            self.editor.show_result(exc.describe(), ok=False)
            return
        finally:
            self.editor.test_button.setEnabled(True)
        text = (
            self.tr("Connected: 1 model in {0} ms")
            if report.model_count == 1
            else self.tr("Connected: %n models in {0} ms", "", report.model_count)
        )
        self.editor.show_result(text.replace("{0}", f"{report.latency_ms:.0f}"), ok=True)

    def activate_current(self) -> None:
        profile_id = self.selected_id()
        if profile_id:
            self.ctx.runner.run(
                self._run_op(self.ctx.profiles.set_active(profile_id)), key="prefs:activate"
            )

    def duplicate_selected(self) -> None:
        profile_id = self.selected_id()
        if profile_id:
            self.ctx.runner.run(self._duplicate(profile_id), key="prefs:duplicate")

    async def _duplicate(self, profile_id: str) -> None:
        try:
            copy = await self.ctx.profiles.duplicate(profile_id)
        except BluesdeskError as exc:
            self.editor.show_result(exc.describe(), ok=False)
            return
        self.refresh(select_id=copy.id)

    def confirm_delete(self) -> None:
        profile_id = self.selected_id()
        profile = next((p for p in self.ctx.profiles.profiles() if p.id == profile_id), None)
        if profile is None:
            return
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Delete gateway"))
        box.setText(self.tr("Delete the gateway profile “{0}”?").replace("{0}", profile.name))
        box.setInformativeText(self.tr("Its API key is removed from the keyring as well."))
        delete = box.addButton(self.tr("Delete"), QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setProperty("deleteButton", delete)

        def on_clicked(button: object) -> None:
            if button is delete:
                self.ctx.runner.run(
                    self._run_op(self.ctx.profiles.delete(profile_id)), key="prefs:delete"
                )

        box.buttonClicked.connect(on_clicked)
        self.confirm_box = box
        box.open()

    async def _run_op(self, op: object) -> None:
        try:
            await op  # type: ignore[misc]
        except BluesdeskError as exc:
            self.editor.show_result(exc.describe(), ok=False)
            return
        self.refresh()
