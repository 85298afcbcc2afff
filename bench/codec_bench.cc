// Google Benchmark: the event codec (envelope and payload encode/decode) and JSON escaping.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "pavilion/base/json_writer.h"
#include "pavilion/events/envelope.h"
#include "pavilion/events/schema.h"

namespace pavilion::events {
namespace {

using base::JsonWriter;

Envelope SampleEnvelope() {
  Envelope e;
  e.event_id = NewId("ev");
  e.type = std::string(schema::StockReserved::kType);
  e.stream_id = NewId("sku");
  e.stream_version = 42;
  e.position = 123456789;
  e.origin = 0x1234567890abcdefull;
  e.time_micros = 1795365000000000;
  e.correlation_id = NewId("ord");
  e.causation_id = NewId("ev");
  e.payload = Encode(schema::StockReserved{e.correlation_id,
                                           0,
                                           e.stream_id,
                                           NewId("prd"),
                                           NewId("sel"),
                                           "140430",
                                           2,
                                           Fen(2990),
                                           97,
                                           {}});
  return e;
}

void BM_EnvelopeEncode(benchmark::State& state) {
  Envelope e = SampleEnvelope();
  std::string out;
  for (auto _ : state) {
    out.clear();
    EncodeEnvelopeTo(e, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size()));
}
BENCHMARK(BM_EnvelopeEncode);

void BM_EnvelopeDecode(benchmark::State& state) {
  std::string bytes = EncodeEnvelope(SampleEnvelope());
  for (auto _ : state) {
    auto e = DecodeEnvelope(bytes);
    benchmark::DoNotOptimize(e);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}
BENCHMARK(BM_EnvelopeDecode);

void BM_OrderPlacedRoundTrip(benchmark::State& state) {
  schema::OrderPlaced placed{NewId("ord"), NewId("shp"), {}};
  for (int i = 0; i < state.range(0); ++i) placed.items.push_back({NewId("sku"), 1 + i});
  for (auto _ : state) {
    auto back = Decode<schema::OrderPlaced>(Encode(placed));
    benchmark::DoNotOptimize(back);
  }
}
BENCHMARK(BM_OrderPlacedRoundTrip)->Arg(1)->Arg(10);

// The strings of an order's answer (ids, statuses, a place code) and a product's title and
// description: what every JSON answer escapes.
void BM_JsonEscape(benchmark::State& state) {
  const std::vector<std::string> strings = {NewId("ord"),
                                            NewId("shp"),
                                            "pending_payment",
                                            NewId("sku"),
                                            "reserved",
                                            NewId("prd"),
                                            NewId("sel"),
                                            "140430",
                                            NewId("ord") + "-s1",
                                            "沁州黄小米 500g 山西长治特产 新米",
                                            "产地直发，当季新米。\n每袋500克，真空包装。"};
  size_t bytes = 0;
  for (const auto& s : strings) bytes += s.size();
  std::string out;
  for (auto _ : state) {
    out.clear();
    for (const auto& s : strings) JsonWriter::Escape(s, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_JsonEscape);

// An order's answer as the gateway writes it (one reserved line, one sub-order; ~760 bytes),
// into a writer that reserves the argument's bytes first.
void BM_JsonOrderAnswer(benchmark::State& state) {
  const std::string id = NewId("ord"), shopper = NewId("shp"), sku = NewId("sku"),
                    product = NewId("prd"), seller = NewId("sel");
  size_t bytes = 0;
  for (auto _ : state) {
    JsonWriter w(static_cast<size_t>(state.range(0)));
    w.BeginObject().Field("id", id).Field("shopper_id", shopper).Field("status", "pending_payment");
    w.Field("total_fen", 2990).Field("created_micros", 1795365000000000);
    w.Field("updated_micros", 1795365000000100).Field("pay_deadline_micros", 1795366800000100);
    w.Key("lines").BeginArray().BeginObject().Field("sku_id", sku).Field("quantity", 1);
    w.Field("status", "reserved").Field("product_id", product).Field("seller_id", seller);
    w.Field("place_code", "140430").Field("unit_price_fen", 2990).Field("amount_fen", 2990);
    w.EndObject().EndArray().Key("sub_orders").BeginArray().BeginObject();
    w.Field("id", id + "-s1").Field("seller_id", seller).Field("status", "pending_payment");
    w.Field("total_fen", 2990).Field("refunded_fen", 0).Key("lines").BeginArray().Int(0);
    w.EndArray().EndObject().EndArray().Key("payments").BeginArray().EndArray();
    w.Key("refunds").BeginArray().EndArray().EndObject();
    std::string text = w.Take();
    bytes += text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_JsonOrderAnswer)->Arg(0)->Arg(1024);

}  // namespace
}  // namespace pavilion::events
