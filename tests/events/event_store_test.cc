#include "pavilion/events/event_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "../support/gated_sync_kv_store.h"
#include "../support/gated_write_kv_store.h"
#include "../support/temp_dir.h"
#include "pavilion/storage/fault_injection_kv_store.h"
#include "pavilion/storage/memory_kv_store.h"

namespace pavilion::events {
namespace {

NewEvent Ev(std::string stream, uint64_t expected, std::string payload = "p") {
  NewEvent e;
  e.stream_id = std::move(stream);
  e.expected_version = expected;
  e.type = "test.happened";
  e.payload = std::move(payload);
  return e;
}

AppendRequest Req(std::vector<NewEvent> events) {
  AppendRequest r;
  r.events = std::move(events);
  return r;
}

// Every test runs twice: the writer on a thread of the store's own, and as tasks on a Worker
// (EventStoreOptions::writer, as `pavilion serve` runs it).
class EventStoreTest : public ::testing::TestWithParam<bool> {
 protected:
  EventStoreOptions Options(bool sync = true) {
    EventStoreOptions options{sync};
    options.writer = writer_.get();
    return options;
  }
  std::unique_ptr<EventStore> Open(storage::KvStore& kv, bool sync = true) {
    auto s = EventStore::Open(kv, clock_, Options(sync));
    EXPECT_TRUE(s.ok());
    return std::move(s).value();
  }
  // Declared first: the stores a test opens are gone before it stops.
  std::unique_ptr<Worker> writer_ = GetParam() ? std::make_unique<Worker>("writer") : nullptr;
  ManualClock clock_;
  storage::MemoryKvStore kv_;
};

INSTANTIATE_TEST_SUITE_P(Writers, EventStoreTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "OnAWorker" : "OwnThread";
                         });

TEST_P(EventStoreTest, AppendsAssignVersionsAndPositions) {
  auto store = Open(kv_);
  auto r = store->AppendAndWait(Req({Ev("a", kNoStream), Ev("a", 1), Ev("b", kNoStream)}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first_position, 1u);
  EXPECT_EQ(r->versions, (std::vector<uint64_t>{1, 2, 1}));
  EXPECT_EQ(store->head(), 3u);
  auto a = store->ReadStream("a");
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->size(), 2u);
  EXPECT_EQ((*a)[1].stream_version, 2u);
  EXPECT_EQ((*a)[1].position, 2u);
  EXPECT_EQ((*a)[0].time_micros, clock_.NowMicros());
  EXPECT_EQ((*a)[0].origin, store->origin());
}

TEST_P(EventStoreTest, StaleWriterGetsConflictAndWritesNothing) {
  auto store = Open(kv_);
  ASSERT_TRUE(store->AppendAndWait(Req({Ev("a", kNoStream)})).ok());
  AppendRequest stale = Req({Ev("b", kNoStream), Ev("a", kNoStream)});
  stale.state.Put("side-effect", "x");
  auto r = store->AppendAndWait(std::move(stale));
  EXPECT_EQ(r.error(), errc::version_conflict);
  EXPECT_EQ(store->head(), 1u);
  std::string v;
  EXPECT_EQ(kv_.Get("side-effect", &v), storage::errc::not_found);
  EXPECT_TRUE(store->ReadStream("b")->empty());
  // The stream is still writable at its real version.
  EXPECT_TRUE(store->AppendAndWait(Req({Ev("a", 1)})).ok());
}

TEST_P(EventStoreTest, FreshStreamIsVersionOneAndTakenOnlyOnce) {
  auto store = Open(kv_);
  const std::string id = NewId("t");
  auto r = store->AppendAndWait(Req({Ev(id, kFreshStream), Ev(id, 1)}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->versions, (std::vector<uint64_t>{1, 2}));
  // Within one request a second "fresh" event on the same stream conflicts (the store checks
  // what it already holds for the request, not the disk).
  const std::string other = NewId("t");
  EXPECT_EQ(store->AppendAndWait(Req({Ev(other, kFreshStream), Ev(other, kFreshStream)})).error(),
            errc::version_conflict);
  EXPECT_TRUE(store->ReadStream(other)->empty());
  // Later appends see the fresh stream's real version, after a reopen too.
  store.reset();
  store = Open(kv_);
  EXPECT_EQ(store->AppendAndWait(Req({Ev(id, 1)})).error(), errc::version_conflict);
  auto more = store->AppendAndWait(Req({Ev(id, 2)}));
  ASSERT_TRUE(more.ok());
  EXPECT_EQ(more->versions, (std::vector<uint64_t>{3}));
}

TEST_P(EventStoreTest, InvalidEventsAreRefused) {
  auto store = Open(kv_);
  EXPECT_EQ(store->AppendAndWait(Req({Ev("", kAnyVersion)})).error(), errc::invalid_event);
  EXPECT_EQ(store->AppendAndWait(Req({Ev(std::string("a\0b", 3), kAnyVersion)})).error(),
            errc::invalid_event);
  EXPECT_EQ(store->head(), 0u);
}

TEST_P(EventStoreTest, ConcurrentWritersOnOneStreamNeverOverwrite) {
  auto store = Open(kv_);
  constexpr int kThreads = 4, kTries = 200;
  std::atomic<int> won{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kTries; ++i) {
        // Read the version, then try to append at it: optimistic concurrency.
        uint64_t version = store->ReadStream("hot")->size();
        if (store->AppendAndWait(Req({Ev("hot", version)})).ok()) ++won;
      }
    });
  }
  for (auto& t : threads) t.join();
  auto events = store->ReadStream("hot");
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(static_cast<int>(events->size()), won.load());
  for (size_t i = 0; i < events->size(); ++i) EXPECT_EQ((*events)[i].stream_version, i + 1);
}

