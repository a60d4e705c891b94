#!/usr/bin/env bash
# Make Debian's chromium available for the browser tests. Playwright's own browser download
# does not work offline, so the tests launch /usr/bin/chromium (override with CHROMIUM_PATH).
set -euo pipefail
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq chromium >/dev/null
else
  echo "chromium not found at $CHROMIUM and cannot be installed (need root + apt-get);"
  echo "browser tests will be skipped. Install it with: sudo apt-get install -y chromium"
fi
