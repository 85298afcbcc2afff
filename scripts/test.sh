#!/usr/bin/env bash
# The second command: install what is needed, build, and run the whole suite with CTest.
# Exits non-zero on any failure. Set PAVILION_SANITIZE=1 for an ASan+UBSan build.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/format.sh --check
build_dir=build
if [ "${PAVILION_SANITIZE:-}" = "1" ]; then
  build_dir=build-asan
  export PAVILION_CMAKE_ARGS="${PAVILION_CMAKE_ARGS:-} -DPAVILION_SANITIZE=ON"
fi
scripts/build.sh "$build_dir" RelWithDebInfo
cd "$build_dir"
ctest --output-on-failure --timeout 300 -j "${PAVILION_TEST_JOBS:-2}"
