"""User settings: frozen dataclasses stored as versioned JSON. Never a secret in here.

The file carries ``schema_version``. Older files are brought forward by one migration function
per version (`MIGRATIONS`), then parsed strictly. Writes are atomic (temp file, fsync, rename), so a
crash leaves either the old or the new file. A file that cannot be read or parsed is moved aside to
``settings.json.bad``, defaults are loaded and `SettingsStore.last_error` says what happened.

API keys live in the keyring (`bluesdesk.secrets`); a profile here holds only its id.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from bluesdesk.core.models import ApiStyle, GatewayKind, GatewayProfile
from bluesdesk.errors import SettingsError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
THEMES = ("system", "light", "dark")


@dataclass(frozen=True)
class UiSettings:
    geometry: str = ""  # base64 of QWidget.saveGeometry()
    last_pane: str = "chat"
    theme: str = "system"  # system | light | dark


@dataclass(frozen=True)
class Settings:
    schema_version: int = SCHEMA_VERSION
    ui: UiSettings = field(default_factory=UiSettings)
    profiles: tuple[GatewayProfile, ...] = ()
    active_profile_id: str = ""
    first_run_done: bool = False

    def profile(self, profile_id: str) -> GatewayProfile | None:
        return next((p for p in self.profiles if p.id == profile_id), None)


# ---- Migrations -------------------------------------------------------------------------------
# MIGRATIONS[n] turns a version-n document into a version-(n+1) document. Each one is small,
# works on plain JSON data, and never needs to change once released.


def _v1_to_v2(doc: dict[str, Any]) -> dict[str, Any]:
    """v1 kept `profiles` as an object keyed by id; v2 keeps an ordered list with the id inside.

    v1 objects were ordered by insertion, so the list keeps the user's order.
    """
    old = doc.get("profiles", {})
    if not isinstance(old, dict):
        raise SettingsError("Version 1 settings have a malformed profile table.")
    profiles = []
    for profile_id, body in old.items():
        if not isinstance(body, dict):
            raise SettingsError("Version 1 settings have a malformed profile entry.")
        profiles.append({**body, "id": profile_id})
    return {**doc, "profiles": profiles, "schema_version": 2}


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2}


def migrate(doc: dict[str, Any]) -> dict[str, Any]:
    """Bring a settings document up to `SCHEMA_VERSION`, one version at a time."""
    version = doc.get("schema_version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise SettingsError(f"Settings have an invalid schema version: {version!r}.")
    if version > SCHEMA_VERSION:
        raise SettingsError(
            f"Settings were written by a newer bluesdesk (schema {version}).",
            hint="Defaults were loaded; the newer file was kept as settings.json.bad.",
        )
    while version < SCHEMA_VERSION:
        doc = MIGRATIONS[version](doc)
        version += 1
        doc["schema_version"] = version
    return doc


# ---- JSON <-> dataclasses ---------------------------------------------------------------------


def _expect(value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    # bool is an int in Python; a JSON `true` must not pass as a number.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind in (int, float)):
        raise SettingsError(f"Settings field {what} has the wrong type.")
    return value


def _profile_from_json(data: Any) -> GatewayProfile:
    _expect(data, dict, "profiles[]")
    try:
        profile_id = _expect(data["id"], str, "profile.id")
        name = _expect(data["name"], str, "profile.name")
        base_url = _expect(data["base_url"], str, "profile.base_url")
    except KeyError as exc:
        raise SettingsError(f"A saved profile lacks the field {exc.args[0]!r}.") from None
    if not profile_id:
        raise SettingsError("A saved profile has an empty id.")
    try:
        kind = GatewayKind(data.get("kind", GatewayKind.CUSTOM.value))
        style = ApiStyle(data.get("api_style", ApiStyle.OPENAI.value))
    except ValueError as exc:
        raise SettingsError(f"A saved profile has an unknown value: {exc}.") from None
    timeout = data.get("timeout_s", 60.0)
    if isinstance(timeout, int) and not isinstance(timeout, bool):
        timeout = float(timeout)
    return GatewayProfile(
        id=profile_id,
        name=name,
        base_url=base_url,
        kind=kind,
        management_url=_expect(data.get("management_url", ""), str, "profile.management_url"),
        api_style=style,
        rpm_limit=_expect(data.get("rpm_limit", 0), int, "profile.rpm_limit"),
        timeout_s=_expect(timeout, float, "profile.timeout_s"),
        demo=_expect(data.get("demo", False), bool, "profile.demo"),
    )


def _ui_from_json(data: Any) -> UiSettings:
    _expect(data, dict, "ui")
    theme = _expect(data.get("theme", "system"), str, "ui.theme")
    return UiSettings(
        geometry=_expect(data.get("geometry", ""), str, "ui.geometry"),
        last_pane=_expect(data.get("last_pane", "chat"), str, "ui.last_pane"),
        theme=theme if theme in THEMES else "system",
    )


def settings_from_json(doc: Any) -> Settings:
    """Parse a document (any version) into `Settings`; raises `SettingsError` if it is invalid."""
    _expect(doc, dict, "(top level)")
    doc = migrate(dict(doc))
    profiles = tuple(
        _profile_from_json(p) for p in _expect(doc.get("profiles", []), list, "profiles")
    )
    if len({p.id for p in profiles}) != len(profiles):
        raise SettingsError("Two saved profiles share one id.")
    return Settings(
        schema_version=SCHEMA_VERSION,
        ui=_ui_from_json(doc.get("ui", {})),
        profiles=profiles,
        active_profile_id=_expect(doc.get("active_profile_id", ""), str, "active_profile_id"),
        first_run_done=_expect(doc.get("first_run_done", False), bool, "first_run_done"),
    )


def settings_to_json(settings: Settings) -> dict[str, Any]:
    profiles = []
    for p in settings.profiles:
        item = {f.name: getattr(p, f.name) for f in fields(p)}
        item["kind"] = p.kind.value
        item["api_style"] = p.api_style.value
        profiles.append(item)
    return {
        "schema_version": SCHEMA_VERSION,
        "ui": asdict(settings.ui),
        "profiles": profiles,
        "active_profile_id": settings.active_profile_id,
        "first_run_done": settings.first_run_done,
    }


# ---- The file ---------------------------------------------------------------------------------


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` so that a reader sees the old or the new file, never a torn one."""
    fd, tmp_name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    # Persist the rename itself; directories cannot be opened for fsync on Windows.
    if hasattr(os, "O_DIRECTORY"):
        dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


