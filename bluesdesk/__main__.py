"""Command line entry point: `bluesdesk` / `python -m bluesdesk`.

Parses arguments and checks for a display before Qt is imported, so that a headless machine gets a
clear hint instead of a Qt platform-plugin trace.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from bluesdesk import __version__

NO_DISPLAY_MESSAGE = """\
bluesdesk: no display found (DISPLAY and WAYLAND_DISPLAY are not set).
bluesdesk is a desktop application and needs a screen. On a headless machine you can:
  * run it under a virtual X server:      xvfb-run -a bluesdesk --demo
  * save screenshots of every pane:       bluesdesk --demo --screenshot DIR
  * render off-screen (nothing visible):  QT_QPA_PLATFORM=offscreen bluesdesk --demo
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bluesdesk",
        description="A native desktop client for OpenAI-compatible AI gateways.",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="start the built-in gateway emulator and open the app on a 'Demo gateway' profile",
    )
    parser.add_argument(
        "--profile-dir",
        type=Path,
        metavar="DIR",
        help="keep settings, database and logs in DIR (default: $BLUESDESK_HOME or the "
        "platform's app-data folder)",
    )
    parser.add_argument(
        "--screenshot",
        type=Path,
        metavar="DIR",
        help="start, let every pane load, save DIR/<pane>.png for each pane and exit "
        "(works without a display)",
    )
    parser.add_argument(
        "--theme",
        choices=("system", "light", "dark"),
        help="colour theme for this run only (the saved choice is kept); with --screenshot, "
        "--theme dark saves DIR/<pane>-dark.png",
    )
    parser.add_argument("--debug", action="store_true", help="verbose logging")
    parser.add_argument("--version", action="version", version=f"bluesdesk {__version__}")
    return parser


def has_display(env: Mapping[str, str], platform: str) -> bool:
    """Can Qt open a window? Only Linux-like systems need DISPLAY/WAYLAND_DISPLAY."""
    if not platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return True
    return any(env.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not has_display(os.environ, sys.platform):
        if args.screenshot is None:
            print(NO_DISPLAY_MESSAGE, file=sys.stderr, end="")
            return 2
        # Screenshots need no screen: render off-screen.
        os.environ["QT_QPA_PLATFORM"] = "offscreen"

    from bluesdesk.app import run  # Qt is imported only now

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
