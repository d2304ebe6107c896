"""Where bluesdesk keeps its files: one root folder, resolved once at start-up, no Qt.

Order: ``--profile-dir`` beats ``$BLUESDESK_HOME`` beats the platform's per-user data folder, so
tests and portable installs can move every file (settings, database, logs, media) with one switch.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

APP_DIR_NAME = "bluesdesk"
HOME_ENV = "BLUESDESK_HOME"


def platform_data_dir(env: Mapping[str, str], platform: str, home: Path) -> Path:
    """The per-user application data folder for `platform` (a `sys.platform` value)."""
    if platform.startswith("win"):
        appdata = env.get("APPDATA")
        base = Path(appdata) if appdata else home / "AppData" / "Roaming"
    elif platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        # XDG says a relative XDG_DATA_HOME is invalid and must be ignored.
        xdg = env.get("XDG_DATA_HOME", "")
        base = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".local" / "share"
    return base / APP_DIR_NAME


@dataclass(frozen=True)
class Paths:
    root: Path
    settings_file: Path
    db_file: Path
    log_dir: Path
    media_dir: Path
    cache_dir: Path

    @classmethod
    def under(cls, root: Path) -> Paths:
        """The layout below one root folder."""
        root = root.expanduser().absolute()
        return cls(
            root=root,
            settings_file=root / "settings.json",
            db_file=root / "bluesdesk.db",
            log_dir=root / "logs",
            media_dir=root / "media",
            cache_dir=root / "cache",
        )

    @classmethod
    def resolve(
        cls,
        profile_dir: Path | None = None,
        *,
        env: Mapping[str, str] | None = None,
        platform: str | None = None,
        home: Path | None = None,
    ) -> Paths:
        """Pick the root: `profile_dir`, else ``$BLUESDESK_HOME``, else the platform data folder.

        `env`, `platform` and `home` default to the running process's; tests pass their own.
        """
        env = os.environ if env is None else env
        if profile_dir is not None:
            return cls.under(profile_dir)
        override = env.get(HOME_ENV, "")
        if override:
            return cls.under(Path(override))
        return cls.under(
            platform_data_dir(
                env, sys.platform if platform is None else platform, home or Path.home()
            )
        )

    def ensure(self) -> None:
        """Create every folder (private to the user where the OS honours modes)."""
        for folder in (self.root, self.log_dir, self.media_dir, self.cache_dir):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
