// Reading what a request carries: its JSON body (Body) and its query string (Query).
//
// Body parses one JSON object with simdjson On-Demand, field by field, and keeps the first
// problem as the answer to send: 415 for a content type other than JSON, 400 malformed_json,
// 422 invalid_field naming the field (with its path, e.g. "items[0].quantity") for wrong types
// and bad values. Nothing is written before a body has been read whole, so bad input never
// leaves an event behind.
// Query holds the decoded parameters of a target; the router has already refused any the route
// does not declare, so handlers read only names they know.
// Both are used by one thread for one request.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "errors.h"
#include "pavilion/gateway/router.h"

namespace pavilion::gateway {

namespace od = simdjson::ondemand;

class Body {
 public:
  using FieldFn = std::function<bool(std::string_view key, od::value& v)>;

  // Parses the body of `req` as one JSON object, calling `fn` per field. False if anything
  // failed; TakeError() then holds the answer.
  bool Object(const HttpRequest& req, const FieldFn& fn);
  // The fields of a nested object; `where` prefixes their names in messages ("skus[0].").
  bool NestedObject(od::value& v, std::string where, const FieldFn& fn);
  bool Array(od::value& v, const std::function<bool(size_t, od::value&)>& fn);

  bool String(od::value& v, std::string& out, size_t max = 1000) {
    std::string_view s;
    if (auto err = v.get_string().get(s)) return Type(err, "a string");
    if (s.size() > max) return TooLong(max);
    out.assign(s);
    return true;
  }
  bool Int(od::value& v, int64_t& out) {
    if (auto err = v.get_int64().get(out)) return Type(err, "an integer");
    return true;
  }
  bool Bool(od::value& v, bool& out) {
    if (auto err = v.get_bool().get(out)) return Type(err, "true or false");
    return true;
  }

  bool Fail(const ErrorCode& code, std::string message) {
    if (!error_) error_ = ErrorResponse(code, message);
    return false;
  }
  bool Missing(std::string_view field);
  HttpResponse TakeError() { return std::move(*error_); }

 private:
  bool Fields(od::object& obj, std::string_view where, const FieldFn& fn);
  bool TooLong(size_t max);
  bool Type(simdjson::error_code err, std::string_view expected);
  bool Malformed(simdjson::error_code err, std::string_view what = {});

  simdjson::padded_string padded_;
  std::string path_;
  std::optional<HttpResponse> error_;
};

// Reads an optional body of string fields (at most 200 bytes each); an empty body is an empty
// object. On failure the error has been sent through `respond`.
bool ReadOptionalStrings(const HttpRequest& req, const Respond& respond,
                         std::initializer_list<std::pair<std::string_view, std::string*>> fields);

// Whether a Content-Type names the media type `want` (lower case, e.g. "application/json"), or
// one under it when `want` ends in '/' ("image/"): type and subtype compared without regard to
// case, parameters (";charset=UTF-8") and surrounding spaces ignored, as RFC 9110 §8.3.1 says.
bool MediaTypeIs(std::string_view content_type, std::string_view want);

// Content coding (RFC 9110 §12.5.3): answers of kGzipMinBytes or more of a Compressible type are
// sent gzip-compressed to clients whose Accept-Encoding allows it, and vary with that header
// whether compressed or not; smaller ones cost more time to compress than the bytes they save.
inline constexpr size_t kGzipMinBytes = 1024;
bool Compressible(std::string_view content_type);
// Whether an answer with this body size and type varies with Accept-Encoding.
inline bool VariesByEncoding(size_t body_size, std::string_view content_type) {
  return body_size >= kGzipMinBytes && Compressible(content_type);
}
// Accept-Encoding allows gzip: a "gzip" (or "*") member whose weight is not 0.
bool AcceptsGzip(std::string_view accept_encoding);

// The media type of a pack upload, one of those POST /v1/packs reads, in lower case
// ("application/zip"); empty for any other.
std::string_view PackMediaType(std::string_view content_type);

// "%E5%B0%8F+x" → "小 x".
std::string PercentDecode(std::string_view s);

class Query {
 public:
  // The parameters after the '?' of `target`; none without one (and then nothing is allocated).
  static Query Of(std::string_view target);

  bool Has(std::string_view name) const { return params_.find(name) != params_.end(); }
  // The decoded value, or "" when absent.
  const std::string& Get(std::string_view name) const;
  // true for "true" or "1".
  bool Flag(std::string_view name) const;
  // A whole number from min to max; nullopt when absent or empty, or (setting *error to a
  // message naming the parameter) when it is not such a number.
  std::optional<int64_t> Int(std::string_view name, int64_t min, int64_t max,
                             std::string* error) const;
  // A day of the calendar written YYYY-MM-DD ("" when absent). False, with *error naming the
  // parameter and the form, for anything else: 2026-02-30 is no day.
  bool Day(std::string_view name, std::string* out, std::string* error) const;
  // `from` and `to` as Day reads them, and `to` not before `from` when both are given.
  bool Days(std::string* from, std::string* to, std::string* error) const;
  // `place_code`: a division code or a prefix of one, digits only, at most 12 ("" when absent).
  bool PlaceCode(std::string* out, std::string* error) const;
  // The items of a comma-separated value, in order, empty ones kept (for the caller to refuse);
  // none when absent or empty. They view the query: keep it alive while they are used.
  std::vector<std::string_view> List(std::string_view name) const;

  // The first parameter not in `allowed`, or nullptr.
  const std::string* FirstUnknown(std::span<const std::string_view> allowed) const;

 private:
  std::map<std::string, std::string, std::less<>> params_;
};

}  // namespace pavilion::gateway
