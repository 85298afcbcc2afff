#include "body.h"

#include <algorithm>
#include <charconv>

#include "pavilion/events/clock.h"

namespace pavilion::gateway {

bool Body::Object(const HttpRequest& req, const FieldFn& fn) {
  if (!MediaTypeIs(req.content_type, "application/json")) {
    return Fail(kUnsupportedMediaType, "send the body as JSON with Content-Type: application/json");
  }
  thread_local od::parser parser;
  padded_ = simdjson::padded_string(req.body);
  od::document doc;
  if (auto err = parser.iterate(padded_).get(doc)) return Malformed(err);
  od::object obj;
  if (auto err = doc.get_object().get(obj)) {
    return Malformed(err, "the body must be a JSON object");
  }
  if (!Fields(obj, "", fn)) return false;
  const char* rest = nullptr;
  if (doc.current_location().get(rest) == simdjson::SUCCESS) {
    return Fail(kMalformedJson, "unexpected content after the JSON object");
  }
  return true;
}

bool Body::Fields(od::object& obj, std::string_view where, const FieldFn& fn) {
  for (auto field : obj) {
    std::string_view key;
    if (auto err = field.unescaped_key().get(key)) return Malformed(err);
    od::value v;
    if (auto err = field.value().get(v)) return Malformed(err);
    path_ = std::string(where) + std::string(key);
    if (!fn(key, v)) return false;
  }
  return true;
}

bool Body::Array(od::value& v, const std::function<bool(size_t, od::value&)>& fn) {
  od::array arr;
  if (auto err = v.get_array().get(arr)) return Type(err, "an array");
  size_t i = 0;
  for (auto el : arr) {
    od::value item;
    if (auto err = el.get(item)) return Malformed(err);
    if (!fn(i++, item)) return false;
  }
  return true;
}

bool Body::NestedObject(od::value& v, std::string where, const FieldFn& fn) {
  od::object obj;
  if (auto err = v.get_object().get(obj)) return Type(err, "an object");
  return Fields(obj, where, fn);
}

bool Body::Missing(std::string_view field) {
  return Fail(kInvalidField, std::string(field) + ": required");
}

bool Body::TooLong(size_t max) {
  return Fail(kInvalidField, path_ + ": too long; use at most " + std::to_string(max) + " bytes");
}

bool Body::Type(simdjson::error_code err, std::string_view expected) {
  if (err == simdjson::INCORRECT_TYPE || err == simdjson::NUMBER_OUT_OF_RANGE ||
      err == simdjson::NUMBER_ERROR) {
    return Fail(kInvalidField, path_ + ": expected " + std::string(expected));
  }
  return Malformed(err);
}

bool Body::Malformed(simdjson::error_code err, std::string_view what) {
  if (err == simdjson::INCORRECT_TYPE && !what.empty()) {
    return Fail(kMalformedJson, std::string(what));
  }
  return Fail(kMalformedJson,
              std::string("the body is not valid JSON: ") + simdjson::error_message(err));
}

bool ReadOptionalStrings(const HttpRequest& req, const Respond& respond,
                         std::initializer_list<std::pair<std::string_view, std::string*>> fields) {
  if (req.body.empty()) return true;
  Body body;
  bool ok = body.Object(req, [&](std::string_view key, od::value& v) {
    for (auto [name, out] : fields) {
      if (key == name) return body.String(v, *out, 200);
    }
    return true;
  });
  if (!ok) respond(body.TakeError());
  return ok;
}

bool MediaTypeIs(std::string_view content_type, std::string_view want) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  const bool prefix = !want.empty() && want.back() == '/';
  if (prefix ? type.size() <= want.size() : type.size() != want.size()) return false;
  for (size_t i = 0; i < want.size(); ++i) {
    char c = type[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != want[i]) return false;
  }
  return true;
}

bool Compressible(std::string_view type) {
  return MediaTypeIs(type, "text/") || MediaTypeIs(type, "application/json") ||
         MediaTypeIs(type, "application/x-ndjson") || MediaTypeIs(type, "image/svg+xml");
}

