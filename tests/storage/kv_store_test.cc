#include "pavilion/storage/kv_store.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>

#include "../support/temp_dir.h"
#include "pavilion/storage/fault_injection_kv_store.h"
#include "pavilion/storage/memory_kv_store.h"

namespace pavilion::storage {
namespace {

struct Factory {
  const char* name;
  std::function<std::unique_ptr<KvStore>(const std::string& dir)> make;
};

class KvStoreTest : public ::testing::TestWithParam<Factory> {
 protected:
  void SetUp() override { kv_ = GetParam().make(dir_.str()); }
  pavilion::testing::TempDir dir_;
  std::unique_ptr<KvStore> kv_;
};

std::vector<std::string> Keys(KvStore& kv, std::string_view b, std::string_view e, bool reverse) {
  std::vector<std::string> keys;
  auto fn = [&](std::string_view k, std::string_view) {
    keys.emplace_back(k);
    return true;
  };
  auto ec = reverse ? kv.ScanReverse(b, e, fn) : kv.Scan(b, e, fn);
  EXPECT_FALSE(ec);
  return keys;
}

TEST_P(KvStoreTest, PutGetDelete) {
  std::string v;
  EXPECT_EQ(kv_->Get("a", &v), errc::not_found);
  WriteBatch wb;
  wb.Put("a", "1");
  wb.Put("b", std::string("\0x", 2));
  ASSERT_FALSE(kv_->Write(wb, true));
  ASSERT_FALSE(kv_->Get("b", &v));
  EXPECT_EQ(v, std::string("\0x", 2));
  WriteBatch del;
  del.Delete("a");
  ASSERT_FALSE(kv_->Write(del, false));
  EXPECT_EQ(kv_->Get("a", &v), errc::not_found);
}

// Operations on one key within a batch apply in order: the last one decides (whatever the
// store does to write fewer of them).
TEST_P(KvStoreTest, LastOperationOnAKeyInABatchWins) {
  WriteBatch wb;
  wb.Put("x", "1");
  wb.Put("a", "first");
  wb.Put("x", "2");
  wb.Delete("a");
  wb.Put("y", "1");
  wb.Delete("y");
  wb.Put("y", "again");
  wb.Put("x", "3");
  ASSERT_FALSE(kv_->Write(wb, true));
  std::string v;
  ASSERT_FALSE(kv_->Get("x", &v));
  EXPECT_EQ(v, "3");
  EXPECT_EQ(kv_->Get("a", &v), errc::not_found);
  ASSERT_FALSE(kv_->Get("y", &v));
  EXPECT_EQ(v, "again");
}

TEST_P(KvStoreTest, ScansAreOrderedAndBounded) {
  WriteBatch wb;
  for (auto k : {"p/1", "p/2", "p/3", "q/1", "o/9"}) wb.Put(k, "v");
  ASSERT_FALSE(kv_->Write(wb, true));
  EXPECT_EQ(Keys(*kv_, "p/", PrefixEnd("p/"), false),
            (std::vector<std::string>{"p/1", "p/2", "p/3"}));
  EXPECT_EQ(Keys(*kv_, "p/", PrefixEnd("p/"), true),
            (std::vector<std::string>{"p/3", "p/2", "p/1"}));
  EXPECT_EQ(Keys(*kv_, "p/2", "p/3", false), (std::vector<std::string>{"p/2"}));
  EXPECT_EQ(Keys(*kv_, "p/2", "", false), (std::vector<std::string>{"p/2", "p/3", "q/1"}));
  EXPECT_EQ(Keys(*kv_, "", "", true).front(), "q/1");
}

TEST_P(KvStoreTest, ScanStopsWhenAsked) {
  WriteBatch wb;
  for (int i = 0; i < 10; ++i) wb.Put("k" + std::to_string(i), "v");
  ASSERT_FALSE(kv_->Write(wb, true));
  int seen = 0;
  ASSERT_FALSE(kv_->Scan("k", "l", [&](std::string_view, std::string_view) { return ++seen < 3; }));
  EXPECT_EQ(seen, 3);
}

// Every range, forward and backward, and every lookup answer what a sorted set of the keys
// answers — RocksDB included, whose keys under the append-only prefix live in a column family of
// their own (the factories below put it at "b", "p/" and "\xff").
TEST_P(KvStoreTest, RangesAcrossEveryKeyAnswerAsASortedSet) {
  std::mt19937 rng(7);
  const std::string alphabet("ab\0c\xff/p", 7);
  const auto random_key = [&](size_t max_size) {
    std::string k(rng() % (max_size + 1), ' ');
    for (char& c : k) c = alphabet[rng() % alphabet.size()];
    return k;
  };
  std::set<std::string> model;
  for (int round = 0; round < 4; ++round) {
    WriteBatch wb;
    for (int i = 0; i < 60; ++i) {
      std::string k = random_key(3);
      if (k.empty()) continue;
      if (rng() % 4 == 0) {
        wb.Delete(k);
        model.erase(k);
      } else {
        wb.Put(k, "v" + k);
        model.insert(k);
      }
    }
    ASSERT_FALSE(kv_->Write(wb, round % 2 == 0));
  }
  for (int i = 0; i < 300; ++i) {
    const std::string b = random_key(2), e = rng() % 5 == 0 ? "" : random_key(2);
    std::vector<std::string> want;
    for (auto it = model.lower_bound(b); it != model.end() && (e.empty() || *it < e); ++it) {
      want.push_back(*it);
    }
    EXPECT_EQ(Keys(*kv_, b, e, false), want) << "[" << b << ", " << e << ")";
    std::reverse(want.begin(), want.end());
    EXPECT_EQ(Keys(*kv_, b, e, true), want) << "[" << b << ", " << e << ") reversed";
    // Stopping after the first key stops the whole scan, whichever family it came from.
    int seen = 0;
    ASSERT_FALSE(kv_->Scan(b, e, [&](std::string_view, std::string_view) { return ++seen < 1; }));
    EXPECT_EQ(seen, want.empty() ? 0 : 1);
  }
  std::vector<std::string> probes;
  for (int i = 0; i < 40; ++i) probes.push_back(random_key(3));
  std::vector<std::string_view> keys(probes.begin(), probes.end());
  std::vector<std::string> values;
  std::vector<std::error_code> results;
  kv_->MultiGet(keys, &values, &results);
  for (size_t i = 0; i < probes.size(); ++i) {
    if (model.contains(probes[i])) {
      EXPECT_FALSE(results[i]) << probes[i];
      EXPECT_EQ(values[i], "v" + probes[i]);
    } else {
      EXPECT_EQ(results[i], errc::not_found) << probes[i];
    }
  }
}

std::unique_ptr<KvStore> OpenRocksDbWithAppendOnly(const std::string& dir, std::string prefix) {
  RocksDbOptions options;
  options.append_only_prefix = std::move(prefix);
  auto kv = OpenRocksDb(dir, options);
  EXPECT_TRUE(kv.ok()) << kv.message();
  return std::move(kv).value();
}

INSTANTIATE_TEST_SUITE_P(
    All, KvStoreTest,
    ::testing::Values(
        Factory{"memory", [](const std::string&) { return std::make_unique<MemoryKvStore>(); }},
        Factory{"fault",
                [](const std::string&) { return std::make_unique<FaultInjectionKvStore>(); }},
        Factory{"rocksdb",
                [](const std::string& dir) {
                  auto kv = OpenRocksDb(dir);
                  EXPECT_TRUE(kv.ok()) << kv.message();
                  return std::move(kv).value();
                }},
        // With the memtable's bloom filter (off by default), which answers absent keys.
        Factory{"rocksdb_memtable_bloom",
                [](const std::string& dir) {
                  RocksDbOptions options;
                  options.memtable_bloom_ratio = 0.05;
                  auto kv = OpenRocksDb(dir, options);
                  EXPECT_TRUE(kv.ok()) << kv.message();
                  return std::move(kv).value();
                }},
        Factory{"rocksdb_one_family",
                [](const std::string& dir) { return OpenRocksDbWithAppendOnly(dir, ""); }},
        Factory{"rocksdb_append_only_p",
                [](const std::string& dir) { return OpenRocksDbWithAppendOnly(dir, "p/"); }},
        Factory{"rocksdb_append_only_ff",
                [](const std::string& dir) { return OpenRocksDbWithAppendOnly(dir, "\xff"); }}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(RocksDbKvStore, DataSurvivesReopen) {
  pavilion::testing::TempDir dir;
  {
    auto kv = OpenRocksDb(dir.str());
    ASSERT_TRUE(kv.ok());
    WriteBatch wb;
    wb.Put("durable", "yes");
    ASSERT_FALSE((*kv)->Write(wb, true));
  }
  auto kv = OpenRocksDb(dir.str());
  ASSERT_TRUE(kv.ok());
  std::string v;
  ASSERT_FALSE((*kv)->Get("durable", &v));
  EXPECT_EQ(v, "yes");
}

// A store written before the append-only column family keeps those keys in the default one; the
// first open with the prefix moves them (and reads find them there afterwards), leaving the
// default family without them.
TEST(RocksDbKvStore, KeysUnderTheAppendOnlyPrefixMoveToTheirFamilyOnOpen) {
  for (const std::string prefix : {"b", "\xff"}) {
    SCOPED_TRACE(prefix);
    pavilion::testing::TempDir dir;
    std::map<std::string, std::string> written;
    {
      auto kv = OpenRocksDbWithAppendOnly(dir.str(), "");
      for (int chunk = 0; chunk < 3; ++chunk) {
        WriteBatch wb;
        for (int i = 0; i < 20'000; ++i) {
          std::string position(8, '\0');
          const uint64_t p = chunk * 20'000 + i;
          for (int b = 0; b < 8; ++b) position[7 - b] = static_cast<char>(p >> (8 * b));
          wb.Put(prefix + position, std::string(300, 'x') + position);
          written[prefix + position] = std::string(300, 'x') + position;
        }
        wb.Put("a/" + std::to_string(chunk), "before");
        wb.Put("c/" + std::to_string(chunk), "after");
        ASSERT_FALSE(kv->Write(wb, true));
      }
    }
    {
      auto kv = OpenRocksDbWithAppendOnly(dir.str(), prefix);
      std::map<std::string, std::string> seen;
      ASSERT_FALSE(kv->Scan(prefix, PrefixEnd(prefix), [&](std::string_view k, std::string_view v) {
        seen.emplace(k, v);
        return true;
      }));
      EXPECT_TRUE(seen == written) << seen.size() << " of " << written.size();
      EXPECT_EQ(Keys(*kv, "", "", false).size(), written.size() + 6);
      std::string v;
      ASSERT_FALSE(kv->Get(written.rbegin()->first, &v));
      EXPECT_EQ(v, written.rbegin()->second);
    }
    // Opened as one family again, the default family shows only what stayed in it.
    auto one = OpenRocksDbWithAppendOnly(dir.str(), "");
    EXPECT_EQ(Keys(*one, "", "", false),
              (std::vector<std::string>{"a/0", "a/1", "a/2", "c/0", "c/1", "c/2"}));
  }
}

// A move cut short (a crash between two of its batches) leaves some of the keys in each family;
// the next open finishes it, and reads see every key once.
TEST(RocksDbKvStore, AnInterruptedMoveIsFinishedByTheNextOpen) {
  pavilion::testing::TempDir dir;
  const auto write = [&](const std::string& prefix, int from, int to) {
    auto kv = OpenRocksDbWithAppendOnly(dir.str(), prefix);
    WriteBatch wb;
    for (int i = from; i < to; ++i) wb.Put("b" + std::to_string(100000 + i), std::to_string(i));
    ASSERT_FALSE(kv->Write(wb, true));
  };
  write("", 0, 500);      // The old layout: all in the default family.
  write("b", 500, 1000);  // Opening with the prefix moves those, and writes these to its family.
  write("", 1000, 1500);  // As a move that stopped after its first batch would leave them.
  auto kv = OpenRocksDbWithAppendOnly(dir.str(), "b");
  const auto keys = Keys(*kv, "", "", false);
  ASSERT_EQ(keys.size(), 1500u);
  for (int i = 0; i < 1500; ++i) EXPECT_EQ(keys[i], "b" + std::to_string(100000 + i));
  EXPECT_EQ(Keys(*kv, "b", "c", true).front(), "b101499");
  kv.reset();
  EXPECT_TRUE(Keys(*OpenRocksDbWithAppendOnly(dir.str(), ""), "", "", false).empty());
}

// The engine's figures for monitoring: per column family, and for the whole store.
TEST(RocksDbKvStore, FiguresDescribeEachColumnFamily) {
  pavilion::testing::TempDir dir;
  const auto find = [](const std::vector<StoreFigure>& figures, std::string_view name,
                       std::string_view family) -> int64_t {
    for (const auto& f : figures) {
      if (f.name == name && f.family == family) return static_cast<int64_t>(f.value);
    }
    return -1;
  };
  {
    auto kv = OpenRocksDbWithAppendOnly(dir.str(), "b");
    WriteBatch wb;
    for (int i = 0; i < 1000; ++i) {
      wb.Put("b" + std::to_string(100000 + i), std::string(500, 'e'));
      wb.Put("p/" + std::to_string(i), std::string(100, 'p'));
    }
    ASSERT_FALSE(kv->Write(wb, true));
    const auto figures = kv->Figures();
    for (const char* family : {"default", "append_only"}) {
      EXPECT_GT(find(figures, "memtable_bytes", family), 0) << family;
      EXPECT_EQ(find(figures, "sst_bytes", family), 0) << family;
      EXPECT_EQ(find(figures, "level0_files", family), 0) << family;
      EXPECT_EQ(find(figures, "pending_compaction_bytes", family), 0) << family;
      EXPECT_EQ(find(figures, "write_stops_total", family), 0) << family;
      EXPECT_EQ(find(figures, "write_slowdowns_total", family), 0) << family;
    }
    EXPECT_EQ(find(figures, "write_stopped", ""), 0);
    EXPECT_GE(find(figures, "flushes_running", ""), 0);
    EXPECT_GE(find(figures, "compactions_running", ""), 0);
    EXPECT_GE(find(figures, "block_cache_bytes", ""), 0);
  }
  // Reopened, the log's replay wrote each family's memtable to a level-0 file.
  auto kv = OpenRocksDbWithAppendOnly(dir.str(), "b");
  const auto figures = kv->Figures();
  for (const char* family : {"default", "append_only"}) {
    EXPECT_GT(find(figures, "sst_bytes", family), 0) << family;
    EXPECT_EQ(find(figures, "level0_files", family), 1) << family;
  }
  // Each family holds its own keys: 500 of the 600 bytes a pair writes are the blocks'.
  EXPECT_GT(find(figures, "sst_bytes", "append_only"), 500'000);
  EXPECT_LT(find(figures, "sst_bytes", "default"), 250'000);
  EXPECT_TRUE(MemoryKvStore().Figures().empty());
}

// Files that compaction leaves behind are deleted — at once, or in the background in chunks
// (RocksDbOptions::delete_bytes_per_sec): overwriting the same keys sixty times over leaves the
// directory about the size of the live data once it has caught up, and reads see the last values.
TEST(RocksDbKvStore, SpaceOfOverwrittenDataIsReclaimed) {
  namespace fs = std::filesystem;
  for (const int64_t rate : {int64_t{0}, int64_t{64} << 20}) {
    SCOPED_TRACE("delete_bytes_per_sec " + std::to_string(rate));
    pavilion::testing::TempDir dir;
    auto dir_bytes = [&] {
      uintmax_t total = 0;
      // RocksDB deletes files while this looks: a file gone meanwhile counts as nothing.
      std::error_code ec;
      for (fs::directory_iterator it(dir.str(), ec), end; !ec && it != end; it.increment(ec)) {
        const std::string ext = it->path().extension().string();
        if (ext != ".sst" && ext != ".trash") continue;
        const uintmax_t size = fs::file_size(it->path(), ec);
        if (!ec) total += size;
        ec.clear();
      }
      return total;
    };
    RocksDbOptions options;
    options.write_buffer_bytes = 256u << 10;  // Flushes and compactions every few rounds.
    options.delete_bytes_per_sec = rate;
    options.delete_chunk_bytes = 256u << 10;
    {
      auto kv = OpenRocksDb(dir.str(), options);
      ASSERT_TRUE(kv.ok()) << kv.message();
      const std::string value(1000, 'v');
      for (int round = 0; round < 60; ++round) {  // 60 MB written over 1 MB of live data.
        WriteBatch wb;
        for (int k = 0; k < 1000; ++k) {
          wb.Put("key/" + std::to_string(k), std::to_string(round) + value);
        }
        ASSERT_FALSE((*kv)->Write(wb, false));
      }
      ASSERT_FALSE((*kv)->Sync());
      // Compaction and the deleter run in the background and signal nothing through KvStore:
      // wait on the directory's changes (inotify) until it has been quiet for half a second
      // and is small — a compaction writes its output before the files it replaces go, so a
      // look in the middle of one can see the directory small and then larger again. Gives up
      // after 10 s in which nothing changed (and after a bounded number of changes).
      const int watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
      ASSERT_GE(watch, 0);
      ASSERT_GE(inotify_add_watch(watch, dir.str().c_str(),
                                  IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_MODIFY),
                0);
      int quiet_polls = 0;  // In a row, of half a second each.
      for (int wakeups = 0; quiet_polls < 20 && wakeups < 100000; ++wakeups) {
        pollfd p{watch, POLLIN, 0};
        if (poll(&p, 1, 500) > 0) {
          char events[4096];
          while (read(watch, events, sizeof events) > 0) {
          }
          quiet_polls = 0;
        } else if (++quiet_polls; dir_bytes() <= (8u << 20)) {
          break;
        }
      }
      close(watch);
      EXPECT_LE(dir_bytes(), 8u << 20);
      std::string v;
      ASSERT_FALSE((*kv)->Get("key/999", &v));
      EXPECT_EQ(v.substr(0, 2), "59");
    }
    auto kv = OpenRocksDb(dir.str(), options);  // Reopening deletes any trash left.
    ASSERT_TRUE(kv.ok());
    std::string v;
    ASSERT_FALSE((*kv)->Get("key/0", &v));
    EXPECT_EQ(v.substr(0, 2), "59");
  }
}

// RocksDB's flush ("rocksdb:high") and compaction ("rocksdb:low") threads take the lowest CPU
// priority (RocksDbOptions::background_low_cpu_priority). A thread lowers its own when it takes a
// job, so the store is made to flush and compact: 20 MB through memtables of 256 KiB, at most
// four of them, cannot be written without flushes finishing, nor ~80 level-0 files made without
// compactions (writes stop at 36). Each pool must then have a thread at nice 19 (the pools are
// the process's: other tests' stores may have added threads).
TEST(RocksDbKvStore, FlushesAndCompactionsRunAtTheLowestCpuPriority) {
  pavilion::testing::TempDir dir;
  RocksDbOptions options;
  options.write_buffer_bytes = 256u << 10;
  auto kv = OpenRocksDb(dir.str(), options);
  ASSERT_TRUE(kv.ok()) << kv.message();
  const std::string value(1000, 'v');
  for (int round = 0; round < 20; ++round) {
    WriteBatch wb;
    for (int k = 0; k < 1000; ++k) wb.Put("key/" + std::to_string(round * 1000 + k), value);
    ASSERT_FALSE((*kv)->Write(wb, false));
  }
  std::set<std::string> at_nice_19;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm_file(task.path() / "comm");
    std::string comm;
    std::getline(comm_file, comm);
    std::ifstream stat_file(task.path() / "stat");
    const std::string stat((std::istreambuf_iterator<char>(stat_file)), {});
    // After the name in parentheses: state, then 15 more fields, then nice.
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string field;
    for (int i = 0; i < 17; ++i) fields >> field;
    if (field == "19") at_nice_19.insert(comm);
  }
  EXPECT_TRUE(at_nice_19.count("rocksdb:high")) << "no flush thread runs at nice 19";
  EXPECT_TRUE(at_nice_19.count("rocksdb:low")) << "no compaction thread runs at nice 19";
}

TEST(FaultInjectionKvStore, CrashDropsOnlyUnsyncedBatches) {
  FaultInjectionKvStore kv;
  WriteBatch a, b, c;
  a.Put("a", "1");
  b.Put("b", "2");
  c.Put("c", "3");
  ASSERT_FALSE(kv.Write(a, false));
  ASSERT_FALSE(kv.Write(b, true));  // Syncs a and b.
  ASSERT_FALSE(kv.Write(c, false));
  EXPECT_EQ(kv.unsynced_batches(), 1u);
  kv.DropUnsyncedWrites();
  std::string v;
  EXPECT_FALSE(kv.Get("a", &v));
  EXPECT_FALSE(kv.Get("b", &v));
  EXPECT_EQ(kv.Get("c", &v), errc::not_found);
}

TEST(FaultInjectionKvStore, FailedWriteChangesNothing) {
  FaultInjectionKvStore kv;
  kv.FailNextWrites(1);
  WriteBatch a;
  a.Put("a", "1");
  EXPECT_EQ(kv.Write(a, true), errc::injected_fault);
  std::string v;
  EXPECT_EQ(kv.Get("a", &v), errc::not_found);
  EXPECT_FALSE(kv.Write(a, true));
  EXPECT_FALSE(kv.Get("a", &v));
}

TEST(PrefixEnd, IncrementsLastByteAndCarries) {
  EXPECT_EQ(PrefixEnd("ab"), "ac");
  EXPECT_EQ(PrefixEnd(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixEnd(std::string("\xff", 1)), "");
}

}  // namespace
}  // namespace pavilion::storage
