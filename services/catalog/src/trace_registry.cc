#include "trace_registry.h"

#include <random>

#include "keys.h"
#include "product_rules.h"
#include "product_store.h"

namespace pavilion::catalog {
namespace {

using events::svc_errc;

// Ten characters from an alphabet without look-alikes (no 0/O, 1/I): ~50 bits, printed under
// the QR code for people who type it.
std::string NewTraceCode() {
  static constexpr char kAlphabet[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
  std::random_device rd;
  std::string code;
  for (int i = 0; i < 10; ++i) code.push_back(kAlphabet[rd() % 32]);
  return code;
}

}  // namespace

Result<Batch> TraceRegistry::Register(const BatchInput& in, events::Transaction& tx) {
  auto product = products_.GetProduct(in.product_id);
  if (!product.ok()) return product.error_detail();
  if (!in.acting_seller_id.empty() && in.acting_seller_id != product->seller_id) {
    return {svc_errc::forbidden, "a seller may register batches only of its own products"};
  }
  // A listing resells its supplier's goods: a batch on it would name the distributor as the
  // producer of what the supplier grew. Batches belong to the product at the chain's end.
  if (!product->source_product_id.empty()) {
    return {svc_errc::invalid_argument,
            "product_id: " + product->id + " is a distributor's listing of " +
                product->source_product_id +
                "; trace batches belong to the supplier, who registers them on its own product"};
  }
  if (auto bad = CheckTraceRecord(in.record)) return *bad;
  Batch b;
  b.id = events::NewId("bat");
  b.product_id = product->id;
  b.seller_id = product->seller_id;
  std::string existing;
  do {
    b.trace_code = NewTraceCode();
  } while (!store_.kv().Get(keys::Trace(b.trace_code), &existing) || codes_.count(b.trace_code));
  codes_.insert(b.trace_code);
  b.record = in.record;
  b.created_micros = store_.clock().NowMicros();
  tx.Emit(b.id, events::kFreshStream,
          events::schema::BatchRegistered{b.id, b.product_id, b.seller_id, b.trace_code, b.record});
  tx.state().Put(keys::Batch(b.id), events::Encode(b));
  tx.state().Put(keys::Trace(b.trace_code), b.id);
  return b;
}

Result<Trace> TraceRegistry::Get(const std::string& code) {
  std::string batch_id, bytes;
  if (code.size() > 32 || store_.kv().Get(keys::Trace(code), &batch_id) ||
      store_.kv().Get(keys::Batch(batch_id), &bytes)) {
    return {svc_errc::not_found, "no batch with trace code " + code};
  }
  auto batch = events::Decode<Batch>(bytes);
  if (!batch.ok()) return {svc_errc::internal, "stored batch is corrupt"};
  auto product = products_.GetProduct(batch->product_id);
  if (!product.ok()) return product.error_detail();
  auto seller = products_.GetSeller(batch->seller_id);
  if (!seller.ok()) return seller.error_detail();
  return Trace{std::move(batch).value(), std::move(product).value(), std::move(seller).value()};
}

}  // namespace pavilion::catalog
