// OrderStore: the orders the order worker has ahead of the store, their records, and when each
// change is durable.
//
// Every command for an order runs on the order worker, so an order has exactly one writer: the
// worker keeps one Entry per order it has changed and not yet seen durable (its state, the
// commits in flight, the placements waiting for the outcome) and reads every other order from
// the store. Stage writes an order's record and moves its status index entries in the
// transaction that carries its events; once that is durable (the store's sync thread reports
// it, one task per group commit), waiters are answered and the entry is dropped.
//
// An order gets its record (ord/o/<id>) at its first change after placement is decided: until
// then it is what its events say (order.placed, then order.reserved, which carries every line),
// and Load rebuilds it from them. One key and one encoding fewer per order placed.
//
// Threads: everything on the order worker, but Durable, which the sync thread calls.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "pavilion/events/event_store.h"
#include "pavilion/events/processor.h"
#include "pavilion/events/worker.h"
#include "pavilion/order/order.h"
#include "status_index.h"

namespace pavilion::order {

class OrderStore {
 public:
  using Done = std::function<void(Result<Order>)>;

  OrderStore(events::EventStore& store, events::Worker& worker);

  events::EventStore& events() { return store_; }

  // The order as the service knows it now (possibly ahead of the store), loaded into the cache;
  // null when there is none (or it cannot be read).
  Order* Find(const std::string& id);
  // The order's record, or without one its events; `recorded` tells which.
  Result<Order> Load(const std::string& id, bool* recorded = nullptr);
  // Starts tracking a new order (placed, without a record) whose first commit is `tx`; `done`
  // waits for its placement.
  void Add(const std::string& id, Order order, Done done, events::Transaction& tx);
  // Another placement request waits for the outcome of `id`, which Find has loaded.
  void Wait(const std::string& id, Done done) { orders_.at(id).waiters.push_back(std::move(done)); }
  // Whether a commit of the order is in flight.
  bool Dirty(const std::string& id) const;
  // Drops a cached order that has nothing in flight and nobody waiting; the store has its
  // latest state.
  void Release(const std::string& id);

  // Writes the order's state (its record unless `record` is false, its status index entries)
  // into the transaction, counted in flight until durable. Without `record` the order is what
  // its events say (just reserved), so it gets no record, and one written with an earlier
  // answer of some of its lines goes.
  void Stage(const std::string& id, events::Transaction& tx, bool record = true);
  // Stage and append.
  void Commit(const std::string& id, events::Transaction& tx, bool fatal);

 private:
  struct Entry {
    Order order;
    int inflight = 0;           // Commits of it not yet durable.
    bool recorded = false;      // The store has (or a commit in flight writes) an ord/o record.
    IndexedStatuses indexed;    // The statuses its status index entries (ord/st-) name.
    std::vector<Done> waiters;  // Placements awaiting the outcome.
  };

  Result<Order> FromEvents(const std::string& id);
  // Counts `tx` as a commit of the order in flight until it is durable.
  void Track(const std::string& id, Entry& entry, events::Transaction& tx);
  // Moves the order's status index entries with the statuses it has now.
  void IndexStatuses(Entry& entry, events::Transaction& tx);
  // On the store's sync thread: queues the outcome for the worker. One task takes all the
  // outcomes queued meanwhile (a group commit carries many orders), not one task per order.
  void Durable(const std::string& id, std::error_code ec);
  void ApplyDurable();
  // A commit of the order is durable (or failed). Once none is in flight, the waiters for its
  // placement are answered and the cached copy is dropped.
  void Committed(const std::string& id, std::error_code ec);

  events::EventStore& store_;
  events::Worker& worker_;
  // Orders whose state may be ahead of the store.
  std::unordered_map<std::string, Entry> orders_;
  // Commit outcomes from the store's sync thread, waiting for the worker (see Durable).
  std::mutex durable_mu_;
  std::vector<std::pair<std::string, std::error_code>> durable_, applying_;
};

}  // namespace pavilion::order
