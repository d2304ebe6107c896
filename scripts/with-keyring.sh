#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with an unlocked gnome-keyring (a real Secret Service),
# so keys go to a real OS keyring even on a headless machine. The keyring's files live in a temp dir.
# Sets BLUESDESK_SECRET_SERVICE=1 for the command when the Secret Service answered a probe.
set -euo pipefail

if [[ ${BLUESDESK_IN_KEYRING_SESSION:-} == 1 ]]; then
  exec "$@"
fi
if ! command -v dbus-run-session >/dev/null || ! command -v gnome-keyring-daemon >/dev/null; then
  echo "with-keyring: dbus-run-session or gnome-keyring-daemon missing; running without a Secret Service" >&2
  exec "$@"
fi

keyring_home=$(mktemp -d)
export BLUESDESK_KEYRING_HOME=$keyring_home
export BLUESDESK_IN_KEYRING_SESSION=1
exec dbus-run-session -- bash -c '
  set -euo pipefail
  # The daemon keeps its collection under $HOME; give it a throwaway one.
  eval "$(printf "bluesdesk-ci" | HOME="$BLUESDESK_KEYRING_HOME" gnome-keyring-daemon --unlock --components=secrets)"
  export GNOME_KEYRING_CONTROL SSH_AUTH_SOCK 2>/dev/null || true
  if "'"${PYTHON:-.venv/bin/python}"'" - <<PY 2>/dev/null
import keyring
from keyring.backends import SecretService
kr = SecretService.Keyring()
kr.set_password("bluesdesk-probe", "probe", "ok")
assert kr.get_password("bluesdesk-probe", "probe") == "ok"
kr.delete_password("bluesdesk-probe", "probe")
PY
  then
    export BLUESDESK_SECRET_SERVICE=1
  else
    echo "with-keyring: the Secret Service did not answer; Secret Service tests will be skipped" >&2
  fi
  status=0
  "$@" || status=$?
  rm -rf "$BLUESDESK_KEYRING_HOME"
  exit $status
' with-keyring "$@"