TEST_P(EventStoreTest, GroupCommitCoalescesAndPositionsHaveNoGaps) {
  auto store = Open(kv_);
  constexpr int kThreads = 8, kPerThread = 500;
  std::vector<std::thread> threads;
  std::atomic<int> done{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::future<void>> waits;
      for (int i = 0; i < kPerThread; ++i) {
        auto p = std::make_shared<std::promise<void>>();
        waits.push_back(p->get_future());
        store->Append(Req({Ev("s" + std::to_string(t), kAnyVersion)}),
                      [p, &done](std::error_code ec, const AppendResult&) {
                        if (!ec) ++done;
                        p->set_value();
                      });
      }
      for (auto& w : waits) w.wait();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(done.load(), kThreads * kPerThread);
  EXPECT_LT(store->batches_written(), static_cast<uint64_t>(kThreads * kPerThread));
  std::vector<Envelope> all;
  ASSERT_FALSE(store->ReadAll(1, SIZE_MAX, &all));
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].position, i + 1);
  std::vector<Envelope> tail;
  ASSERT_FALSE(store->ReadAll(3999, 10, &tail));
  ASSERT_EQ(tail.size(), 2u);
  EXPECT_EQ(tail[0].position, 3999u);
}

// A group's events are stored in blocks (one key per up to 256 events); reads start anywhere,
// cross block boundaries, and a stream's events are found inside their blocks, after a reopen.
TEST_P(EventStoreTest, EventsInBlocksReadFromAnyPosition) {
  auto store = Open(kv_);
  std::vector<NewEvent> big;
  for (int i = 0; i < 600; ++i)
    big.push_back(Ev(i % 2 ? "odd" : "even", kAnyVersion, std::to_string(i)));
  ASSERT_TRUE(store->AppendAndWait(Req(std::move(big))).ok());
  ASSERT_TRUE(store->AppendAndWait(Req({Ev("odd", kAnyVersion, "600")})).ok());
  int blocks = 0;
  ASSERT_FALSE(kv_.Scan("b", "c", [&](std::string_view, std::string_view) { return ++blocks; }));
  EXPECT_EQ(blocks, 4);  // 256 + 256 + 88 in the first group, 1 in the second.
  store.reset();
  store = Open(kv_);
  EXPECT_EQ(store->head(), 601u);
  for (uint64_t from : {1u, 255u, 256u, 257u, 512u, 513u, 600u, 601u}) {
    std::vector<Envelope> some;
    ASSERT_FALSE(store->ReadAll(from, 3, &some));
    ASSERT_EQ(some.size(), std::min<size_t>(3, 602 - from)) << from;
    for (size_t i = 0; i < some.size(); ++i) {
      EXPECT_EQ(some[i].position, from + i);
      EXPECT_EQ(some[i].payload, std::to_string(from + i - 1));
    }
  }
  std::vector<Envelope> none;
  ASSERT_FALSE(store->ReadAll(602, 10, &none));
  EXPECT_TRUE(none.empty());
  auto odd = store->ReadStream("odd", 299);
  ASSERT_TRUE(odd.ok());
  ASSERT_EQ(odd->size(), 3u);  // versions 299, 300 and the second group's 301
  EXPECT_EQ((*odd)[0].payload, "597");
  EXPECT_EQ((*odd)[2].payload, "600");
  EXPECT_EQ((*odd)[2].position, 601u);
}

