#!/usr/bin/env bash
# Applies .clang-format to every tracked C++ source, or with --check fails (and names the files)
# when one is not formatted. scripts/test.sh runs the check, so CI fails on unformatted code.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cc' '*.h')
if [ "${1:-}" = "--check" ]; then
  if ! clang-format --dry-run -Werror "${files[@]}" 2>/tmp/pavilion-format.$$; then
    echo "pavilion: not clang-formatted (run scripts/format.sh):" >&2
    grep -o '^[^:]*:[0-9]*:[0-9]*: error' /tmp/pavilion-format.$$ | cut -d: -f1 | sort -u >&2
    rm -f /tmp/pavilion-format.$$
    exit 1
  fi
  rm -f /tmp/pavilion-format.$$
  exit 0
fi
clang-format -i "${files[@]}"