class SettingsStore:
    """Loads and saves one settings file. `current` is the last settings loaded or saved.

    Thread-safe: the UI may save its geometry while a service saves a profile from a worker
    thread; `update` applies each change to the latest settings under one lock.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.bad_path = path.with_name(path.name + ".bad")
        self.last_error: SettingsError | None = None
        self.current = Settings()
        self._lock = threading.RLock()

    def load(self) -> Settings:
        with self._lock:
            self.last_error = None
            try:
                raw = self.path.read_text(encoding="utf-8")
            except FileNotFoundError:
                self.current = Settings()
                return self.current
            except (OSError, UnicodeDecodeError) as exc:
                return self._fall_back(SettingsError(f"The settings file could not be read: {exc}"))
            try:
                doc = json.loads(raw)
                version = doc.get("schema_version") if isinstance(doc, dict) else None
                settings = settings_from_json(doc)
            except (ValueError, RecursionError) as exc:
                # Besides JSONDecodeError: ValueError for an integer over Python's 4300-digit
                # limit, RecursionError for nesting deeper than json's C scanner can follow.
                return self._fall_back(SettingsError(f"The settings file is not valid JSON: {exc}"))
            except SettingsError as exc:
                return self._fall_back(exc)
            self.current = settings
            if version != SCHEMA_VERSION:
                log.info("settings migrated from schema %s to %s", version, SCHEMA_VERSION)
                try:
                    self.save(settings)
                except SettingsError as exc:
                    # The migrated settings are in use; the file is rewritten on the next save.
                    log.warning("migrated settings not written back: %s", exc)
            return settings

    def _fall_back(self, error: SettingsError) -> Settings:
        """Keep the unreadable file for the user, and start from defaults."""
        log.warning("settings unusable, defaults loaded: %s", error)
        with contextlib.suppress(OSError):
            os.replace(self.path, self.bad_path)
        self.last_error = error
        self.current = Settings()
        return self.current

    def save(self, settings: Settings) -> None:
        """Write `settings` atomically; raises `SettingsError` if the disk refuses."""
        text = json.dumps(settings_to_json(settings), indent=2, ensure_ascii=False) + "\n"
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write_text(self.path, text)
            except OSError as exc:
                raise SettingsError(
                    f"The settings could not be saved: {exc}",
                    hint="Check free disk space and the data folder's permissions.",
                ) from exc
            self.current = replace(settings, schema_version=SCHEMA_VERSION)

    def update(self, change: Callable[[Settings], Settings]) -> Settings:
        """Apply `change` to the current settings and save the result; returns it."""
        with self._lock:
            new = change(self.current)
            self.save(new)
            return new
