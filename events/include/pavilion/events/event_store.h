// EventStore: the append-only event log on top of a KvStore, with streams and group commit.
//
// Every event belongs to a stream (an aggregate such as `order_…` or `sku_…`) and gets the next
// version of that stream and the next global position of the log. One writer thread assigns
// both inside the same WriteBatch as the events, so readers never see gaps or reordering.
// Concurrent Append calls are coalesced into one KvStore write (group commit); with
// `sync = true` a callback runs only after its batch is on stable storage. Writing and syncing
// are two threads: while one group is being synced the writer already writes the next ones, and
// one sync then covers all of them. A failed sync fails its groups and every later append (the
// log can no longer say what is on disk; reopen the store).
//
// An AppendRequest may carry extra state (a projection's rows and checkpoint). That state is
// written in the same batch as the events, which is how processors get exactly-once effects.
//
// Key layout: "b"+first pos → a block of consecutive envelopes (each varint length + bytes; a
// group commit writes its events as blocks of up to 256, one key each instead of one per event),
// "s"+stream+"\0"+version → pos, "m/…" → metadata. Logs written with one "e"+pos key per event
// are folded into blocks when opened.
// Thread-safety: every public method may be called from any thread. Callbacks and commit
// listeners run on the store's sync thread (`store-sync`), in append order, and must not block.
// The writer is a thread of the store's own (`store-writer`) or, with EventStoreOptions::writer,
// tasks on a Worker the store shares with the services that append most.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "pavilion/base/histogram.h"
#include "pavilion/events/clock.h"
#include "pavilion/events/envelope.h"
#include "pavilion/events/stream_versions.h"
#include "pavilion/events/worker.h"
#include "pavilion/storage/kv_store.h"

namespace pavilion::events {

inline constexpr uint64_t kAnyVersion = UINT64_MAX;
inline constexpr uint64_t kNoStream = 0;
// Like kNoStream, for a stream id just minted by NewId (a millisecond and 48 random bits): it
// names no stream yet, so the store skips the lookup kNoStream makes and the event is version 1.
// Not for ids a client chose or derived from one (an idempotency key): those use kNoStream.
inline constexpr uint64_t kFreshStream = UINT64_MAX - 1;

struct NewEvent {
  std::string stream_id;
  // The version the stream must be at before this event (kNoStream for a new stream,
  // kFreshStream for one named by a fresh NewId), or kAnyVersion to append unconditionally.
  uint64_t expected_version = kAnyVersion;
  std::string type;
  std::string payload;
  std::string correlation_id;
  std::string causation_id;
  uint32_t schema_version = 1;
};

struct AppendRequest {
  std::vector<NewEvent> events;
  storage::WriteBatch state;  // Written atomically with the events.
};

struct AppendResult {
  uint64_t first_position = 0;  // 0 when the request carried no events.
  std::vector<uint64_t> versions;
};

using AppendCallback = std::function<void(std::error_code, const AppendResult&)>;

// How far a read goes. kDurable: events on stable storage, for anything that leaves the process
// (a Kafka relay, an API answer). kWritten: also events written and not yet synced, for a
// consumer whose effects are written to this same store: they land after their causes in the
// log, and a crash loses a suffix of the log, so it keeps both or neither. Such a consumer
// handles an event while its sync is still under way, instead of waiting for it.
enum class Upto { kDurable, kWritten };

struct EventStoreOptions {
  bool sync = true;
  size_t recent_events = 1u << 16;
  size_t max_batch_requests = 16384;
  size_t max_batch_bytes = 32u << 20;
  // Stream versions the writer keeps per generation (two generations: see `versions_`).
  size_t version_cache_streams = 1u << 16;
  // Where the writer runs: nullptr for a thread of the store's own; otherwise as tasks on this
  // Worker (which must outlive the store), one per group commit, posted when appends wait. The
  // services on that worker then hand their appends to the writer and the writer its events to
  // their sources without waking another thread. A task on that worker may call AppendAndWait
  // (it writes what is queued itself, then waits for the sync) but must not wait for an Append's
  // callback any other way: the write it waits for would run after it.
  Worker* writer = nullptr;
};

// A store listener's registration. Close() (or the destructor) stops it: once Close() returns the
// listener is not running on the store's thread and never runs again, so whatever it uses may
// go. Not to be closed from inside the listener itself.
class Listening {
 public:
  struct Life;
  Listening() = default;
  explicit Listening(std::shared_ptr<Life> life) : life_(std::move(life)) {}
  Listening(Listening&&) noexcept = default;
  Listening& operator=(Listening&& other) noexcept;
  Listening(const Listening&) = delete;
  Listening& operator=(const Listening&) = delete;
  ~Listening() { Close(); }
  void Close();

