#!/usr/bin/env bash
# The headline HTTP figures with a standard client that does not pipeline: `wrk`, one request
# at a time per connection (as browsers and proxies send), at 64 and 256 connections — orders
# (POST /v1/orders) and, on the same server in the same run, GET /healthz. Prints one line per
# figure. bench/RESULTS.md's current table quotes these.
#
# Starts a fresh `pavilion serve` as bench/run.sh does (embedded transport, --durability sync,
# no demo, empty data directory), then sets up through the public API what pavilion-load sets up:
# one seller, 1,000 SKUs with stock that never runs out, one shopper per connection (256). Each
# order is one line of quantity 1; wrk's threads walk the shoppers and SKUs in turn.
#
# Usage: bench/wrk_orders.sh [seconds per step, default 30]
#   PAVILION_BIN=path  use that `pavilion` binary instead of building Release into build-release
#   WRK_THREADS=N      wrk threads (default: the number of cores)
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-30}"
if [ -z "${PAVILION_BIN:-}" ]; then
  scripts/deps.sh
  PAVILION_CMAKE_ARGS="-DPAVILION_BUILD_TESTS=OFF" scripts/build.sh build-release Release
  PAVILION_BIN=build-release/tools/pavilion/pavilion
fi
for tool in wrk curl jq; do
  command -v "$tool" > /dev/null || {
    echo "wrk_orders: $tool is missing; scripts/deps.sh installs it" >&2
    exit 1
  }
done
threads="${WRK_THREADS:-$(nproc)}"
token=bench-operator-token-0123456789abcdef

data=$(mktemp -d)
pid=
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$data"' EXIT
# One address, every shopper new: no limits per address or on new shoppers' holds.
PAVILION_OPERATOR_TOKEN=$token "$PAVILION_BIN" serve --data-dir "$data" --listen 127.0.0.1:0 \
  --no-demo --durability sync --order-rate 0 --shopper-rate 0 --new-shopper-hold-cap 0 --new-client-hold-cap 0 \
  > "$data/serve.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  grep -q "listening on" "$data/serve.log" 2> /dev/null && break
  sleep 0.1
done
port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$data/serve.log")
[ -n "$port" ] || {
  cat "$data/serve.log" >&2
  exit 1
}
base=http://127.0.0.1:$port

# post PATH TOKEN JSON: the answer's body; fails on an HTTP error.
post() {
  curl -sS --fail-with-body -X POST "$base$1" ${2:+-H "Authorization: Bearer $2"} \
    -H 'Content-Type: application/json' --data-binary "$3"
}
seller=$(post /v1/sellers $token \
  '{"name":"压测合作社","place_code":"140430","supplier_type":"cooperative"}' | jq -r .id)
skus=() products=()
for product in 0 1 2 3 4; do
  body=$(jq -cn --arg seller "$seller" --argjson p $product '{seller_id: $seller,
    title: "沁州黄小米", skus: [range(200) | {spec: "规格\($p)-\(.)", price_fen: 2990,
    stock: 1000000000}]}')
  answer=$(post /v1/products $token "$body")
  products+=("$(jq -r .id <<< "$answer")")
  mapfile -t -O ${#skus[@]} skus < <(jq -r '.skus[].id' <<< "$answer")
done
shoppers=()
for _ in $(seq 256); do
  shoppers+=("$(post /v1/shoppers "" '{}' | jq -r .token)")
done

lua="$data/orders.lua"
{
  echo "local skus = {"
  printf '"%s",\n' "${skus[@]}"
  echo "}"
  echo "local shoppers = {"
  printf '"%s",\n' "${shoppers[@]}"
  echo "}"
  cat << 'EOF'
-- Each wrk thread starts at its own offset; requests walk the shoppers and SKUs in turn.
local next_id = 0
function setup(thread)
  thread:set("offset", next_id)
  next_id = next_id + 1
end
local n = 0
function init(args)
  n = offset * 7919
end
function request()
  n = n + 1
  local sku = skus[(n * 7919) % #skus + 1]
  local shopper = shoppers[n % #shoppers + 1]
  return wrk.format("POST", "/v1/orders", {
    ["Authorization"] = "Bearer " .. shopper,
    ["Content-Type"] = "application/json",
  }, '{"items":[{"sku_id":"' .. sku .. '","quantity":1}]}')
end
EOF
} > "$lua"

echo "wrk_orders: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
  "$(date -u +'%Y-%m-%d %H:%M UTC'), ${secs} s per step, wrk -t$threads, server on port $port"
# run NAME CONNECTIONS [wrk args…]: one line — requests/s, latency p50 / p99, non-2xx answers.
run() {
  local name=$1 conns=$2
  shift 2
  local out
  out=$(wrk -t"$threads" -c"$conns" -d"${secs}s" --latency "$@")
  local rps p50 p99 bad
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<< "$out")
  p50=$(awk '$1 == "50%" {print $2}' <<< "$out")
  p99=$(awk '$1 == "99%" {print $2}' <<< "$out")
  bad=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<< "$out")
  local errors
  errors=$(awk '/Socket errors:/ {sub(/.*Socket errors: /, ""); print}' <<< "$out")
  echo "$name ${conns} x 1: ${rps} req/s, p50 ${p50}, p99 ${p99}, non-2xx ${bad:-0}${errors:+, socket errors: $errors}"
}
for conns in 64 256; do
  run "GET /healthz" "$conns" "$base/healthz"
  run "POST /v1/orders" "$conns" -s "$lua" "$base/v1/orders"
done
# Rejected orders are answered 201 too: the units reserved show that the orders were placed.
reserved=0
for product in "${products[@]}"; do
  reserved=$((reserved + $(curl -sS "$base/v1/products/$product" | jq '[.skus[].reserved] | add')))
done
echo "units reserved by the orders placed: $reserved"
