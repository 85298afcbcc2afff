#include "pavilion/catalog/pack_file.h"

#include <archive.h>
#include <archive_entry.h>
#include <simdjson.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <unordered_set>

#include "pavilion/base/json_writer.h"
#include "pavilion/catalog/pack.h"

namespace pavilion::catalog {
namespace {

using events::Await;
using events::svc_errc;

constexpr size_t kMaxManifestBytes = 64 << 10;
constexpr size_t kMaxMappingBytes = 1 << 20;

Error Invalid(std::string message) {
  return Error{make_error_code(svc_errc::invalid_argument), std::move(message)};
}

// Why an entry name is refused, or empty when it is safe.
std::string BadName(std::string_view name) {
  if (name.empty() || name.size() > 255) return "names are 1 to 255 bytes";
  if (name.front() == '/') return "absolute names are not allowed";
  if (name.find('\\') != std::string_view::npos) return "backslashes are not allowed";
  if (name.size() > 1 && name[1] == ':') return "drive letters are not allowed";
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F)
      return "control characters are not allowed";
  }
  std::string_view rest = name;
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    if (rest.substr(0, slash) == "..") return "names may not climb out of the pack (..)";
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return {};
}

bool EndsWithCsv(std::string_view name) {
  if (name.size() < 4) return false;
  std::string tail(name.substr(name.size() - 4));
  for (auto& c : tail) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return tail == ".csv";
}

bool EndsWith(std::string_view name, std::string_view tail) {
  return name.size() >= tail.size() && name.substr(name.size() - tail.size()) == tail;
}

std::string_view Dir(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? "" : path.substr(0, slash + 1);
}

}  // namespace

class PackFile::Impl {
 public:
  Impl(std::string path, std::string bytes, bool in_memory, PackLimits limits)
      : path_(std::move(path)), bytes_(std::move(bytes)), in_memory_(in_memory), limits_(limits) {}
  ~Impl() { CloseStream(); }

  Result<bool> Init() {
    std::string head = in_memory_ ? bytes_.substr(0, 4) : ReadHead();
    if (head.empty()) return Invalid("pack: the file is empty");
    if (in_memory_) {
      packed_bytes_ = bytes_.size();
    } else {
      std::error_code ec;
      packed_bytes_ = std::filesystem::file_size(path_, ec);
      if (ec) return Invalid("pack: cannot be read: " + ec.message());
    }
    archived_ = head.substr(0, 2) == "PK" || head.substr(0, 2) == "\x1F\x8B";
    mapping_ = TaobaoMapping::Default();
    if (!archived_) {
      // A bare products.ndjson or X.csv: the NDJSON starts with an object.
      size_t first = head.find_first_not_of(" \t\r\n");
      kind_ =
          first != std::string::npos && head[first] == '{' ? PackKind::kNative : PackKind::kTaobao;
      return true;
    }
    return ListEntries();
  }

  std::vector<std::string> ImageNames() const {
    std::vector<std::string> names;
    names.reserve(images_.size());
    for (const auto& entry : images_) names.push_back(ImageName(entry));
    return names;
  }

  Result<bool> ForEachImage(const std::function<bool(const std::string&, std::string)>& fn,
                            const std::function<bool(const std::string&)>& wanted) {
    if (images_.empty()) return true;
    archive* a = Open();
    if (a == nullptr) return Invalid("pack: cannot be read as an archive");
    Result<bool> result = true;
    archive_entry* entry = nullptr;
    while (archive_read_next_header(a, &entry) == ARCHIVE_OK) {
      std::string name = archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "";
      if (!images_.count(name) || (wanted && !wanted(ImageName(name)))) {
        if (auto drained = Drain(a, name); !drained.ok()) {
          result = drained.error_detail();
          break;
        }
        continue;
      }
      auto bytes = ReadEntry(a, name, limits_.max_image_bytes);
      if (!bytes.ok()) {
        result = bytes.error_detail();
        break;
      }
      if (!fn(ImageName(name), std::move(bytes).value())) break;
    }
    archive_read_free(a);
    return result;
  }

  void Rewind() {
    CloseStream();
    stream_eof_ = false;
    pending_.clear();
    next_row_ = 1;
    products_bytes_ = 0;
    if (csv_) {
      // The decoded text is kept: the reader starts over on it, nothing is read again.
      auto reader = TaobaoCsvReader::Open(csv_text_, mapping_);
      if (reader.ok()) {
        csv_.emplace(std::move(reader).value());
      } else {
        csv_.reset();
      }
    }
  }