bool AcceptsGzip(std::string_view header) {
  while (!header.empty()) {
    const size_t comma = header.find(',');
    std::string_view one = header.substr(0, comma);
    const size_t semi = one.find(';');
    std::string_view name = one.substr(0, semi);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    const bool gzip =
        name.size() == 4 && std::equal(name.begin(), name.end(), "gzip", [](char c, char want) {
          return (c | 0x20) == want;  // ASCII case.
        });
    if (gzip || name == "*") {
      if (semi == std::string_view::npos) return true;
      std::string_view q = one.substr(semi + 1);
      while (!q.empty() && q.front() == ' ') q.remove_prefix(1);
      if (q.substr(0, 2) != "q=" && q.substr(0, 2) != "Q=") return true;
      q.remove_prefix(2);
      return q.find_first_not_of("0.") != std::string_view::npos;
    }
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return false;
}

std::string_view PackMediaType(std::string_view content_type) {
  for (std::string_view type : {"application/x-ndjson", "application/zip", "text/csv",
                                "application/x-zip-compressed", "application/gzip"}) {
    if (MediaTypeIs(content_type, type)) return type;
  }
  return {};
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int v = 0;
      auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (ec == std::errc() && p == s.data() + i + 3) {
        out.push_back(static_cast<char>(v));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i] == '+' ? ' ' : s[i]);
  }
  return out;
}

Query Query::Of(std::string_view target) {
  Query out;
  auto mark = target.find('?');
  if (mark == std::string_view::npos) return out;
  std::string_view q = target.substr(mark + 1);
  while (!q.empty()) {
    auto amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    auto eq = part.find('=');
    out.params_[PercentDecode(part.substr(0, eq))] =
        eq == std::string_view::npos ? "" : PercentDecode(part.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return out;
}

const std::string& Query::Get(std::string_view name) const {
  static const std::string kNone;
  auto it = params_.find(name);
  return it == params_.end() ? kNone : it->second;
}

bool Query::Flag(std::string_view name) const {
  const std::string& v = Get(name);
  return v == "true" || v == "1";
}

std::optional<int64_t> Query::Int(std::string_view name, int64_t min, int64_t max,
                                  std::string* error) const {
  const std::string& text = Get(name);
  if (text.empty()) return std::nullopt;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v < min || v > max) {
    *error = std::string(name) + ": give a whole number from " + std::to_string(min) + " to " +
             std::to_string(max);
    return std::nullopt;
  }
  return v;
}

bool Query::Day(std::string_view name, std::string* out, std::string* error) const {
  const std::string& text = Get(name);
  if (!text.empty() && !events::IsDay(text)) {
    *error = std::string(name) + ": " + text +
             " is not a day; give a date as YYYY-MM-DD, e.g. 2026-02-28";
    return false;
  }
  *out = text;
  return true;
}

bool Query::Days(std::string* from, std::string* to, std::string* error) const {
  if (!Day("from", from, error) || !Day("to", to, error)) return false;
  if (!from->empty() && !to->empty() && *to < *from) {
    *error = "to: " + *to + " is before from: " + *from;
    return false;
  }
  return true;
}

std::vector<std::string_view> Query::List(std::string_view name) const {
  std::vector<std::string_view> items;
  std::string_view list = Get(name);
  if (list.empty()) return items;
  for (;;) {
    const size_t comma = list.find(',');
    items.push_back(list.substr(0, comma));
    if (comma == std::string_view::npos) return items;
    list.remove_prefix(comma + 1);
  }
}

bool Query::PlaceCode(std::string* out, std::string* error) const {
  const std::string& code = Get("place_code");
  if (code.size() > 12 || code.find_first_not_of("0123456789") != std::string::npos) {
    *error = "place_code: a division code or its prefix, at most 12 digits (140430)";
    return false;
  }
  *out = code;
  return true;
}

const std::string* Query::FirstUnknown(std::span<const std::string_view> allowed) const {
  for (const auto& [name, value] : params_) {
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) return &name;
  }
  return nullptr;
}

}  // namespace pavilion::gateway
