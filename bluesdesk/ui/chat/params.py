"""The parameters drawer: a conversation's system prompt, sampling parameters, response format
and API style, plus named presets. It only edits values; the pane saves them.

Params are the JSON kept in `conversations.params_json`: only what the user set is present
(temperature, top_p, max_tokens, stop, seed, response_format, json_schema); a missing key means
"the gateway's default".
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from bluesdesk.store.conversations import Preset

STYLES = (("", "Auto"), ("openai", "OpenAI"), ("claude", "Claude"), ("gemini", "Gemini"))
FORMATS = (("text", "Text"), ("json_object", "JSON object"), ("json_schema", "JSON schema"))
MAX_STOPS = 4  # what OpenAI accepts


def _unset_spin(low: float, high: float, step: float) -> QDoubleSpinBox:
    """A spin box whose lowest value reads "Default" and means "not set"."""
    box = QDoubleSpinBox()
    box.setRange(low - step, high)
    box.setSingleStep(step)
    box.setDecimals(2)
    box.setSpecialValueText("Default")
    box.setValue(box.minimum())
    return box


class ParamsDrawer(QFrame):
    """Signals:
    changed(): the user edited a value (the pane saves after a short pause).
    save_preset_requested(str): save the current values under this name.
    delete_preset_requested(str): delete the preset of this name.
    """

    changed = Signal()
    save_preset_requested = Signal(str)
    delete_preset_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("paramsDrawer")
        self.setFixedWidth(300)
        self._presets: dict[str, Preset] = {}

        self.preset_box = QComboBox()
        self.preset_box.setPlaceholderText(self.tr("Apply a preset…"))
        self.preset_box.activated.connect(self._apply_preset_at)
        self.save_preset = QPushButton(self.tr("Save as…"))
        self.save_preset.setToolTip(self.tr("Save this system prompt and parameters as a preset"))
        self.save_preset.clicked.connect(lambda *_: self._ask_preset_name())
        self.delete_preset = QPushButton(self.tr("Delete"))
        self.delete_preset.clicked.connect(lambda *_: self._delete_current_preset())

        self.style_box = QComboBox()
        for value, label in STYLES:
            self.style_box.addItem(label, value)
        self.style_box.setToolTip(
            self.tr("Which API the request uses; Auto follows the model's native API")
        )
        self.system_prompt = QPlainTextEdit()
        self.system_prompt.setPlaceholderText(self.tr("System prompt (optional)"))
        self.system_prompt.setFixedHeight(110)
        self.temperature = _unset_spin(0.0, 2.0, 0.1)
        self.top_p = _unset_spin(0.0, 1.0, 0.05)
        self.max_tokens = QSpinBox()
        self.max_tokens.setRange(0, 1_000_000)
        self.max_tokens.setSingleStep(256)
        self.max_tokens.setSpecialValueText("Default")
        self.seed = QSpinBox()
        self.seed.setRange(-1, 2**31 - 1)
        self.seed.setSpecialValueText("Random")
        self.seed.setValue(-1)
        self.stop = QPlainTextEdit()
        self.stop.setPlaceholderText(self.tr("Stop sequences, one per line (up to 4)"))
        self.stop.setFixedHeight(60)
        self.tools = QCheckBox(self.tr("Built-in tools"))
        self.tools.setToolTip(
            self.tr(
                "Let the model call safe local tools; their results are sent back automatically"
            )
        )
        self.format_box = QComboBox()
        for value, label in FORMATS:
            self.format_box.addItem(label, value)
        self.schema = QPlainTextEdit()
        self.schema.setPlaceholderText('{"type": "object", "properties": {…}}')
        self.schema.setFixedHeight(100)
        self.schema.hide()
        self.problem = QLabel()
        self.problem.setObjectName("errorText")
        self.problem.setWordWrap(True)
        self.problem.hide()

        presets = QHBoxLayout()
        presets.addWidget(self.preset_box, 1)
        presets.addWidget(self.save_preset)
        presets.addWidget(self.delete_preset)
        form = QFormLayout()
        form.addRow(self.tr("API style"), self.style_box)
        form.addRow(self.tr("Temperature"), self.temperature)
        form.addRow(self.tr("Top p"), self.top_p)
        form.addRow(self.tr("Max tokens"), self.max_tokens)
        form.addRow(self.tr("Seed"), self.seed)
        form.addRow(self.tr("Response"), self.format_box)
        form.addRow(self.tr("Tools"), self.tools)
        title = QLabel(self.tr("Parameters"))
        title.setObjectName("sectionTitle")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 0, 0, 0)
        layout.addWidget(title)
        layout.addLayout(presets)
        layout.addWidget(self.system_prompt)
        layout.addLayout(form)
        layout.addWidget(self.schema)
        layout.addWidget(self.stop)
        layout.addWidget(self.problem)
        layout.addStretch(1)

        for spin in (self.temperature, self.top_p):
            spin.valueChanged.connect(self._edited)
        for ispin in (self.max_tokens, self.seed):
            ispin.valueChanged.connect(self._edited)
        for edit in (self.system_prompt, self.stop, self.schema):
            edit.textChanged.connect(self._edited)
        self.style_box.currentIndexChanged.connect(self._edited)
        self.tools.toggled.connect(self._edited)
        self.format_box.currentIndexChanged.connect(self._format_changed)
        self._loading = False

    # ---- values

    def values(self) -> tuple[str, str, dict[str, Any]]:
        """(system prompt, API style or "" for auto, params) as the conversation stores them."""
        params: dict[str, Any] = {}
        if self.temperature.value() > self.temperature.minimum():
            params["temperature"] = round(self.temperature.value(), 2)
        if self.top_p.value() > self.top_p.minimum():
            params["top_p"] = round(self.top_p.value(), 2)
        if self.max_tokens.value():
            params["max_tokens"] = self.max_tokens.value()
        if self.seed.value() >= 0:
            params["seed"] = self.seed.value()
        stops = [line for line in self.stop.toPlainText().splitlines() if line]
        if stops:
            params["stop"] = stops[:MAX_STOPS]
        kind = str(self.format_box.currentData())
        if kind != "text":
            params["response_format"] = kind
        if kind == "json_schema":
            schema = self._schema()
            if isinstance(schema, dict):
                params["json_schema"] = schema
        if self.tools.isChecked():
            params["tools"] = True
        style = str(self.style_box.currentData())
        return self.system_prompt.toPlainText().strip(), style, params

    def set_values(self, system_prompt: str, api_style: str, params: dict[str, Any]) -> None:
        """Show a conversation's values (without emitting `changed`)."""
        self._loading = True
        try:
            self.system_prompt.setPlainText(system_prompt)
            index = self.style_box.findData(api_style)
            self.style_box.setCurrentIndex(max(0, index))
            self._set_spin(self.temperature, params.get("temperature"))
            self._set_spin(self.top_p, params.get("top_p"))
            tokens = params.get("max_tokens")
            self.max_tokens.setValue(tokens if isinstance(tokens, int) else 0)
            seed = params.get("seed")
            self.seed.setValue(seed if isinstance(seed, int) else -1)
            stop = params.get("stop")
            lines = [s for s in stop if isinstance(s, str)] if isinstance(stop, list) else []
            self.stop.setPlainText("\n".join(lines))
            index = self.format_box.findData(params.get("response_format", "text"))
            self.format_box.setCurrentIndex(max(0, index))
            schema = params.get("json_schema")
            self.schema.setPlainText(json.dumps(schema, indent=2) if schema else "")
            self.schema.setVisible(self.format_box.currentData() == "json_schema")
            self.tools.setChecked(params.get("tools") is True)
            self.problem.hide()
        finally:
            self._loading = False

    @staticmethod
    def _set_spin(box: QDoubleSpinBox, value: Any) -> None:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        box.setValue(float(value) if ok else box.minimum())

    def problem_text(self) -> str:
        """Why the values cannot be sent as they are ("" when they can)."""
        if self.format_box.currentData() != "json_schema":
            return ""
        schema = self._schema()
        if schema is None:
            return self.tr("The JSON schema is empty: paste one, or pick another response format.")
        if not isinstance(schema, dict):
            return self.tr("The JSON schema is not valid JSON (an object is needed).")
        return ""

    def _schema(self) -> Any:
        text = self.schema.toPlainText().strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            return "invalid"

    def set_auto_style(self, style: str) -> None:
        """Show which style Auto means for the current model (e.g. "Auto (Claude)")."""
        label = dict(STYLES).get(style, "")
        self.style_box.setItemText(0, f"Auto ({label})" if label else "Auto")

    # ---- presets

    def set_presets(self, presets: list[Preset]) -> None:
        self._presets = {p.name: p for p in presets}
        self.preset_box.blockSignals(True)
        self.preset_box.clear()
        self.preset_box.addItems(list(self._presets))
        self.preset_box.setCurrentIndex(-1)
        self.preset_box.blockSignals(False)
        self.delete_preset.setEnabled(bool(presets))

    def apply_preset(self, name: str) -> None:
        preset = self._presets.get(name)
        if preset is None:
            return
        try:
            params = json.loads(preset.params_json or "{}")
        except ValueError:
            params = {}
        style = str(self.style_box.currentData())
        self.set_values(preset.system_prompt, style, params if isinstance(params, dict) else {})
        self.preset_box.setCurrentText(name)
        self.changed.emit()

    def _apply_preset_at(self, index: int) -> None:
        self.apply_preset(self.preset_box.itemText(index))

    def _ask_preset_name(self) -> None:
        name, ok = QInputDialog.getText(
            self, self.tr("Save preset"), self.tr("Name"), text=self.preset_box.currentText()
        )
        if ok and name.strip():
            self.save_preset_requested.emit(name.strip())

    def _delete_current_preset(self) -> None:
        name = self.preset_box.currentText()
        if name:
            self.delete_preset_requested.emit(name)

    # ---- edits

    def _format_changed(self) -> None:
        self.schema.setVisible(self.format_box.currentData() == "json_schema")
        self._edited()

    def _edited(self) -> None:
        if self._loading:
            return
        problem = self.problem_text()
        self.problem.setText(problem)
        self.problem.setVisible(bool(problem))
        self.changed.emit()
