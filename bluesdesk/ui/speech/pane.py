"""Speech: text to speech with playback and a kept history, and transcription of audio files.

Generation and transcription run on the TaskRunner under per-pane keys; gateway errors are
shown as text. Models come from the catalog (favourites first), else from the gateway's model
list, filtered by capability, with the common OpenAI names as a fallback. Each clip keeps its
speed and, when the catalog knows the price, its cost.

Cross-pane hooks: `speak_text(text)` (Chat's "Read aloud", through MainWindow), `use_model(id)`
(the Models pane's "Use in Speech"), and the `send_to_chat_requested(str)` signal for a
transcript. Recording from the microphone needs an audio input; without one the Record button
is disabled and says why.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from bluesdesk.core.capabilities import Capability, infer_capabilities
from bluesdesk.core.pricing import PriceKind, estimate
from bluesdesk.errors import BluesdeskError
from bluesdesk.gateway import list_models
from bluesdesk.services.speech import (
    FORMATS,
    VOICES,
    SpeechRequest,
    SpeechService,
    speech_models,
    transcription_models,
)
from bluesdesk.store.media import ClipRecord
from bluesdesk.ui.catalog_models import CatalogPane, catalog_models
from bluesdesk.ui.context import AppContext
from bluesdesk.ui.speech.player import AudioPlayer
from bluesdesk.ui.speech.recorder import MicRecorder
from bluesdesk.ui.widgets.empty_state import EmptyState

FALLBACK_TTS = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts")
FALLBACK_STT = ("whisper-1", "gpt-4o-transcribe")
AUDIO_FILTER = "Audio (*.mp3 *.wav *.m4a *.ogg *.oga *.flac *.webm *.mp4 *.mpga *.mpeg)"
NO_DEVICE_NOTICE = "No audio output device found: playback runs silently."
NO_MIC_TOOLTIP = "No microphone was found: transcribe an audio file instead."
RECORDINGS_SUBDIR = "recordings"
ClipRole = Qt.ItemDataRole.UserRole + 1


class SpeechPane(CatalogPane):
    """Signals: send_to_chat_requested(str): put a transcript in the Chat composer."""

    key = "speech"
    send_to_chat_requested = Signal(str)

    def __init__(
        self,
        ctx: AppContext | None = None,
        service: SpeechService | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.service = service or (getattr(ctx, "speech", None) if ctx is not None else None)
        self._models_for = ""
        self._history_loaded = False
        self.current_clip: ClipRecord | None = None
        self.transcript_request_id = ""
        self.speak_key = f"speech.speak.{id(self)}"
        self.transcribe_key = f"speech.transcribe.{id(self)}"
        self.models_key = f"speech.models.{id(self)}"
        self._wanted: dict[str, str] = {}  # combo name -> model asked for by use_model

        title = QLabel(self.tr("Speech"))
        title.setObjectName("paneTitle")
        subtitle = QLabel(self.tr("Text to speech and transcription through your gateway"))
        subtitle.setObjectName("paneSubtitle")

        # ---- text to speech
        self.text_edit = QPlainTextEdit()
        self.text_edit.setPlaceholderText(self.tr("Text to speak…"))
        self.text_edit.setTabChangesFocus(True)
        self.model_combo = QComboBox()
        self.model_combo.setObjectName("ttsModel")
        self.model_combo.setEditable(True)
        self.model_combo.addItems(FALLBACK_TTS)
        self.model_combo.currentTextChanged.connect(lambda *_: self._update_price())
        self.voice_combo = QComboBox()
        self.voice_combo.setEditable(True)
        self.voice_combo.addItems(VOICES)
        self.speed_spin = QDoubleSpinBox()
        self.speed_spin.setRange(0.25, 4.0)
        self.speed_spin.setSingleStep(0.25)
        self.speed_spin.setValue(1.0)
        self.speed_spin.setSuffix("×")
        self.format_combo = QComboBox()
        self.format_combo.addItems(FORMATS)
        self.price_label = QLabel()
        self.price_label.setObjectName("muted")
        self.text_edit.textChanged.connect(self._update_price)
        self.generate_button = QPushButton(self.tr("Generate"))
        self.generate_button.setDefault(True)
        self.generate_button.setShortcut("Ctrl+Return")
        self.generate_button.clicked.connect(lambda *_: self.generate())
        self.save_button = QPushButton(self.tr("Save to file…"))
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(lambda *_: self._ask_save())
        self.status_label = QLabel()
        self.status_label.setObjectName("muted")
        self.status_label.setWordWrap(True)
        self.error_label = QLabel()
        self.error_label.setObjectName("errorText")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()
        self.autoplay_check = QCheckBox(self.tr("Play when ready"))
        self.autoplay_check.setToolTip(self.tr("Play each new clip as soon as it is generated"))
        self.autoplay_check.setChecked(True)
        self.player = AudioPlayer()
        self.player.error.connect(lambda text: self._show_error(self.tr("Playback: ") + text))
        self.device_notice = QLabel(self.tr(NO_DEVICE_NOTICE))
        self.device_notice.setObjectName("muted")
        self.device_notice.setVisible(self.player.no_device)

        form = QFormLayout()
        form.addRow(self.tr("Model"), self.model_combo)
        form.addRow(self.tr("Voice"), self.voice_combo)
        form.addRow(self.tr("Speed"), self.speed_spin)
        form.addRow(self.tr("Format"), self.format_combo)
        form.addRow("", self.price_label)
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.autoplay_check)
        buttons.addStretch(1)
        tts_box = QGroupBox(self.tr("Text to speech"))
        tts = QVBoxLayout(tts_box)
        tts.addWidget(self.text_edit, 1)
        tts.addLayout(form)
        tts.addLayout(buttons)
        tts.addWidget(self.player)
        tts.addWidget(self.device_notice)
        tts.addWidget(self.status_label)
        tts.addWidget(self.error_label)

        # ---- history
        self.history = QListWidget()
        self.history.setUniformItemSizes(True)
        self.history.itemDoubleClicked.connect(lambda item: self.play(item.data(ClipRole)))
        self.history.currentItemChanged.connect(lambda *_: self._update_history_actions())
        self.replay_button = QPushButton(self.tr("Play"))
        self.replay_button.clicked.connect(lambda *_: self.play(self._selected_clip()))
        self.delete_button = QPushButton(self.tr("Delete"))
        self.delete_button.clicked.connect(lambda *_: self.delete(self._selected_clip()))
        history_box = QGroupBox(self.tr("History"))
        history_layout = QVBoxLayout(history_box)
        history_layout.addWidget(self.history, 1)
        history_buttons = QHBoxLayout()
        history_buttons.addWidget(self.replay_button)
        history_buttons.addWidget(self.delete_button)
        history_buttons.addStretch(1)
        history_layout.addLayout(history_buttons)

        # ---- speech to text
        self.stt_model_combo = QComboBox()
        self.stt_model_combo.setObjectName("sttModel")
        self.stt_model_combo.setEditable(True)
        self.stt_model_combo.addItems(FALLBACK_STT)
        self.transcribe_button = QPushButton(self.tr("Transcribe a file…"))
        self.transcribe_button.clicked.connect(lambda *_: self._ask_transcribe())
        self.transcribe_clip_button = QPushButton(self.tr("Transcribe selected clip"))
        self.transcribe_clip_button.clicked.connect(lambda *_: self._transcribe_selected())
        self.transcript_edit = QPlainTextEdit()
        self.transcript_edit.setReadOnly(True)
        self.transcript_edit.setPlaceholderText(self.tr("The transcript appears here."))
        self.copy_transcript_button = QPushButton(self.tr("Copy transcript"))
        self.copy_transcript_button.setEnabled(False)
        self.copy_transcript_button.clicked.connect(lambda *_: self.copy_transcript())
        self.send_to_chat_button = QPushButton(self.tr("Send to Chat"))
        self.send_to_chat_button.setEnabled(False)
        self.send_to_chat_button.setToolTip(self.tr("Put the transcript in the Chat composer"))
        self.send_to_chat_button.clicked.connect(lambda *_: self.send_to_chat())
        self.record_button = QPushButton(self.tr("Record"))
        self.record_button.setCheckable(True)
        self.record_button.clicked.connect(lambda checked: self._toggle_recording(checked))
        media_dir = self.service.media_dir if self.service is not None else Path()
        self.recorder = MicRecorder(media_dir / RECORDINGS_SUBDIR, self)
        self.recorder.recorded.connect(lambda path: self.transcribe_file(Path(path)))
        self.recorder.failed.connect(self._on_record_failed)
        self.recorder.recording_changed.connect(self._on_recording_changed)
        self.recorder.devices.audioInputsChanged.connect(self._update_record_button)
        stt_box = QGroupBox(self.tr("Speech to text"))
        stt = QVBoxLayout(stt_box)
        stt_row = QHBoxLayout()
        stt_row.addWidget(QLabel(self.tr("Model")))
        stt_row.addWidget(self.stt_model_combo, 1)
        stt_row.addWidget(self.transcribe_button)
        stt_row.addWidget(self.transcribe_clip_button)
        stt_row.addWidget(self.record_button)
        stt.addLayout(stt_row)
        stt.addWidget(self.transcript_edit, 1)
        stt_buttons = QHBoxLayout()
        stt_buttons.addStretch(1)
        stt_buttons.addWidget(self.copy_transcript_button)
        stt_buttons.addWidget(self.send_to_chat_button)
        stt.addLayout(stt_buttons)

        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(history_box)
        right.addWidget(stt_box)
        splitter = QSplitter()
        splitter.addWidget(tts_box)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)

        self.unavailable = EmptyState(
            "speech",
            self.tr("Speech needs the data folder"),
            self.tr("The speech service is not running, so nothing can be generated or kept."),
        )
        self.body = QStackedWidget()
        self.body.addWidget(splitter)
        self.body.addWidget(self.unavailable)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        titles = QVBoxLayout()
        titles.setSpacing(2)
        titles.addWidget(title)
        titles.addWidget(subtitle)
        layout.addLayout(titles)
        layout.addWidget(self.body, 1)

        if self.service is None or self.ctx is None:
            self.body.setCurrentWidget(self.unavailable)
            self.mark_ready()
        self._update_history_actions()
        self._update_record_button()
        self._update_price()
        self.follow_catalog()

    # ---- lifecycle ----------------------------------------------------------------------------

    def on_shown(self) -> None:
        if self.service is None or self.ctx is None:
            return
        if not self._history_loaded:
            self.ctx.runner.run(self.load_history(), key=f"speech.history.{id(self)}")
        self.refresh_models()

    def on_profile_changed(self) -> None:
        if self.isVisible():
            self.on_shown()

    async def load_history(self) -> None:
        assert self.service is not None
        try:
            clips = await self.service.history()
        except BluesdeskError as exc:
            self._show_error(exc)
        else:
            if not shiboken6.isValid(self.history):
                return
            self.history.clear()
            for clip in clips:
                self.history.addItem(self._item(clip))
            self._history_loaded = True
        self._update_history_actions()
        self.mark_ready()

    async def _load_models(self) -> None:
        assert self.ctx is not None
        tts, stt = await self._catalog_models()
        if not tts and not stt:
            try:
                models = await list_models(await self.ctx.client())
            except BluesdeskError:
                return  # keep the fallback names; the Models pane explains connection problems
            tts, stt = speech_models(models), transcription_models(models)
        if not shiboken6.isValid(self.model_combo):
            return
        for combo, names in ((self.model_combo, tts), (self.stt_model_combo, stt)):
            if names:
                current = self._wanted.get(combo.objectName()) or combo.currentText()
                combo.blockSignals(True)
                combo.clear()
                combo.addItems(names)
                combo.blockSignals(False)
                combo.setCurrentText(current if current in names else names[0])
        self._update_price()

    async def _catalog_models(self) -> tuple[list[str], list[str]]:
        """(speech models, transcription models), favourites first, from the catalog (fetched
        once if it never was); empty without a catalog."""
        models, _ = await catalog_models(self.ctx)
        return (
            [m.id for m in models if m.has(Capability.SPEECH)],
            [m.id for m in models if m.has(Capability.TRANSCRIPTION)],
        )

    # ---- cross-pane hooks ---------------------------------------------------------------------

    def use_model(self, model_id: str) -> None:
        """Pick `model_id` in the speech or the transcription picker, by what the model does."""
        caps = infer_capabilities(model_id, ())
        combo = self.stt_model_combo if caps.has(Capability.TRANSCRIPTION) else self.model_combo
        self._wanted[combo.objectName()] = model_id
        combo.setCurrentText(model_id)

    def speak_text(self, text: str) -> None:
        """Chat's "Read aloud": fill in the text, generate it and play it."""
        self.text_edit.setPlainText(text)
        self.generate()

    def send_to_chat(self) -> None:
        text = self.transcript_edit.toPlainText().strip()
        if text:
            self.send_to_chat_requested.emit(text)

    # ---- price ----------------------------------------------------------------------------------

    def clip_cost(self, model: str, text: str) -> float | None:
        """What speaking `text` with `model` costs, if the catalog knows the model's price."""
        price = self.catalog_price(model)
        if price is None:
            return None
        if price.kind is PriceKind.PER_REQUEST:
            return price.per_request
        # Per-token speech models are charged on the input; ~4 characters make a token.
        return estimate(price, max(1, len(text) // 4), 0).low

    def _money(self, usd: float) -> str:
        return self.money(usd, decimals=6)

    def _update_price(self) -> None:
        if not shiboken6.isValid(self.price_label):
            return
        model = self.model_combo.currentText().strip()
        cost = self.clip_cost(model, self.text_edit.toPlainText())
        if cost is None:
            self.price_label.setText(self.tr("Price: unknown"))
        elif cost == 0:
            self.price_label.setText(self.tr("Price: free"))
        else:
            self.price_label.setText(self.tr("Price: about {cost} for this text").format(
                cost=self._money(cost)))  # fmt: skip

    # ---- text to speech -----------------------------------------------------------------------

    def request(self) -> SpeechRequest:
        return SpeechRequest(
            model=self.model_combo.currentText().strip(),
            voice=self.voice_combo.currentText().strip(),
            text=self.text_edit.toPlainText().strip(),
            speed=round(self.speed_spin.value(), 2),
            format=self.format_combo.currentText(),
        )

    def generate(self) -> None:
        if self.ctx is None or self.service is None:
            return
        request = self.request()
        if not request.text or not request.model or not request.voice:
            self._show_error(self.tr("Write some text and pick a model and a voice first."))
            return
        self.ctx.runner.run(self._generate(request), key=self.speak_key)

    @property
    def busy(self) -> bool:
        return self.ctx is not None and (
            self.ctx.runner.is_running(self.speak_key)
            or self.ctx.runner.is_running(self.transcribe_key)
        )

    async def _generate(self, request: SpeechRequest) -> None:
        assert self.ctx is not None and self.service is not None
        self.generate_button.setEnabled(False)
        self.error_label.hide()
        self.status_label.setText(self.tr("Generating speech with {model}…").format(
            model=request.model))  # fmt: skip
        try:
            clip = await self.service.synthesize(
                await self.ctx.client(), request, cost=self.clip_cost(request.model, request.text)
            )
        except BluesdeskError as exc:
            self.status_label.setText("")
            self._show_error(exc)
        else:
            self.history.insertItem(0, self._item(clip))
            self.history.setCurrentRow(0)
            self.status_label.setText(self.tr("Generated {fmt} with {model}.").format(
                fmt=clip.format, model=clip.model))  # fmt: skip
            self.play(clip, start=self.autoplay_check.isChecked())
        finally:
            if shiboken6.isValid(self.generate_button):
                self.generate_button.setEnabled(True)
                self._update_history_actions()

    def detach(self) -> None:
        """MainWindow closes: stop listening to the catalog and close the media backend."""
        super().detach()
        self.player.suspend()

    def play(self, clip: ClipRecord | None, *, start: bool = True) -> None:
        """Make `clip` the current one; `start=False` only selects it (Play starts it)."""
        if clip is None or self.service is None:
            return
        self.current_clip = clip
        self.save_button.setEnabled(True)
        self.player.load(self.service.file_of(clip), play=start)

    def _ask_save(self) -> None:
        clip = self.current_clip
        if clip is None or self.service is None:
            return
        source = self.service.file_of(clip)
        target, _ = QFileDialog.getSaveFileName(
            self, self.tr("Save audio as"), str(Path.home() / source.name),
            self.tr("Audio (*.{fmt})").format(fmt=clip.format),
        )  # fmt: skip
        if target:
            self.save_to(Path(target))

    def save_to(self, target: Path) -> bool:
        """Copy the current clip's file to `target` (the format is the clip's own)."""
        clip = self.current_clip
        if clip is None or self.service is None:
            return False
        try:
            shutil.copyfile(self.service.file_of(clip), target)
        except OSError as exc:
            self._show_error(self.tr("Could not save the audio: {err}").format(err=exc.strerror))
            return False
        self.status_label.setText(self.tr("Saved to {path}.").format(path=target))
        return True

    # ---- history ------------------------------------------------------------------------------

    def _item(self, clip: ClipRecord) -> QListWidgetItem:
        text = " ".join(clip.input_text.split())
        short = text if len(text) <= 70 else text[:67] + "…"
        details = [clip.voice, clip.model, clip.format]
        if clip.speed != 1.0:
            details.append(f"{clip.speed:g}×")
        if clip.cost is not None:
            details.append(self._money(clip.cost))
        item = QListWidgetItem(f"{short}\n{' · '.join(details)}")
        item.setToolTip(clip.input_text)
        item.setData(ClipRole, clip)
        return item

    def clips(self) -> list[ClipRecord]:
        return [self.history.item(i).data(ClipRole) for i in range(self.history.count())]

    def _selected_clip(self) -> ClipRecord | None:
        row = self.history.currentRow()
        return self.history.item(row).data(ClipRole) if row >= 0 else None

    def _update_history_actions(self) -> None:
        has = self.history.currentRow() >= 0
        self.replay_button.setEnabled(has)
        self.delete_button.setEnabled(has)
        self.transcribe_clip_button.setEnabled(has)

    def delete(self, clip: ClipRecord | None) -> None:
        if clip is not None and self.ctx is not None:
            self.ctx.runner.run(self._delete(clip), key=f"speech.delete.{clip.id}")

    async def _delete(self, clip: ClipRecord) -> None:
        assert self.service is not None
        if self.current_clip is not None and self.current_clip.id == clip.id:
            self.player.release()  # the file is deleted next
            self.current_clip = None
            self.save_button.setEnabled(False)
        try:
            await self.service.delete(clip.id)
        except BluesdeskError as exc:
            self._show_error(exc)
            return
        for row in range(self.history.count()):
            if self.history.item(row).data(ClipRole).id == clip.id:
                self.history.takeItem(row)
                break
        self._update_history_actions()

    # ---- speech to text -----------------------------------------------------------------------

    def _ask_transcribe(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Transcribe an audio file"), str(Path.home()), self.tr(AUDIO_FILTER)
        )
        if path:
            self.transcribe_file(Path(path))

    def _transcribe_selected(self) -> None:
        clip = self._selected_clip()
        if clip is not None and self.service is not None:
            self.transcribe_file(self.service.file_of(clip))

    def transcribe_file(self, path: Path) -> None:
        if self.ctx is None or self.service is None:
            return
        model = self.stt_model_combo.currentText().strip()
        self.ctx.runner.run(self._transcribe(path, model), key=self.transcribe_key)

    async def _transcribe(self, path: Path, model: str) -> None:
        assert self.ctx is not None and self.service is not None
        self.transcribe_button.setEnabled(False)
        self.error_label.hide()
        self.status_label.setText(self.tr("Transcribing {name}…").format(name=path.name))
        try:
            transcript = await self.service.transcribe(await self.ctx.client(), path, model=model)
        except OSError as exc:
            self.status_label.setText("")
            self._show_error(self.tr("Could not read {name}: {err}").format(
                name=path.name, err=exc.strerror))  # fmt: skip
        except BluesdeskError as exc:
            self.status_label.setText("")
            self._show_error(exc)
        else:
            self.transcript_edit.setPlainText(transcript.text)
            self.transcript_request_id = transcript.request_id
            self.copy_transcript_button.setEnabled(True)
            self.send_to_chat_button.setEnabled(bool(transcript.text.strip()))
            self.status_label.setText(self.tr("Transcribed {name}.").format(name=path.name))
        finally:
            if shiboken6.isValid(self.transcribe_button):
                self.transcribe_button.setEnabled(True)

    # ---- microphone ---------------------------------------------------------------------------

    def _update_record_button(self) -> None:
        if not shiboken6.isValid(self.record_button):
            return
        has_mic = self.recorder.available and self.service is not None
        self.record_button.setEnabled(has_mic)
        self.record_button.setToolTip(
            self.tr("Record from the microphone, then transcribe") if has_mic
            else self.tr(NO_MIC_TOOLTIP)
        )  # fmt: skip

    def _toggle_recording(self, start: bool) -> None:
        if start:
            self.error_label.hide()
            if not self.recorder.start():
                self.record_button.setChecked(False)
        else:
            self.recorder.stop()

    def _on_recording_changed(self, recording: bool) -> None:
        self.record_button.setChecked(recording)
        self.record_button.setText(
            self.tr("Stop and transcribe") if recording else self.tr("Record")
        )
        if recording:
            self.status_label.setText(self.tr("Recording from the microphone…"))

    def _on_record_failed(self, text: str) -> None:
        self.record_button.setChecked(False)
        self._show_error(self.tr("Recording: ") + text)

    def copy_transcript(self) -> None:
        QGuiApplication.clipboard().setText(self.transcript_edit.toPlainText())
        self.status_label.setText(self.tr("Transcript copied."))

    def _show_error(self, error: BluesdeskError | str) -> None:
        # Every error that reaches this pane carries its own hint (ConsoleRejected included).
        self.error_label.setText(error.describe() if isinstance(error, BluesdeskError) else error)
        self.error_label.show()
