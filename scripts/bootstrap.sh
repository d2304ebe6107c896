#!/usr/bin/env bash
# Sets up everything bluesdesk needs on a Debian/Ubuntu machine with Python 3.11:
# the system libraries Qt, Xvfb and the Secret Service keyring need, a virtualenv, and the Python deps.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  # Qt (offscreen and xcb) — measured in a minimal bookworm chroot, see STACK-NOTES §2.
  libgl1 libegl1 libx11-6 libdbus-1-3 libfontconfig1 libfreetype6 libglib2.0-0 libxkbcommon0
  libxkbcommon-x11-0 libx11-xcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
  libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xkb1 fonts-dejavu-core
  # QtMultimedia's FFmpeg backend.
  libpulse0 libxrandr2
  # A virtual screen for `make demo` without a display.
  xvfb xauth
  # A real Secret Service keyring in a private D-Bus session (tests, and a headless demo).
  gnome-keyring dbus dbus-x11
  # Python venv support.
  python3-venv
  # Packaging (make dist, and its smoke tests): PyInstaller needs objdump; the .desktop check.
  binutils desktop-file-utils
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "bootstrap: installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "bootstrap: these system packages are missing; install them with:" >&2
    echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

PYTHON=${PYTHON:-}
if [[ -z $PYTHON ]]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PYTHON=$candidate; break
    fi
  done
fi
if [[ -z $PYTHON ]]; then
  echo "bootstrap: Python 3.11 is required (PySide6 6.11 is pinned for it)." >&2
  exit 1
fi

stamp=.venv/.bootstrap-stamp
if [[ ! -x .venv/bin/python ]]; then
  echo "bootstrap: creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi
if [[ ! -f $stamp || pyproject.toml -nt $stamp ]]; then
  echo "bootstrap: installing Python dependencies"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[dev,packaging]"
  touch "$stamp"
fi