  Result<ParsedPack> Next(size_t max_rows, bool* done) {
    *done = false;
    if (kind_ == PackKind::kTaobao) return NextCsv(max_rows, done);
    if (stream_ == nullptr) {
      auto opened = OpenProducts();
      if (!opened.ok()) return opened.error_detail();
    }
    // Collect whole lines: up to `max_rows` of them or the rest of the entry.
    size_t lines = 0, cut = 0;
    while (true) {
      for (size_t nl; lines < max_rows && (nl = pending_.find('\n', cut)) != std::string::npos;) {
        if (nl - cut > limits_.max_line_bytes) break;
        cut = nl + 1;
        ++lines;
      }
      if (lines >= max_rows || stream_eof_) break;
      if (pending_.find('\n', cut) - cut > limits_.max_line_bytes &&
          pending_.size() - cut > limits_.max_line_bytes) {
        return Invalid("products.ndjson line " + std::to_string(next_row_ + lines) +
                       ": longer than " + std::to_string(limits_.max_line_bytes) + " bytes");
      }
      char buf[64 << 10];
      la_ssize_t n = archive_read_data(stream_, buf, sizeof buf);
      if (n < 0) return Invalid(std::string("pack: ") + archive_error_string(stream_));
      if (n == 0) {
        stream_eof_ = true;
        continue;
      }
      auto counted = Count(static_cast<size_t>(n), &products_bytes_, limits_.max_products_bytes,
                           products_entry_.empty() ? "products.ndjson" : products_entry_,
                           "split the products into several packs");
      if (!counted.ok()) return counted.error_detail();
      pending_.append(buf, static_cast<size_t>(n));
    }
    if (stream_eof_ && lines < max_rows) {
      cut = pending_.size();
      *done = true;
    }
    ParsedPack piece =
        ParseNdjsonPack(std::string_view(pending_).substr(0, cut), SIZE_MAX, next_row_);
    next_row_ += static_cast<int>(std::count(pending_.begin(), pending_.begin() + cut, '\n'));
    pending_.erase(0, cut);
    if (*done) CloseStream();
    return piece;
  }

  PackKind kind_ = PackKind::kNative;
  std::unordered_set<std::string> images_;

 private:
  std::string ReadHead() {
    std::ifstream in(path_, std::ios::binary);
    char buf[4096];
    in.read(buf, sizeof buf);
    return std::string(buf, static_cast<size_t>(in.gcount()));
  }

  archive* Open() {
    archive* a = archive_read_new();
    if (archived_) {
      archive_read_support_format_zip(a);
      archive_read_support_format_tar(a);
      archive_read_support_filter_gzip(a);
    } else {
      archive_read_support_format_raw(a);
    }
    int rc = in_memory_ ? archive_read_open_memory(a, bytes_.data(), bytes_.size())
                        : archive_read_open_filename(a, path_.c_str(), 1 << 16);
    if (rc != ARCHIVE_OK) {
      archive_read_free(a);
      return nullptr;
    }
    total_bytes_ = 0;  // Each reading is held to the limits on its own.
    return a;
  }

  // What an entry of this name may hold uncompressed, and what to send instead when it holds
  // more. Roles are known by name before the manifest is (it may come last).
  std::pair<uint64_t, const char*> EntryLimit(std::string_view name) const {
    std::string_view base = name.substr(Dir(name).size());
    if (base == "manifest.json") return {kMaxManifestBytes, "the manifest is a few lines"};
    if (base == "mapping.tsv") return {kMaxMappingBytes, "send a smaller mapping.tsv"};
    if (EndsWithCsv(name)) return {limits_.max_csv_bytes, "split the pack into smaller files"};
    if (name == products_entry_ || EndsWith(name, ".ndjson") || EndsWith(name, ".jsonl") ||
        EndsWith(name, ".json")) {
      return {limits_.max_products_bytes, "split the products into several packs"};
    }
    return {limits_.max_image_bytes,
            "send images of at most that size and leave out files the pack does not use"};
  }

