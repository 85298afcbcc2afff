#include "pavilion/events/event_store.h"

#include <pthread.h>

#include <algorithm>
#include <future>
#include <optional>
#include <random>

namespace pavilion::events {
namespace {

constexpr std::string_view kOriginKey = "m/origin";

std::string StreamKeyPrefix(std::string_view stream_id) {
  std::string key;
  key.reserve(stream_id.size() + 2);
  key.push_back('s');
  key.append(stream_id);
  key.push_back('\0');
  return key;
}

std::string StreamKey(std::string_view stream_id, uint64_t version) {
  std::string key = StreamKeyPrefix(stream_id);
  PutFixed64BE(key, version);
  return key;
}

// A block holds at most this many events or (past) this many bytes.
constexpr size_t kBlockEvents = 256;
constexpr size_t kBlockBytes = 256u << 10;

bool TakeVarint(std::string_view& in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    const auto byte = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    *v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

// Calls fn(position, envelope bytes) for each event of a block that starts at `first`, until fn
// returns false; false when the block is malformed.
template <typename Fn>
bool ForEachInBlock(uint64_t first, std::string_view block, Fn fn) {
  for (uint64_t position = first; !block.empty(); ++position) {
    uint64_t size = 0;
    if (!TakeVarint(block, &size) || size > block.size()) return false;
    if (!fn(position, block.substr(0, size))) return true;
    block.remove_prefix(size);
  }
  return true;
}

}  // namespace

// Gathers envelopes into blocks of consecutive positions (at most kBlockEvents, or past
// kBlockBytes), each put into a batch under the key of its first position.
class EventStore::BlockWriter {
 public:
  explicit BlockWriter(storage::WriteBatch& wb) : wb_(wb) {}
  void Add(uint64_t position, std::string_view envelope) {
    if (count_ > 0 && position != first_ + count_) Flush();
    if (count_ == 0) first_ = position;
    PutVarint(block_, envelope.size());
    block_.append(envelope);
    if (++count_ == kBlockEvents || block_.size() >= kBlockBytes) Flush();
  }
  void Flush() {
    if (count_ == 0) return;
    wb_.Put(BlockKey(first_), block_);
    block_.clear();
    count_ = 0;
  }

