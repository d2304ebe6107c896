#!/usr/bin/env bash
# Runs bluesdesk in demo mode against its built-in gateway emulator. On a machine without a display,
# it runs on a virtual screen (Xvfb) and saves one screenshot per pane instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"

if [[ -n ${DISPLAY:-} || -n ${WAYLAND_DISPLAY:-} ]]; then
  exec bluesdesk --demo "$@"
fi
out=${BLUESDESK_SCREENSHOTS:-$PWD/screenshots}
echo "demo: no display found; running on a virtual screen and saving screenshots to $out"
echo "demo: (on a desktop, run 'make demo' from a graphical session to use the app)"
bash scripts/with-keyring.sh xvfb-run -a -s "-screen 0 1400x900x24" \
  bluesdesk --demo --screenshot "$out" --profile-dir "${BLUESDESK_HOME:-$PWD/.demo-home}" "$@"
ls -1 "$out"/*.png
