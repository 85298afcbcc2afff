#include "pavilion/catalog/taobao_csv.h"

#include <iconv.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <thread>

namespace pavilion::catalog {
namespace {

using events::svc_errc;

// Calls fn(part) for each part of `s` between separators: none for an empty `s`, and a
// trailing separator ends the last part ("a;b;" has two).
template <typename Fn>
void ForEachPart(std::string_view s, char sep, Fn&& fn) {
  while (!s.empty()) {
    size_t at = s.find(sep);
    fn(s.substr(0, at));
    if (at == std::string_view::npos) break;
    s.remove_prefix(at + 1);
  }
}

std::vector<std::string_view> SplitOn(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  ForEachPart(s, sep, [&](std::string_view part) { out.push_back(part); });
  return out;
}

// The first N parts ForEachPart finds into `out`; returns how many it finds.
template <size_t N>
size_t SplitInto(std::string_view s, char sep, std::array<std::string_view, N>& out) {
  size_t count = 0;
  ForEachPart(s, sep, [&](std::string_view part) {
    if (count < N) out[count] = part;
    ++count;
  });
  return count;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool ValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    }
    i += n;
  }
  return true;
}

// The UTF-16 code unit at byte `at`.
template <bool kBigEndian>
uint32_t Utf16Unit(std::string_view bytes, size_t at) {
  const auto hi = static_cast<unsigned char>(bytes[at + (kBigEndian ? 0 : 1)]);
  const auto lo = static_cast<unsigned char>(bytes[at + (kBigEndian ? 1 : 0)]);
  return static_cast<uint32_t>(hi << 8 | lo);
}

// UTF-16 (after its BOM) to UTF-8 by hand: the assistant's usual encoding, decoded at a few
// instructions a character (iconv takes several times that). Unpaired surrogates and an odd
// trailing byte are errors naming the byte (counted from `base`, where `bytes` starts).
template <bool kBigEndian>
Result<std::string> Utf16ToUtf8(std::string_view bytes, size_t base = 0) {
  const char* name = kBigEndian ? "UTF-16BE" : "UTF-16LE";
  auto unit = [&](size_t at) { return Utf16Unit<kBigEndian>(bytes, at); };
  auto fail = [&](size_t at) -> Result<std::string> {
    return {svc_errc::invalid_argument, "csv: byte " + std::to_string(base + at) +
                                            " is not valid " + name +
                                            "; save the file as UTF-16LE, UTF-8 or GBK"};
  };
  // At most three bytes of UTF-8 per two bytes of UTF-16 (a surrogate pair, four bytes, makes
  // four): written through a pointer, the string sized once and cut to what was written.
  std::string out(bytes.size() / 2 * 3, '\0');
  char* o = out.data();
  const size_t n = bytes.size() & ~size_t{1};
  size_t i = 0;
  while (i < n) {
    uint32_t c = unit(i);
    if (c < 0x80) {
      *o++ = static_cast<char>(c);
      i += 2;
      continue;
    }
    if (c >= 0xD800 && c < 0xE000) {  // A surrogate: a high one and a low one make one character.
      if (c >= 0xDC00 || i + 3 >= bytes.size()) return fail(i);
      const uint32_t low = unit(i + 2);
      if (low < 0xDC00 || low >= 0xE000) return fail(i);
      c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
      i += 2;
    }
    i += 2;
    if (c < 0x800) {
      *o++ = static_cast<char>(0xC0 | c >> 6);
    } else if (c < 0x10000) {
      *o++ = static_cast<char>(0xE0 | c >> 12);
      *o++ = static_cast<char>(0x80 | (c >> 6 & 0x3F));
    } else {
      *o++ = static_cast<char>(0xF0 | c >> 18);
      *o++ = static_cast<char>(0x80 | (c >> 12 & 0x3F));
      *o++ = static_cast<char>(0x80 | (c >> 6 & 0x3F));
    }
    *o++ = static_cast<char>(0x80 | (c & 0x3F));
  }
  if (i < bytes.size()) return fail(i);
  out.resize(static_cast<size_t>(o - out.data()));
  return out;
}