// One version at a time (a key lookup, then the event from memory or from its block — the last
// block read is kept, so runs through the log reuse it): every version, forwards, backwards and
// jumping between blocks, before and after a reopen; a version not written yet is no event. The
// last event of a stream (ReadLast) alike.
TEST_P(EventStoreTest, SingleVersionsReadFromMemoryOrAnyBlock) {
  auto store = Open(kv_);
  std::vector<NewEvent> big;
  for (int i = 0; i < 600; ++i)
    big.push_back(Ev(i % 3 ? "many" : "few", kAnyVersion, std::to_string(i)));
  ASSERT_TRUE(store->AppendAndWait(Req(std::move(big))).ok());
  auto payloads = [](const std::string& stream) {
    std::vector<std::string> out;  // Version v at out[v - 1].
    for (int i = 0; i < 600; ++i) {
      if ((i % 3 ? "many" : "few") == stream) out.push_back(std::to_string(i));
    }
    return out;
  };
  for (int round = 0; round < 2; ++round) {  // In memory, then from blocks after a reopen.
    for (const std::string stream : {"many", "few"}) {
      const auto want = payloads(stream);
      std::vector<uint64_t> order;
      for (uint64_t v = 1; v <= want.size(); ++v) order.push_back(v);
      for (uint64_t v = want.size(); v >= 1; --v) order.push_back(v);
      for (uint64_t v = 1; v <= want.size(); v += 97) order.push_back(v);
      for (uint64_t v : order) {
        auto one = store->ReadStream(stream, v, 1);
        ASSERT_TRUE(one.ok());
        ASSERT_EQ(one->size(), 1u) << stream << " " << v;
        EXPECT_EQ((*one)[0].payload, want[v - 1]) << stream << " " << v;
        EXPECT_EQ((*one)[0].stream_version, v);
      }
      auto past = store->ReadStream(stream, want.size() + 1, 1);
      ASSERT_TRUE(past.ok());
      EXPECT_TRUE(past->empty());
    }
    auto first = store->ReadStream("few", 0, 1);  // Versions start at 1, as a scan finds.
    ASSERT_TRUE(first.ok());
    ASSERT_EQ(first->size(), 1u);
    EXPECT_EQ((*first)[0].stream_version, 1u);
    auto nobody = store->ReadStream("nobody", 1, 1);
    ASSERT_TRUE(nobody.ok());
    EXPECT_TRUE(nobody->empty());
    // The last event of each stream, found from the end of its index.
    for (const std::string stream : {"many", "few"}) {
      auto last = store->ReadLast(stream);
      ASSERT_TRUE(last.ok());
      ASSERT_TRUE(last->has_value());
      EXPECT_EQ((*last)->stream_version, payloads(stream).size());
      EXPECT_EQ((*last)->payload, payloads(stream).back());
      // Past a version: the last event while the stream has gone past it, then none.
      const uint64_t n = payloads(stream).size();
      for (uint64_t after : {uint64_t{1}, n - 1, n, n + 5}) {
        auto past = store->ReadLast(stream, Upto::kDurable, after);
        ASSERT_TRUE(past.ok());
        EXPECT_EQ(past->has_value(), after < n) << stream << " " << after;
        if (after < n) {
          EXPECT_EQ((*past)->stream_version, n);
        }
      }
    }
    auto none = store->ReadLast("nobody");
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());
    auto prefix = store->ReadLast("fe");  // Not the stream "few", whose name it begins.
    ASSERT_TRUE(prefix.ok());
    EXPECT_FALSE(prefix->has_value());
    store.reset();
    store = Open(kv_);
  }
}

