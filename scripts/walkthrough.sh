#!/usr/bin/env bash
# The README's first order, as a script: registers a seller, lists a millet (category grain, so
# it needs an SC licence), registers a shopper, places an order, pays, ships, confirms, asks for
# a refund and approves it, lists orders, reads the sales figures, imports a data pack and
# registers a traced batch. Exits non-zero, naming the step, on any answer it did not expect.
# tests/integration/walkthrough_test.cc runs it against a fresh server, so the README stays true.
#
# Usage: scripts/walkthrough.sh [BASE_URL] [OPERATOR_TOKEN]
#   BASE_URL        default http://127.0.0.1:8080 (scripts/run.sh's address)
#   OPERATOR_TOKEN  default $PAVILION_OPERATOR_TOKEN, else the one the server generated and saved
#                   in data/operator-token at its first start
# Needs bash, curl and jq (scripts/deps.sh installs them).
set -euo pipefail

BASE=${1:-http://127.0.0.1:8080}
OP=${2:-${PAVILION_OPERATOR_TOKEN:-$(cat data/operator-token)}}

# call METHOD PATH [TOKEN] [JSON]: prints the answer's body; fails on an HTTP error (4xx, 5xx),
# printing the error body too.
call() {
  curl -sS --fail-with-body -X "$1" "$BASE$2" ${3:+-H "Authorization: Bearer $3"} \
    ${4:+-H 'Content-Type: application/json' --data-binary "$4"}
}
# want JSON FILTER: fails unless the jq FILTER holds for JSON.
want() {
  jq -e "$2" > /dev/null <<< "$1" || {
    echo "walkthrough: expected $2 in $1" >&2
    exit 1
  }
}
step() {
  STEP=$*
  echo "== $*"
}
STEP=start
trap 'echo "walkthrough: failed at \"$STEP\" (line $LINENO)" >&2' ERR

step "a seller: the answer carries its id and its own token (shown once)"
SELLER=$(call POST /v1/sellers "$OP" \
  '{"name":"沁州黄小米合作社","place_code":"140430","supplier_type":"cooperative"}')
SELLER_ID=$(jq -r .id <<< "$SELLER")
SELLER_TOKEN=$(jq -r .token <<< "$SELLER")
want "$SELLER" '.id != null and .token != null'

step "a grain product without an SC licence is refused (processed food needs one valid today)"
if REFUSED=$(call POST /v1/products "$SELLER_TOKEN" \
  '{"title":"沁州黄小米","category":"grain","skus":[{"spec":"500g","price_fen":2990,"stock":100}]}' \
  2> /dev/null); then
  echo "walkthrough: a grain product without an SC licence was accepted: $REFUSED" >&2
  exit 1
fi
want "$REFUSED" '.error.code == "invalid_field"'

step "the product with its SC licence; price in integer fen (2990 = ¥29.90)"
PRODUCT=$(call POST /v1/products "$SELLER_TOKEN" '{"title":"沁州黄小米","category":"grain",
  "brand":"沁州黄","certifications":[{"type":"sc_licence","number":"SC10114043000011",
  "issuer":"沁县市场监督管理局","valid_from":"2024-01-01","valid_to":"2099-12-31"}],
  "skus":[{"spec":"500g","price_fen":2990,"stock":100}]}')
PRODUCT_ID=$(jq -r .id <<< "$PRODUCT")
SKU_ID=$(jq -r '.skus[0].id' <<< "$PRODUCT")
want "$PRODUCT" '.skus[0].id != null'

step "a shopper: its id and token"
SHOPPER=$(call POST /v1/shoppers "" '{}')
SHOPPER_ID=$(jq -r .id <<< "$SHOPPER")
SHOPPER_TOKEN=$(jq -r .token <<< "$SHOPPER")

step "an order: stock reserved and one sub-order per seller (pending_payment)"
KEY=$(cat /proc/sys/kernel/random/uuid)  # Retrying with the same key returns the same order.
ORDER=$(curl -sS --fail-with-body -X POST "$BASE/v1/orders" \
  -H "Authorization: Bearer $SHOPPER_TOKEN" -H 'Content-Type: application/json' \
  -H "Idempotency-Key: $KEY" -d "{\"items\":[{\"sku_id\":\"$SKU_ID\",\"quantity\":2}]}")
ORDER_ID=$(jq -r .id <<< "$ORDER")
want "$ORDER" '.status == "pending_payment" and .total_fen == 5980'

step "pay (the server runs --payment-provider instant, as scripts/run.sh starts it: /pay pays at once; the default prepay provider answers a payment intent instead), ship, confirm receipt"
PAID=$(call POST "/v1/orders/$ORDER_ID/pay" "$SHOPPER_TOKEN")
want "$PAID" '.status == "paid"'
SHIPPED=$(call POST "/v1/orders/$ORDER_ID/ship" "$SELLER_TOKEN" \
  '{"carrier":"顺丰","tracking_no":"SF1001"}')
want "$SHIPPED" '.sub_orders[0].status == "shipped"'
CONFIRMED=$(call POST "/v1/orders/$ORDER_ID/confirm" "$SHOPPER_TOKEN")
want "$CONFIRMED" '.status == "completed"'

step "a refund of one unit: the answer is the order; the new refund's id is not the order's"
ASKED=$(call POST "/v1/orders/$ORDER_ID/refunds" "$SHOPPER_TOKEN" \
  "{\"items\":[{\"sku_id\":\"$SKU_ID\",\"quantity\":1}],\"reason\":\"包装破损\"}")
REFUND_ID=$(jq -r '.refunds[-1].id' <<< "$ASKED")
want "$ASKED" '.refunds[-1].status == "requested"'
APPROVED=$(call POST "/v1/refunds/$REFUND_ID/approve" "$SELLER_TOKEN")
want "$APPROVED" '.refunds[-1].status == "refunded" and .refunds[-1].amount_fen == 2990'

step "orders, newest first: the shopper's, the seller's"
MINE=$(call GET "/v1/orders?shopper_id=$SHOPPER_ID" "$SHOPPER_TOKEN")
want "$MINE" ".orders[0].id == \"$ORDER_ID\""
SOLD=$(call GET "/v1/orders?seller_id=$SELLER_ID&status=completed" "$SELLER_TOKEN")
want "$SOLD" ".orders[0].id == \"$ORDER_ID\""

step "sales less refunds per seller and per place (the projection follows within moments)"
for _ in $(seq 50); do
  STATS=$(call GET '/v1/stats/sales?group_by=seller' "$OP")
  jq -e ".rows[] | select(.seller_id == \"$SELLER_ID\" and .amount_fen == 2990)" \
    > /dev/null <<< "$STATS" && break
  sleep 0.2
done
want "$STATS" ".rows[] | select(.seller_id == \"$SELLER_ID\") | .amount_fen == 2990"
BY_PLACE=$(call GET '/v1/stats/sales?group_by=place' "$OP")
want "$BY_PLACE" '.rows[] | select(.place_code == "140430") | .amount_fen >= 2990'

step "a data pack: one NDJSON row per product, keyed by the seller's outer_id"
PACK=$(curl -sS --fail-with-body -X POST "$BASE/v1/packs?seller_id=$SELLER_ID" \
  -H "Authorization: Bearer $SELLER_TOKEN" -H 'Content-Type: application/x-ndjson' \
  --data-binary '{"outer_id":"QZ-EGG-30","title":"沁县土鸡蛋","category":"eggs","skus":[{"spec":"30枚","price_fen":4500,"stock":150}]}')
want "$PACK" '.rows == 1 and .created == 1 and .rejected == 0'

step "a traced batch: its trace code, page and QR code"
BATCH=$(call POST "/v1/products/$PRODUCT_ID/batches" "$SELLER_TOKEN" \
  '{"production_base":"沁县沁州黄镇次村村谷子基地","farming":[{"date":"2026-04-10","operation":"整地施有机肥"}],
  "harvest_date":"2026-09-25","packing_date":"2026-10-02","inspection_report":"县农产品质量检测站 合格"}')
TRACE_CODE=$(jq -r .trace_code <<< "$BATCH")
TRACE=$(call GET "/v1/trace/$TRACE_CODE")
want "$TRACE" ".product.id == \"$PRODUCT_ID\""
call GET "/trace/$TRACE_CODE" > /dev/null
call GET "/v1/trace/$TRACE_CODE/qr.png" > /dev/null

echo "walkthrough: ok (order $ORDER_ID, refund $REFUND_ID, trace $BASE/trace/$TRACE_CODE)"
