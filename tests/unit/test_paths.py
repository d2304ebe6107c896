"""Paths: which root wins, and the layout below it."""

from __future__ import annotations

from pathlib import Path

from bluesdesk.paths import Paths


def test_profile_dir_beats_environment(tmp_path: Path) -> None:
    paths = Paths.resolve(tmp_path / "p", env={"BLUESDESK_HOME": str(tmp_path / "env")})
    assert paths.root == tmp_path / "p"
    assert paths.settings_file == tmp_path / "p" / "settings.json"
    assert paths.db_file.parent == paths.root
    assert paths.log_dir == tmp_path / "p" / "logs"


def test_environment_beats_platform(tmp_path: Path) -> None:
    paths = Paths.resolve(env={"BLUESDESK_HOME": str(tmp_path / "env")}, platform="linux")
    assert paths.root == tmp_path / "env"


def test_linux_uses_xdg_data_home(tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg")}
    paths = Paths.resolve(env=env, platform="linux", home=tmp_path / "home")
    assert paths.root == tmp_path / "xdg" / "bluesdesk"


def test_linux_ignores_relative_xdg(tmp_path: Path) -> None:
    paths = Paths.resolve(env={"XDG_DATA_HOME": "rel"}, platform="linux", home=tmp_path)
    assert paths.root == tmp_path / ".local" / "share" / "bluesdesk"


def test_windows_and_macos(tmp_path: Path) -> None:
    win = Paths.resolve(env={"APPDATA": str(tmp_path / "Roaming")}, platform="win32", home=tmp_path)
    assert win.root == tmp_path / "Roaming" / "bluesdesk"
    mac = Paths.resolve(env={}, platform="darwin", home=tmp_path)
    assert mac.root == tmp_path / "Library" / "Application Support" / "bluesdesk"


def test_home_fixture_env_is_honoured(home: Path) -> None:
    assert Paths.resolve().root == home


def test_ensure_creates_folders(tmp_path: Path) -> None:
    paths = Paths.resolve(tmp_path / "new" / "root")
    paths.ensure()
    for folder in (paths.root, paths.log_dir, paths.media_dir, paths.cache_dir):
        assert folder.is_dir()
    paths.ensure()  # idempotent
