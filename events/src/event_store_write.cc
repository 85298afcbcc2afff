// The writer: appends queue under mu_; the writer (its own thread, or tasks on
// EventStoreOptions::writer) takes them in groups, gives each event its position and stream
// version, writes the group as one unsynced batch and hands it to the sync thread.
#include <future>

#include "event_store_format.h"
#include "pavilion/events/event_store.h"

namespace pavilion::events {

using store_format::StreamKey;
using store_format::StreamKeyPrefix;

namespace {

bool ValidEvent(const NewEvent& e) {
  return !e.stream_id.empty() && e.stream_id.find('\0') == std::string::npos && !e.type.empty() &&
         e.schema_version >= 1 && e.schema_version <= kMaxSchemaVersion;
}

}  // namespace

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

}  // namespace pavilion::events
