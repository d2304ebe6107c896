"""Microphone recording to a file, for transcription: QMediaCaptureSession + QMediaRecorder.

`available` says whether the system has an audio input at all (the pane disables its Record
button otherwise). A recording is written as WAV where the multimedia backend can encode it
(lossless and every gateway's transcription takes it), else as the backend's default format.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtMultimedia import (
    QAudioInput,
    QMediaCaptureSession,
    QMediaDevices,
    QMediaFormat,
    QMediaRecorder,
)


def microphone_available() -> bool:
    return bool(QMediaDevices.audioInputs())


class MicRecorder(QObject):
    """Signals: recorded(str): the finished file's path; failed(str): why recording stopped;
    recording_changed(bool)."""

    recorded = Signal(str)
    failed = Signal(str)
    recording_changed = Signal(bool)

    def __init__(self, folder: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.folder = folder
        self.devices = QMediaDevices(self)  # audioInputsChanged: a microphone plugged in
        self._session: QMediaCaptureSession | None = None
        self._input: QAudioInput | None = None
        self._recorder: QMediaRecorder | None = None

    @property
    def available(self) -> bool:
        return microphone_available()

    @property
    def recording(self) -> bool:
        return (
            self._recorder is not None
            and self._recorder.recorderState() == QMediaRecorder.RecorderState.RecordingState
        )

    def start(self) -> bool:
        """Start recording from the default input; False (and `failed`) if that is impossible."""
        if self.recording:
            return True
        if not self.available:
            self.failed.emit(self.tr("No microphone was found."))
            return False
        self.folder.mkdir(parents=True, exist_ok=True)
        self._session = QMediaCaptureSession(self)
        self._input = QAudioInput(QMediaDevices.defaultAudioInput(), self)
        self._recorder = QMediaRecorder(self)
        self._session.setAudioInput(self._input)
        self._session.setRecorder(self._recorder)
        wav = QMediaFormat(QMediaFormat.FileFormat.Wave)
        encodable = wav.supportedFileFormats(QMediaFormat.ConversionMode.Encode)
        if QMediaFormat.FileFormat.Wave in encodable:
            wav.setAudioCodec(QMediaFormat.AudioCodec.Wave)
            self._recorder.setMediaFormat(wav)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self._recorder.setOutputLocation(QUrl.fromLocalFile(str(self.folder / f"mic-{stamp}")))
        self._recorder.recorderStateChanged.connect(self._on_state)
        self._recorder.errorOccurred.connect(lambda _e, text: self.failed.emit(text))
        self._recorder.record()
        return True

    def stop(self) -> None:
        if self._recorder is not None:
            self._recorder.stop()

    def _on_state(self, state: QMediaRecorder.RecorderState) -> None:
        recording = state == QMediaRecorder.RecorderState.RecordingState
        self.recording_changed.emit(recording)
        if state == QMediaRecorder.RecorderState.StoppedState and self._recorder is not None:
            location = self._recorder.actualLocation().toLocalFile()
            if location and Path(location).is_file():
                self.recorded.emit(location)
