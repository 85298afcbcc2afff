// The settlement ledger's pure posting core (services/settlement/src/ledger.h): transfers per
// second with no store, for one order's life (payment, three pending shares in a linked chain,
// their posts) and for single posted transfers between a few hot accounts.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "../services/settlement/src/ledger.h"

namespace pavilion::settlement {
namespace {

Transfer Make(std::string id, std::string debit, std::string credit, int64_t fen,
              uint32_t flags = 0, std::string pending = "") {
  Transfer t;
  t.id = std::move(id);
  t.debit_account_id = std::move(debit);
  t.credit_account_id = std::move(credit);
  t.amount = Fen(fen);
  t.flags = flags;
  t.pending_id = std::move(pending);
  t.code = TransferCode::kShare;
  return t;
}

void BM_OrderLife(benchmark::State& state) {
  Ledger ledger;
  int64_t n = 0;
  std::vector<Transfer> batch;
  for (auto _ : state) {
    const std::string o = "ord_" + std::to_string(n++);
    const std::string held = "held:" + o;
    batch.clear();
    batch.push_back(Make(o + "/paid", "provider:builtin", held, 26400));
    batch.push_back(Make(o + "/s/0", held, "payable:sel_sup", 20000, kPending | kLinked));
    batch.push_back(Make(o + "/s/1", held, "payable:sel_d1", 4000, kPending | kLinked));
    batch.push_back(Make(o + "/s/2", held, "payable:sel_d2", 2400, kPending));
    batch.push_back(Make(o + "/p/0", "", "", 0, kPostPending | kLinked, o + "/s/0"));
    batch.push_back(Make(o + "/p/1", "", "", 0, kPostPending | kLinked, o + "/s/1"));
    batch.push_back(Make(o + "/p/2", "", "", 0, kPostPending, o + "/s/2"));
    auto r = ledger.Create(batch);
    benchmark::DoNotOptimize(r);
    if (n % 1024 == 0) benchmark::DoNotOptimize(ledger.TakeChanges());
  }
  state.SetItemsProcessed(state.iterations() * 7);
  state.counters["balanced"] = ledger.Audit().balanced();
}
BENCHMARK(BM_OrderLife);

void BM_PostedTransfer(benchmark::State& state) {
  Ledger ledger;
  int64_t n = 0;
  std::vector<Transfer> batch(1);
  for (auto _ : state) {
    batch[0] = Make("t" + std::to_string(n++), "provider:builtin", "fee:platform", 1);
    benchmark::DoNotOptimize(ledger.Create(batch));
    if (n % 1024 == 0) benchmark::DoNotOptimize(ledger.TakeChanges());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PostedTransfer);

}  // namespace
}  // namespace pavilion::settlement
