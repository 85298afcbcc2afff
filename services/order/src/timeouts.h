// Timeouts: the due keys (ord/due/<when>/<kind>/…) and the sweep that applies them.
//
// Unpaid orders are cancelled at their payment deadline; shipped sub-orders complete once the
// auto-confirm delay has passed. The orders one batch of the catalog's answers leaves awaiting
// payment share one key (kind "pays", their ids in the value), written by AfterBatch in the
// batch's one transaction, so it is durable exactly when their answers are; an order is
// cancelled at most the batch's few milliseconds after its own deadline. Stores from before
// batches keep per-order "pay" keys, applied the same way.
//
// Tick applies what is due at the clock's now, timeouts_per_pass at a time: a full pass queues
// the next behind whatever else the worker has, so a flash sale's backlog drains as fast as the
// worker can. A sweep starts where the last one ended, not at the first due key: an applied
// timeout's key is deleted, and RocksDB keeps the deletion as a tombstone until compaction, so
// a scan from the start of ord/due/ would step over every timeout applied since. Any key
// written below that start (already due when set, or behind a sweep in passes) moves it back.
// A timeout that changes nothing (an order paid in time) only loses its key.
//
// Threads: the order worker only.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "lifecycle.h"
#include "order_store.h"

namespace pavilion::order {

class Timeouts {
 public:
  Timeouts(OrderStore& orders, events::Worker& worker, const OrderOptions& options);

  // Applies the timeouts due at the clock's now.
  void Tick();
  // The auto-confirm timeouts decision `d` about order `order_id` set, into its transaction.
  void SetConfirms(const Decision& d, const std::string& order_id);
  // Order `o` was just reserved: its payment timeout goes with the batch's (AfterBatch).
  void AwaitPayment(const Order& o);
  // Writes the batch's payment timeout key, if it left orders awaiting payment.
  void AfterBatch(events::Transaction& batch);

 private:
  // Every due key is written through here.
  void Put(std::string key, std::string value, events::Transaction& tx);
  void TickFrom(const std::string& from, int64_t now);
  // The orders still unpaid under `key` are cancelled, all in one transaction with the key's
  // deletion.
  void ApplyPaymentTimeout(const std::string& key, const std::vector<std::string>& ids,
                           int64_t now);
  // A due key taken by this sweep: skipped by any scan that finds it before its deletion is
  // durable.
  void MarkHandled(const std::string& key, events::Transaction& tx);

  OrderStore& orders_;
  events::Worker& worker_;
  const OrderOptions& options_;
  std::unordered_set<std::string> handled_due_;
  // Where the next sweep starts (see Tick).
  std::string sweep_from_;
  bool sweeping_ = false;
  // The orders the batch being handled left awaiting payment, and the latest of their deadlines.
  std::vector<std::string> unpaid_;
  int64_t unpaid_deadline_ = 0;
};

}  // namespace pavilion::order
