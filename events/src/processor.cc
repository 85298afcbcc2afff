#include "pavilion/events/processor.h"

#include <cstdio>
#include <cstdlib>

namespace pavilion::events {

void Transaction::MergeInto(Transaction& into) {
  for (auto& e : request_.events) into.request_.events.push_back(std::move(e));
  into.request_.state.Append(std::move(request_.state));
  for (auto& f : on_durable_) into.on_durable_.push_back(std::move(f));
  request_.events.clear();
  on_durable_.clear();
}

void Transaction::Commit(EventStore& store, bool fatal_on_error) {
  store.Append(std::move(request_), [callbacks = std::move(on_durable_), fatal_on_error](
                                        std::error_code ec, const AppendResult&) {
    if (ec && fatal_on_error) {
      std::fprintf(stderr, "pavilion: fatal: processor commit failed: %s\n", ec.message().c_str());
      std::abort();
    }
    for (const auto& f : callbacks) f(ec);
  });
  request_ = AppendRequest{};
  on_durable_.clear();
}

std::string EmbeddedSource::CheckpointKey(std::string_view processor_name) {
  return "c/" + std::string(processor_name);
}

EmbeddedSource::EmbeddedSource(EventStore& store, Worker& worker, Processor& processor)
    : store_(store),
      worker_(worker),
      processor_(processor),
      checkpoint_key_(CheckpointKey(processor.name())),
      wanted_(processor.event_types()) {}

EmbeddedSource::~EmbeddedSource() { Stop(); }

void EmbeddedSource::Start() {
  std::string value;
  auto ec = store_.kv().Get(checkpoint_key_, &value);
  if (ec && ec != storage::errc::not_found) {
    std::fprintf(stderr, "pavilion: fatal: cannot read checkpoint %s: %s\n",
                 checkpoint_key_.c_str(), ec.message().c_str());
    std::abort();
  }
  cursor_ = ec ? 0 : GetFixed64BE(value);
  checkpointed_.store(cursor_.load());
  // Written events, durable or not yet: this processor's effects go to the same store after
  // them (Upto::kWritten).
  listening_ = store_.AddWriteListener([this](uint64_t) { Schedule(); });
  Schedule();
}

void EmbeddedSource::Stop() {
  listening_.Close();  // Waits for a Schedule in progress on the writer thread.
  alive_->store(false);
}

uint64_t EmbeddedSource::lag() const {
  uint64_t head = store_.written_head(), cursor = cursor_.load();
  return head > cursor ? head - cursor : 0;
}

// For a metrics scrape (any thread): the append time of the event after the cursor.
std::optional<int64_t> EmbeddedSource::lag_micros() const {
  const uint64_t cursor = cursor_.load();
  if (store_.written_head() <= cursor) return 0;
  int64_t appended = 0;
  std::vector<std::shared_ptr<const Envelope>> recent;
  if (store_.ReadRecent(cursor + 1, 1, &recent, Upto::kWritten)) {
    if (recent.empty()) return 0;
    appended = recent[0]->time_micros;
  } else {
    std::vector<Envelope> from_disk;
    if (store_.ReadAll(cursor + 1, 1, &from_disk, Upto::kWritten) || from_disk.empty()) {
      return std::nullopt;
    }
    appended = from_disk[0].time_micros;
  }
  return std::max<int64_t>(0, store_.clock().NowMicros() - appended);
}

// Runs on the store's writer thread (a write listener) and at the end of each pump. Whoever sets
// `scheduled_` owns the cursor until it clears it: it either posts a pump or, when every new
// event is of a type the processor ignores, moves the cursor past them itself — no wake-up of
// the worker for them. The checkpoint still follows within kCheckpointEvery events (a pump
// writes it), so a restart does not re-read a long run of ignored events.
void EmbeddedSource::Schedule() {
  for (;;) {
    const uint64_t head = store_.written_head();
    const uint64_t cursor = cursor_.load();
    if (head <= cursor) return;
    if (scheduled_.exchange(true)) return;
    if (!wanted_.all() && head - checkpointed_.load() < kCheckpointEvery) {
      auto any = store_.AnyRecent(cursor + 1, head,
                                  [this](std::string_view type) { return wanted_(type); });
      if (any.has_value() && !*any) {
        cursor_.store(head);
        scheduled_.store(false);
        continue;  // More may have been written meanwhile.
      }
    }
    worker_.Post([this, alive = alive_] {
      if (alive->load()) Pump();
    });
    return;
  }
}

void EmbeddedSource::Pump() {
  // A pump commits every 256 events rather than a few thousand: the store writes one part while
  // the processor handles the next.
  constexpr size_t kMaxEvents = 256;
  buffer_.clear();
  uint64_t cursor = cursor_.load();
  if (!store_.ReadRecent(cursor + 1, kMaxEvents, &buffer_, Upto::kWritten)) {
    std::vector<Envelope> from_disk;
    if (auto ec = store_.ReadAll(cursor + 1, kMaxEvents, &from_disk, Upto::kWritten)) {
      std::fprintf(stderr, "pavilion: fatal: reading the log for %s: %s\n", checkpoint_key_.c_str(),
                   ec.message().c_str());
      std::abort();
    }
    for (auto& e : from_disk) buffer_.push_back(std::make_shared<const Envelope>(std::move(e)));
  }
  // All events of one pump commit together: one checkpoint, one append.
  if (!buffer_.empty()) processor_.BeforeBatch();
  Transaction all;
  for (const auto& env : buffer_) {
    cursor = env->position;
    if (!wanted_(env->type)) continue;
    Transaction tx(*env);
    processor_.Handle(*env, tx);
    tx.MergeInto(all);
  }
  if (!buffer_.empty()) processor_.AfterBatch(all);
  if (!buffer_.empty() && (!all.empty() || cursor - checkpointed_ >= kCheckpointEvery)) {
    std::string value;
    PutFixed64BE(value, cursor);
    all.state().Put(checkpoint_key_, value);
    all.Commit(store_, /*fatal_on_error=*/true);
    checkpointed_.store(cursor);
  }
  cursor_.store(cursor);
  scheduled_.store(false);
  Schedule();
}

}  // namespace pavilion::events