// A write listener added while a group is being written hears of that group: a source started
// then (it looks at the written head once, then waits for its listener) would otherwise miss
// the group's events until the next write.
TEST_P(EventStoreTest, AWriteListenerAddedWhileAGroupIsWrittenHearsOfIt) {
  testing::GatedWriteKvStore kv;
  auto store = Open(kv);
  kv.Set(false);
  std::promise<void> appended;
  store->Append(Req({Ev("s", kAnyVersion)}),
                [&](std::error_code, const AppendResult&) { appended.set_value(); });
  ASSERT_TRUE(kv.AwaitWaiting());  // The writer took the group and is writing it.
  testing::HeadWatch watch;
  Listening listening = store->AddWriteListener(watch.Listener());
  EXPECT_EQ(store->written_head(), 0u);  // A source starting now would find nothing to read.
  kv.Set(true);
  EXPECT_TRUE(watch.AwaitAtLeast(1));
  appended.get_future().wait();
  listening.Close();
}

// Logs from before blocks kept one "e"+position key per event; opening folds them into blocks
// and every read sees the same events.
TEST_P(EventStoreTest, SingleEventKeysOfOlderLogsAreFoldedIntoBlocks) {
  storage::WriteBatch old;
  for (uint64_t position = 1; position <= 300; ++position) {
    Envelope env;
    env.event_id = "ev_" + std::to_string(position);
    env.type = "test.happened";
    env.stream_id = "a";
    env.stream_version = position;
    env.position = position;
    env.payload = "p" + std::to_string(position);
    std::string bytes, key = "e", index = std::string("sa") + '\0';
    EncodeEnvelopeTo(env, bytes);
    PutFixed64BE(key, position);
    PutFixed64BE(index, position);
    std::string pos;
    PutFixed64BE(pos, position);
    old.Put(key, bytes);
    old.Put(index, pos);
  }
  ASSERT_FALSE(kv_.Write(old, true));
  auto store = Open(kv_);
  EXPECT_EQ(store->head(), 300u);
  int single = 0;
  ASSERT_FALSE(kv_.Scan("e", "f", [&](std::string_view, std::string_view) { return ++single; }));
  EXPECT_EQ(single, 0);
  std::vector<Envelope> all;
  ASSERT_FALSE(store->ReadAll(1, SIZE_MAX, &all));
  ASSERT_EQ(all.size(), 300u);
  EXPECT_EQ(all[299].payload, "p300");
  auto a = store->ReadStream("a", 257, 2);
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->size(), 2u);
  EXPECT_EQ((*a)[1].payload, "p258");
  auto next = store->AppendAndWait(Req({Ev("a", 300)}));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->first_position, 301u);
}

TEST_P(EventStoreTest, StateCommitsWithTheEvents) {
  auto store = Open(kv_);
  AppendRequest r = Req({Ev("a", kNoStream)});
  r.state.Put("projection/row", "42");
  ASSERT_TRUE(store->AppendAndWait(std::move(r)).ok());
  std::string v;
  ASSERT_FALSE(kv_.Get("projection/row", &v));
  EXPECT_EQ(v, "42");
}

