"""Settings file: round trip, migration, atomic writes, bad files kept aside, no secrets."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from bluesdesk.core.models import ApiStyle, GatewayKind, GatewayProfile
from bluesdesk.errors import SettingsError
from bluesdesk.settings import (
    SCHEMA_VERSION,
    Settings,
    SettingsStore,
    UiSettings,
    migrate,
    settings_from_json,
)

PROFILE = GatewayProfile(
    id="a" * 32,
    name="BluesMinds",
    base_url="https://api.bluesminds.com/v1",
    kind=GatewayKind.BLUESMINDS,
    management_url="https://api.bluesminds.com",
    api_style=ApiStyle.CLAUDE,
    rpm_limit=20,
    timeout_s=30.0,
)


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "settings.json")
    settings = store.load()
    assert settings == Settings()
    assert settings.schema_version == SCHEMA_VERSION
    assert store.last_error is None


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    original = Settings(
        ui=UiSettings(geometry="AdnQywAD", last_pane="models", theme="dark"),
        profiles=(PROFILE, replace(PROFILE, id="b" * 32, name="Local", demo=True)),
        active_profile_id="b" * 32,
        first_run_done=True,
    )
    SettingsStore(path).save(original)
    loaded = SettingsStore(path).load()
    assert loaded == original
    assert json.loads(path.read_text())["schema_version"] == SCHEMA_VERSION


def test_v1_file_is_migrated_and_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    v1 = {
        "schema_version": 1,
        "ui": {"theme": "light"},
        "profiles": {
            "p1": {"name": "One", "base_url": "https://one.example/v1", "kind": "newapi"},
            "p2": {"name": "Two", "base_url": "http://127.0.0.1:8000/v1", "rpm_limit": 10},
        },
        "active_profile_id": "p2",
    }
    path.write_text(json.dumps(v1))
    store = SettingsStore(path)
    settings = store.load()
    assert store.last_error is None
    assert [p.id for p in settings.profiles] == ["p1", "p2"]
    assert settings.profiles[0].kind is GatewayKind.NEWAPI
    assert settings.profiles[1].rpm_limit == 10
    assert settings.ui.theme == "light"
    assert settings.active_profile_id == "p2"
    on_disk = json.loads(path.read_text())
    assert on_disk["schema_version"] == SCHEMA_VERSION
    assert isinstance(on_disk["profiles"], list)


def test_migrate_rejects_malformed_v1_profiles() -> None:
    with pytest.raises(SettingsError):
        migrate({"schema_version": 1, "profiles": ["not", "a", "dict"]})


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[1, 2]",
        '{"schema_version": 99}',
        '{"schema_version": 2, "profiles": [{"id": "x", "name": 3, "base_url": ""}]}',
        '{"schema_version": 2, "profiles": [{"id": "x", "name": "n"}]}',
        '{"schema_version": 2, "profiles": [{"id": "x", "name": "n", "base_url": "u",'
        ' "kind": "martian"}]}',
        '{"schema_version": 2, "first_run_done": "yes"}',
        b"\xff\xfe\x00garbage",
    ],
)
def test_unreadable_file_is_kept_aside(tmp_path: Path, content: str | bytes) -> None:
    path = tmp_path / "settings.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    store = SettingsStore(path)
    settings = store.load()
    assert settings == Settings()
    assert isinstance(store.last_error, SettingsError)
    assert not path.exists()
    bad = tmp_path / "settings.json.bad"
    assert bad.exists()
    assert bad.read_bytes() == (content if isinstance(content, bytes) else content.encode())
    # The next save writes a fresh file next to the kept one.
    store.save(replace(settings, first_run_done=True))
    assert SettingsStore(path).load().first_run_done is True
    assert bad.exists()


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    store = SettingsStore(path)
    for i in range(5):
        store.save(Settings(ui=UiSettings(last_pane=f"pane{i}")))
    assert sorted(os.listdir(tmp_path)) == ["settings.json"]
    assert store.load().ui.last_pane == "pane4"


def test_save_failure_raises_settings_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    store = SettingsStore(blocker / "settings.json")  # parent is a file: cannot be created
    with pytest.raises(SettingsError):
        store.save(Settings())


def test_update_applies_to_latest(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "settings.json")
    store.load()
    store.update(lambda s: replace(s, profiles=(PROFILE,)))
    store.update(lambda s: replace(s, ui=replace(s.ui, theme="dark")))
    reloaded = SettingsStore(tmp_path / "settings.json").load()
    assert reloaded.profiles == (PROFILE,)
    assert reloaded.ui.theme == "dark"


def test_unknown_theme_falls_back_and_unknown_keys_ignored() -> None:
    settings = settings_from_json(
        {"schema_version": 2, "ui": {"theme": "neon"}, "future_section": {"x": 1}}
    )
    assert settings.ui.theme == "system"


def test_duplicate_profile_ids_rejected() -> None:
    item = {"id": "x", "name": "n", "base_url": "u"}
    with pytest.raises(SettingsError):
        settings_from_json({"schema_version": 2, "profiles": [item, item]})
