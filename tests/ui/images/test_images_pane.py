"""The Images pane against the emulator: generate, gallery across restarts, viewer, errors."""

from __future__ import annotations

import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from bluesdesk.services.images import ImageService
from bluesdesk.ui.images.pane import ImagesPane

pytestmark = pytest.mark.gui
LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def setup(open_media_pane):
    """A factory of fresh Images panes on the emulator, each on a database connection of its own."""
    return lambda: open_media_pane(ImagesPane, ImageService)


def generate(pane: ImagesPane, qtbot, prompt: str, *, n: int = 1, fmt: str = "b64_json") -> None:
    pane.prompt_edit.setPlainText(prompt)
    pane.model_combo.setCurrentText("dall-e-2")
    pane.size_combo.setCurrentText("256x256")
    pane.n_spin.setValue(n)
    pane.format_combo.setCurrentIndex(pane.format_combo.findData(fmt))
    qtbot.mouseClick(pane.generate_button, LEFT)
    qtbot.waitUntil(lambda: pane.busy, timeout=2000)
    qtbot.waitUntil(lambda: not pane.busy, timeout=15_000)


def test_generate_fills_the_gallery_and_survives_a_restart(setup, qtbot, tmp_path):
    pane = setup()
    assert pane.gallery_stack.currentWidget() is pane.gallery_empty
    generate(pane, qtbot, "A harbour at night", n=2, fmt="url")
    assert not pane.error_label.isVisible(), pane.error_label.text()
    assert pane.gallery.rowCount() == 2
    assert pane.gallery_stack.currentWidget() is pane.gallery_view
    generate(pane, qtbot, "A single lantern", fmt="b64_json")
    records = pane.gallery.records()
    assert [r.prompt for r in records] == ["A single lantern"] + ["A harbour at night"] * 2
    # Thumbnails arrive from the thread pool.
    qtbot.waitUntil(lambda: all(pane.gallery.thumbnail_ready(r.id) for r in records), timeout=5000)

    again = setup()  # a new service on the same database file: the app restarted
    assert [r.id for r in again.gallery.records()] == [r.id for r in records]
    assert again.history_menu.actions()[0].text() == "A single lantern"


def test_save_as_copy_and_viewer(setup, qtbot, tmp_path):
    pane = setup()
    generate(pane, qtbot, "Save me")
    record = pane.gallery.records()[0]
    target = tmp_path / "out.png"
    assert pane.save_to(record.id, target)
    with Image.open(target) as img:
        assert img.format == "PNG" and img.size == (256, 256)
    jpeg = tmp_path / "out.jpg"
    assert pane.save_to(record.id, jpeg)
    with Image.open(jpeg) as img:
        assert img.format == "JPEG"

    pane.gallery_view.setCurrentIndex(pane.gallery.index(0))
    qtbot.mouseClick(pane.copy_prompt_button, LEFT)
    assert QGuiApplication.clipboard().text() == "Save me"
    qtbot.mouseClick(pane.copy_image_button, LEFT)
    assert QGuiApplication.clipboard().image().size().width() == 256

    viewer = pane.open_viewer(0)
    assert viewer is not None
    qtbot.waitExposed(viewer)
    viewer.set_zoom(1.0)
    viewer.step_zoom(1)
    assert viewer.zoom == 1.5
    assert viewer.image_label.pixmap().width() == 384
    viewer.close()


def test_rerun_repeats_the_settings_and_delete_removes(setup, qtbot):
    pane = setup()
    generate(pane, qtbot, "Again please", fmt="url")
    first = pane.gallery.records()[0]
    pane.prompt_edit.setPlainText("something else")
    pane.size_combo.setCurrentText("512x512")
    pane.gallery_view.setCurrentIndex(pane.gallery.index(0))
    qtbot.mouseClick(pane.rerun_button, LEFT)
    qtbot.waitUntil(lambda: pane.gallery.rowCount() == 2, timeout=15_000)
    second = pane.gallery.records()[0]
    assert second.prompt == "Again please" and (second.width, second.height) == (256, 256)
    assert second.params["response_format"] == "url"

    path = pane.file_of(first.id)
    assert path is not None and path.is_file()
    pane.delete(first.id)
    qtbot.waitUntil(lambda: pane.gallery.rowCount() == 1, timeout=5000)
    assert not path.exists()
    assert pane.gallery.records()[0].id == second.id


def test_refusal_and_rate_limit_are_shown_as_text(setup, emulator, qtbot):
    pane = setup()
    generate(pane, qtbot, "A forbidden picture")
    assert pane.error_label.isVisible()
    assert "safety system" in pane.error_label.text()
    assert pane.gallery.rowCount() == 0

    emulator.arm_fault("429", 5, retry_after=0, path_prefix="/v1/images/generations")
    generate(pane, qtbot, "Too many")
    assert "429" in pane.error_label.text() or "Too many requests" in pane.error_label.text()
    assert pane.gallery.rowCount() == 0
    assert pane.generate_button.isEnabled() and not pane.cancel_button.isVisible()


def test_cancel_stops_a_running_generation(setup, emulator, qtbot):
    pane = setup()
    emulator.arm_fault("slow_headers", 1, seconds=5, path_prefix="/v1/images/generations")
    pane.prompt_edit.setPlainText("Slow one")
    pane.model_combo.setCurrentText("dall-e-2")
    qtbot.mouseClick(pane.generate_button, LEFT)
    qtbot.waitUntil(lambda: pane.cancel_button.isVisible(), timeout=2000)
    qtbot.mouseClick(pane.cancel_button, LEFT)
    qtbot.waitUntil(lambda: not pane.busy, timeout=3000)
    assert pane.status_label.text() == "Cancelled."
    assert pane.generate_button.isEnabled()
    assert pane.gallery.rowCount() == 0


def test_pane_without_a_service_says_so(qtbot):
    pane = ImagesPane()
    qtbot.addWidget(pane)
    assert pane.is_ready()
    assert pane.body.currentWidget() is pane.unavailable