  Result<bool> Count(size_t n, uint64_t* entry_bytes, uint64_t entry_max, const std::string& name,
                     std::string_view instead = "split the pack into smaller files") {
    total_bytes_ += n;
    *entry_bytes += n;
    if (*entry_bytes > entry_max) {
      return Invalid(name + ": larger than " + std::to_string(entry_max) +
                     " bytes uncompressed, the limit for this entry; " + std::string(instead));
    }
    if (total_bytes_ > limits_.max_total_bytes) {
      return Invalid("pack: more than " + std::to_string(limits_.max_total_bytes) +
                     " bytes uncompressed; split it into several packs");
    }
    if (archived_ && limits_.max_ratio > 0 && total_bytes_ > limits_.ratio_free_bytes &&
        total_bytes_ / limits_.max_ratio > packed_bytes_) {
      return Invalid("pack: expands to more than " + std::to_string(limits_.max_ratio) +
                     " times its " + std::to_string(packed_bytes_) +
                     " bytes (the compression-ratio limit, against decompression bombs); send "
                     "what the pack holds less compressed, or split it into several packs");
    }
    return true;
  }

  // Reads past the current entry, counting every byte: the archive library's own skip would
  // decompress a tar.gz entry (or a zip entry of unknown length) without anyone counting.
  Result<bool> Drain(archive* a, const std::string& name) {
    const auto [max, instead] = EntryLimit(name);
    uint64_t entry_bytes = 0;
    char buf[64 << 10];
    for (la_ssize_t n; (n = archive_read_data(a, buf, sizeof buf)) != 0;) {
      if (n < 0) return Invalid(name + ": " + ArchiveError(a));
      auto counted = Count(static_cast<size_t>(n), &entry_bytes, max, name, instead);
      if (!counted.ok()) return counted;
    }
    return true;
  }

  static std::string ArchiveError(archive* a) {
    const char* e = archive_error_string(a);
    return e ? e : "unreadable";
  }

  Error CsvTooLarge(uint64_t size) const {
    return Invalid("csv: " + std::to_string(size) + " bytes, more than the limit of " +
                   std::to_string(limits_.max_csv_bytes) + "; split the pack into smaller files");
  }