 private:
  storage::WriteBatch& wb_;
  std::string block_;
  uint64_t first_ = 0, count_ = 0;
};

namespace {

bool ValidEvent(const NewEvent& e) {
  return !e.stream_id.empty() && e.stream_id.find('\0') == std::string::npos && !e.type.empty() &&
         e.schema_version >= 1 && e.schema_version <= kMaxSchemaVersion;
}

}  // namespace

std::string EventStore::BlockKey(uint64_t position) {
  std::string key = "b";
  PutFixed64BE(key, position);
  return key;
}

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
    if (!options_.writer->InWorkerThread() &&
        options_.writer->Post([this, &written] {
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

void EventStore::Append(AppendRequest request, AppendCallback cb) {
  bool post = false;
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back(Pending{std::move(request), std::move(cb), clock_.MonotonicMicros()});
      if (options_.writer == nullptr) {
        cv_.notify_one();
        return;
      }
      // A posted write that has not taken the queue yet takes this append too.
      if (write_posted_) return;
      write_posted_ = post = true;
    }
  }
  if (post) return PostWrite();
  cb(errc::shut_down, AppendResult{});
}

Result<AppendResult> EventStore::AppendAndWait(AppendRequest request) {
  std::promise<Result<AppendResult>> done;
  auto fut = done.get_future();
  Append(std::move(request), [&done](std::error_code ec, const AppendResult& r) {
    if (ec) {
      done.set_value(ec);
    } else {
      done.set_value(r);
    }
  });
  // On the writer's own worker the write would wait behind this task: it is done here instead.
  if (options_.writer != nullptr && options_.writer->InWorkerThread()) WriteQueued(/*all=*/true);
  return fut.get();
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

Result<uint64_t> EventStore::CurrentVersion(std::string_view stream_id, size_t hash) {
  if (auto cached = versions_.Find(stream_id, hash)) return *cached;
  // Most streams an append names are new (a fresh order, a fresh product): a point lookup of
  // version 1 (the files' bloom filters answer it for everything flushed) settles that without
  // an iterator.
  std::string first;
  auto first_ec = kv_.Get(StreamKey(stream_id, 1), &first);
  if (first_ec == storage::errc::not_found) {
    versions_.Set(stream_id, hash, 0);
    return uint64_t{0};
  }
  if (first_ec) return first_ec;
  std::string prefix = StreamKeyPrefix(stream_id);
  uint64_t version = 0;
  auto ec = kv_.ScanReverse(prefix, storage::PrefixEnd(prefix),
                            [&](std::string_view key, std::string_view) {
                              version = GetFixed64BE(key.substr(prefix.size()));
                              return false;
                            });
  if (ec) return ec;
  versions_.Set(stream_id, hash, version);
  return version;
}

void EventStore::WriterLoop() {
  std::vector<Pending> group;
  for (;;) {
    group.clear();
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // Stopping and drained.
      TakeGroup(group);
    }
    WriteGroup(group);
  }
}

void EventStore::TakeGroup(std::vector<Pending>& group) {
  size_t bytes = 0;
  while (!queue_.empty() && group.size() < options_.max_batch_requests &&
         bytes < options_.max_batch_bytes) {
    bytes += queue_.front().request.state.bytes() + 64 * queue_.front().request.events.size();
    for (const auto& e : queue_.front().request.events) bytes += e.payload.size();
    group.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
}

void EventStore::PostWrite() {
  if (!options_.writer->Post([this] { WriteQueued(/*all=*/false); })) WriteQueued(/*all=*/true);
}

// One group per task, so a steady stream of appends from other threads cannot hold the worker's
// other tasks back: appends that arrive meanwhile, or what the group's limits left queued, are
// written by the next task.
void EventStore::WriteQueued(bool all) {
  std::unique_lock writing(writer_mu_);
  std::vector<Pending> group;
  for (;;) {
    group.clear();
    bool more = false;
    {
      std::lock_guard lock(mu_);
      TakeGroup(group);
      more = !queue_.empty();
      write_posted_ = more && !all;  // Posted below, after this group.
    }
    if (group.empty()) return;
    WriteGroup(group);
    if (!more) return;
    if (!all) {
      writing.unlock();  // PostWrite writes here if the worker has stopped.
      return PostWrite();
    }
  }
}

void EventStore::WriteGroup(std::vector<Pending>& group) {
  std::vector<std::error_code> outcomes;
  std::vector<AppendResult> results;
  auto& overlay = overlay_;
  auto& scratch = scratch_;
  auto& committed = committed_;
  {
    storage::WriteBatch wb;
    BlockWriter blocks(wb);  // The group's events, one key per block.
    committed.clear();
    outcomes.assign(group.size(), {});
    results.assign(group.size(), {});
    const int64_t now = clock_.NowMicros();
    for (size_t i = 0; i < group.size(); ++i) {
    auto& req = group[i].request;
      overlay.Clear();
      for (const auto& e : req.events) {
        if (!ValidEvent(e)) {
          outcomes[i] = errc::invalid_event;
          break;
        }
        uint64_t current = 0;
        const size_t hash = base::PackedStringMap::Hash(e.stream_id);
        if (const uint64_t* staged = overlay.Find(e.stream_id, hash)) {
          current = *staged;
        } else if (e.expected_version == kFreshStream) {
          current = 0;  // A fresh id names no stream: nothing to look up.
        } else {
          auto v = CurrentVersion(e.stream_id, hash);
          if (!v.ok()) {
            outcomes[i] = errc::store_failed;
            break;
          }
          current = *v;
        }
        const uint64_t expected =
            e.expected_version == kFreshStream ? kNoStream : e.expected_version;
        if (expected != kAnyVersion && expected != current) {
          outcomes[i] = errc::version_conflict;
          break;
        }
        overlay.Set(e.stream_id, hash, current + 1);
        results[i].versions.push_back(current + 1);
      }
      if (outcomes[i]) {
        results[i].versions.clear();
        continue;
      }
      if (!req.events.empty()) results[i].first_position = next_position_;
      for (size_t k = 0; k < req.events.size(); ++k) {
        auto& e = req.events[k];
        Envelope env;
        env.event_id = NewId("ev");
        env.type = std::move(e.type);
        env.stream_id = std::move(e.stream_id);  // The request is not read again.
        env.stream_version = results[i].versions[k];
        env.position = next_position_++;
        env.origin = origin_;
        env.time_micros = now;
        env.correlation_id = std::move(e.correlation_id);
        env.causation_id = std::move(e.causation_id);
        env.schema_version = e.schema_version;
        env.payload = std::move(e.payload);
        scratch.clear();
        EncodeEnvelopeTo(env, scratch);
        blocks.Add(env.position, scratch);
        std::string pos;
        PutFixed64BE(pos, env.position);
        wb.Put(StreamKey(env.stream_id, env.stream_version), pos);
        committed.push_back(std::make_shared<const Envelope>(std::move(env)));
      }
      overlay.ForEach([&](std::string_view stream, size_t hash, uint64_t version) {
        versions_.Set(stream, hash, version);
      });
      wb.Append(std::move(req.state));
    }

    blocks.Flush();
    std::error_code write_ec;
    if (broken_.load(std::memory_order_acquire)) {
      write_ec = errc::store_failed;
    } else if (!wb.empty()) {
      // Not synced here: the sync thread makes it durable, with whatever is written meanwhile.
      write_ec = kv_.Write(wb, /*sync=*/false);
    }
    if (write_ec) {
      // Nothing of this group is written: forget the positions and versions it took.
      next_position_ = written_ + 1;
      versions_.Clear();
      committed.clear();
      for (auto& o : outcomes) {
        if (!o) o = errc::store_failed;
      }
    } else if (!committed.empty()) {
      written_ = next_position_ - 1;
      {
        std::lock_guard lock(recent_mu_);
        for (auto& e : committed) recent_.push_back(std::move(e));
        while (recent_.size() > options_.recent_events) {
          recent_.pop_front();
          ++recent_first_;
        }
      }
      written_head_.store(written_, std::memory_order_release);
    }
    const bool wrote_events = !write_ec && !committed.empty();
    // Bounded: entries reload from the store on demand, once written (see Turn()).
    versions_.Turn();
    HandOver(Written{std::move(group), std::move(outcomes), std::move(results), committed.size(),
                     written_, !write_ec && !wb.empty(), !write_ec});
    // After the hand-over: a listener that sees this head knows the group waits for its sync.
    // The listeners as they are now, after the head moved: one added while the group was being
    // written either saw the new head when it looked or is called here (a source started then
    // missed the group until the next write).
    if (wrote_events) {
      std::shared_ptr<const Listeners> listeners;
      {
        std::lock_guard lock(mu_);
        listeners = write_listeners_;
      }
      for (const auto& l : *listeners) l(written_);
    }
  }
}

void EventStore::HandOver(Written written) {
  constexpr size_t kMaxUnsynced = 64;
  std::unique_lock lock(sync_mu_);
  // A writer of its own waits for room: it holds back only appends. On a worker it shares with
  // the services it does not: waiting there would stop every query and command of theirs behind
  // one slow sync. What piles up is bounded by the requests in progress, each waiting for its
  // answer.
  if (options_.writer == nullptr) {
    room_cv_.wait(lock, [&] { return unsynced_.size() < kMaxUnsynced; });
  }
  unsynced_.push_back(std::move(written));
  sync_cv_.notify_one();
}

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

Result<std::vector<Envelope>> EventStore::ReadStream(std::string_view stream_id,
                                                     uint64_t from_version, size_t max) const {
  std::string prefix = StreamKeyPrefix(stream_id);
  std::vector<Envelope> out;
  std::error_code inner;
  const uint64_t limit = head();  // Written events past it are not durable yet.
  // Reads the event an index entry names; false once past the durable head or on an error.
  auto take = [&](std::string_view pos) {
    if (pos.size() != 8) {
      inner = errc::corrupt_event;
      return false;
    }
    if (GetFixed64BE(pos) > limit) return false;
    auto env = ReadAt(GetFixed64BE(pos));
    if (!env.ok()) {
      inner = env.error();
      return false;
    }
    out.push_back(std::move(env).value());
    return true;
  };
  std::error_code ec;
  if (max == 1) {  // One version: looked up by its key (a filter answers), not scanned for.
    std::string pos;
    ec = kv_.Get(StreamKey(stream_id, std::max<uint64_t>(from_version, 1)), &pos);
    if (ec == storage::errc::not_found) return out;
    if (!ec) take(pos);
  } else {
    ec = kv_.Scan(StreamKey(stream_id, from_version), storage::PrefixEnd(prefix),
                  [&](std::string_view, std::string_view pos) { return take(pos) && out.size() < max; });
  }
  if (ec) return ec;
  if (inner) return inner;
  return out;
}

Result<std::optional<Envelope>> EventStore::ReadLast(std::string_view stream_id, Upto upto,
                                                     uint64_t after) const {
  const std::string prefix = StreamKeyPrefix(stream_id);
  const uint64_t limit = Limit(upto);
  std::string next;
  if (auto ec = kv_.Get(StreamKey(stream_id, after + 1), &next)) {
    if (ec == storage::errc::not_found) return std::optional<Envelope>();
    return ec;
  }
  if (next.size() != 8) return errc::corrupt_event;
  if (GetFixed64BE(next) > limit) return std::optional<Envelope>();
  uint64_t position = 0;
  bool corrupt = false;
  auto ec = kv_.ScanReverse(prefix, storage::PrefixEnd(prefix),
                            [&](std::string_view, std::string_view pos) {
                              if (pos.size() != 8) {
                                corrupt = true;
                                return false;
                              }
                              position = GetFixed64BE(pos);
                              return position > limit;  // Past the limit: the one before.
                            });
  if (ec) return ec;
  if (corrupt) return errc::corrupt_event;
  if (position == 0 || position > limit) return std::optional<Envelope>();
  auto env = ReadAt(position);
  if (!env.ok()) return env.error();
  return std::optional<Envelope>(std::move(env).value());
}

Result<Envelope> EventStore::ReadAt(uint64_t position) const {
  // The last events written are kept decoded: a stream read of recent events (an order just
  // placed, rebuilt from its events) needs no block read.
  std::vector<std::shared_ptr<const Envelope>> recent;
  if (ReadRecent(position, 1, &recent, Upto::kWritten) && !recent.empty()) return *recent[0];
  // Finds `position` in the block that starts at `first`; nullopt if the block ends before it.
  auto in_block = [position](uint64_t first, std::string_view block) {
    std::optional<Result<Envelope>> found;
    ForEachInBlock(first, block, [&](uint64_t p, std::string_view bytes) {
      if (p < position) return true;
      if (p == position) found = DecodeEnvelope(bytes);
      return false;
    });
    return found;
  };
  {
    // Reads of older events come in runs through the log (the orders due for a timeout, in the
    // order they were reserved): the last block read answers most of them.
    std::lock_guard lock(block_mu_);
    if (block_first_ != 0 && position >= block_first_) {
      if (auto hit = in_block(block_first_, block_)) return *hit;
    }
  }
  uint64_t first = 0;
  std::string block;
  auto ec = kv_.ScanReverse("b", BlockKey(position + 1), [&](std::string_view key,
                                                           std::string_view bytes) {
    first = GetFixed64BE(key.substr(1));
    block.assign(bytes);
    return false;
  });
  if (ec) return ec;
  auto found = first != 0 ? in_block(first, block) : std::nullopt;
  if (!found) return errc::corrupt_event;  // The index names an event no block holds.
  std::lock_guard lock(block_mu_);
  block_first_ = first;
  block_.swap(block);
  return *found;
}

uint64_t EventStore::Limit(Upto upto) const {
  // After a failed sync what is written may never be durable: nobody reads past the durable head.
  return upto == Upto::kWritten && !broken_.load(std::memory_order_acquire) ? written_head()
                                                                            : head();
}

bool EventStore::ReadRecent(uint64_t from_position, size_t max,
                            std::vector<std::shared_ptr<const Envelope>>* out, Upto upto) const {
  const uint64_t limit = Limit(upto);
  std::lock_guard lock(recent_mu_);
  if (from_position < recent_first_) return false;
  const uint64_t end = std::min(recent_first_ + recent_.size(), limit + 1);
  for (uint64_t p = from_position; p < end && max > 0; ++p, --max) {
    out->push_back(recent_[p - recent_first_]);
  }
  return true;
}

std::optional<bool> EventStore::AnyRecent(
    uint64_t from_position, uint64_t to_position,
    const std::function<bool(std::string_view)>& wanted) const {
  std::lock_guard lock(recent_mu_);
  if (from_position < recent_first_ || to_position >= recent_first_ + recent_.size()) {
    return std::nullopt;
  }
  for (uint64_t p = from_position; p <= to_position; ++p) {
    if (wanted(recent_[p - recent_first_]->type)) return true;
  }
  return false;
}

std::error_code EventStore::ReadAll(uint64_t from_position, size_t max,
                                    std::vector<Envelope>* out, Upto upto) const {
  const uint64_t limit = Limit(upto);
  if (from_position > limit || max == 0) return {};
  // Start at the block holding from_position: the last one that begins at or before it.
  std::string start = BlockKey(from_position);
  auto ec = kv_.ScanReverse("b", BlockKey(from_position + 1),
                            [&](std::string_view key, std::string_view) {
                              start = std::string(key);
                              return false;
                            });
  if (ec) return ec;
  std::error_code inner;
  size_t n = 0;
  bool more = true;
  ec = kv_.Scan(start, BlockKey(limit + 1), [&](std::string_view key, std::string_view block) {
    const bool whole = ForEachInBlock(GetFixed64BE(key.substr(1)), block,
                                      [&](uint64_t p, std::string_view bytes) {
                                        if (p < from_position) return true;
                                        if (p > limit) return more = false;
                                        auto env = DecodeEnvelope(bytes);
                                        if (!env.ok()) {
                                          inner = env.error();
                                          return more = false;
                                        }
                                        out->push_back(std::move(env).value());
                                        return more = ++n < max;
                                      });
    if (!whole && !inner) inner = errc::corrupt_event;
    return more && !inner;
  });
  return ec ? ec : inner;
}

std::unique_ptr<Worker> ShareWriterThread(EventStoreOptions& options) {
  auto worker = std::make_unique<Worker>("services");
  options.writer = worker.get();
  return worker;
}

}  // namespace pavilion::events