TEST_P(EventStoreTest, ReopenRecoversHeadVersionsAndOrigin) {
  pavilion::testing::TempDir dir;
  uint64_t origin = 0;
  {
    auto kv = storage::OpenRocksDb(dir.str());
    ASSERT_TRUE(kv.ok());
    auto store = Open(**kv);
    origin = store->origin();
    ASSERT_TRUE(store->AppendAndWait(Req({Ev("a", kNoStream), Ev("a", 1)})).ok());
  }
  auto kv = storage::OpenRocksDb(dir.str());
  ASSERT_TRUE(kv.ok());
  auto store = Open(**kv);
  EXPECT_EQ(store->origin(), origin);
  EXPECT_EQ(store->head(), 2u);
  EXPECT_EQ(store->AppendAndWait(Req({Ev("a", 1)})).error(), errc::version_conflict);
  auto r = store->AppendAndWait(Req({Ev("a", 2)}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first_position, 3u);
}

// The writer's cache of stream versions is bounded: a stream written while the cache turns over
// keeps its version (no reload), one left unwritten is forgotten and reloads correctly.
TEST_P(EventStoreTest, VersionCacheKeepsStreamsBeingWrittenAndReloadsTheRest) {
  pavilion::testing::GatedSyncKvStore kv(kv_);
  kv.Open();
  EventStoreOptions options = Options();
  options.version_cache_streams = 4;
  auto opened = EventStore::Open(kv, clock_, options);
  ASSERT_TRUE(opened.ok());
  auto store = std::move(opened).value();
  ASSERT_TRUE(store->AppendAndWait(Req({Ev("hot", kNoStream), Ev("cold", kNoStream)})).ok());
  const int reads_before = kv.reads();
  for (uint64_t i = 0; i < 20; ++i) {
    // Three new streams per round: the cache turns over every other round.
    const std::string n = std::to_string(i);
    auto r =
        store->AppendAndWait(Req({Ev("fresh-a" + n, kFreshStream), Ev("fresh-b" + n, kFreshStream),
                                  Ev("fresh-c" + n, kFreshStream), Ev("hot", i + 1)}));
    ASSERT_TRUE(r.ok()) << "round " << i;
    EXPECT_EQ(r->versions.back(), i + 2);
  }
  EXPECT_EQ(kv.reads(), reads_before);  // The hot stream never left the cache.
  // "cold" and the first fresh streams left it; their versions come back from the store.
  EXPECT_EQ(store->AppendAndWait(Req({Ev("cold", kNoStream)})).error(), errc::version_conflict);
  EXPECT_EQ(store->AppendAndWait(Req({Ev("fresh-a0", kNoStream)})).error(), errc::version_conflict);
  EXPECT_GT(kv.reads(), reads_before);
  auto cold = store->AppendAndWait(Req({Ev("cold", 1)}));
  ASSERT_TRUE(cold.ok());
  EXPECT_EQ(cold->versions, (std::vector<uint64_t>{2}));
  EXPECT_TRUE(store->AppendAndWait(Req({Ev("fresh-a0", 1)})).ok());
  EXPECT_EQ(store->ReadStream("hot")->size(), 21u);
}

TEST_P(EventStoreTest, SyncedAppendsSurviveACrash) {
  storage::FaultInjectionKvStore kv;
  {
    auto store = Open(kv, /*sync=*/true);
    for (int i = 0; i < 50; ++i)
      ASSERT_TRUE(store->AppendAndWait(Req({Ev("a", kAnyVersion)})).ok());
  }
  kv.DropUnsyncedWrites();
  auto store = Open(kv);
  EXPECT_EQ(store->head(), 50u);
}

TEST_P(EventStoreTest, AsyncAppendsMayBeLostButNeverTorn) {
  storage::FaultInjectionKvStore kv;
  {
    auto store = Open(kv, /*sync=*/false);
    for (int i = 0; i < 20; ++i) {
      AppendRequest r = Req({Ev("a", kAnyVersion), Ev("b", kAnyVersion)});
      r.state.Put("count", std::to_string(i + 1));
      ASSERT_TRUE(store->AppendAndWait(std::move(r)).ok());
    }
  }
  kv.DropUnsyncedWrites();
  auto store = Open(kv);
  // Whatever survived is whole: two events per request, and the state matches.
  EXPECT_EQ(store->head() % 2, 0u);
  std::string count;
  if (store->head() > 0) {
    ASSERT_FALSE(kv.Get("count", &count));
    EXPECT_EQ(std::stoul(count) * 2, store->head());
  }
}

TEST_P(EventStoreTest, FailedWriteFailsTheGroupAndLeavesNoTrace) {
  storage::FaultInjectionKvStore kv;
  auto store = Open(kv);
  ASSERT_TRUE(store->AppendAndWait(Req({Ev("a", kNoStream)})).ok());
  kv.FailNextWrites(1);
  EXPECT_EQ(store->AppendAndWait(Req({Ev("a", 1)})).error(), errc::store_failed);
  EXPECT_EQ(store->head(), 1u);
  auto r = store->AppendAndWait(Req({Ev("a", 1)}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first_position, 2u);
}

TEST_P(EventStoreTest, FailedSyncFailsItsGroupsAndEveryLaterAppend) {
  storage::FaultInjectionKvStore kv;
  {
    auto store = Open(kv);
    ASSERT_TRUE(store->AppendAndWait(Req({Ev("a", kNoStream)})).ok());
    kv.FailNextSyncs(1);
    EXPECT_EQ(store->AppendAndWait(Req({Ev("a", 1)})).error(), errc::store_failed);
    // The sync after it would succeed, but what is on disk is no longer known: nothing more is
    // acknowledged, and nothing unacknowledged is read.
    EXPECT_EQ(store->AppendAndWait(Req({Ev("b", kNoStream)})).error(), errc::store_failed);
    EXPECT_EQ(store->head(), 1u);
    auto a = store->ReadStream("a");
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->size(), 1u);
  }
  kv.DropUnsyncedWrites();
  auto store = Open(kv);
  EXPECT_EQ(store->head(), 1u);
  auto r = store->AppendAndWait(Req({Ev("a", 1)}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first_position, 2u);
}

TEST_P(EventStoreTest, WrittenEventsAreReadOnlyByWritingConsumersUntilSynced) {
  testing::GatedSyncKvStore kv(kv_);
  testing::HeadWatch written, durable;  // Before the store: its threads call them to the end.
  auto store = Open(kv);
  testing::OpenOnExit open_on_exit(kv);  // A failed assertion must not leave a sync waiting.
  auto on_written = store->AddWriteListener(written.Listener());
  auto on_durable = store->AddCommitListener(durable.Listener());
  std::promise<std::error_code> first;
  store->Append(Req({Ev("a", kNoStream)}),
                [&](std::error_code ec, const AppendResult&) { first.set_value(ec); });
  ASSERT_TRUE(kv.AwaitSyncs(1));
  // Written while the first sync runs: the writer does not wait for it. (A write listener runs
  // once its group is queued for the sync.)
  std::promise<std::error_code> second, third;
  store->Append(Req({Ev("a", 1)}),
                [&](std::error_code ec, const AppendResult&) { second.set_value(ec); });
  ASSERT_TRUE(written.AwaitAtLeast(2));
  store->Append(Req({Ev("b", kNoStream)}),
                [&](std::error_code ec, const AppendResult&) { third.set_value(ec); });
  ASSERT_TRUE(written.AwaitAtLeast(3));
  ASSERT_EQ(store->groups_awaiting_sync(), 2u);

  // Written, not durable: no answer and no durable read; a consumer that writes to this store
  // (Upto::kWritten) sees all three.
  auto pending = first.get_future();
  EXPECT_EQ(pending.wait_for(std::chrono::milliseconds(20)), std::future_status::timeout);
  EXPECT_EQ(store->head(), 0u);
  EXPECT_EQ(store->written_head(), 3u);
  EXPECT_EQ(written.head(), 3u);
  EXPECT_EQ(durable.head(), 0u);
  auto a = store->ReadStream("a");
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->empty());
  std::vector<Envelope> all;
  ASSERT_FALSE(store->ReadAll(1, 10, &all));
  EXPECT_TRUE(all.empty());
  ASSERT_FALSE(store->ReadAll(1, 10, &all, Upto::kWritten));
  EXPECT_EQ(all.size(), 3u);
  // The last event of a stream, likewise: none durable yet, version 2 written.
  auto last_durable = store->ReadLast("a");
  ASSERT_TRUE(last_durable.ok());
  EXPECT_FALSE(last_durable->has_value());
  auto last_written = store->ReadLast("a", Upto::kWritten);
  ASSERT_TRUE(last_written.ok());
  ASSERT_TRUE(last_written->has_value());
  EXPECT_EQ((*last_written)->stream_version, 2u);
  std::vector<std::shared_ptr<const Envelope>> recent;
  ASSERT_TRUE(store->ReadRecent(1, 10, &recent));
  EXPECT_TRUE(recent.empty());
  ASSERT_TRUE(store->ReadRecent(1, 10, &recent, Upto::kWritten));
  ASSERT_EQ(recent.size(), 3u);
  EXPECT_EQ(recent[2]->stream_id, "b");

  kv.Open();
  EXPECT_FALSE(pending.get());
  EXPECT_FALSE(second.get_future().get());
  EXPECT_FALSE(third.get_future().get());
  // One sync for the first group, one for the two written while it ran.
  EXPECT_EQ(kv.syncs(), 2);
  EXPECT_EQ(store->head(), 3u);
  // Commit listeners run after the callbacks of their sync, on the same thread.
  EXPECT_TRUE(durable.AwaitAtLeast(3));
  EXPECT_EQ(durable.head(), 3u);
  a = store->ReadStream("a");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->size(), 2u);
}

