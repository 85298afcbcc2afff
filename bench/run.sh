#!/usr/bin/env bash
# Reproduces every figure in bench/RESULTS.md. Builds Release into build-release, runs the Google
# Benchmarks, then starts `pavilion serve` (embedded transport, --durability sync, fresh data dir)
# and drives it with pavilion-load. Usage: bench/run.sh [seconds per load run, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
scripts/deps.sh
PAVILION_CMAKE_ARGS="-DPAVILION_BUILD_TESTS=OFF" scripts/build.sh build-release Release
bin=build-release/tools/pavilion/pavilion
load=build-release/bench/pavilion-load

echo "== machine"
echo "$(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
date -u +"%Y-%m-%d %H:%M UTC"

echo "== codec"
build-release/bench/codec_bench --benchmark_min_time=0.5
echo "== appends (RocksDB, group commit)"
build-release/bench/append_bench --benchmark_min_time=2

data=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$data"' EXIT
token=bench-operator-token
PAVILION_OPERATOR_TOKEN=$token "$bin" serve --data-dir "$data" --listen 127.0.0.1:0 --no-demo \
  --durability sync > "$data/serve.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  grep -q "listening on" "$data/serve.log" 2>/dev/null && break
  sleep 0.1
done
port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$data/serve.log")
echo "== server on port $port (embedded, durability sync)"

for c in 1 16 64 256; do
  "$load" --target 127.0.0.1:$port --mode healthz --connections $c --duration "$secs"
  "$load" --target 127.0.0.1:$port --token $token --mode orders --skus 1000 --connections $c --duration "$secs"
done
echo "== flash sale: one SKU, 100000 units, 256 connections"
"$load" --target 127.0.0.1:$port --token $token --mode orders --hot-stock 100000 --connections 256 --duration "$secs"
echo "== server RSS: $(ps -o rss= -p $pid) KiB"
