#!/usr/bin/env bash
# The first command: install what is needed, build Release, and start Pavilion on
# http://127.0.0.1:8080 with the embedded transport, data in ./data, and a demo pavilion when the
# data directory is empty. Extra arguments go to `pavilion serve` (e.g. --listen 0.0.0.0:8080).
# It runs the INSTANT payment provider, so the README's first order (and scripts/walkthrough.sh)
# can pay with POST /v1/orders/{id}/pay alone: for trying Pavilion out, never for real money,
# where the default prepay provider waits for the payment provider's signed notification.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
PAVILION_CMAKE_ARGS="-DPAVILION_BUILD_TESTS=OFF" scripts/build.sh build-release Release
places=$(scripts/places.sh build-release/places)
exec build-release/tools/pavilion/pavilion serve --data-dir ./data --listen 127.0.0.1:8080 \
  --payment-provider instant --places "$places" "$@"
