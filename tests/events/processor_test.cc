#include "pavilion/events/processor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../support/gated_sync_kv_store.h"
#include "pavilion/storage/fault_injection_kv_store.h"
#include "pavilion/storage/memory_kv_store.h"

namespace pavilion::events {
namespace {

// Counts "tick" events in its own state row and emits a "tock" for every tenth.
class Counter final : public Processor {
 public:
  explicit Counter(storage::KvStore& kv) : kv_(kv) {
    std::string v;
    if (!kv_.Get("count", &v)) count_ = std::stoll(v);
    handled_ = count_;
  }
  std::string_view name() const override { return "counter"; }
  void Handle(const Envelope& e, Transaction& tx) override {
    if (e.type != "tick") return;
    ++count_;
    tx.state().Put("count", std::to_string(count_));
    if (count_ % 10 == 0) tx.Emit("tocks", kAnyVersion, "tock", std::to_string(count_));
    std::lock_guard lock(mu_);
    handled_ = count_;
    cv_.notify_all();
  }
  void WaitFor(int64_t n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return handled_ >= n; });
  }
  int64_t count() const { return count_; }

 private:
  storage::KvStore& kv_;
  int64_t count_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t handled_ = 0;
};

void Ticks(EventStore& store, int n) {
  for (int i = 0; i < n; ++i) {
    AppendRequest r;
    r.events.push_back(NewEvent{"ticks", kAnyVersion, "tick", "", "", "", 1});
    ASSERT_TRUE(store.AppendAndWait(std::move(r)).ok());
  }
}

// The durable "count" row after the processor has committed everything it handled.
int64_t DurableCount(EventStore& store, storage::KvStore& kv) {
  // Appending a marker and waiting for it flushes everything queued before it.
  EXPECT_TRUE(store.AppendAndWait(AppendRequest{}).ok());
  std::string v;
  return kv.Get("count", &v) ? 0 : std::stoll(v);
}

// Runs a Counter over the log until it has counted `until` ticks, then stops it.
void RunCounter(EventStore& store, storage::KvStore& kv, int64_t until) {
  Worker worker("counter");
  Counter counter(kv);
  EmbeddedSource source(store, worker, counter);
  source.Start();
  counter.WaitFor(until);
  source.Stop();
  worker.Stop();
}

TEST(EmbeddedSource, DeliversEachEventOnceAndEmits) {
  ManualClock clock;
  storage::MemoryKvStore kv;
  auto store = EventStore::Open(kv, clock).value();
  Ticks(*store, 25);
  Worker worker("test");
  Counter counter(kv);
  EmbeddedSource source(*store, worker, counter);
  source.Start();
  counter.WaitFor(25);
  Ticks(*store, 5);
  counter.WaitFor(30);
  worker.Stop();
  EXPECT_EQ(counter.count(), 30);
  EXPECT_EQ(DurableCount(*store, kv), 30);
  auto tocks = store->ReadStream("tocks");
  ASSERT_EQ(tocks->size(), 3u);
  EXPECT_EQ((*tocks)[2].payload, "30");
  // The tock's causation is the tick that caused it.
  EXPECT_FALSE((*tocks)[0].causation_id.empty());
}

// Writes, once per batch, how many events the batch held: in the batch's own transaction, which
// also carries the checkpoint.
class BatchCounter final : public Processor {
 public:
  std::string_view name() const override { return "batches"; }
  void Handle(const Envelope&, Transaction&) override { ++in_batch_; }
  void AfterBatch(Transaction& batch) override {
    batch.state().Put("batch/" + std::to_string(++batches_), std::to_string(in_batch_));
    in_batch_ = 0;
    std::lock_guard lock(mu_);
    done_ = batches_;
    cv_.notify_all();
  }
  void WaitForBatches(int n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return done_ >= n; });
  }

 private:
  int batches_ = 0, in_batch_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  int done_ = 0;
};