class EventStoreOnAWorker : public ::testing::Test {
 protected:
  std::unique_ptr<EventStore> Open(size_t max_batch_requests = 16384,
                                   size_t version_cache_streams = 1u << 16) {
    EventStoreOptions options;
    options.writer = &writer;
    options.max_batch_requests = max_batch_requests;
    options.version_cache_streams = version_cache_streams;
    return EventStore::Open(kv, clock, options).value();
  }
  Worker writer{"writer"};
  ManualClock clock;
  storage::MemoryKvStore kv;
};

// With the writer on a worker, appends made by tasks on that worker are written after those
// tasks, together: one group commit for all the appends of a batch of tasks.
TEST_F(EventStoreOnAWorker, AppendsOfTasksOnTheWriterWorkerShareOneWrite) {
  auto store = Open();
  std::vector<std::promise<std::error_code>> answers(3);
  const uint64_t batches_before = store->batches_written();
  writer.Post([&] {
    for (int i = 0; i < 3; ++i) {
      store->Append(
          Req({Ev("s", kAnyVersion)}),
          [&answers, i](std::error_code ec, const AppendResult&) { answers[i].set_value(ec); });
    }
  });
  for (auto& a : answers) EXPECT_FALSE(a.get_future().get());
  EXPECT_EQ(store->batches_written() - batches_before, 1u);  // One group commit.
  EXPECT_EQ(store->head(), 3u);
}