  // The current entry's bytes, counted as they come (an archive's declared sizes may lie).
  Result<std::string> ReadEntry(archive* a, const std::string& name, uint64_t max) {
    std::string out;
    uint64_t entry_bytes = 0;
    char buf[64 << 10];
    for (la_ssize_t n; (n = archive_read_data(a, buf, sizeof buf)) != 0;) {
      if (n < 0) return Invalid(name + ": " + ArchiveError(a));
      auto counted =
          Count(static_cast<size_t>(n), &entry_bytes, max, name, EntryLimit(name).second);
      if (!counted.ok()) return counted.error_detail();
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

  // Checks every entry and finds the manifest, the products, the images and a mapping.
  Result<bool> ListEntries() {
    archive* a = Open();
    if (a == nullptr) return Invalid("pack: cannot be read as a zip or tar.gz archive");
    std::vector<std::string> names;
    std::string manifest_name, csv_name, error;
    archive_entry* entry = nullptr;
    int rc;
    while ((rc = archive_read_next_header(a, &entry)) == ARCHIVE_OK) {
      const char* raw = archive_entry_pathname(entry);
      std::string name = raw ? raw : "";
      if (names.size() >= limits_.max_entries) {
        error = "pack: more than " + std::to_string(limits_.max_entries) + " entries";
        break;
      }
      if (std::string why = BadName(name); !why.empty()) {
        error = "pack entry \"" + name + "\": " + why;
        break;
      }
      auto type = archive_entry_filetype(entry);
      if (type != AE_IFREG && type != AE_IFDIR) {
        error = "pack entry " + name + ": links and special files are not allowed";
        break;
      }
      if (archive_entry_is_encrypted(entry)) {
        error = "pack entry " + name + ": encrypted entries are not supported";
        break;
      }
      if (type == AE_IFDIR) continue;
      std::string_view base = std::string_view(name).substr(Dir(name).size());
      if (base == "manifest.json" && !manifest_name.empty() &&
          name.size() >= manifest_name.size()) {
        if (auto drained = Drain(a, name); !drained.ok()) {
          error = drained.message();
          break;
        }
      } else if (base == "manifest.json") {
        manifest_name = name;
        auto bytes = ReadEntry(a, name, kMaxManifestBytes);
        if (!bytes.ok()) {
          error = bytes.message();
          break;
        }
        manifest_ = std::move(bytes).value();
      } else if (base == "mapping.tsv") {
        auto bytes = ReadEntry(a, name, kMaxMappingBytes);
        if (!bytes.ok()) {
          error = bytes.message();
          break;
        }
        mapping_text_ = std::move(bytes).value();
      } else if (EndsWithCsv(name)) {
        if (!csv_name.empty()) {
          error = "pack: more than one .csv (" + csv_name + ", " + name + "); send one per pack";
          break;
        }
        csv_name = name;
      }
      // Every entry is read through once here, so the limits hold for all that the later
      // readings will decompress.
      if (base != "manifest.json" && base != "mapping.tsv") {
        if (auto drained = Drain(a, name); !drained.ok()) {
          error = drained.message();
          break;
        }
      }
      names.push_back(std::move(name));
    }
    if (error.empty() && rc != ARCHIVE_EOF && rc != ARCHIVE_OK) {
      error = std::string("pack: ") +
              (archive_error_string(a) ? archive_error_string(a) : "unreadable");
    }
    archive_read_free(a);
    if (!error.empty()) return Invalid(std::move(error));
    if (!manifest_name.empty()) {
      kind_ = PackKind::kNative;
      auto ok = ReadManifest(std::string(Dir(manifest_name)));
      if (!ok.ok()) return ok;
      image_dir_ = std::string(Dir(manifest_name)) + "images/";
    } else if (!csv_name.empty()) {
      kind_ = PackKind::kTaobao;
      products_entry_ = csv_name;
      image_dir_ = csv_name.substr(0, csv_name.size() - 4) + "/";
      if (!mapping_text_.empty()) {
        if (auto merged = mapping_.Merge(mapping_text_); !merged.ok()) {
          return Invalid("mapping.tsv: " + merged.message());
        }
      }
    } else {
      return Invalid(
          "pack: no manifest.json (a native pack) and no .csv (a 淘宝助理 pack) in the archive");
    }
    bool has_products = false;
    for (const auto& name : names) {
      has_products = has_products || name == products_entry_;
      if (name.size() > image_dir_.size() && name.compare(0, image_dir_.size(), image_dir_) == 0) {
        images_.insert(name);
      }
    }
    if (!has_products)
      return Invalid("pack: manifest.json names " + products_entry_ + ", which is missing");
    return true;
  }

  Result<bool> ReadManifest(const std::string& dir) {
    simdjson::dom::parser parser;
    simdjson::dom::object m;
    if (parser.parse(manifest_).get(m)) {
      return Invalid("manifest.json: not a JSON object");
    }
    std::string_view format;
    int64_t version = 0;
    if (m["format"].get(format) || format != "pavilion-pack") {
      return Invalid("manifest.json: format must be \"pavilion-pack\"");
    }
    if (m["version"].get(version)) return Invalid("manifest.json: version must be an integer");
    if (version != 1) {
      return Invalid("manifest.json: version " + std::to_string(version) +
                     " is not one this Pavilion reads (1)");
    }
    std::string_view products = "products.ndjson";
    if (simdjson::dom::element e; !m["products"].get(e)) {
      if (e.get(products) || !BadName(products).empty()) {
        return Invalid("manifest.json: products must name the NDJSON entry, e.g. products.ndjson");
      }
    }
    products_entry_ = dir + std::string(products);
    return true;
  }

  // The name rows use for an image entry.
  std::string ImageName(const std::string& entry) const {
    std::string name = entry.substr(image_dir_.size());
    if (kind_ == PackKind::kTaobao) name = name.substr(0, name.rfind('.'));
    return name;
  }

  Result<bool> OpenProducts() {
    stream_ = Open();
    if (stream_ == nullptr) return Invalid("pack: cannot be read");
    archive_entry* entry = nullptr;
    while (archive_read_next_header(stream_, &entry) == ARCHIVE_OK) {
      if (!archived_) return true;  // A bare file is one entry.
      const char* raw = archive_entry_pathname(entry);
      std::string name = raw ? raw : "";
      if (name == products_entry_) return true;
      if (auto drained = Drain(stream_, name); !drained.ok()) {
        CloseStream();
        return drained;
      }
    }
    CloseStream();
    return Invalid("pack: " + products_entry_ + " is missing");
  }

  Result<ParsedPack> NextCsv(size_t max_rows, bool* done) {
    if (!csv_) {
      Result<std::string> raw = std::string();
      if (archived_) {
        archive* a = Open();
        if (a == nullptr) return Invalid("pack: cannot be read");
        archive_entry* entry = nullptr;
        raw = Invalid("pack: " + products_entry_ + " is missing");
        while (archive_read_next_header(a, &entry) == ARCHIVE_OK) {
          const char* name_raw = archive_entry_pathname(entry);
          std::string name = name_raw ? name_raw : "";
          if (name == products_entry_) {
            raw = ReadEntry(a, products_entry_, limits_.max_csv_bytes);
            break;
          }
          if (auto drained = Drain(a, name); !drained.ok()) {
            raw = drained.error_detail();
            break;
          }
        }
        archive_read_free(a);
      } else if (in_memory_) {
        if (bytes_.size() > limits_.max_csv_bytes) return CsvTooLarge(bytes_.size());
        raw = std::move(bytes_);
      } else {
        // Sized first, then read in one call: a file over the limit is refused unread.
        std::error_code size_ec;
        const auto size = std::filesystem::file_size(path_, size_ec);
        if (size_ec) return Invalid("csv: cannot be read: " + size_ec.message());
        if (size > limits_.max_csv_bytes) return CsvTooLarge(size);
        std::ifstream in(path_, std::ios::binary);
        std::string bytes(static_cast<size_t>(size), '\0');
        if (!in.read(bytes.data(), static_cast<std::streamsize>(size))) {
          return Invalid("csv: cannot be read");
        }
        raw = std::move(bytes);
      }
      if (!raw.ok()) return raw.error_detail();
      auto text = DecodeCsvText(*raw);
      if (!text.ok()) return text.error_detail();
      csv_text_ = std::move(text).value();
      auto reader = TaobaoCsvReader::Open(csv_text_, mapping_);
      if (!reader.ok()) return reader.error_detail();
      csv_.emplace(std::move(reader).value());
    }
    ParsedPack piece = csv_->Next(max_rows);
    *done = piece.rows.size() + piece.errors.size() < max_rows;
    return piece;
  }

  void CloseStream() {
    if (stream_) archive_read_free(stream_);
    stream_ = nullptr;
  }

  std::string path_, bytes_;
  uint64_t packed_bytes_ = 0;  // The archive's own size, for the compression ratio.
  bool in_memory_;
  PackLimits limits_;
  bool archived_ = false;
  uint64_t total_bytes_ = 0, products_bytes_ = 0;
  std::string manifest_, mapping_text_, products_entry_, image_dir_;
  TaobaoMapping mapping_;
  archive* stream_ = nullptr;
  bool stream_eof_ = false;
  std::string pending_;
  int next_row_ = 1;
  std::string csv_text_;
  std::optional<TaobaoCsvReader> csv_;
};

PackFile::PackFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PackFile::~PackFile() = default;

Result<std::unique_ptr<PackFile>> PackFile::OpenPath(std::string path, PackLimits limits) {
  if (!std::ifstream(path, std::ios::binary)) return Invalid("pack: cannot open " + path);
  auto impl = std::make_unique<Impl>(std::move(path), "", false, limits);
  if (auto ok = impl->Init(); !ok.ok()) return ok.error_detail();
  return std::unique_ptr<PackFile>(new PackFile(std::move(impl)));
}

Result<std::unique_ptr<PackFile>> PackFile::OpenBytes(std::string bytes, PackLimits limits) {
  auto impl = std::make_unique<Impl>("", std::move(bytes), true, limits);
  if (auto ok = impl->Init(); !ok.ok()) return ok.error_detail();
  return std::unique_ptr<PackFile>(new PackFile(std::move(impl)));
}

PackKind PackFile::kind() const { return impl_->kind_; }
size_t PackFile::image_count() const { return impl_->images_.size(); }

std::vector<std::string> PackFile::ImageNames() const { return impl_->ImageNames(); }

Result<bool> PackFile::ForEachImage(const std::function<bool(const std::string&, std::string)>& fn,
                                    const std::function<bool(const std::string&)>& wanted) {
  return impl_->ForEachImage(fn, wanted);
}

void PackFile::Rewind() { impl_->Rewind(); }

Result<ParsedPack> PackFile::Next(size_t max_rows, bool* done) {
  return impl_->Next(max_rows, done);
}

namespace {

// The name under which a row's image would be in the pack, or empty for a URL.
std::string_view PackImageName(std::string_view image, bool native) {
  if (image.find("://") != std::string_view::npos) return {};
  if (native && image.substr(0, 7) == "images/") image.remove_prefix(7);
  return image;
}

}  // namespace

Result<ImportReport> ImportPackFile(CatalogService& catalog, PackFile& file,
                                    const std::string& seller_id, size_t piece_rows) {
  auto seller = Await<Seller>([&](auto done) { catalog.GetSeller(seller_id, std::move(done)); });
  if (!seller.ok()) return {svc_errc::not_found, "seller_id: no seller " + seller_id};
  ImportReport total;
  const bool native = file.kind() == PackKind::kNative;

  // 1. Every row is read, and nothing written: whatever refuses the pack whole (a limit, an
  // unreadable archive, a line too long, too many rows) refuses it here, before any change.
  std::unordered_set<std::string> in_pack;  // The pack's images, by the names rows use.
  for (auto& name : file.ImageNames()) in_pack.insert(std::move(name));
  std::unordered_set<std::string> named;  // Those some row names.
  {
    bool done = false;
    size_t rows = 0;
    while (!done) {
      auto piece = file.Next(piece_rows, &done);
      if (!piece.ok()) return piece.error_detail();
      rows += piece->rows.size() + piece->errors.size();
      if (rows > kMaxPackRows) {
        return Invalid("pack: more than " + std::to_string(kMaxPackRows) +
                       " rows; split it into several packs");
      }
      if (named.size() == in_pack.size()) continue;
      for (const auto& row : piece->rows) {
        for (const auto& image : row.product.details.images) {
          std::string_view name = PackImageName(image, native);
          if (!name.empty() && in_pack.count(std::string(name))) named.emplace(name);
        }
      }
    }
    file.Rewind();
  }

  // 2. The images rows name; the others are only counted.
  std::unordered_map<std::string, std::string> refs;  // Image name in the pack → stored ref.
  auto images = file.ForEachImage(
      [&](const std::string& name, std::string bytes) {
        auto ref = Await<std::string>(
            [&](auto done) { catalog.StoreImage(std::move(bytes), std::move(done)); });
        if (ref.ok()) {
          refs[name] = *ref;
        } else {
          total.errors.push_back({0, "image " + name + ": " + ref.message()});
        }
        return true;
      },
      [&](const std::string& name) { return named.count(name) > 0; });
  if (!images.ok()) return images.error_detail();
  std::vector<std::string> ignored;
  for (const auto& name : in_pack) {
    if (!named.count(name)) ignored.push_back(name);
  }
  std::sort(ignored.begin(), ignored.end());
  total.ignored_images = static_cast<int>(ignored.size());
  ignored.resize(std::min(ignored.size(), ImportReport::kMaxListedIgnoredImages));
  total.ignored_image_names = std::move(ignored);

  // 3. The rows again, applied.
  std::unordered_set<std::string> seen;  // outer_ids of earlier pieces.
  // Pieces submitted and not yet durable, oldest first: while the store writes one, the catalog
  // applies the next and this thread parses and prepares (PrepareRows) the ones after.
  constexpr size_t kInFlight = 4;
  std::deque<std::future<Result<ImportReport>>> in_flight;
  auto collect = [&]() -> Result<bool> {
    if (in_flight.empty()) return true;
    auto report = in_flight.front().get();
    in_flight.pop_front();
    if (!report.ok()) return report.error_detail();
    total.created += report->created;
    total.updated += report->updated;
    total.unchanged += report->unchanged;
    total.errors.insert(total.errors.end(), report->errors.begin(), report->errors.end());
    return true;
  };
  auto drain = [&] {  // On an error: let what was submitted finish before answering.
    while (!in_flight.empty()) (void)collect();
  };
  bool done = false;
  while (!done) {
    auto piece = file.Next(piece_rows, &done);
    if (!piece.ok()) {
      drain();
      return piece.error_detail();
    }
    total.rows += static_cast<int>(piece->rows.size() + piece->errors.size());
    total.errors.insert(total.errors.end(), piece->errors.begin(), piece->errors.end());
    std::vector<PackRow> valid;
    valid.reserve(piece->rows.size());
    for (auto& row : piece->rows) {
      if (!seen.insert(row.outer_id).second) {
        total.errors.push_back(
            {row.row, "outer_id: " + row.outer_id + " appears twice in the pack"});
        continue;
      }
      for (auto& image : row.product.details.images) {
        std::string_view name = PackImageName(image, native);
        if (name.empty()) continue;
        if (auto it = refs.find(std::string(name)); it != refs.end()) image = it->second;
      }
      valid.push_back(std::move(row));
    }
    catalog.PrepareRows(*seller, valid);
    if (in_flight.size() >= kInFlight) {
      if (auto ok = collect(); !ok.ok()) return ok.error_detail();
    }
    auto promise = std::make_shared<std::promise<Result<ImportReport>>>();
    in_flight.push_back(promise->get_future());
    catalog.ImportPack(seller_id, std::move(valid),
                       [promise](Result<ImportReport> r) { promise->set_value(std::move(r)); });
  }
  while (!in_flight.empty()) {
    if (auto ok = collect(); !ok.ok()) return ok.error_detail();
  }
  std::stable_sort(total.errors.begin(), total.errors.end(),
                   [](const PackError& a, const PackError& b) { return a.row < b.row; });
  return total;
}

namespace {

// A zip built in memory.
class ZipWriter {
 public:
  ZipWriter() : a_(archive_write_new()) {
    archive_write_set_format_zip(a_);
    archive_write_open(a_, this, nullptr, &ZipWriter::Write, nullptr);
  }
  ~ZipWriter() {
    if (a_) archive_write_free(a_);
  }
  bool Add(const std::string& name, std::string_view bytes) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(bytes.size()));
    bool ok =
        archive_write_header(a_, e) == ARCHIVE_OK &&
        archive_write_data(a_, bytes.data(), bytes.size()) == static_cast<la_ssize_t>(bytes.size());
    archive_entry_free(e);
    return ok;
  }
  Result<std::string> Finish() {
    bool ok = archive_write_close(a_) == ARCHIVE_OK;
    archive_write_free(a_);
    a_ = nullptr;
    if (!ok) return {svc_errc::internal, "could not write the zip"};
    return std::move(out_);
  }

 private:
  static la_ssize_t Write(archive*, void* self, const void* data, size_t n) {
    static_cast<ZipWriter*>(self)->out_.append(static_cast<const char*>(data), n);
    return static_cast<la_ssize_t>(n);
  }
  archive* a_;
  std::string out_;
};

}  // namespace