 private:
  std::shared_ptr<Life> life_;
};

class EventStore {
 public:
  static Result<std::unique_ptr<EventStore>> Open(storage::KvStore& kv, const Clock& clock,
                                                  EventStoreOptions options = {});
  ~EventStore();
  EventStore(const EventStore&) = delete;
  EventStore& operator=(const EventStore&) = delete;

  // Queues the request; `cb` runs once it is durable (or failed). A version conflict fails only
  // this request, never the others in its group.
  void Append(AppendRequest request, AppendCallback cb);
  // Appends and waits. For tools and tests; services use Append (or this, to wait until what
  // they queued is durable; on the writer's worker it writes the queue itself).
  Result<AppendResult> AppendAndWait(AppendRequest request);

  // Events of one stream with version >= from_version, in order.
  Result<std::vector<Envelope>> ReadStream(std::string_view stream_id, uint64_t from_version = 1,
                                           size_t max = SIZE_MAX) const;
  // The last event of a stream if it has one past version `after` (nullopt otherwise) up to the
  // durable head or, with Upto::kWritten, the written head. The key of version `after` + 1 is
  // looked up first (a filter answers for a stream that has not moved); only a stream that has
  // is searched from the end of its index. The stream itself is not read.
  Result<std::optional<Envelope>> ReadLast(std::string_view stream_id, Upto upto = Upto::kDurable,
                                           uint64_t after = 0) const;
  // Up to `max` events with position >= from_position, in order, up to the durable head (or,
  // with Upto::kWritten, the written head).
  std::error_code ReadAll(uint64_t from_position, size_t max, std::vector<Envelope>* out,
                          Upto upto = Upto::kDurable) const;
  // Like ReadAll, served from memory: the last `recent_events` written events are kept
  // decoded. False when `from_position` is older than that (read with ReadAll instead).
  bool ReadRecent(uint64_t from_position, size_t max,
                  std::vector<std::shared_ptr<const Envelope>>* out,
                  Upto upto = Upto::kDurable) const;
  // Whether any written event from `from_position` to `to_position` (both included) has a type
  // `wanted` accepts, looking only at the events kept in memory; nullopt when some of them are
  // no longer there. Lets a source skip events its processor ignores without reading them.
  std::optional<bool> AnyRecent(uint64_t from_position, uint64_t to_position,
                                const std::function<bool(std::string_view type)>& wanted) const;

  // The last durable position (0 for an empty log).
  uint64_t head() const { return head_.load(std::memory_order_acquire); }
  // The last position written, durable or not yet: what a consumer whose own writes go to this
  // store may read (see Upto::kWritten). Equal to head() once the sync thread catches up.
  uint64_t written_head() const { return written_head_.load(std::memory_order_acquire); }
  // This log's random id, fixed at creation; it tells Kafka consumers where an event came from.
  uint64_t origin() const { return origin_; }
  storage::KvStore& kv() const { return kv_; }
  // The worker the writer runs on (EventStoreOptions::writer), or nullptr. The services run on
  // lanes of it when there is one, so their appends and their sources' events need no wake-up.
  Worker* writer_worker() const { return options_.writer; }
  const Clock& clock() const { return clock_; }

  // Runs on the sync thread after each sync (one covers the batches written meanwhile) with the
  // new durable head, until the returned handle is closed.
  [[nodiscard]] Listening AddCommitListener(std::function<void(uint64_t head)> listener);
  // Runs on the writer thread after every written batch with the new written head, once the
  // batch is queued for its sync, until the returned handle is closed.
  [[nodiscard]] Listening AddWriteListener(std::function<void(uint64_t written_head)> listener);

  uint64_t events_appended() const { return events_appended_.load(std::memory_order_relaxed); }
  uint64_t batches_written() const { return batches_written_.load(std::memory_order_relaxed); }
  // How long each sync took (the WAL's fdatasync with RocksDB), and each append from Append()
  // to its answer (queue, write, sync): the disk's share of a request's latency.
  const base::LatencyHistogram& sync_latency() const { return sync_latency_; }
  const base::LatencyHistogram& append_latency() const { return append_latency_; }
  // Groups written and waiting for the sync thread (not counting those it is syncing).
  size_t groups_awaiting_sync() const {
    std::lock_guard lock(sync_mu_);
    return unsynced_.size();
  }

  // The key of the block whose first event is at `position`.
  static std::string BlockKey(uint64_t position);

