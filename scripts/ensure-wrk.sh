#!/usr/bin/env bash
# Make Debian's wrk available for bench/bench_ingest.py (the HTTP load generator of the
# ingest benchmark); without root + apt-get it only says how to install it.
set -euo pipefail
if command -v wrk >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's wrk for the ingest benchmark…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq wrk >/dev/null
else
  echo "wrk not found and cannot be installed (need root + apt-get): sudo apt-get install -y wrk"
fi