Result<std::string> ExportPackFile(CatalogService& catalog, const std::string& seller_id,
                                   PackFormat format) {
  auto rows = Await<std::vector<PackRow>>(
      [&](auto done) { catalog.ExportPack(seller_id, std::move(done)); });
  if (!rows.ok()) return rows.error_detail();
  ZipWriter zip;
  const bool native = format == PackFormat::kNative;
  const std::string image_dir = native ? "images/" : "pavilion/";
  std::unordered_set<std::string> written;
  bool ok = true;
  for (const auto& row : *rows) {
    for (const auto& image : row.product.details.images) {
      if (image.find("://") != std::string::npos || !written.insert(image).second) continue;
      auto bytes = Await<std::string>([&](auto done) { catalog.GetImage(image, std::move(done)); });
      if (!bytes.ok()) return bytes.error_detail();
      std::string name = native ? image : image.substr(0, image.find('.')) + ".tbi";
      ok = ok && zip.Add(image_dir + name, *bytes);
    }
  }
  if (native) {
    base::JsonWriter m;
    m.BeginObject().Field("format", "pavilion-pack").Field("version", 1);
    m.Field("seller_id", seller_id).Field("products", "products.ndjson").EndObject();
    std::string ndjson;
    for (const auto& row : *rows) ndjson += PackRowJson(row) + "\n";
    ok = ok && zip.Add("manifest.json", m.Take()) && zip.Add("products.ndjson", ndjson);
  } else {
    ok = ok && zip.Add("pavilion.csv", WriteTaobaoCsv(*rows, TaobaoMapping::Default()));
  }
  if (!ok) return {svc_errc::internal, "could not write the zip"};
  return zip.Finish();
}

}  // namespace pavilion::catalog
