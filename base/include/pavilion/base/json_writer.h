// JsonWriter: builds a JSON text with commas and string escaping handled. Not thread-safe.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace pavilion::base {

class JsonWriter {
 public:
  // `capacity`: the bytes the text is expected to take, reserved at once (an order's answer,
  // ~800 bytes, otherwise grows its buffer six times).
  explicit JsonWriter(size_t capacity = 0) { out_.reserve(capacity); }
  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }
  JsonWriter& Key(std::string_view k) {
    Separate();
    Quote(k);  // Keys are ours, but checked alike: one with a quote would break the text.
    out_.push_back(':');
    after_key_ = true;
    return *this;
  }
  JsonWriter& String(std::string_view s) {
    Separate();
    Quote(s);
    return *this;
  }
  JsonWriter& Int(int64_t v) {
    Separate();
    char buf[24];
    out_.append(buf, static_cast<size_t>(std::to_chars(buf, buf + sizeof buf, v).ptr - buf));
    return *this;
  }
  JsonWriter& Bool(bool b) {
    Separate();
    out_ += b ? "true" : "false";
    return *this;
  }
  JsonWriter& Null() {
    Separate();
    out_ += "null";
    return *this;
  }
  template <typename T>
  JsonWriter& Field(std::string_view k, const T& v) {
    Key(k);
    if constexpr (std::is_same_v<T, bool>) {
      return Bool(v);
    } else if constexpr (std::is_integral_v<T>) {
      return Int(static_cast<int64_t>(v));
    } else {
      return String(v);
    }
  }
  std::string Take() { return std::move(out_); }

  // Appends `s` escaped: runs that need no escaping (nearly all text) are appended whole, found
  // eight bytes at a time; a string that needs none (ids, keys, statuses) in one append.
  static void Escape(std::string_view s, std::string& out) {
    if (NothingToEscape(s)) {
      out.append(s);
      return;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    size_t plain = 0;  // Start of the run not yet appended.
    for (size_t i = 0; i < s.size(); ++i) {
      while (i + 8 <= s.size() && !AnyToEscape(s.data() + i)) i += 8;
      if (i == s.size()) break;
      const char c = s[i];
      if (!NeedsEscape(c)) continue;
      out.append(s.data() + plain, i - plain);
      plain = i + 1;
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          out += "\\u00";
          out.push_back(kHex[(c >> 4) & 0xf]);
          out.push_back(kHex[c & 0xf]);
      }
    }
    out.append(s.data() + plain, s.size() - plain);
  }

 private:
  // Whether any of the eight bytes at `p` is a control character, '"' or '\\' (the classic
  // "has a zero byte" and "has a byte less than n" word tests: exact about whether one exists).
  static bool AnyToEscape(const char* p) {
    constexpr uint64_t kOnes = 0x0101010101010101ull, kHighs = 0x8080808080808080ull;
    uint64_t w;
    std::memcpy(&w, p, 8);
    const uint64_t quote = w ^ (kOnes * '"'), backslash = w ^ (kOnes * '\\');
    return (((w - kOnes * 0x20) & ~w) | ((quote - kOnes) & ~quote) |
            ((backslash - kOnes) & ~backslash)) &
           kHighs;
  }

  static bool NothingToEscape(std::string_view s) {
    size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
      if (AnyToEscape(s.data() + i)) return false;
    }
    if (i == s.size()) return true;
    if (s.size() >= 8) return !AnyToEscape(s.data() + s.size() - 8);  // The last eight again.
    for (char c : s) {                                                // Under eight bytes.
      if (NeedsEscape(c)) return false;
    }
    return true;
  }

  static bool NeedsEscape(char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\';
  }

  JsonWriter& Open(char c) {
    Separate();
    out_.push_back(c);
    first_.push_back(true);
    return *this;
  }
  JsonWriter& Close(char c) {
    out_.push_back(c);
    first_.pop_back();
    return *this;
  }
  void Separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_.empty()) {
      if (!first_.back()) out_.push_back(',');
      first_.back() = false;
    }
  }
  void Quote(std::string_view s) {
    out_.push_back('"');
    Escape(s, out_);
    out_.push_back('"');
  }

  std::string out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace pavilion::base
