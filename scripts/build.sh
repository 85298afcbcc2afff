#!/usr/bin/env bash
# Configures and builds Pavilion with Ninja. Usage: scripts/build.sh [BUILD_DIR] [BUILD_TYPE]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${1:-build}"
build_type="${2:-Release}"
jobs="${PAVILION_JOBS:-2}"
extra=()
if [ "${CI:-}" = "true" ]; then extra+=(-DPAVILION_WERROR=ON); fi
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" "${extra[@]}" ${PAVILION_CMAKE_ARGS:-}
cmake --build "$build_dir" -j "$jobs"