// A group that names more streams than the version cache holds still knows every one of them
// until its write lands: the store could not answer for a stream the group itself created.
TEST_F(EventStoreOnAWorker, AGroupKeepsTheVersionsOfAllItsStreams) {
  auto store = Open(16384, /*version_cache_streams=*/2);
  std::vector<std::promise<std::pair<std::error_code, AppendResult>>> answers(2);
  const uint64_t batches_before = store->batches_written();
  writer.Post([&] {
    std::vector<NewEvent> fresh;
    for (int i = 0; i < 7; ++i) fresh.push_back(Ev("s" + std::to_string(i), kNoStream));
    store->Append(Req(std::move(fresh)), [&answers](std::error_code ec, const AppendResult& r) {
      answers[0].set_value({ec, r});
    });
    // Same group: s0 is at version 1 only in the group's own, not yet written, batch.
    store->Append(Req({Ev("s0", 1)}), [&answers](std::error_code ec, const AppendResult& r) {
      answers[1].set_value({ec, r});
    });
  });
  auto first = answers[0].get_future().get();
  auto second = answers[1].get_future().get();
  EXPECT_FALSE(first.first);
  ASSERT_FALSE(second.first) << second.first.message();
  EXPECT_EQ(second.second.versions, std::vector<uint64_t>{2});
  EXPECT_EQ(store->batches_written() - batches_before, 1u);  // One group commit.
  auto stream = store->ReadStream("s0");
  ASSERT_TRUE(stream.ok());
  EXPECT_EQ(stream->size(), 2u);
}

// A group holds at most max_batch_requests appends; what that leaves queued is written by the
// next task even when no other append comes to post one.
TEST_F(EventStoreOnAWorker, WhatAGroupLeavesQueuedIsWrittenNext) {
  auto store = Open(/*max_batch_requests=*/2);
  std::vector<std::promise<std::error_code>> answers(5);
  writer.Post([&] {
    for (size_t i = 0; i < answers.size(); ++i) {
      store->Append(
          Req({Ev("s", kAnyVersion)}),
          [&answers, i](std::error_code ec, const AppendResult&) { answers[i].set_value(ec); });
    }
  });
  for (auto& a : answers) {
    auto f = a.get_future();
    ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    EXPECT_FALSE(f.get());
  }
  EXPECT_EQ(store->head(), 5u);
}