 private:
  using Listeners = std::vector<std::function<void(uint64_t)>>;
  struct Pending {
    AppendRequest request;
    AppendCallback cb;
    int64_t queued_micros = 0;  // clock().MonotonicMicros() when Append took it.
  };
  // A group the writer has written (or failed), on its way to the sync thread.
  struct Written {
    std::vector<Pending> group;
    std::vector<std::error_code> outcomes;
    std::vector<AppendResult> results;
    uint64_t events = 0;  // Events it wrote.
    uint64_t head = 0;    // The last position written with this group and those before it.
    bool wrote = false;   // It wrote something that needs a sync.
    bool ok = false;      // Its write succeeded (or it had nothing to write).
  };

  EventStore(storage::KvStore& kv, const Clock& clock, EventStoreOptions options);
  void WriterLoop();
  // Moves the queue's next group (within the batch limits) into `group`; with mu_ held.
  void TakeGroup(std::vector<Pending>& group);
  // Writes a group, hands it to the sync thread and tells the write listeners.
  void WriteGroup(std::vector<Pending>& group);
  // With options_.writer: posts WriteQueued to it, or runs it here if that worker has stopped.
  void PostWrite();
  // With options_.writer: writes one group of what is queued (all of it when `all`).
  void WriteQueued(bool all);
  void SyncLoop();
  // Hands a written group to the sync thread; a writer thread of its own waits while
  // kMaxUnsynced groups are ahead of it.
  void HandOver(Written written);
  // The last position a read that goes `upto` there may return.
  uint64_t Limit(Upto upto) const;
  // The event at `position` (from the block that holds it).
  Result<Envelope> ReadAt(uint64_t position) const;
  class BlockWriter;
  // Folds a log's one-key-per-event entries ("e"+pos, before blocks) into blocks.
  static std::error_code FoldSingleEventKeys(storage::KvStore& kv);
  Result<uint64_t> CurrentVersion(std::string_view stream_id, size_t hash);

  storage::KvStore& kv_;
  const Clock& clock_;
  const EventStoreOptions options_;
  uint64_t origin_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  // Replaced (not mutated) on each Add…Listener, so the store's threads take them without copying.
  std::shared_ptr<const Listeners> listeners_ = std::make_shared<Listeners>();
  std::shared_ptr<const Listeners> write_listeners_ = std::make_shared<Listeners>();

  // Writer state: touched by the writer thread, or with options_.writer by WriteQueued under
  // writer_mu_ (uncontended unless that worker has stopped).
  std::mutex writer_mu_;
  // With options_.writer: a WriteQueued is posted, not yet taking (mu_).
  bool write_posted_ = false;
  base::PackedStringMap overlay_;  // The versions one append gives its streams, until it succeeds.
  std::string scratch_;
  std::vector<std::shared_ptr<const Envelope>> committed_;
  uint64_t next_position_ = 1;
  uint64_t written_ = 0;  // The last position written, synced or not.
  // Stream versions in two generations (see StreamVersionCache): streams still being written
  // (SKUs, orders awaiting an answer) survive a turn, the rest go — bounded memory without a
  // burst of reloads for the hot streams.
  StreamVersionCache versions_;

  // Written groups waiting for the sync thread, oldest first.
  mutable std::mutex sync_mu_;
  std::condition_variable sync_cv_;  // Something to sync, or the writer is done.
  std::condition_variable room_cv_;  // The sync thread took groups.
  std::deque<Written> unsynced_;
  bool writer_done_ = false;
  std::atomic<bool> broken_{false};  // A sync failed: every append from then on fails.

  // The most recent written events, oldest first; recent_.front() is at recent_first_.
  mutable std::mutex recent_mu_;
  std::deque<std::shared_ptr<const Envelope>> recent_;
  uint64_t recent_first_ = 1;

  // The block ReadAt read last (blocks never change), and its first position (0: none yet).
  mutable std::mutex block_mu_;
  mutable std::string block_;
  mutable uint64_t block_first_ = 0;

  std::atomic<uint64_t> head_{0};
  std::atomic<uint64_t> written_head_{0};
  std::atomic<uint64_t> events_appended_{0};
  std::atomic<uint64_t> batches_written_{0};
  base::LatencyHistogram sync_latency_, append_latency_;
  std::thread writer_;
  std::thread syncer_;
};

// `pavilion serve --service-threads shared`: a Worker ("services") that runs the store's writer
// (it sets options.writer) and, as lanes, the services opened on that store. Keep it until the
// store and the services are gone.
std::unique_ptr<Worker> ShareWriterThread(EventStoreOptions& options);

}  // namespace pavilion::events