TEST(EmbeddedSource, AfterBatchWritesWithTheBatchAndItsCheckpoint) {
  ManualClock clock;
  storage::MemoryKvStore kv;
  auto store = EventStore::Open(kv, clock).value();
  AppendRequest many;
  for (int i = 0; i < 300; ++i)
    many.events.push_back(NewEvent{"ticks", kAnyVersion, "tick", "", "", "", 1});
  ASSERT_TRUE(store->AppendAndWait(std::move(many)).ok());
  Worker worker("test");
  BatchCounter processor;
  EmbeddedSource source(*store, worker, processor);
  source.Start();
  processor.WaitForBatches(2);  // A pump takes at most 256 events.
  source.Stop();
  worker.Stop();
  ASSERT_TRUE(store->AppendAndWait(AppendRequest{}).ok());
  std::string first, second, checkpoint;
  ASSERT_FALSE(kv.Get("batch/1", &first));
  ASSERT_FALSE(kv.Get("batch/2", &second));
  EXPECT_EQ(first, "256");
  EXPECT_EQ(second, "44");
  ASSERT_FALSE(kv.Get(EmbeddedSource::CheckpointKey("batches"), &checkpoint));
  EXPECT_EQ(GetFixed64BE(checkpoint), 300u);
}

TEST(EmbeddedSource, RestartResumesAfterCheckpointWithoutDoubleCounting) {
  ManualClock clock;
  storage::MemoryKvStore kv;
  auto store = EventStore::Open(kv, clock).value();
  Ticks(*store, 40);
  RunCounter(*store, kv, 40);
  Ticks(*store, 7);
  RunCounter(*store, kv, 47);
  EXPECT_EQ(DurableCount(*store, kv), 47);
}

TEST(EmbeddedSource, CrashLosesStateAndCheckpointTogether) {
  ManualClock clock;
  storage::FaultInjectionKvStore kv;
  {
    auto store = EventStore::Open(kv, clock, EventStoreOptions{/*sync=*/true}).value();
    Ticks(*store, 30);
  }
  {
    // The processor commits without sync: a crash may lose its progress, never half of it.
    auto store = EventStore::Open(kv, clock, EventStoreOptions{/*sync=*/false}).value();
    RunCounter(*store, kv, 30);
  }
  kv.DropUnsyncedWrites();
  std::string v;
  int64_t survived = kv.Get("count", &v) ? 0 : std::stoll(v);
  std::string cp;
  uint64_t checkpoint =
      kv.Get(EmbeddedSource::CheckpointKey("counter"), &cp) ? 0 : GetFixed64BE(cp);
  // Ticks are positions 1..30: the surviving count is exactly the ticks up to the checkpoint.
  EXPECT_EQ(static_cast<uint64_t>(survived), std::min<uint64_t>(checkpoint, 30));

  auto store = EventStore::Open(kv, clock).value();
  RunCounter(*store, kv, 30);
  EXPECT_EQ(DurableCount(*store, kv), 30);
}

TEST(EmbeddedSource, HandlesWrittenEventsWhileTheirSyncIsUnderWay) {
  ManualClock clock;
  storage::MemoryKvStore inner;
  testing::GatedSyncKvStore kv(inner);
  testing::HeadWatch written, durable;  // Before the store: its threads call them to the end.
  auto store = EventStore::Open(kv, clock).value();
  testing::OpenOnExit open_on_exit(kv);  // A failed assertion must not leave a sync waiting.
  auto on_written = store->AddWriteListener(written.Listener());
  auto on_durable = store->AddCommitListener(durable.Listener());
  Worker worker("test");
  Counter counter(kv);
  EmbeddedSource source(*store, worker, counter);
  source.Start();
  AppendRequest ticks;
  for (int i = 0; i < 10; ++i)
    ticks.events.push_back(NewEvent{"ticks", kAnyVersion, "tick", "", "", "", 1});
  std::promise<std::error_code> appended;
  store->Append(std::move(ticks),
                [&](std::error_code ec, const AppendResult&) { appended.set_value(ec); });
  // The ticks are handled and the counter's own write (its count and a tock) is written while
  // the ticks' sync is still held: nothing is durable, nothing is answered.
  counter.WaitFor(10);
  ASSERT_TRUE(written.AwaitAtLeast(11));
  EXPECT_EQ(store->written_head(), 11u);
  EXPECT_EQ(store->head(), 0u);
  EXPECT_EQ(durable.head(), 0u);
  auto answer = appended.get_future();
  EXPECT_EQ(answer.wait_for(std::chrono::milliseconds(20)), std::future_status::timeout);

  kv.Open();
  EXPECT_FALSE(answer.get());
  ASSERT_TRUE(durable.AwaitAtLeast(11));
  EXPECT_EQ(durable.head(), 11u);
  worker.Stop();
  EXPECT_EQ(DurableCount(*store, kv), 10);
  auto tocks = store->ReadStream("tocks");
  ASSERT_TRUE(tocks.ok());
  ASSERT_EQ(tocks->size(), 1u);
  EXPECT_EQ((*tocks)[0].position, 11u);
}

