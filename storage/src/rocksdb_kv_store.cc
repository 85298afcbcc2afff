// The production KvStore. RocksDB headers stay inside this file: no other module includes them.
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/sst_file_manager.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <tuple>

#include "pavilion/storage/kv_store.h"

namespace pavilion::storage {
namespace {

std::error_code FromStatus(const rocksdb::Status& s) {
  if (s.ok()) return {};
  if (s.IsNotFound()) return errc::not_found;
  if (s.IsCorruption()) return errc::corruption;
  if (s.IsInvalidArgument()) return errc::invalid_argument;
  return errc::io_error;
}

constexpr size_t kKeptBatchBytes = 32u << 20;

// RocksDB counts every key comparison in a thread-local perf context unless the thread says not
// to; nothing here reads those counters. Called on entry to every operation (once per thread).
void QuietPerfContext() {
  thread_local const bool quiet = [] {
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
    return true;
  }();
  (void)quiet;
}

rocksdb::Slice ToSlice(std::string_view s) { return {s.data(), s.size()}; }
std::string_view ToView(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

// A key's family, for the memtable's insert hints: "ord/o/…" → "ord/o/", "cat/sku/…" →
// "cat/sku/", an event-store key by its first byte (and a stream index key by its stream's type:
// "sord_…" → "sord_"). RocksDB keeps the place of the last insert per family, so a key that
// follows its family's previous one (time-ordered ids, due times, log blocks) is placed from
// there instead of from the top of the skip list.
class KeyFamily final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "pavilion.KeyFamily"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    const std::string_view k(key.data(), key.size());
    size_t end = 1;
    if (k.size() > 4 && k[3] == '/') {
      const size_t second = k.find('/', 4);
      end = second == std::string_view::npos ? 4 : second + 1;
    } else if (!k.empty() && k[0] == 's') {
      const size_t type = k.find('_');
      end = type == std::string_view::npos || type > 16 ? 1 : type + 1;
    }
    return {key.data(), std::min(end, key.size())};
  }
  bool InDomain(const rocksdb::Slice&) const override { return true; }
};

// Where the keys under the append-only prefix live: a column family of their own (see
// RocksDbOptions::append_only_prefix). Every batch still goes through the one WAL, so a write
// that spans both families stays atomic.
constexpr const char* kAppendOnlyFamily = "append_only";

class RocksDbKvStore final : public KvStore {
 public:
  // `families` holds the default column family's handle, then the append-only one's.
  RocksDbKvStore(std::unique_ptr<rocksdb::DB> db,
                 std::vector<rocksdb::ColumnFamilyHandle*> families, std::string append_only)
      : db_(std::move(db)),
        families_(std::move(families)),
        append_only_(std::move(append_only)),
        append_only_end_(PrefixEnd(append_only_)) {}
  ~RocksDbKvStore() override {
    for (auto* family : families_) (void)db_->DestroyColumnFamilyHandle(family);
    // Flushing the WAL and closing cleanly is best effort here; the data is safe either way.
    rocksdb::Status s = db_->Close();
    (void)s;
  }

