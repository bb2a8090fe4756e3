#!/usr/bin/env bash
# The project's one test command: installs what the tests need, then runs them all.
# Usage: bash tests/run.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's Chromium drives the browser tests (Playwright's own browser download is not
# used); wrk drives the load smoke test; real PostgreSQL and Redis servers (started by the
# tests on loopback, in a temporary folder) back the shared-state tests.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    # env, not a prefix: sudo drops the caller's environment, and tzdata (which postgresql pulls
    # in) would wait for an answer behind the silenced output.
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

python3 -m pip install -q --disable-pip-version-check -c tests/constraints.txt -e '.[test]'
exec python3 -m pytest "$@"