// A large file is decoded in two halves at once (the import can start only when its text is
// ready). The halves meet between characters: never between a surrogate pair's two units. The
// result, and the first error's byte, are those of decoding it whole.
template <bool kBigEndian>
Result<std::string> Utf16ToUtf8InHalves(std::string_view bytes) {
  constexpr size_t kSplitAbove = 4u << 20;
  if (bytes.size() < kSplitAbove) return Utf16ToUtf8<kBigEndian>(bytes);
  size_t mid = bytes.size() / 4 * 2;
  const uint32_t at_mid = Utf16Unit<kBigEndian>(bytes, mid);
  if (at_mid >= 0xDC00 && at_mid < 0xE000) mid += 2;  // A low surrogate: its pair stays whole.
  Result<std::string> second = std::string();
  std::thread helper([&] { second = Utf16ToUtf8<kBigEndian>(bytes.substr(mid), mid); });
  Result<std::string> first = Utf16ToUtf8<kBigEndian>(bytes.substr(0, mid));
  helper.join();
  if (!first.ok()) return first;
  if (!second.ok()) return second;
  first->append(*second);
  return first;
}

Result<std::string> Convert(std::string_view bytes, const char* from) {
  iconv_t cd = iconv_open("UTF-8", from);
  if (cd == reinterpret_cast<iconv_t>(-1)) {
    return {svc_errc::internal, std::string("this system cannot convert from ") + from};
  }
  std::string out(bytes.size() * 2 + 16, '\0');
  char* in = const_cast<char*>(bytes.data());
  size_t in_left = bytes.size();
  size_t done = 0;
  std::string error;
  while (in_left > 0) {
    char* dst = out.data() + done;
    size_t dst_left = out.size() - done;
    size_t rc = iconv(cd, &in, &in_left, &dst, &dst_left);
    done = out.size() - dst_left;
    if (rc != static_cast<size_t>(-1)) break;
    if (errno == E2BIG) {
      out.resize(out.size() * 2);
      continue;
    }
    error = "csv: byte " + std::to_string(bytes.size() - in_left) + " is not valid " + from +
            "; save the file as UTF-16LE, UTF-8 or GBK";
    break;
  }
  iconv_close(cd);
  if (!error.empty()) return {svc_errc::invalid_argument, std::move(error)};
  out.resize(done);
  return out;
}

// "pid:vid:text;pid:vid:text;" (input_custom_cpv, propAlias) appended to `out` as
// {"pid:vid", text}; a row names a handful, so a list searched from its end (later names win).
using NamedValues = std::vector<std::pair<std::string, std::string>>;
void AddNamedValues(std::string_view field, NamedValues& out) {
  ForEachPart(field, ';', [&](std::string_view item) {
    std::array<std::string_view, 3> parts;
    if (SplitInto(item, ':', parts) < 3) return;
    size_t text_at = parts[0].size() + parts[1].size() + 2;
    out.emplace_back(std::string(item.substr(0, text_at - 1)), std::string(item.substr(text_at)));
  });
}

// A 14-character SC licence number ("SC" + 14 digits) anywhere in `text`, or empty.
std::string FindScLicence(std::string_view text) {
  for (size_t at = text.find("SC"); at != std::string_view::npos; at = text.find("SC", at + 1)) {
    size_t digits = 0;
    while (at + 2 + digits < text.size() && text[at + 2 + digits] >= '0' &&
           text[at + 2 + digits] <= '9') {
      ++digits;
    }
    if (digits == 14) return std::string(text.substr(at, 16));
  }
  return {};
}

}  // namespace

namespace {

// "12.5" with `decimals` 3 → 12500; false unless a non-negative number with at most `decimals`.
bool ParseDecimal(std::string_view text, int decimals, int64_t* out) {
  text = Trim(text);
  if (text.empty() || text.size() > 14) return false;
  size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (whole.empty() || frac.size() > static_cast<size_t>(decimals)) return false;
  int64_t value = 0;
  auto [p, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), value);
  if (ec != std::errc() || p != whole.data() + whole.size() || value < 0) return false;
  for (int i = 0; i < decimals; ++i) {
    char c = static_cast<size_t>(i) < frac.size() ? frac[i] : '0';
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  *out = value;
  return true;
}

}  // namespace