// A slow sync does not stop the worker the writer shares: groups go on being written (more than
// the 64 a writer thread of its own may have waiting), and the worker's other tasks run.
TEST_F(EventStoreOnAWorker, ASlowSyncDoesNotStopTheWorker) {
  pavilion::testing::GatedSyncKvStore gated(kv);
  EventStoreOptions options;
  options.writer = &writer;
  auto store = EventStore::Open(gated, clock, options).value();
  pavilion::testing::OpenOnExit open_on_exit(gated);
  constexpr uint64_t kGroups = 100;
  std::atomic<int> answered{0};
  for (uint64_t i = 0; i < kGroups; ++i) {
    std::promise<void> ran;
    writer.Post([&] {
      store->Append(Req({Ev("s", kAnyVersion)}),
                    [&answered](std::error_code ec, const AppendResult&) {
                      if (!ec) ++answered;
                    });
      ran.set_value();
    });
    ran.get_future().wait();
    // Its own group: the write task runs after the task that appended.
    std::promise<void> written;
    writer.Post([&written] { written.set_value(); });
    ASSERT_EQ(written.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready)
        << "the worker stopped at group " << i;
  }
  EXPECT_EQ(store->written_head(), kGroups);
  EXPECT_EQ(store->head(), 0u);  // Nothing synced yet...
  EXPECT_EQ(answered.load(), 0);
  gated.Open();
  auto last = store->AppendAndWait(Req({Ev("s", kAnyVersion)}));  // ...and then all of it.
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(answered.load(), static_cast<int>(kGroups));
  EXPECT_EQ(store->head(), kGroups + 1);
}

// Closing the store writes what is still queued (on the writer's worker, after the tasks ahead
// of it), and appends go on landing if that worker stops first.
TEST_F(EventStoreOnAWorker, QueuedAppendsLandWhenTheStoreClosesOrTheWorkerStops) {
  auto store = Open();
  std::promise<void> gate;
  writer.Post([f = gate.get_future().share()] { f.wait(); });  // The worker is busy.
  std::promise<std::error_code> answered;
  store->Append(Req({Ev("a", kNoStream)}),
                [&](std::error_code ec, const AppendResult&) { answered.set_value(ec); });
  std::thread closer([&] { store.reset(); });
  gate.set_value();
  closer.join();
  EXPECT_FALSE(answered.get_future().get());

  store = Open();
  EXPECT_EQ(store->head(), 1u);
  writer.Stop();
  auto r = store->AppendAndWait(Req({Ev("a", 1)}));  // Written on this thread instead.
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->versions, (std::vector<uint64_t>{2}));
  EXPECT_EQ(store->ReadStream("a")->size(), 2u);
}

// Closing a listener waits for a call in progress on the store's thread and stops every later
// one, so what the listener uses may be destroyed right after (an EmbeddedSource's worker when
// it stops; found by ThreadSanitizer, a worker destroyed while the writer thread posted to it).
TEST(StoreListeners, ClosingWaitsForACallInProgressAndStopsTheRest) {
  ManualClock clock;
  storage::MemoryKvStore kv;
  auto store = EventStore::Open(kv, clock).value();
  for (bool commit : {false, true}) {
    SCOPED_TRACE(commit ? "commit listener" : "write listener");
    std::promise<void> entered, release;
    std::shared_future<void> released = release.get_future().share();
    std::atomic<int> calls{0};
    std::atomic<bool> running{false};
    auto listener = [&, released](uint64_t) {
      running = true;
      if (calls++ == 0) {
        entered.set_value();
        released.wait();
      }
      running = false;
    };
    Listening listening =
        commit ? store->AddCommitListener(listener) : store->AddWriteListener(listener);
    std::promise<std::error_code> appended;
    store->Append(AppendRequest{{NewEvent{"s", kAnyVersion, "t", "", "", "", 1}}, {}},
                  [&](std::error_code ec, const AppendResult&) { appended.set_value(ec); });
    entered.get_future().wait();  // The store's thread is inside the listener.
    auto closed = std::async(std::launch::async, [&] { listening.Close(); });
    EXPECT_EQ(closed.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
    EXPECT_TRUE(running.load());
    release.set_value();
    closed.get();
    EXPECT_FALSE(running.load());
    EXPECT_FALSE(appended.get_future().get());
    ASSERT_TRUE(
        store->AppendAndWait(AppendRequest{{NewEvent{"s", kAnyVersion, "t", "", "", "", 1}}, {}})
            .ok());
    EXPECT_EQ(calls.load(), 1);  // Closed: not called for the second append.
  }
}

}  // namespace
}  // namespace pavilion::events
