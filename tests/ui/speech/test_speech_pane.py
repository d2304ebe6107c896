"""The Speech pane against the emulator: generate, play to the end, save, history, transcribe."""

from __future__ import annotations

import wave

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtMultimedia import QMediaDevices, QMediaPlayer

from bluesdesk.emulator.media import audio as emulator_audio
from bluesdesk.services.speech import SpeechService
from bluesdesk.ui.speech.pane import NO_DEVICE_NOTICE, SpeechPane

pytestmark = pytest.mark.gui
LEFT = Qt.MouseButton.LeftButton
TEXT = "Testing one two."


@pytest.fixture
def setup(open_media_pane):
    """A factory of fresh Speech panes on the emulator, each on a database connection of its own."""
    return lambda: open_media_pane(SpeechPane, SpeechService)


def speak(pane: SpeechPane, qtbot, fmt: str, text: str = TEXT) -> None:
    pane.text_edit.setPlainText(text)
    pane.model_combo.setCurrentText("tts-1")
    pane.voice_combo.setCurrentText("nova")
    pane.format_combo.setCurrentText(fmt)
    pane.player.player.setPlaybackRate(4.0)
    qtbot.mouseClick(pane.generate_button, LEFT)
    assert pane.busy
    qtbot.waitUntil(lambda: not pane.busy, timeout=15_000)


@pytest.mark.parametrize("fmt", ["wav", "mp3"])
def test_generated_clip_plays_to_the_end(setup, qtbot, fmt):
    pane = setup()
    speak(pane, qtbot, fmt)
    assert not pane.error_label.isVisible(), pane.error_label.text()
    player = pane.player.player
    with qtbot.waitSignal(pane.player.finished, timeout=10_000):
        pass
    assert player.mediaStatus() == QMediaPlayer.MediaStatus.EndOfMedia
    assert player.duration() > 500
    assert pane.player.slider.maximum() == player.duration()
    assert player.error() == QMediaPlayer.Error.NoError
    assert pane.clips()[0].format == fmt
    # Replay, pause and seek work on the finished clip.
    pane.player.toggle()
    qtbot.waitUntil(lambda: pane.player.playing, timeout=3000)
    pane.player.toggle()
    qtbot.waitUntil(lambda: not pane.player.playing, timeout=3000)
    assert pane.player.play_button.text() == "Play"
    pane.player.seek(200)
    qtbot.waitUntil(lambda: player.position() >= 200, timeout=3000)


def test_no_device_notice_matches_the_machine(setup):
    pane = setup()
    assert pane.device_notice.isVisible() == (not QMediaDevices.audioOutputs())
    assert pane.device_notice.text() == NO_DEVICE_NOTICE


def test_save_writes_a_decodable_file_and_history_survives(setup, qtbot, tmp_path):
    pane = setup()
    speak(pane, qtbot, "wav")
    target = tmp_path / "saved.wav"
    assert pane.save_to(target)
    with wave.open(str(target)) as w:
        seconds = w.getnframes() / w.getframerate()
    assert seconds == pytest.approx(emulator_audio.duration_for(TEXT), rel=0.01)

    again = setup()
    assert [c.id for c in again.clips()] == [c.id for c in pane.clips()]
    again.history.setCurrentRow(0)
    again.player.player.setPlaybackRate(4.0)
    with qtbot.waitSignal(again.player.finished, timeout=10_000):
        qtbot.mouseClick(again.replay_button, LEFT)


def test_transcribing_an_emulator_clip_round_trips_its_text(setup, qtbot):
    pane = setup()
    speak(pane, qtbot, "mp3", text="The quick brown fox. Jumps!")
    pane.history.setCurrentRow(0)
    qtbot.mouseClick(pane.transcribe_clip_button, LEFT)
    qtbot.waitUntil(lambda: pane.copy_transcript_button.isEnabled(), timeout=10_000)
    assert pane.transcript_edit.toPlainText() == "The quick brown fox. Jumps!"
    qtbot.mouseClick(pane.copy_transcript_button, LEFT)
    assert QGuiApplication.clipboard().text() == "The quick brown fox. Jumps!"


def test_delete_and_errors(setup, emulator, qtbot, tmp_path):
    pane = setup()
    speak(pane, qtbot, "wav")
    clip = pane.clips()[0]
    path = pane.service.file_of(clip)
    pane.delete(clip)
    qtbot.waitUntil(lambda: pane.history.count() == 0, timeout=5000)
    assert not path.exists()

    speak(pane, qtbot, "opus")
    assert "opus" in pane.error_label.text()
    emulator.arm_fault("429", 5, retry_after=0, path_prefix="/v1/audio/speech")
    speak(pane, qtbot, "wav")
    assert pane.generate_button.isEnabled()
    assert "Too many requests" in pane.error_label.text() or "429" in pane.error_label.text()
    assert pane.history.count() == 0

    pane.transcribe_file(tmp_path / "missing.wav")
    qtbot.waitUntil(lambda: "missing.wav" in pane.error_label.text(), timeout=5000)


def test_play_when_ready_off_selects_the_new_clip_without_playing(setup, qtbot):
    pane = setup()
    assert pane.autoplay_check.isChecked()  # on by default
    qtbot.mouseClick(pane.autoplay_check, LEFT)
    assert not pane.autoplay_check.isChecked()
    speak(pane, qtbot, "wav")
    assert not pane.error_label.isVisible(), pane.error_label.text()
    assert pane.current_clip is not None and pane.current_clip.id == pane.clips()[0].id
    assert not pane.player.playing
    assert pane.player.player.source().isEmpty()  # the media backend was not even opened
    assert pane.player.play_button.isEnabled() and pane.save_button.isEnabled()
    with qtbot.waitSignal(pane.player.finished, timeout=15_000):
        qtbot.mouseClick(pane.player.play_button, LEFT)  # Play opens and plays it
    assert pane.player.player.error() == QMediaPlayer.Error.NoError