bool ParseYuan(std::string_view text, int64_t* fen) { return ParseDecimal(text, 2, fen); }

TaobaoMapping TaobaoMapping::Default() {
  TaobaoMapping m;
  // Sale properties of every Taobao category.
  m.properties = {{"1627207", "颜色分类"}, {"20509", "尺码"}};
  return m;
}

Result<bool> TaobaoMapping::Merge(std::string_view tsv) {
  int line_no = 0;
  for (auto line : SplitOn(tsv, '\n')) {
    ++line_no;
    line = Trim(line);
    if (line.empty() || line.front() == '#') continue;
    auto parts = SplitOn(line, '\t');
    if (parts.size() != 3 || Trim(parts[1]).empty() || Trim(parts[2]).empty()) {
      return {svc_errc::invalid_argument,
              "mapping line " + std::to_string(line_no) +
                  ": use three tab-separated columns: category|property|value, the Taobao id, "
                  "ours"};
    }
    std::string id(Trim(parts[1])), ours(Trim(parts[2]));
    if (parts[0] == "category") {
      categories[id] = ours;
    } else if (parts[0] == "property") {
      properties[id] = ours;
    } else if (parts[0] == "value") {
      values[id] = ours;
    } else {
      return {svc_errc::invalid_argument, "mapping line " + std::to_string(line_no) +
                                              ": the first column is category, property or value"};
    }
  }
  return true;
}

Result<std::string> DecodeCsvText(std::string_view bytes, std::string* encoding) {
  std::string found;
  Result<std::string> text = std::string();
  if (bytes.substr(0, 2) == "\xFF\xFE") {
    found = "UTF-16LE";
    text = Utf16ToUtf8InHalves<false>(bytes.substr(2));
  } else if (bytes.substr(0, 2) == "\xFE\xFF") {
    found = "UTF-16BE";
    text = Utf16ToUtf8InHalves<true>(bytes.substr(2));
  } else if (bytes.substr(0, 3) == "\xEF\xBB\xBF") {
    found = "UTF-8";
    bytes.remove_prefix(3);
    if (!ValidUtf8(bytes))
      return {svc_errc::invalid_argument, "csv: not valid UTF-8 after its BOM"};
    text = std::string(bytes);
  } else if (ValidUtf8(bytes)) {
    found = "UTF-8";
    text = std::string(bytes);
  } else {
    found = "GBK";
    text = Convert(bytes, "GB18030");
  }
  if (encoding) *encoding = found;
  return text;
}

TaobaoCsvReader::TaobaoCsvReader(std::string_view rest, const TaobaoMapping& mapping, char delim,
                                 int line, std::vector<std::string> keys)
    : rest_(rest), mapping_(&mapping), delim_(delim), line_(line) {
  for (size_t i = 0; i < keys.size(); ++i) column_.emplace(std::move(keys[i]), i);
}

Result<TaobaoCsvReader> TaobaoCsvReader::Open(std::string_view text, const TaobaoMapping& mapping) {
  auto take_line = [&text]() {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  };
  std::string_view version = take_line();
  if (version.substr(0, 7) != "version") {
    return {svc_errc::invalid_argument,
            "csv line 1: a 淘宝助理 CSV starts with a line \"version 1.00\""};
  }
  std::string_view keys_line = take_line();
  const char delim = std::count(keys_line.begin(), keys_line.end(), '\t') >=
                             std::count(keys_line.begin(), keys_line.end(), ',')
                         ? '\t'
                         : ',';
  TaobaoCsvReader reader(text, mapping, delim, 3, {});
  // The key line is itself a record (keys may be quoted).
  reader.rest_ = keys_line;
  std::vector<std::string> keys;
  std::string error;
  int first = 0;
  if (!reader.NextRecord(&keys, &first, &error)) {
    return {svc_errc::invalid_argument, "csv line 2: " + (error.empty() ? "no keys" : error)};
  }
  for (const char* required : {"title", "price", "num", "outer_id"}) {
    if (std::find(keys.begin(), keys.end(), required) == keys.end()) {
      return {svc_errc::invalid_argument,
              std::string("csv line 2: no column ") + required +
                  "; the second line must hold the English keys (title, price, num, outer_id…)"};
    }
  }
  take_line();  // The Chinese labels.
  return TaobaoCsvReader(text, mapping, delim, 4, std::move(keys));
}

