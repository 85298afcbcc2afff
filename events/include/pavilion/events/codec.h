// A compact binary codec for events: varints, length-prefixed strings, and a field visitor so
// one `Fields` function per payload type serves both encoding and decoding.
//
//   struct StockReleased {
//     std::string order_id; uint32_t line = 0;
//     template <class V> void Fields(V& v) { v(order_id); v(line); }
//   };
//
// Writer appends to a std::string; Reader reads from a string_view and turns every malformed
// input (truncation, oversized lengths, trailing bytes) into an error instead of a crash.
// Neither is thread-safe; use one per thread.
#pragma once

#include <concepts>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "pavilion/storage/status.h"

namespace pavilion::events {

enum class errc {
  ok = 0,
  corrupt_event,       // decoding failed: truncated, bad checksum, bad magic
  unsupported_schema,  // a schema version this build does not know
  version_conflict,    // optimistic concurrency: the stream moved on
  invalid_event,       // an event that can never be appended (bad stream id, empty type)
  store_failed,        // the underlying KvStore failed
  shut_down,           // the store or worker is stopping
};

const std::error_category& events_category() noexcept;
std::error_code make_error_code(errc e) noexcept;

}  // namespace pavilion::events

template <>
struct std::is_error_code_enum<pavilion::events::errc> : std::true_type {};

namespace pavilion::events {

// Inline: encoders call them for every field. Each builds its bytes on the stack and appends
// them at once (one capacity check, not one per byte).
inline void PutVarint(std::string& out, uint64_t v) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out.append(buf, n);
}
inline void PutFixed64BE(std::string& out, uint64_t v) {
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(v >> (56 - 8 * i));
  out.append(buf, 8);
}
uint64_t GetFixed64BE(std::string_view in);
uint32_t Crc32c(std::string_view data, uint32_t seed = 0);
// A fast 64-bit fingerprint (FNV-1a, then a mixing step). Not cryptographic.
uint64_t Fingerprint64(std::string_view data);
std::string Hex64(uint64_t v);
// Lower-case hex of arbitrary bytes, and back (false on odd length or a non-hex digit): opaque
// pagination cursors travel this way.
std::string HexEncode(std::string_view bytes);
bool HexDecode(std::string_view hex, std::string* bytes);

// A field added to a type after values of it were stored, at the end of its Fields():
// `v(pay_deadline_micros), v(Added(placed_micros))`. Always written; read only when the input
// has more, so a value stored before the field existed decodes with it at its default. Only for
// a type encoded on its own (an event's payload, a record), never inside a vector or another
// type: there the next value's bytes would follow.
template <typename T>
struct AddedField {
  T& value;
};
template <typename T>
AddedField<T> Added(T& value) {
  return {value};
}

// An enum with `ToString(E)` and `Parse(std::string_view, E*)` beside it (found by ADL) is
// stored as its name: a record written while the field was a string reads the same, and a name
// this build does not know is corrupt input, not a wrong value.
template <typename E>
concept NamedEnum = std::is_enum_v<E> && requires(E e, std::string_view name) {
  { ToString(e) } -> std::convertible_to<std::string_view>;
  { Parse(name, &e) } -> std::same_as<bool>;
};

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  void operator()(const std::string& s) {
    PutVarint(out_, s.size());
    out_.append(s);
  }
  void operator()(bool b) { out_.push_back(b ? 1 : 0); }
  template <NamedEnum E>
  void operator()(E e) {
    const std::string_view name = ToString(e);
    PutVarint(out_, name.size());
    out_.append(name);
  }
  template <typename T>
  requires std::is_integral_v<T>
  void operator()(T v) {
    if constexpr (std::is_signed_v<T>) {
      // Zig-zag so small negative numbers stay small.
      using U = std::make_unsigned_t<T>;
      PutVarint(out_, (static_cast<U>(v) << 1) ^ static_cast<U>(v >> (sizeof(T) * 8 - 1)));
    } else {
      PutVarint(out_, v);
    }
  }
  template <typename T>
  void operator()(const std::vector<T>& items) {
    PutVarint(out_, items.size());
    for (const auto& item : items) (*this)(item);
  }
  template <typename T>
  void operator()(AddedField<T> field) {
    (*this)(field.value);
  }
  // A named field (the contract's payloads name theirs): the name is not encoded.
  template <typename T>
  void operator()(std::string_view /*name*/, T&& value) {
    (*this)(std::forward<T>(value));
  }
  template <typename T>
  requires requires(T& t, Writer& w) { t.Fields(w); }
  void operator()(const T& value) { const_cast<T&>(value).Fields(*this); }

 private:
  std::string& out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool ok() const { return ok_; }
  bool done() const { return ok_ && in_.empty(); }
  // Marks the input as corrupt; every later read fails.
  void Fail() { ok_ = false; }

  bool Varint(uint64_t* v);
  void operator()(std::string& s);
  template <NamedEnum E>
  void operator()(E& e) {
    std::string_view name;
    if (Bytes(&name) && !Parse(name, &e)) Fail();
  }
  void operator()(bool& b) {
    uint64_t v = 0;
    if (Varint(&v) && v > 1) Fail();
    b = v != 0;
  }
  template <typename T>
  requires std::is_integral_v<T>
  void operator()(T& v) {
    uint64_t raw = 0;
    if (!Varint(&raw)) return;
    if constexpr (std::is_signed_v<T>) {
      v = static_cast<T>((raw >> 1) ^ (~(raw & 1) + 1));
    } else {
      if (raw > static_cast<uint64_t>(std::numeric_limits<T>::max())) return Fail();
      v = static_cast<T>(raw);
    }
  }
  template <typename T>
  void operator()(std::vector<T>& items) {
    uint64_t n = 0;
    if (!Varint(&n)) return;
    // Every element takes at least one byte, so a count beyond the input is corrupt.
    if (n > in_.size()) return Fail();
    items.clear();
    items.resize(n);
    for (auto& item : items) {
      (*this)(item);
      if (!ok_) return;
    }
  }
  template <typename T>
  void operator()(AddedField<T> field) {
    if (ok_ && !in_.empty()) (*this)(field.value);
  }
  template <typename T>
  void operator()(std::string_view /*name*/, T&& value) {
    (*this)(std::forward<T>(value));
  }
  template <typename T>
  requires requires(T& t, Reader& r) { t.Fields(r); }
  void operator()(T& value) { value.Fields(*this); }

 private:
  // A length-prefixed run of bytes, viewed in place.
  bool Bytes(std::string_view* out);

  std::string_view in_;
  bool ok_ = true;
};

// Encodes any type with a Fields() visitor.
template <typename T>
std::string Encode(const T& value) {
  std::string out;
  out.reserve(128);  // Fewer regrowths field by field; small enough to keep around.
  Writer w(out);
  w(value);
  return out;
}

// Decodes what Encode wrote; rejects truncated input and trailing bytes.
template <typename T>
Result<T> Decode(std::string_view in) {
  T value{};
  Reader r(in);
  r(value);
  if (!r.done()) return errc::corrupt_event;
  return value;
}

}  // namespace pavilion::events
