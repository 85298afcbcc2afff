// The sync thread: makes written groups durable (one sync for every group written meanwhile),
// then moves the durable head, answers the appends in order and runs the commit listeners.
#include "event_store_format.h"
#include "pavilion/events/event_store.h"

namespace pavilion::events {

void EventStore::SyncLoop() {
  std::deque<Written> taken;
  for (;;) {
    taken.clear();
    {
      std::unique_lock lock(sync_mu_);
      sync_cv_.wait(lock, [&] { return writer_done_ || !unsynced_.empty(); });
      if (unsynced_.empty()) return;  // The writer is done and everything is answered.
      taken.swap(unsynced_);
    }
    room_cv_.notify_all();
    bool wrote = false;
    for (const auto& w : taken) wrote = wrote || w.wrote;
    if (wrote && options_.sync && !broken_.load(std::memory_order_acquire)) {
      const int64_t start = clock_.MonotonicMicros();
      if (kv_.Sync()) broken_.store(true, std::memory_order_release);
      sync_latency_.Observe(clock_.MonotonicMicros() - start);
    }
    const bool durable = !broken_.load(std::memory_order_acquire);
    uint64_t head = head_.load(std::memory_order_relaxed);
    uint64_t events = 0, batches = 0;
    for (auto& w : taken) {
      if (durable) {
        events += w.events;
        batches += w.ok;
        head = w.head;
      } else {
        // Written but never synced: none of it may be acknowledged.
        for (auto& o : w.outcomes) {
          if (!o) o = errc::store_failed;
        }
      }
    }
    head_.store(head, std::memory_order_release);
    events_appended_.fetch_add(events, std::memory_order_relaxed);
    batches_written_.fetch_add(batches, std::memory_order_relaxed);
    std::shared_ptr<const Listeners> listeners;
    {
      std::lock_guard lock(mu_);
      listeners = listeners_;
    }
    const int64_t answered = clock_.MonotonicMicros();
    for (auto& w : taken) {
      for (size_t i = 0; i < w.group.size(); ++i) {
        append_latency_.Observe(answered - w.group[i].queued_micros);
        if (w.group[i].cb) w.group[i].cb(w.outcomes[i], w.results[i]);
      }
    }
    if (durable) {
      for (const auto& l : *listeners) l(head);
    }
  }
}

}  // namespace pavilion::events