TEST(Handlers, OneTableGivesTheTypesAndTheDispatch) {
  std::vector<std::string> calls;
  Handlers handlers;
  handlers
      .On<schema::OrderPaid>([&](const schema::OrderPaid& paid, const Envelope&, Transaction&) {
        calls.push_back("paid " + paid.order_id);
      })
      .On<schema::RefundChanged>(schema::RefundChanged::kCompleted,
                                 [&](const schema::RefundChanged& r, const Envelope& e,
                                     Transaction&) { calls.push_back(e.type + " " + r.order_id); });
  EXPECT_EQ(handlers.types(), (std::vector<std::string>{
                                  "order.paid", std::string(schema::RefundChanged::kCompleted)}));
  Transaction tx;
  Envelope e;
  e.type = "order.paid";
  schema::OrderPaid paid;
  paid.order_id = "ord_1";
  e.payload = Encode(paid);
  handlers.Handle(e, tx);
  e.payload = "not a payload";  // Does not decode: skipped.
  handlers.Handle(e, tx);
  e.type = "order.placed";  // No handler.
  e.payload = Encode(paid);
  handlers.Handle(e, tx);
  schema::RefundChanged refund;
  refund.order_id = "ord_2";
  e.type = std::string(schema::RefundChanged::kCompleted);
  e.payload = Encode(refund);
  handlers.Handle(e, tx);
  EXPECT_EQ(calls, (std::vector<std::string>{"paid ord_1", e.type + " ord_2"}));
  EXPECT_TRUE(tx.empty());
}

// Handles only "wanted" events; counts its batches (each a wake-up of its worker).
class Picky final : public Processor {
 public:
  std::string_view name() const override { return "picky"; }
  std::vector<std::string> event_types() const override { return {"wanted"}; }
  void BeforeBatch() override { ++batches_; }
  void Handle(const Envelope& e, Transaction&) override {
    std::lock_guard lock(mu_);
    seen_.push_back(e.type);
    cv_.notify_all();
  }
  // Waits (at most ten seconds) until `n` events were handled; the types handled.
  std::vector<std::string> WaitFor(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return seen_.size() >= n; });
    return seen_;
  }
  int batches() const { return batches_.load(); }

 private:
  std::atomic<int> batches_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> seen_;
};

AppendRequest Events(const char* type, int n) {
  AppendRequest r;
  for (int i = 0; i < n; ++i) r.events.push_back(NewEvent{"s", kAnyVersion, type, "", "", "", 1});
  return r;
}

// A Picky processor fed from a fresh in-memory log.
class PickySource : public ::testing::Test {
 protected:
  PickySource() { source.Start(); }
  ~PickySource() override {
    source.Stop();
    worker.Stop();
  }
  ManualClock clock;
  storage::MemoryKvStore kv;
  std::unique_ptr<EventStore> store = EventStore::Open(kv, clock).value();
  Worker worker{"picky"};
  Picky picky;
  EmbeddedSource source{*store, worker, picky};
};

