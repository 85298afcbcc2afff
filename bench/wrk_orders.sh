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
# With --life, every order lives its whole life through HTTP and the settlement: each wrk
# request is the next step of some order — placed, paid (`--payment-provider instant`), shipped,
# confirmed — and the after-sale window is zero days, so the ledger posts every share at once.
# Half the SKUs are a distributor's listings of the supplier's (20 % markup): those orders settle
# three ways. During each run it samples GET /metrics four times a second and prints the
# settlement's and the sales projection's largest lag behind the log (events, and the age of the
# oldest event not yet handled), then how long they took to catch up once the load stopped, and
# the ledger's audit (balanced, transfers).
#
# Usage: bench/wrk_orders.sh [--life] [seconds per step, default 30]
#   PAVILION_BIN=path  use that `pavilion` binary instead of building Release into build-release
#   WRK_THREADS=N      wrk threads (default: the number of cores)
set -euo pipefail
cd "$(dirname "$0")/.."
life=
if [ "${1:-}" = --life ]; then
  life=1
  shift
fi
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
  ${life:+--payment-provider instant --after-sale-days 0} > "$data/serve.log" 2>&1 &
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
if [ -n "$life" ]; then
  # A distributor lists the supplier's products at 20 % more: half the SKUs ordered are its.
  distributor=$(post /v1/sellers $token \
    '{"name":"压测分销商","place_code":"140430","supplier_type":"enterprise"}' | jq -r .id)
  listings=$(post /v1/distributions $token "$(jq -cn --arg d "$distributor" --arg s "$seller" \
    '{distributor_id: $d, supplier_id: $s, markup_percent: 20}')" | jq -r '.listing_ids[]')
  listed=()
  for listing in $listings; do
    mapfile -t -O ${#listed[@]} listed < <(curl -sS "$base/v1/products/$listing" | jq -r '.skus[].id')
  done
  skus=("${skus[@]:0:500}" "${listed[@]:0:500}")
fi
shoppers=() shopper_ids=()
for _ in $(seq 256); do
  answer=$(post /v1/shoppers "" '{}')
  shoppers+=("$(jq -r .token <<< "$answer")")
  shopper_ids+=("$(jq -r .id <<< "$answer")")
done

lua="$data/orders.lua"
{
  echo "local skus = {"
  printf '"%s",\n' "${skus[@]}"
  echo "}"
  echo "local shoppers = {"
  printf '"%s",\n' "${shoppers[@]}"
  echo "}"
  echo "local operator = \"$token\""
  echo "local token_of = {}"
  for i in "${!shoppers[@]}"; do
    echo "token_of[\"${shopper_ids[$i]}\"] = \"${shoppers[$i]}\""
  done
  echo "local life = $([ -n "$life" ] && echo true || echo false)"
  cat << 'EOF'
-- Each wrk thread starts at its own offset; requests walk the shoppers and SKUs in turn.
local next_id = 0
local threads = {}
function setup(thread)
  thread:set("offset", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end
local n = 0
function init(args)
  n = offset * 7919
end
-- --life: the steps due (first in, first out) and, as globals the main thread reads in done(),
-- how many answers showed the sub-order in each status.
local due, first, last = {}, 1, 0
local function place()
  n = n + 1
  local sku = skus[(n * 7919) % #skus + 1]
  local shopper = shoppers[n % #shoppers + 1]
  return wrk.format("POST", "/v1/orders", {
    ["Authorization"] = "Bearer " .. shopper,
    ["Content-Type"] = "application/json",
  }, '{"items":[{"sku_id":"' .. sku .. '","quantity":1}]}')
end
function request()
  if first > last then return place() end
  local step = due[first]
  due[first] = nil
  first = first + 1
  return wrk.format("POST", step[1], {
    ["Authorization"] = "Bearer " .. step[2],
    ["Content-Type"] = "application/json",
  }, step[3])
end
local function push(path, bearer, body)
  last = last + 1
  due[last] = {path, bearer, body}
end
local states = {"pending_payment", "paid", "shipped", "completed", "rejected", "pending"}
for _, state in ipairs(states) do _G["reached_" .. state] = 0 end
if life then
  function response(status, headers, body)
    -- The order's one sub-order says where it is (the order stays "paid" once shipped); a
    -- rejected or still pending order has none: its own status says so.
    local id = body:match('"id":"(ord_[^"]+)"')
    local state = body:match('"sub_orders":%[{"id":"[^"]*","seller_id":"[^"]*","status":"([a-z_]+)"')
      or body:match('"status":"([a-z_]+)"')
    if not id or not state then return end
    local counter = "reached_" .. state
    _G[counter] = (_G[counter] or 0) + 1
    local shopper = token_of[body:match('"shopper_id":"([^"]+)"')]
    if state == "pending_payment" then
      push("/v1/orders/" .. id .. "/pay", shopper, "")
    elseif state == "paid" then
      push("/v1/orders/" .. id .. "/ship", operator,
        '{"carrier":"SF","tracking_no":"SF' .. id:sub(-12) .. '"}')
    elseif state == "shipped" then
      push("/v1/orders/" .. id .. "/confirm", shopper, "{}")
    end
  end
  function done(summary, latency, requests)
    local line = {}
    for _, state in ipairs(states) do
      local total = 0
      for _, t in ipairs(threads) do total = total + (tonumber(t:get("reached_" .. state)) or 0) end
      table.insert(line, state .. " " .. total)
    end
    io.write("answers by status: " .. table.concat(line, ", ") .. "\n")
  end
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
# lags: each processor's "name events seconds" now, one line each (GET /metrics).
lags() {
  curl -sS "$base/metrics" | sed -n \
    's/^pavilion_projection_lag\(_seconds\)\{0,1\}{processor="\([a-z]*\)"} \(.*\)/\2 lag\1 \3/p' |
    awk '{ if ($2 == "lag_seconds") secs[$1] = $3; else events[$1] = $3 }
         END { for (p in events) print p, events[p], secs[p] + 0 }'
}
# The largest lag of the settlement and the sales projection while `wrk` ran, then how long they
# took to handle everything once it stopped.
run_life() {
  local conns=$1 samples="$data/lag-$1"
  : > "$samples"
  (while :; do
    lags >> "$samples" || true
    sleep 0.25
  done) &
  local sampler=$!
  local out
  out=$(wrk -t"$threads" -c"$conns" -d"${secs}s" --latency -s "$lua" "$base/v1/orders")
  local stopped
  stopped=$(date +%s.%N)
  kill $sampler || true
  wait $sampler 2> /dev/null || true
  # Until neither has an event left (both reported), for at most a minute.
  local polls=0
  until lags | awk '$1 == "settlement" || $1 == "sales" { seen++; if ($2 > 0) busy = 1 }
                    END { exit !(seen == 2 && !busy) }'; do
    polls=$((polls + 1))
    if [ $polls -gt 1200 ]; then
      echo "wrk_orders: the projections did not catch up within a minute" >&2
      break
    fi
    sleep 0.05
  done
  local caught
  caught=$(date +%s.%N)
  echo "order steps ${conns} x 1: $(awk '/^Requests\/sec:/ {print $2}' <<< "$out") req/s," \
    "p50 $(awk '$1 == "50%" {print $2}' <<< "$out"), p99 $(awk '$1 == "99%" {print $2}' <<< "$out")," \
    "non-2xx $(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<< "$out" | grep . || echo 0)"
  grep "^answers by status" <<< "$out" || echo "$out" >&2
  for p in settlement sales; do
    awk -v p=$p '$1 == p { if ($2 > e) e = $2; if ($3 > s) s = $3; n++ }
      END { printf "%s lag while loaded: at most %d events, %.3f s (%d samples)\n", p, e, s, n }' \
      "$samples"
  done
  echo "caught up $(awk -v a="$stopped" -v b="$caught" 'BEGIN { printf "%.2f", b - a }') s after the load stopped"
}
for conns in 64 256; do
  run "GET /healthz" "$conns" "$base/healthz"
  if [ -n "$life" ]; then
    run_life "$conns"
  else
    run "POST /v1/orders" "$conns" -s "$lua" "$base/v1/orders"
  fi
done
if [ -n "$life" ]; then
  curl -sS "$base/v1/ledger/audit" -H "Authorization: Bearer $token" |
    jq -r '"ledger audit: balanced \(.balanced), \(.transfers) transfers, order violations \(.order_violations), queue violations \(.queue_violations)"'
  exit 0
fi
# Rejected orders are answered 201 too: the units reserved show that the orders were placed.
reserved=0
for product in "${products[@]}"; do
  reserved=$((reserved + $(curl -sS "$base/v1/products/$product" | jq '[.skus[].reserved] | add')))
done
echo "units reserved by the orders placed: $reserved"
