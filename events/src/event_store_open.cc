// Opening and closing the store: its origin id, folding a log from before blocks, finding the
// head, starting and stopping the writer and sync threads; listener registration.
#include <pthread.h>

#include <future>
#include <random>

#include "event_store_format.h"
#include "pavilion/events/event_store.h"

namespace pavilion::events {

using store_format::ForEachInBlock;
using store_format::kOriginKey;

std::string EventStore::BlockKey(uint64_t position) { return store_format::BlockKey(position); }

std::error_code EventStore::FoldSingleEventKeys(storage::KvStore& kv) {
  for (;;) {
    std::vector<std::pair<uint64_t, std::string>> events;
    auto ec = kv.Scan("e", "f", [&](std::string_view key, std::string_view value) {
      if (key.size() != 9) return true;
      events.emplace_back(GetFixed64BE(key.substr(1)), std::string(value));
      return events.size() < 4096;
    });
    if (ec) return ec;
    if (events.empty()) return {};
    storage::WriteBatch wb;
    BlockWriter blocks(wb);
    for (const auto& [position, envelope] : events) {
      blocks.Add(position, envelope);
      std::string old = "e";
      PutFixed64BE(old, position);
      wb.Delete(old);
    }
    blocks.Flush();
    if ((ec = kv.Write(wb, true))) return ec;
  }
}

EventStore::EventStore(storage::KvStore& kv, const Clock& clock, EventStoreOptions options)
    : kv_(kv), clock_(clock), options_(options), versions_(options.version_cache_streams) {}

Result<std::unique_ptr<EventStore>> EventStore::Open(storage::KvStore& kv, const Clock& clock,
                                                     EventStoreOptions options) {
  std::unique_ptr<EventStore> store(new EventStore(kv, clock, options));
  std::string origin;
  if (auto ec = kv.Get(kOriginKey, &origin); ec == storage::errc::not_found) {
    std::random_device rd;
    store->origin_ = ((static_cast<uint64_t>(rd()) << 32) ^ rd()) | 1;
    origin.clear();
    PutFixed64BE(origin, store->origin_);
    storage::WriteBatch wb;
    wb.Put(kOriginKey, origin);
    if (auto wec = kv.Write(wb, true)) return wec;
  } else if (ec) {
    return ec;
  } else {
    store->origin_ = GetFixed64BE(origin);
  }
  if (auto fec = FoldSingleEventKeys(kv)) return fec;
  uint64_t head = 0;
  bool malformed = false;
  auto ec = kv.ScanReverse("b", "c", [&](std::string_view key, std::string_view block) {
    malformed = !ForEachInBlock(GetFixed64BE(key.substr(1)), block, [&](uint64_t p, auto) {
      head = p;
      return true;
    });
    return false;
  });
  if (ec) return ec;
  if (malformed) return errc::corrupt_event;
  store->head_ = head;
  store->next_position_ = head + 1;
  store->written_ = head;
  store->written_head_ = head;
  store->recent_first_ = head + 1;
  // Named as `top -H` and perf show them.
  if (options.writer == nullptr) {
    store->writer_ = std::thread([s = store.get()] {
      pthread_setname_np(pthread_self(), "store-writer");
      s->WriterLoop();
    });
  }
  store->syncer_ = std::thread([s = store.get()] {
    pthread_setname_np(pthread_self(), "store-sync");
    s->SyncLoop();
  });
  return store;
}

EventStore::~EventStore() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (options_.writer != nullptr) {
    // What is queued is written before the store closes: on the writer's worker while it runs
    // (after the tasks it has queued, whose appends come first), else here.
    std::promise<void> written;
    if (!options_.writer->InWorkerThread() && options_.writer->Post([this, &written] {
          WriteQueued(/*all=*/true);
          written.set_value();
        })) {
      written.get_future().wait();
    } else {
      WriteQueued(/*all=*/true);
    }
  }
  {
    std::lock_guard lock(sync_mu_);
    writer_done_ = true;
  }
  sync_cv_.notify_all();
  if (syncer_.joinable()) syncer_.join();
}

// Held by the listener while it runs; Close() takes it to end the listening, so it waits for a
// call in progress. Uncontended but for that: one thread calls each list.
struct Listening::Life {
  std::mutex mu;
  bool open = true;
};

Listening& Listening::operator=(Listening&& other) noexcept {
  if (this != &other) {
    Close();
    life_ = std::move(other.life_);
  }
  return *this;
}

void Listening::Close() {
  if (!life_) return;
  std::lock_guard lock(life_->mu);
  life_->open = false;
  life_.reset();
}

namespace {

template <typename L>
Listening AddListener(std::mutex& mu, std::shared_ptr<const L>& list,
                      std::function<void(uint64_t)> listener) {
  auto life = std::make_shared<Listening::Life>();
  std::lock_guard lock(mu);
  auto next = std::make_shared<L>(*list);
  next->push_back([life, listener = std::move(listener)](uint64_t head) {
    std::lock_guard hold(life->mu);
    if (life->open) listener(head);
  });
  list = std::move(next);
  return Listening(std::move(life));
}

}  // namespace

Listening EventStore::AddCommitListener(std::function<void(uint64_t)> listener) {
  return AddListener(mu_, listeners_, std::move(listener));
}

Listening EventStore::AddWriteListener(std::function<void(uint64_t)> listener) {
  return AddListener(mu_, write_listeners_, std::move(listener));
}

std::unique_ptr<Worker> ShareWriterThread(EventStoreOptions& options) {
  auto worker = std::make_unique<Worker>("services");
  options.writer = worker.get();
  return worker;
}

}  // namespace pavilion::events