  // Moves the keys under the append-only prefix that a store from before the column family
  // holds in the default one into it, a chunk per atomic batch (so a crash between chunks
  // leaves every key in exactly one family), and compacts away what they leave behind.
  std::error_code MoveAppendOnlyKeys() {
    bool moved = false;
    // Each chunk seeks past the last one's keys, not over the deletions they left.
    std::string from = append_only_;
    for (;;) {
      rocksdb::WriteBatch wb;
      size_t bytes = 0;
      {
        rocksdb::ReadOptions ro;
        rocksdb::Slice upper = ToSlice(append_only_end_);
        if (!append_only_end_.empty()) ro.iterate_upper_bound = &upper;
        std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, families_[0]));
        for (it->Seek(from); it->Valid() && bytes < (16u << 20); it->Next()) {
          bytes += it->key().size() + it->value().size();
          wb.Put(families_[1], it->key(), it->value());
          wb.Delete(families_[0], it->key());
          from.assign(it->key().data(), it->key().size());
          from.push_back('\0');  // The least key after it.
        }
        if (!it->status().ok()) return FromStatus(it->status());
      }
      if (wb.Count() == 0) break;
      rocksdb::WriteOptions wo;
      wo.sync = true;
      if (auto ec = FromStatus(db_->Write(wo, &wb))) return ec;
      moved = true;
    }
    if (!moved) return {};
    const rocksdb::Slice begin = ToSlice(append_only_), end = ToSlice(append_only_end_);
    return FromStatus(db_->CompactRange(rocksdb::CompactRangeOptions(), families_[0], &begin,
                                        append_only_end_.empty() ? nullptr : &end));
  }

  std::error_code Get(std::string_view key, std::string* value) override {
    QuietPerfContext();
    return FromStatus(db_->Get(rocksdb::ReadOptions(), Family(key), ToSlice(key), value));
  }

  void MultiGet(const std::vector<std::string_view>& keys, std::vector<std::string>* values,
                std::vector<std::error_code>* results) override {
    QuietPerfContext();
    std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
    std::vector<rocksdb::PinnableSlice> pinned(keys.size());
    std::vector<rocksdb::Status> statuses(keys.size());
    std::vector<rocksdb::ColumnFamilyHandle*> families(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) families[i] = Family(keys[i]);
    db_->MultiGet(rocksdb::ReadOptions(), keys.size(), families.data(), slices.data(),
                  pinned.data(), statuses.data());
    values->resize(keys.size());
    results->resize(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) {
      (*results)[i] = FromStatus(statuses[i]);
      if (statuses[i].ok()) {
        (*values)[i].assign(pinned[i].data(), pinned[i].size());
      } else {
        (*values)[i].clear();
      }
    }
  }

  std::error_code Write(const WriteBatch& batch, bool sync) override {
    QuietPerfContext();
    // In key order: each key then follows the previous one of its family, and the memtable
    // places it from that family's insert hint (KeyFamily) instead of descending from the top
    // of the skip list. A stable sort keeps the order of operations on the same key, so the
    // last one is known.
    // The buffers are kept per thread between calls: a group commit of several megabytes then
    // reuses memory already mapped instead of faulting in fresh pages each time.
    thread_local std::vector<const WriteBatch::Op*> ordered;
    thread_local rocksdb::WriteBatch wb;
    ordered.clear();
    wb.Clear();
    ordered.reserve(batch.size());
    for (const auto& op : batch.ops()) ordered.push_back(&op);
    std::stable_sort(
        ordered.begin(), ordered.end(),
        [](const WriteBatch::Op* a, const WriteBatch::Op* b) { return a->key < b->key; });
    for (size_t i = 0; i < ordered.size(); ++i) {
      const WriteBatch::Op* op = ordered[i];
      // Of several operations on one key only the last decides what the batch leaves, so only
      // it is written: a group commit that changes one SKU a thousand times (a flash sale)
      // inserts one version into the memtable, not a thousand.
      if (i + 1 < ordered.size() && ordered[i + 1]->key == op->key) continue;
      rocksdb::Status s = op->kind == WriteBatch::Kind::kPut
                              ? wb.Put(Family(op->key), ToSlice(op->key), ToSlice(op->value))
                              : wb.Delete(Family(op->key), ToSlice(op->key));
      if (!s.ok()) return FromStatus(s);
    }
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    auto ec = FromStatus(db_->Write(wo, &wb));
    if (wb.GetDataSize() > kKeptBatchBytes) wb = rocksdb::WriteBatch();  // Past that, let go.
    if (ordered.capacity() > kKeptBatchBytes / 64)
      std::vector<const WriteBatch::Op*>().swap(ordered);
    return ec;
  }

  std::error_code Sync() override {
    QuietPerfContext();
    return FromStatus(db_->SyncWAL());
  }

  std::error_code Scan(std::string_view begin, std::string_view end, const ScanFn& fn) override {
    QuietPerfContext();
    bool go_on = true;
    for (const Part& part : Parts(begin, end)) {
      if (auto ec = ScanFamily(part, fn, &go_on); ec || !go_on) return ec;
    }
    return {};
  }

  std::error_code ScanReverse(std::string_view begin, std::string_view end,
                              const ScanFn& fn) override {
    QuietPerfContext();
    bool go_on = true;
    const std::vector<Part> parts = Parts(begin, end);
    for (auto part = parts.rbegin(); part != parts.rend(); ++part) {
      if (auto ec = ScanFamilyReverse(*part, fn, &go_on); ec || !go_on) return ec;
    }
    return {};
  }

  std::vector<StoreFigure> Figures() override {
    using P = rocksdb::DB::Properties;
    std::vector<StoreFigure> out;
    const auto number = [&](const char* name, rocksdb::ColumnFamilyHandle* family,
                            const std::string& property, std::string_view help,
                            bool whole_store = false) {
      uint64_t value = 0;
      if (db_->GetIntProperty(family, property, &value)) {
        out.push_back({name, whole_store ? "" : family->GetName(), value, help});
      }
    };
    for (auto* family : families_) {
      number("sst_bytes", family, P::kLiveSstFilesSize,
             "Bytes in the live SST files of a column family.");
      number("memtable_bytes", family, P::kCurSizeAllMemTables,
             "Bytes in the memtables of a column family, flushed or not.");
      if (std::string files; db_->GetProperty(family, P::kNumFilesAtLevelPrefix + "0", &files)) {
        out.push_back({"level0_files", family->GetName(), std::strtoull(files.c_str(), nullptr, 10),
                       "Level-0 files of a column family; many slow reads and stall writes."});
      }
      number("pending_compaction_bytes", family, P::kEstimatePendingCompactionBytes,
             "Bytes compaction has yet to rewrite in a column family (its debt).");
      std::map<std::string, std::string> stats;
      if (!db_->GetMapProperty(family, P::kCFStats, &stats)) continue;
      for (const auto& [figure, key, help] :
           {std::tuple{"write_stops_total", "io_stalls.total_stop",
                       "Times RocksDB stopped writes to a column family since the store opened."},
            std::tuple{"write_slowdowns_total", "io_stalls.total_slowdown",
                       "Times RocksDB slowed writes to a column family since the store opened."}}) {
        if (auto it = stats.find(key); it != stats.end()) {
          out.push_back({figure, family->GetName(),
                         static_cast<uint64_t>(std::strtod(it->second.c_str(), nullptr)), help});
        }
      }
    }
    number("block_cache_bytes", families_[0], P::kBlockCacheUsage,
           "Bytes the block cache holds (data, index and filter blocks).", /*whole_store=*/true);
    number("write_stopped", families_[0], P::kIsWriteStopped,
           "1 while RocksDB stops writes, 0 otherwise.", /*whole_store=*/true);
    number("flushes_running", families_[0], P::kNumRunningFlushes, "Memtable flushes running now.",
           /*whole_store=*/true);
    number("compactions_running", families_[0], P::kNumRunningCompactions,
           "Compactions running now.", /*whole_store=*/true);
    return out;
  }

 private:
  rocksdb::ColumnFamilyHandle* Family(std::string_view key) const {
    return !append_only_.empty() && key.starts_with(append_only_) ? families_[1] : families_[0];
  }

  // A range of keys within one column family; an empty `end` means no upper bound.
  struct Part {
    rocksdb::ColumnFamilyHandle* family;
    std::string_view begin, end;
  };

  // [begin, end) cut where the append-only prefix's keys start and end, in key order: the
  // prefix's keys are one contiguous range, kept in the other family.
  std::vector<Part> Parts(std::string_view begin, std::string_view end) const {
    if (append_only_.empty()) return {{families_[0], begin, end}};
    const std::string_view lo = append_only_, hi = append_only_end_;
    // The lesser of two upper bounds, where "" is no bound.
    const auto lesser = [](std::string_view a, std::string_view b) {
      return a.empty() || (!b.empty() && b < a) ? b : a;
    };
    std::vector<Part> parts;
    const auto add = [&](rocksdb::ColumnFamilyHandle* family, std::string_view b,
                         std::string_view e) {
      if (e.empty() || b < e) parts.push_back({family, b, e});
    };
    if (begin < lo) add(families_[0], begin, lesser(end, lo));
    add(families_[1], std::max(begin, lo), hi.empty() ? end : lesser(end, hi));
    if (!hi.empty()) add(families_[0], std::max(begin, hi), end);
    return parts;
  }

  std::error_code ScanFamily(const Part& part, const ScanFn& fn, bool* go_on) {
    rocksdb::ReadOptions ro;
    rocksdb::Slice upper = ToSlice(part.end);
    if (!part.end.empty()) ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, part.family));
    for (it->Seek(ToSlice(part.begin)); it->Valid(); it->Next()) {
      if (!fn(ToView(it->key()), ToView(it->value()))) {
        *go_on = false;
        break;
      }
    }
    return FromStatus(it->status());
  }

  std::error_code ScanFamilyReverse(const Part& part, const ScanFn& fn, bool* go_on) {
    rocksdb::ReadOptions ro;
    rocksdb::Slice lower = ToSlice(part.begin);
    ro.iterate_lower_bound = &lower;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, part.family));
    if (part.end.empty()) {
      it->SeekToLast();
    } else {
      it->SeekForPrev(ToSlice(part.end));
      if (it->Valid() && ToView(it->key()) >= part.end) it->Prev();
    }
    for (; it->Valid(); it->Prev()) {
      if (!fn(ToView(it->key()), ToView(it->value()))) {
        *go_on = false;
        break;
      }
    }
    return FromStatus(it->status());
  }

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> families_;
  const std::string append_only_;
  const std::string append_only_end_;
};

}  // namespace