bool TaobaoCsvReader::NextRecord(std::vector<std::string>* fields, int* first_line,
                                 std::string* error) {
  // Skip blank lines between records.
  while (!rest_.empty() && (rest_.front() == '\n' || rest_.front() == '\r')) {
    if (rest_.front() == '\n') ++line_;
    rest_.remove_prefix(1);
  }
  if (rest_.empty()) return false;
  *first_line = line_;
  // Fields are reused from the previous record (their buffers stay), and text between special
  // characters is copied a span at a time.
  size_t n = 0;
  auto next_field = [&]() -> std::string& {
    if (n == fields->size()) fields->emplace_back();
    std::string& f = (*fields)[n++];
    f.clear();
    return f;
  };
  std::string* field = &next_field();
  const char* data = rest_.data();
  const size_t size = rest_.size();
  size_t i = 0;
  bool quoted = false, was_quoted = false;
  while (i < size) {
    if (quoted) {
      const void* q = std::memchr(data + i, '"', size - i);
      const size_t end = q ? static_cast<size_t>(static_cast<const char*>(q) - data) : size;
      line_ += static_cast<int>(std::count(data + i, data + end, '\n'));
      field->append(data + i, end - i);
      if (end == size) {
        i = size;
      } else if (end + 1 < size && data[end + 1] == '"') {  // "" inside quotes: one quote
        field->push_back('"');
        i = end + 2;
      } else {
        quoted = false;
        i = end + 1;
      }
      continue;
    }
    const char c = data[i];
    if (c == '"' && field->empty() && !was_quoted) {
      quoted = was_quoted = true;
      ++i;
    } else if (c == delim_) {
      field = &next_field();
      was_quoted = false;
      ++i;
    } else if (c == '\n') {
      ++line_;
      ++i;
      break;
    } else if (c == '\r') {
      ++i;
    } else {
      size_t j = i + 1;
      while (j < size && data[j] != delim_ && data[j] != '\n' && data[j] != '\r' &&
             data[j] != '"') {
        ++j;
      }
      field->append(data + i, j - i);
      i = j;
    }
  }
  rest_.remove_prefix(i);
  if (quoted) {
    *error = "a quoted field is never closed";
    rest_ = {};
  }
  fields->resize(n);
  return true;
}

