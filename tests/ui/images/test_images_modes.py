"""The Images pane's second pass: catalog-fed picker and prices, Edit mode, async tasks."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from PySide6.QtCore import Qt

from bluesdesk.paths import Paths
from bluesdesk.services.images import ImageService
from bluesdesk.ui.images.pane import ImagesPane
from tests.ui.conftest import run_async, show_pane

pytestmark = pytest.mark.gui
LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def setup(ctx, emulator_profile, catalog_db, qtbot):
    """A profile on the emulator, a catalog with one favourite, and an Images pane factory."""
    run_async(
        qtbot, ctx.catalog.set_favourite(emulator_profile, "stable-diffusion-3.5-large", True)
    )
    media = Paths.resolve().media_dir

    def make_pane() -> ImagesPane:
        return show_pane(ImagesPane(ctx, ImageService(catalog_db, media)), ctx, qtbot)

    return make_pane


def models_in(pane: ImagesPane) -> list[str]:
    return [pane.model_combo.itemData(i) for i in range(pane.model_combo.count())]


def run(pane: ImagesPane, qtbot, timeout: int = 15_000) -> None:
    qtbot.mouseClick(pane.generate_button, LEFT)
    qtbot.waitUntil(lambda: pane.busy, timeout=2000)
    qtbot.waitUntil(lambda: not pane.busy, timeout=timeout)


def test_picker_lists_catalog_image_models_favourites_first_with_prices(setup, qtbot):
    pane = setup()
    names = models_in(pane)
    assert names[0] == "stable-diffusion-3.5-large"
    assert pane.model_combo.itemText(0) == "★ stable-diffusion-3.5-large"
    assert {"dall-e-2", "dall-e-3", "gpt-image-1", "mj-imagine"} <= set(names)
    assert not {"gpt-4o", "tts-1", "whisper-1"} & set(names)
    assert names[1:] == sorted(names[1:], key=str.lower)

    pane.use_model("dall-e-3")
    assert pane.model() == "dall-e-3"
    each = pane.price_per_image()
    assert each is not None and each > 0
    assert "per image" in pane.price_label.text()
    pane.n_spin.setValue(3)
    assert "for 3" in pane.price_label.text()

    pane.prompt_edit.setPlainText("A priced picture")
    pane.use_model("dall-e-2")
    pane.size_combo.setCurrentText("256x256")
    pane.n_spin.setValue(2)
    run(pane, qtbot)
    assert not pane.error_label.isVisible(), pane.error_label.text()
    made = pane.gallery.records()[:2]
    assert all(r.cost == pytest.approx(pane.price_per_image() * 2) for r in made)


def test_use_model_survives_the_model_reload(ctx, setup, qtbot):
    pane = setup()
    pane.use_model("gpt-image-1")
    pane._models_for = ""  # the next show reloads the models, as after a profile switch
    pane.on_shown()
    qtbot.waitUntil(lambda: not ctx.runner.is_running(pane.models_key), timeout=10_000)
    assert pane.model() == "gpt-image-1"


def png_file(path, size=(256, 256), color=(10, 200, 10), mask=False):
    if mask:
        img = Image.new("RGBA", size, (0, 0, 0, 255))
        img.paste((0, 0, 0, 0), (0, 0, size[0] // 2, size[1] // 2))
    else:
        img = Image.new("RGB", size, color)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    path.write_bytes(buf.getvalue())
    return path


def test_edit_a_file_with_a_mask_then_the_gallery_image(setup, qtbot, tmp_path):
    pane = setup()
    pane.set_mode("edit")
    assert pane.edit_box.isVisible() and pane.generate_button.text() == "Edit"
    assert not pane.size_combo.isVisible()
    pane.use_model("dall-e-2")
    pane.prompt_edit.setPlainText("Add a red sun")
    qtbot.mouseClick(pane.generate_button, LEFT)
    assert "Choose the image" in pane.error_label.text() and not pane.busy

    pane.set_edit_source(png_file(tmp_path / "green.png"))
    pane.set_edit_mask(png_file(tmp_path / "mask.png", mask=True))
    run(pane, qtbot)
    assert not pane.error_label.isVisible(), pane.error_label.text()
    [record] = pane.gallery.records()
    assert record.params["edit"] is True and record.params["masked"] is True
    with Image.open(pane.file_of(record.id)) as out:
        rgb = out.convert("RGB")
        assert rgb.size == (256, 256)
        assert rgb.getpixel((200, 200)) == (10, 200, 10)  # outside the mask: kept
        assert rgb.getpixel((20, 20)) != (10, 200, 10)  # inside: repainted

    # Edit the result again, picked from the gallery, without a mask.
    pane.set_mode("generate")
    pane.gallery_view.setCurrentIndex(pane.gallery.index(0))
    qtbot.mouseClick(pane.use_selected_button, LEFT)
    assert pane.mode == "edit" and pane.edit_source == pane.file_of(record.id)
    pane.set_edit_mask(None)
    run(pane, qtbot)
    assert pane.gallery.rowCount() == 2
    assert pane.gallery.records()[0].params["masked"] is False


def test_edit_of_an_unreadable_file_says_so(setup, qtbot, tmp_path):
    pane = setup()
    pane.set_mode("edit")
    pane.prompt_edit.setPlainText("Anything")
    bogus = tmp_path / "notes.png"
    bogus.write_text("not a picture")
    pane.set_edit_source(bogus)
    run(pane, qtbot)
    assert "Could not read the picture" in pane.error_label.text()
    assert pane.gallery.rowCount() == 0


def test_async_task_shows_progress_and_lands_in_the_gallery(setup, qtbot):
    pane = setup()
    pane.set_mode("task")
    assert pane.generate_button.text() == "Submit task" and not pane.n_spin.isVisible()
    pane.use_model("mj-imagine")
    pane.size_combo.setCurrentText("256x256")
    pane.prompt_edit.setPlainText("A castle in fog")
    pane.task_options = {"duration_s": 1.0}
    pane.task_poll_wait = 0.3
    pane.task_min_interval = 0.0
    seen: list[int] = []
    pane.progress.valueChanged.connect(seen.append)
    run(pane, qtbot)
    assert not pane.error_label.isVisible(), pane.error_label.text()
    assert any(0 < p < 100 for p in seen), seen
    assert pane.task is not None and pane.task.status == "succeeded"
    [record] = pane.gallery.records()
    assert record.params["task_id"] == pane.task.id and record.model == "mj-imagine"
    assert record.cost == pytest.approx(pane.price_per_image())
    assert pane.status_label.text() == "Task finished: 1 new."
    assert not pane.progress.isVisible() and pane.mode_tabs.isEnabled()


def test_cancelled_task_is_cancelled_on_the_gateway(setup, emulator, qtbot):
    pane = setup()
    pane.set_mode("task")
    pane.use_model("mj-imagine")
    pane.prompt_edit.setPlainText("Never mind")
    pane.task_options = {"duration_s": 30}
    pane.task_poll_wait = 0.3
    qtbot.mouseClick(pane.generate_button, LEFT)
    qtbot.waitUntil(lambda: pane.task is not None, timeout=5000)
    qtbot.mouseClick(pane.cancel_button, LEFT)
    qtbot.waitUntil(lambda: not pane.busy, timeout=5000)
    assert pane.task is not None and pane.task.status == "cancelled"
    assert pane.status_label.text() == "Task cancelled."
    assert pane.gallery.rowCount() == 0
    assert emulator.request_count(f"/v1/tasks/{pane.task.id}/cancel") == 1


def test_starring_a_model_elsewhere_reorders_the_picker(ctx, setup, qtbot):
    pane = setup()
    profile = ctx.profiles.active()
    run_async(qtbot, ctx.catalog.set_favourite(profile, "dall-e-2", True))
    qtbot.waitUntil(lambda: models_in(pane)[:2] == ["dall-e-2", "stable-diffusion-3.5-large"],
                    timeout=10_000)  # fmt: skip
    assert pane.favourite_models == ["dall-e-2", "stable-diffusion-3.5-large"]
    pane.detach()
    assert pane._on_catalog_changed not in ctx.catalog.listeners
