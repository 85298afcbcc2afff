// Processors: the event handlers of the services, and the sources that feed them.
//
// A Processor turns one input event into a Transaction: new events plus changes to its own
// state. The runtime adds the input's checkpoint to the same Transaction and appends it to the
// EventStore as one atomic write, so after a crash a processor resumes exactly after the last
// event whose effects are durable: nothing applied twice, nothing skipped.
//
// An EventSource is the transport side: EmbeddedSource reads the local log; the Kafka source
// (kafka_transport.h) reads a topic and keeps its offsets in the same store. Handle() always runs
// on the processor's Worker, so processor state needs no locks.
#pragma once

#include <algorithm>
#include <atomic>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pavilion/events/codec.h"
#include "pavilion/events/event_store.h"
#include "pavilion/events/schema.h"
#include "pavilion/events/worker.h"

namespace pavilion::events {

class Transaction {
 public:
  Transaction() = default;
  // Events emitted in a transaction caused by `cause` carry its correlation id and its id as
  // their causation id.
  explicit Transaction(const Envelope& cause)
      : correlation_id_(cause.correlation_id.empty() ? cause.event_id : cause.correlation_id),
        causation_id_(cause.event_id) {}

  void Emit(std::string stream_id, uint64_t expected_version, std::string type, std::string payload,
            uint32_t schema_version = 1) {
    request_.events.push_back(NewEvent{std::move(stream_id), expected_version, std::move(type),
                                       std::move(payload), correlation_id_, causation_id_,
                                       schema_version});
  }
  // A schema payload's envelope says which version of its fields it carries: the payload's
  // kSchemaVersion, or 1 for a payload that declares none.
  template <typename Payload>
  void Emit(std::string stream_id, uint64_t expected_version, const Payload& payload) {
    EmitAs(Payload::kType, std::move(stream_id), expected_version, payload);
  }
  // For payloads shared by several event types (SubOrderChanged, RefundChanged, StockReleased).
  template <typename Payload>
  void EmitAs(std::string_view type, std::string stream_id, uint64_t expected_version,
              const Payload& payload) {
    uint32_t schema_version = 1;
    if constexpr (requires { Payload::kSchemaVersion; }) {
      static_assert(Payload::kSchemaVersion <= kMaxSchemaVersion, "readers would refuse it");
      schema_version = Payload::kSchemaVersion;
    }
    Emit(std::move(stream_id), expected_version, std::string(type), Encode(payload),
         schema_version);
  }
  storage::WriteBatch& state() { return request_.state; }
  // Runs on the store's sync thread once the transaction is durable (ec) or has failed.
  void OnDurable(std::function<void(std::error_code)> fn) { on_durable_.push_back(std::move(fn)); }
  void set_correlation_id(std::string id) { correlation_id_ = std::move(id); }

  bool empty() const { return request_.events.empty() && request_.state.empty(); }
  // The events emitted so far, in order (tests of pure rules read them).
  const std::vector<NewEvent>& events() const { return request_.events; }
  // Moves this transaction's contents into `into`, for committing several together.
  void MergeInto(Transaction& into);
  // Appends the transaction; `fatal_on_error` aborts the process if it fails, because a
  // processor's memory is then ahead of its durable state.
  void Commit(EventStore& store, bool fatal_on_error);

 private:
  AppendRequest request_;
  std::vector<std::function<void(std::error_code)>> on_durable_;
  std::string correlation_id_;
  std::string causation_id_;
};

// A processor with nothing to write for a run of events does not write its checkpoint either;
// after a restart it sees those events again, which changes nothing. This bounds how many.
inline constexpr uint64_t kCheckpointEvery = 16384;

class Processor {
 public:
  virtual ~Processor() = default;
  // Stable name: it keys the checkpoint.
  virtual std::string_view name() const = 0;
  // The event types Handle acts on; empty means every type. Sources hand it no other type and
  // need not wake its worker for them: a processor that reads two types of the dozen an order
  // writes is not woken for the rest. A processor built on `Handlers` returns their types().
  virtual std::vector<std::string> event_types() const { return {}; }
  // Handles one event on the processor's worker. Events it does not care about: do nothing.
  virtual void Handle(const Envelope& event, Transaction& tx) = 0;
  // Called on the worker before each batch of events, when no transaction is open: the moment a
  // processor may drop caches of what it has written.
  virtual void BeforeBatch() {}
  // Called on the worker after each batch of events is handled, with the transaction that
  // carries all of their effects (and then the checkpoint): for what a processor writes once per
  // batch rather than once per event, atomically with the events' effects.
  virtual void AfterBatch(Transaction& batch) { (void)batch; }
};

// A processor's handlers by event type. One table answers both event_types() and Handle's
// dispatch, so a processor cannot handle a type its sources were not asked to deliver (or ask
// for one it does not handle). A handler gets the decoded payload, the event and the
// transaction; an event whose payload does not decode is skipped.
class Handlers {
 public:
  template <typename Payload, typename Fn>
  Handlers& On(std::string_view type, Fn fn) {
    entries_.push_back(
        {std::string(type), [fn = std::move(fn)](const Envelope& e, Transaction& tx) {
           auto payload = Decode<Payload>(e.payload);
           if (payload.ok()) fn(*payload, e, tx);
         }});
    return *this;
  }
  // For a payload's own type (Payload::kType).
  template <typename Payload, typename Fn>
  Handlers& On(Fn fn) {
    return On<Payload>(Payload::kType, std::move(fn));
  }
  std::vector<std::string> types() const {
    std::vector<std::string> out;
    for (const auto& e : entries_) out.push_back(e.type);
    return out;
  }
  // Runs the handler of the event's type, if there is one.
  void Handle(const Envelope& event, Transaction& tx) const {
    for (const auto& e : entries_) {
      if (e.type == event.type) return e.fn(event, tx);
    }
  }

