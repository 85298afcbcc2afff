#!/usr/bin/env bash
# Installs the Debian 12 packages Pavilion needs to build, run, test and benchmark (jq: the
# walkthrough script; libxlsxwriter-dev: the XLSX exports; wrk: bench/wrk_orders.sh; nodejs and
# npm: the test that installs and runs @redocly/cli on the OpenAPI document; prometheus: its
# promtool checks /metrics).
# Skips what is installed; uses sudo when not root. Safe to run again.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache git ca-certificates
  librocksdb-dev librdkafka-dev libsimdjson-dev libboost-dev libssl-dev libqrencode-dev zlib1g-dev libarchive-dev libjemalloc-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libxlsxwriter-dev
  curl jq procps wrk clang-format
  nodejs prometheus
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# Debian's nodejs needs Debian's npm; a nodejs from elsewhere (NodeSource) brings its own npm and
# conflicts with Debian's.
if ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "pavilion: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi
echo "pavilion: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
