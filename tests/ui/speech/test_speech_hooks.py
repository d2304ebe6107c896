"""The Speech pane's second pass: catalog pickers and cost, speak_text, use_model, Send to Chat,
the microphone button, and Chat's "Read aloud" through the main window."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtMultimedia import QMediaDevices

from bluesdesk.paths import Paths
from bluesdesk.services.speech import SpeechService
from bluesdesk.ui.speech.pane import NO_MIC_TOOLTIP, SpeechPane
from tests.ui.conftest import run_async, show_pane

pytestmark = pytest.mark.gui
LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def sctx(ctx, emulator_profile, catalog_db, qtbot):
    """The UI context with a profile on the emulator, a catalog (one favourite) and speech."""
    ctx.db = catalog_db
    ctx.speech = SpeechService(catalog_db, Paths.resolve().media_dir)
    run_async(qtbot, ctx.catalog.set_favourite(emulator_profile, "tts-1-hd", True))
    return ctx


@pytest.fixture
def make_pane(sctx, qtbot):
    def make() -> SpeechPane:
        pane = show_pane(SpeechPane(sctx), sctx, qtbot)
        pane.player.player.setPlaybackRate(4.0)
        return pane

    return make


def items(combo) -> list[str]:
    return [combo.itemText(i) for i in range(combo.count())]


def test_pickers_come_from_the_catalog_favourites_first(make_pane):
    pane = make_pane()
    tts = items(pane.model_combo)
    assert tts[0] == "tts-1-hd" and {"tts-1", "gpt-4o-mini-tts"} <= set(tts)
    assert "whisper-1" in items(pane.stt_model_combo)
    assert not {"gpt-4o", "dall-e-3"} & set(tts + items(pane.stt_model_combo))
    pane.use_model("tts-1")
    assert pane.model_combo.currentText() == "tts-1"
    pane.use_model("gpt-4o-transcribe")
    assert pane.stt_model_combo.currentText() == "gpt-4o-transcribe"
    assert pane.model_combo.currentText() == "tts-1"
    pane.text_edit.setPlainText("Hello")
    assert pane.clip_cost("tts-1", "Hello") is not None
    assert pane.price_label.text().startswith("Price: about")


def test_speak_text_generates_plays_and_keeps_speed_and_cost(make_pane, qtbot):
    pane = make_pane()
    pane.use_model("tts-1")
    pane.format_combo.setCurrentText("wav")
    pane.speed_spin.setValue(1.5)
    with qtbot.waitSignal(pane.player.finished, timeout=15_000):
        pane.speak_text("Read this aloud.")
    assert pane.text_edit.toPlainText() == "Read this aloud."
    [clip] = pane.clips()
    assert clip.input_text == "Read this aloud." and clip.speed == 1.5
    assert clip.cost == pytest.approx(pane.clip_cost("tts-1", clip.input_text))
    assert "1.5×" in pane.history.item(0).text()

    again = make_pane()  # reloaded from the database
    assert again.clips()[0].speed == 1.5 and again.clips()[0].cost == clip.cost


def test_send_to_chat_emits_the_transcript(make_pane, qtbot):
    pane = make_pane()
    assert not pane.send_to_chat_button.isEnabled()
    pane.use_model("tts-1")
    pane.format_combo.setCurrentText("mp3")
    pane.speak_text("Send me over.")
    qtbot.waitUntil(lambda: not pane.busy, timeout=15_000)
    pane.history.setCurrentRow(0)
    qtbot.mouseClick(pane.transcribe_clip_button, LEFT)
    qtbot.waitUntil(pane.send_to_chat_button.isEnabled, timeout=10_000)
    with qtbot.waitSignal(pane.send_to_chat_requested, timeout=1000) as sent:
        qtbot.mouseClick(pane.send_to_chat_button, LEFT)
    assert sent.args == ["Send me over."]


def test_record_button_follows_the_microphone(make_pane):
    pane = make_pane()
    has_mic = bool(QMediaDevices.audioInputs())
    assert pane.record_button.isEnabled() == has_mic
    if not has_mic:
        assert pane.record_button.toolTip() == NO_MIC_TOOLTIP
        assert not pane.recorder.start()


def test_read_aloud_from_the_main_window_speaks_in_the_speech_pane(sctx, make_window, qtbot):
    window = make_window()
    window.read_aloud("Spoken from chat.")
    pane = window.panes["speech"]
    assert isinstance(pane, SpeechPane)
    assert window.current_key == "speech"
    with qtbot.waitSignal(pane.player.finished, timeout=15_000):  # it plays as it arrives
        qtbot.waitUntil(lambda: pane.history.count() == 1, timeout=15_000)
    assert pane.clips()[0].input_text == "Spoken from chat."


def test_starring_a_model_elsewhere_reorders_the_speech_picker(sctx, make_pane, qtbot):
    pane = make_pane()
    run_async(qtbot, sctx.catalog.set_favourite(sctx.profiles.active(), "gpt-4o-mini-tts", True))
    qtbot.waitUntil(lambda: items(pane.model_combo)[0] == "gpt-4o-mini-tts", timeout=10_000)
    assert items(pane.model_combo)[1] == "tts-1-hd"
    pane.detach()
    assert pane._on_catalog_changed not in sctx.catalog.listeners