 private:
  struct Entry {
    std::string type;
    std::function<void(const Envelope&, Transaction&)> fn;
  };
  std::vector<Entry> entries_;
};

// A processor's event_types(), as its sources test them.
class TypeFilter {
 public:
  explicit TypeFilter(std::vector<std::string> types) : types_(std::move(types)) {}
  bool all() const { return types_.empty(); }
  bool operator()(std::string_view type) const {
    return types_.empty() || std::find(types_.begin(), types_.end(), type) != types_.end();
  }

 private:
  std::vector<std::string> types_;
};

class EventSource {
 public:
  virtual ~EventSource() = default;
  virtual void Start() = 0;
  virtual void Stop() = 0;
  // Events available but not yet handled (best effort, for metrics).
  virtual uint64_t lag() const = 0;
  // How long the oldest event not yet handled has waited, in microseconds (0 when none waits):
  // the lag in time. nullopt when the source cannot tell (Kafka's offsets carry no time).
  virtual std::optional<int64_t> lag_micros() const { return std::nullopt; }
  virtual std::string_view processor_name() const = 0;
};

// Feeds a processor from the local EventStore, starting after its stored checkpoint. A catch-up
// subscription: it reads history first, then follows new writes. It reads events as soon as they
// are written, before they are durable (Upto::kWritten): the processor's transaction lands
// after them in the same log, so no crash keeps an effect without its cause, and whatever waits
// on that transaction (an order's answer) still waits until it is durable. An order's three
// steps (placed, reserved by the catalog, answered) then share one sync instead of waiting for
// three in turn.
class EmbeddedSource final : public EventSource {
 public:
  EmbeddedSource(EventStore& store, Worker& worker, Processor& processor);
  ~EmbeddedSource() override;
  void Start() override;
  void Stop() override;
  uint64_t lag() const override;
  std::optional<int64_t> lag_micros() const override;
  std::string_view processor_name() const override { return processor_.name(); }

  static std::string CheckpointKey(std::string_view processor_name);

 private:
  void Schedule();
  void Pump();

  EventStore& store_;
  Worker& worker_;
  Processor& processor_;
  std::string checkpoint_key_;
  TypeFilter wanted_;
  std::atomic<uint64_t> cursor_{0};
  // Written by the worker, read by Schedule on the store's writer thread.
  std::atomic<uint64_t> checkpointed_{0};
  std::atomic<bool> scheduled_{false};
  std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
  Listening listening_;  // The store's writer thread schedules pumps through it.
  std::vector<std::shared_ptr<const Envelope>> buffer_;
};

// Runs a command on a service's worker: `fn` validates and fills a Transaction, which is
// committed; `done` gets the value once it is durable, or fn's error at once.
template <typename T, typename Fn>
void RunCommand(Worker& worker, EventStore& store, Fn fn, std::function<void(Result<T>)> done) {
  worker.Post([&store, fn = std::move(fn), done = std::move(done)]() mutable {
    Transaction tx;
    Result<T> result = fn(tx);
    if (!result.ok()) return done(std::move(result));
    tx.OnDurable([done, value = std::move(result).value()](std::error_code ec) {
      if (ec) return done(Result<T>(svc_errc::internal, "could not store: " + ec.message()));
      done(value);
    });
    tx.Commit(store, /*fatal_on_error=*/true);
  });
}

// Calls `start` with a completion callback and blocks until it answers: for tools and importers
// on threads of their own, never on the worker that would answer.
template <typename T, typename Start>
Result<T> Await(Start start) {
  std::promise<Result<T>> promise;
  auto future = promise.get_future();
  start([&promise](Result<T> r) { promise.set_value(std::move(r)); });
  return future.get();
}

}  // namespace pavilion::events
