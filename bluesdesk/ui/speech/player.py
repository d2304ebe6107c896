"""A small audio player: play/pause, a seek slider and the time, over QMediaPlayer.

With no audio device Qt still plays (silently, in real time), so the controls keep working;
`no_device` says so and the pane shows a notice.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QHideEvent
from PySide6.QtMultimedia import QAudioOutput, QMediaDevices, QMediaPlayer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QWidget


def _clock(ms: int) -> str:
    seconds = max(0, ms) // 1000
    return f"{seconds // 60}:{seconds % 60:02d}"


class AudioPlayer(QWidget):
    """Signals: error(str): the file could not be played; finished(): playback reached the end."""

    error = Signal(str)
    finished = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.player = QMediaPlayer(self)
        self.output = QAudioOutput(self)
        self.player.setAudioOutput(self.output)
        self.no_device = not QMediaDevices.audioOutputs()
        self.source: Path | None = None
        self._opened = False

        self.play_button = QPushButton(self.tr("Play"))
        self.play_button.setEnabled(False)
        self.play_button.clicked.connect(lambda *_: self.toggle())
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setEnabled(False)
        self.slider.sliderMoved.connect(self.player.setPosition)
        self.time_label = QLabel("0:00 / 0:00")
        self.time_label.setObjectName("muted")

        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.play_button)
        row.addWidget(self.slider, 1)
        row.addWidget(self.time_label)

        self.player.positionChanged.connect(self._on_position)
        self.player.durationChanged.connect(self._on_duration)
        self.player.playbackStateChanged.connect(lambda *_: self._sync_button())
        self.player.mediaStatusChanged.connect(self._on_status)
        self.player.errorOccurred.connect(lambda _e, text: self.error.emit(text))

    def load(self, path: Path, *, play: bool = True) -> None:
        """Make `path` the current clip; with `play=False` the media backend is not even
        opened until Play is pressed (its decoder thread costs nothing until then)."""
        self.source = path
        self._opened = False
        if play:
            self._open()
            self.player.play()
        self.play_button.setEnabled(True)
        self.slider.setEnabled(True)

    def _open(self) -> None:
        if self.source is not None and not self._opened:
            self.player.setSource(QUrl.fromLocalFile(str(self.source)))
            self._opened = True

    def release(self) -> None:
        """Stop and let go of the current file (before it is deleted)."""
        self.player.stop()
        if self._opened:
            self.player.setSource(QUrl())
        self.source = None
        self._opened = False
        self.play_button.setEnabled(False)
        self.slider.setEnabled(False)

    def suspend(self) -> None:
        """Stop and close the media backend, keeping the clip (Play opens it again).

        Called when the window closes: the FFmpeg backend's thread must be done with our
        QMediaPlayer before the widgets are deleted — deleting them mid-playback crashed in
        that thread (seen in CI, tearing a window down while a clip played).
        """
        self.player.stop()
        if self._opened:
            self.player.setSource(QUrl())
            self._opened = False

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        if not self.window().isVisible():  # the window closed, not just another pane shown
            self.suspend()

    def toggle(self) -> None:
        if self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState:
            self.player.pause()
        else:
            self._open()
            self.player.play()

    def seek(self, ms: int) -> None:
        self._open()
        self.player.setPosition(ms)

    @property
    def playing(self) -> bool:
        return self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState

    def _on_position(self, ms: int) -> None:
        if not self.slider.isSliderDown():
            self.slider.setValue(ms)
        self.time_label.setText(f"{_clock(ms)} / {_clock(self.player.duration())}")

    def _on_duration(self, ms: int) -> None:
        self.slider.setRange(0, ms)
        self.time_label.setText(f"{_clock(self.player.position())} / {_clock(ms)}")

    def _on_status(self, status: QMediaPlayer.MediaStatus) -> None:
        if status == QMediaPlayer.MediaStatus.EndOfMedia:
            self.finished.emit()
        self._sync_button()

    def _sync_button(self) -> None:
        self.play_button.setText(self.tr("Pause") if self.playing else self.tr("Play"))
