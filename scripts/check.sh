#!/usr/bin/env bash
# The whole check: lint, types, import contracts, then the full test suite (fast tests, then the
# `slow` ones) in a private D-Bus session with a real Secret Service keyring. `make test` runs this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"

step() { printf '\n== %s\n' "$*"; }

step "ruff"
ruff check bluesdesk tests benchmarks
step "mypy"
mypy bluesdesk tests benchmarks
step "import contracts"
lint-imports

export QT_QPA_PLATFORM=offscreen
step "tests (default run)"
bash scripts/with-keyring.sh python -m pytest -m "not slow" -p no:cacheprovider "$@"
step "tests (slow suites)"
status=0
bash scripts/with-keyring.sh python -m pytest -m slow -p no:cacheprovider "$@" || status=$?
# pytest exits 5 when no test carries the marker; that is not a failure.
if [[ $status -ne 0 && $status -ne 5 ]]; then
  exit $status
fi