Result<std::unique_ptr<KvStore>> OpenRocksDb(const std::string& dir,
                                             const RocksDbOptions& options) {
  rocksdb::Options opts;
  opts.create_if_missing = true;
  opts.IncreaseParallelism(2);
  if (options.background_low_cpu_priority) {
    for (auto pool : {rocksdb::Env::Priority::LOW, rocksdb::Env::Priority::HIGH}) {
      if (auto s = opts.env->LowerThreadPoolCPUPriority(pool, rocksdb::CpuPriority::kLow);
          !s.ok()) {
        return FromStatus(s);
      }
    }
  }
  opts.write_buffer_size = options.write_buffer_bytes;
  opts.memtable_insert_with_hint_prefix_extractor = std::make_shared<KeyFamily>();
  if (options.memtable_bloom_ratio > 0) {
    opts.memtable_prefix_bloom_size_ratio = options.memtable_bloom_ratio;
    opts.memtable_whole_key_filtering = true;
  }
  opts.max_write_buffer_number = 4;
  // Flushes and compactions hand their files to the disk every megabyte as they write them, so
  // dirty pages do not pile up for the next journal commit — which a WAL fdatasync may have to
  // wait for (ext4, data=ordered): the tail latency of synced writes.
  opts.bytes_per_sync = 1 << 20;
  opts.compression = rocksdb::kNoCompression;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  // Index and filter blocks live in the block cache too, so memory stays within its size however
  // large the store grows (outside it they are held for every open file: about 10 bits a key for
  // the filters alone). The level-0 files' are pinned: every read consults them.
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10, false));
  opts.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  if (options.delete_bytes_per_sec > 0) {
    rocksdb::Status sfm;
    opts.sst_file_manager.reset(rocksdb::NewSstFileManager(
        opts.env, /*info_log=*/nullptr, /*trash_dir=*/"", options.delete_bytes_per_sec,
        /*delete_existing_trash=*/true, &sfm, /*max_trash_db_ratio=*/0.25,
        options.delete_chunk_bytes));
    if (!sfm.ok()) return FromStatus(sfm);
  }
  opts.create_missing_column_families = true;
  // The append-only keys are read by seeking to a position (the block that holds it), which no
  // bloom filter answers: their files carry none.
  rocksdb::ColumnFamilyOptions append_only(opts);
  table.filter_policy.reset();
  append_only.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  const std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions(opts)},
      {kAppendOnlyFamily, append_only}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(rocksdb::DBOptions(opts), dir, families, &handles, &raw);
  if (!s.ok()) return FromStatus(s);
  auto kv = std::make_unique<RocksDbKvStore>(std::unique_ptr<rocksdb::DB>(raw), std::move(handles),
                                             options.append_only_prefix);
  if (!options.append_only_prefix.empty()) {
    if (auto ec = kv->MoveAppendOnlyKeys()) return ec;
  }
  return std::unique_ptr<KvStore>(std::move(kv));
}

}  // namespace pavilion::storage