ParsedPack TaobaoCsvReader::Next(size_t max_rows) {
  ParsedPack pack;
  std::vector<std::string> f;
  int row = 0;
  std::string error;
  // Column positions, looked up once per call; a row's fields are then read by index.
  enum Col : size_t {
    kOuterId,
    kTitle,
    kPrice,
    kNum,
    kCid,
    kSubtitle,
    kDescription,
    kBarcode,
    kItemWeight,
    kPicture,
    kInputCustomCpv,
    kPropAlias,
    kCateProps,
    kInputPids,
    kInputValues,
    kSkuProps,
    kFoodparame,
    kColumnsRead
  };
  static constexpr const char* kKeys[kColumnsRead] = {
      "outer_id",         "title",       "price",     "num",         "cid",
      "subtitle",         "description", "barcode",   "item_weight", "picture",
      "input_custom_cpv", "propAlias",   "cateProps", "inputPids",   "inputValues",
      "skuProps",         "foodparame"};
  std::array<size_t, kColumnsRead> at;
  for (size_t k = 0; k < kColumnsRead; ++k) {
    auto it = column_.find(kKeys[k]);
    at[k] = it == column_.end() ? SIZE_MAX : it->second;
  }
  auto col = [&](Col c) -> std::string_view {
    return at[c] < f.size() ? CsvCellText(Trim(f[at[c]])) : std::string_view();
  };
  NamedValues named;
  while (pack.rows.size() + pack.errors.size() < max_rows && NextRecord(&f, &row, &error)) {
    if (!error.empty()) {
      pack.errors.push_back({row, "csv: " + error + "; close it with a double quote"});
      break;
    }
    if (f.size() == 1 && Trim(f[0]).empty()) continue;
    PackRow out;
    out.row = row;
    ProductInput& p = out.product;
    auto fail = [&](std::string message) { pack.errors.push_back({row, std::move(message)}); };
    out.outer_id = std::string(col(kOuterId));
    p.title = std::string(col(kTitle));
    if (out.outer_id.empty()) {
      fail("outer_id: required (商家编码), the key that makes a pack importable again");
      continue;
    }
    if (out.outer_id.size() > 64) {
      fail("outer_id: at most 64 bytes");
      continue;
    }
    if (p.title.empty()) {
      fail("title: required (宝贝名称)");
      continue;
    }
    int64_t price = 0, num = 0;
    if (!ParseYuan(col(kPrice), &price)) {
      fail("price: give the price in yuan, e.g. 29.90 (宝贝价格)");
      continue;
    }
    std::string_view num_text = col(kNum);
    if (num_text.empty()) num_text = "0";
    auto [np, nec] = std::from_chars(num_text.data(), num_text.data() + num_text.size(), num);
    if (nec != std::errc() || np != num_text.data() + num_text.size() || num < 0) {
      fail("num: give the stock as a whole number (宝贝数量)");
      continue;
    }
    p.category = "other";
    if (auto cid = col(kCid); !cid.empty()) {
      if (auto it = mapping_->categories.find(std::string(cid)); it != mapping_->categories.end()) {
        p.category = it->second;
      }
    }
    auto& d = p.details;
    d.subtitle = std::string(col(kSubtitle));
    d.description = std::string(col(kDescription));
    d.barcode = std::string(col(kBarcode));
    if (auto kg = col(kItemWeight); !kg.empty() && !ParseDecimal(kg, 3, &d.weight_grams)) {
      fail("item_weight: give the weight in kg, e.g. 0.52 (物流重量)");
      continue;
    }
    ForEachPart(col(kPicture), ';', [&](std::string_view item) {
      if (Trim(item).empty()) return;
      size_t bar = item.find('|');
      std::string_view url = bar == std::string_view::npos ? "" : item.substr(bar + 1);
      std::string_view name = item.substr(0, item.find(':'));
      if (!url.empty()) {
        d.images.emplace_back(url);
      } else if (!name.empty()) {
        d.images.emplace_back(name);
      }
    });
    // Names of values: the mapping, then the pack's own custom values and aliases.
    named.clear();
    AddNamedValues(col(kInputCustomCpv), named);
    AddNamedValues(col(kPropAlias), named);
    auto value_text = [&](std::string_view pid, std::string_view vid) {
      std::string key = std::string(pid) + ":" + std::string(vid);
      for (auto it = named.rbegin(); it != named.rend(); ++it) {
        if (it->first == key) return it->second;
      }
      if (auto it = mapping_->values.find(key); it != mapping_->values.end()) return it->second;
      return key;
    };
    ForEachPart(col(kCateProps), ';', [&](std::string_view item) {
      std::array<std::string_view, 2> parts;
      if (SplitInto(item, ':', parts) != 2) return;
      auto name = mapping_->properties.find(std::string(parts[0]));
      auto value = mapping_->values.find(std::string(item));
      if (name != mapping_->properties.end() && value != mapping_->values.end()) {
        d.params.push_back({name->second, value->second});
      }
    });
    auto pids = SplitOn(col(kInputPids), ',');
    auto input_values = SplitOn(col(kInputValues), ',');
    for (size_t i = 0; i < pids.size() && i < input_values.size(); ++i) {
      auto name = mapping_->properties.find(std::string(Trim(pids[i])));
      if (name != mapping_->properties.end() && !Trim(input_values[i]).empty()) {
        d.params.push_back({name->second, std::string(Trim(input_values[i]))});
      }
    }
    std::string sku_error;
    ForEachPart(col(kSkuProps), ';', [&](std::string_view item) {
      if (!sku_error.empty()) return;
      std::array<std::string_view, 5> parts;
      const size_t count = SplitInto(item, ':', parts);
      if (count >= 5) {  // price:qty:outerId:pid:vid starts a SKU
        SkuInput sku;
        int64_t sku_price = 0, qty = 0;
        auto [qp, qec] = std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), qty);
        if (!ParseYuan(parts[0], &sku_price) || qec != std::errc() ||
            qp != parts[1].data() + parts[1].size() || qty < 0) {
          sku_error = "skuProps[" + std::to_string(p.skus.size()) +
                      "]: give price:quantity:outer_id:pid:vid with the price in yuan";
          return;
        }
        sku.price = Fen(sku_price);
        sku.stock = qty;
        sku.spec = value_text(parts[3], parts[4]);
        p.skus.push_back(std::move(sku));
      } else if (count == 2 && !p.skus.empty()) {  // a further property of the same SKU
        p.skus.back().spec += " " + value_text(parts[0], parts[1]);
      }
    });
    if (!sku_error.empty()) {
      fail(std::move(sku_error));
      continue;
    }
    if (p.skus.empty()) p.skus.push_back({"标准", Fen(price), num});
    if (std::string sc = FindScLicence(col(kFoodparame)); !sc.empty()) {
      p.certifications.push_back({"sc_licence", sc, "", "", ""});
    }
    pack.rows.push_back(std::move(out));
  }
  return pack;
}