TEST_F(PickySource, ProcessorsSeeOnlyTheirTypesAndSleepThroughTheRest) {
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(store->AppendAndWait(Events("noise", 1)).ok());
  ASSERT_TRUE(store->AppendAndWait(Events("wanted", 1)).ok());
  EXPECT_EQ(picky.WaitFor(1), (std::vector<std::string>{"wanted"}));
  // A hundred writes of other types woke nothing: one batch, for the wanted event.
  EXPECT_EQ(picky.batches(), 1);
  // Once the worker has finished that batch (a task queued behind it has run), nothing is left.
  std::promise<void> behind;
  worker.Post([&behind] { behind.set_value(); });
  behind.get_future().wait();
  EXPECT_EQ(source.lag(), 0u);
}

TEST_F(PickySource, LagInTimeIsHowLongTheOldestUnhandledEventHasWaited) {
  EXPECT_EQ(source.lag_micros(), 0);
  // The worker is busy elsewhere: the event waits.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  worker.Post([released] { released.wait(); });
  ASSERT_TRUE(store->AppendAndWait(Events("wanted", 1)).ok());
  clock.Advance(1'500'000);
  ASSERT_TRUE(store->AppendAndWait(Events("wanted", 1)).ok());
  clock.Advance(250'000);
  EXPECT_EQ(source.lag(), 2u);
  EXPECT_EQ(source.lag_micros(), 1'750'000);  // The first one's age, not the newest's.
  release.set_value();
  EXPECT_EQ(picky.WaitFor(2).size(), 2u);
  std::promise<void> behind;
  worker.Post([&behind] { behind.set_value(); });
  behind.get_future().wait();
  EXPECT_EQ(source.lag_micros(), 0);
}

TEST_F(PickySource, IgnoredEventsStillMoveTheCheckpoint) {
  const int n = static_cast<int>(kCheckpointEvery) + 10;
  ASSERT_TRUE(store->AppendAndWait(Events("noise", n)).ok());
  ASSERT_TRUE(store->AppendAndWait(Events("wanted", 1)).ok());
  EXPECT_EQ(picky.WaitFor(1), (std::vector<std::string>{"wanted"}));
  // Past kCheckpointEvery ignored events the worker is woken to write the checkpoint (in
  // batches of 256), not only for the wanted event.
  EXPECT_GT(picky.batches(), 1);
  source.Stop();
  worker.Stop();
  ASSERT_TRUE(store->AppendAndWait(AppendRequest{}).ok());  // The checkpoint's append is done.
  std::string v;
  ASSERT_FALSE(kv.Get(EmbeddedSource::CheckpointKey("picky"), &v));
  // A restart re-reads fewer than kCheckpointEvery ignored events.
  EXPECT_GE(GetFixed64BE(v), kCheckpointEvery);
}

// Lanes of one host run on its thread, in the order posted across lanes; stopping a lane waits
// for what it queued, drops what comes after, and leaves the host and the other lanes running.
TEST(WorkerLanes, RunOnTheHostInOrderAndStopOnTheirOwn) {
  Worker host("host");
  Worker a("a", &host), b("b", &host);
  std::vector<std::string> ran;  // Touched only on the host's thread.
  std::atomic<int> a_ran{0};
  std::promise<void> gate;
  ASSERT_TRUE(host.Post([f = gate.get_future().share()] { f.wait(); }));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(a.Post([&ran, &a, &a_ran, i] {
      EXPECT_TRUE(a.InWorkerThread());
      ran.push_back("a" + std::to_string(i));
      ++a_ran;
    }));
    ASSERT_TRUE(b.Post([&ran, i] { ran.push_back("b" + std::to_string(i)); }));
  }
  EXPECT_FALSE(a.InWorkerThread());
  std::thread stopper([&a] { a.Stop(); });  // Waits behind the gate for a's three tasks.
  gate.set_value();
  stopper.join();
  EXPECT_EQ(a_ran.load(), 3);  // Stop returned only once they had run.
  EXPECT_FALSE(a.Post([&ran] { ran.push_back("late"); }));
  std::promise<void> done;
  ASSERT_TRUE(b.Post([&done] { done.set_value(); }));
  done.get_future().wait();
  EXPECT_EQ(ran, (std::vector<std::string>{"a0", "b0", "a1", "b1", "a2", "b2"}));
}

}  // namespace
}  // namespace pavilion::events