namespace {

// The columns 淘宝助理 writes, with their labels; we fill the ones we know.
constexpr std::pair<const char*, const char*> kColumns[] = {
    {"title", "宝贝名称"},
    {"cid", "宝贝类目"},
    {"seller_cids", "店铺类目"},
    {"stuff_status", "新旧程度"},
    {"location_state", "省"},
    {"location_city", "城市"},
    {"item_type", "出售方式"},
    {"price", "宝贝价格"},
    {"auction_increment", "加价幅度"},
    {"num", "宝贝数量"},
    {"valid_thru", "有效期"},
    {"freight_payer", "运费承担"},
    {"post_fee", "平邮"},
    {"ems_fee", "EMS"},
    {"express_fee", "快递"},
    {"has_invoice", "发票"},
    {"has_warranty", "保修"},
    {"approve_status", "放入仓库"},
    {"has_showcase", "橱窗推荐"},
    {"list_time", "开始时间"},
    {"description", "宝贝描述"},
    {"cateProps", "宝贝属性"},
    {"postage_id", "邮费模版ID"},
    {"has_discount", "会员打折"},
    {"modified", "修改时间"},
    {"upload_fail_msg", "上传状态"},
    {"picture_status", "图片状态"},
    {"auction_point", "返点比例"},
    {"picture", "新图片"},
    {"video", "视频"},
    {"skuProps", "销售属性组合"},
    {"inputPids", "用户输入ID串"},
    {"inputValues", "用户输入名-值对"},
    {"outer_id", "商家编码"},
    {"propAlias", "销售属性别名"},
    {"auto_fill", "代充类型"},
    {"num_id", "数字ID"},
    {"local_cid", "本地ID"},
    {"navigation_type", "宝贝分类"},
    {"user_name", "账户名称"},
    {"syncStatus", "宝贝状态"},
    {"is_lighting_consigment", "闪电发货"},
    {"is_xinpin", "新品"},
    {"foodparame", "食品专项"},
    {"item_weight", "物流重量"},
    {"barcode", "商品条形码"},
    {"subtitle", "宝贝卖点"},
    {"input_custom_cpv", "自定义属性值"},
};

}  // namespace

std::string WriteTaobaoCsv(const std::vector<PackRow>& rows, const TaobaoMapping& mapping) {
  std::string utf8 = "version 1.00\r\n";
  for (const auto& line : {0, 1}) {
    bool first = true;
    for (const auto& [key, label] : kColumns) {
      if (!first) utf8.push_back('\t');
      first = false;
      utf8 += line == 0 ? key : label;
    }
    utf8 += "\r\n";
  }
  std::unordered_map<std::string, std::string> cid_of, pid_of;
  for (const auto& [cid, ours] : mapping.categories) cid_of.emplace(ours, cid);
  for (const auto& [pid, name] : mapping.properties) pid_of.emplace(name, pid);
  std::unordered_map<std::string, std::string> v;
  for (const auto& row : rows) {
    const ProductInput& p = row.product;
    v.clear();
    v["title"] = p.title;
    v["cid"] = cid_of.count(p.category) ? cid_of[p.category] : "0";
    int64_t lowest = INT64_MAX, total = 0;
    // Specs are the shop's own values of 颜色分类 (pid 1627207), named in input_custom_cpv.
    for (size_t i = 0; i < p.skus.size(); ++i) {
      const auto& sku = p.skus[i];
      lowest = std::min(lowest, sku.price.value());
      total += sku.stock;
      std::string vid = "-" + std::to_string(1001 + i);
      v["skuProps"] += tables::Yuan(sku.price.value()) + ":" + std::to_string(sku.stock) +
                       "::1627207:" + vid + ";";
      v["input_custom_cpv"] += "1627207:" + vid + ":" + sku.spec + ";";
    }
    v["price"] = tables::Yuan(lowest == INT64_MAX ? 0 : lowest);
    v["num"] = std::to_string(total);
    v["description"] = p.details.description;
    v["subtitle"] = p.details.subtitle;
    v["barcode"] = p.details.barcode;
    v["outer_id"] = row.outer_id;
    if (p.details.weight_grams > 0) {
      std::string grams = std::to_string(p.details.weight_grams % 1000);
      v["item_weight"] = std::to_string(p.details.weight_grams / 1000) + "." +
                         std::string(3 - grams.size(), '0') + grams;
    }
    for (size_t i = 0; i < p.details.images.size(); ++i) {
      const std::string& image = p.details.images[i];
      if (image.find("://") != std::string::npos) {
        v["picture"] += ":1:" + std::to_string(i) + ":|" + image + ";";
      } else {
        v["picture"] += image.substr(0, image.find('.')) + ":0:" + std::to_string(i) + ":|;";
      }
    }
    for (const auto& param : p.details.params) {
      auto pid = pid_of.find(param.name);
      if (pid == pid_of.end()) continue;
      v["inputPids"] += (v["inputPids"].empty() ? "" : ",") + pid->second;
      v["inputValues"] += (v["inputValues"].empty() ? "" : ",") + param.value;
    }
    for (const auto& cert : p.certifications) {
      if (cert.type == "sc_licence") v["foodparame"] = "生产许可证编号:" + cert.number + ";";
    }
    bool first = true;
    for (const auto& [key, label] : kColumns) {
      if (!first) utf8.push_back('\t');
      first = false;
      if (auto it = v.find(key); it != v.end()) tables::AppendCsvField(utf8, it->second, '\t');
    }
    utf8 += "\r\n";
  }
  // UTF-8 → UTF-16LE with a BOM, as 淘宝助理 writes it.
  std::string out = "\xFF\xFE";
  out.reserve(utf8.size() * 2 + 2);
  for (size_t i = 0; i < utf8.size();) {
    auto c = static_cast<unsigned char>(utf8[i]);
    size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    uint32_t cp = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
    for (size_t k = 1; k < n && i + k < utf8.size(); ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3F);
    }
    i += n;
    auto unit = [&out](uint32_t u) {
      out.push_back(static_cast<char>(u & 0xFF));
      out.push_back(static_cast<char>(u >> 8));
    };
    if (cp >= 0x10000) {
      cp -= 0x10000;
      unit(0xD800 + (cp >> 10));
      unit(0xDC00 + (cp & 0x3FF));
    } else {
      unit(cp);
    }
  }
  return out;
}

}  // namespace pavilion::catalog
