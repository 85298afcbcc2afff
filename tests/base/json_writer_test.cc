#include "pavilion/base/json_writer.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace pavilion::base {
namespace {

TEST(JsonWriter, EscapesQuotesBackslashesAndControlCharactersAndNothingElse) {
  std::string out;
  JsonWriter::Escape("沁州黄\"小米\\500g\n\t\r\x01\x1f end", out);
  EXPECT_EQ(out, "沁州黄\\\"小米\\\\500g\\n\\t\\r\\u0001\\u001f end");
  out.clear();
  JsonWriter::Escape("", out);
  EXPECT_EQ(out, "");
  JsonWriter::Escape("\"", out);
  EXPECT_EQ(out, "\\\"");
  std::string nul(1, '\0');
  out.clear();
  JsonWriter::Escape(nul + "a" + nul, out);
  EXPECT_EQ(out, "\\u0000a\\u0000");
  JsonWriter w;
  w.BeginObject().Field("n", int64_t{-9223372036854775807 - 1}).Field("z", 0).Field("s", "a\"b");
  w.EndObject();
  EXPECT_EQ(w.Take(), R"({"n":-9223372036854775808,"z":0,"s":"a\"b"})");
}

// Escape checks eight bytes at a time: against the byte-at-a-time rule, on strings of every
// length up to 40 made of bytes that need escaping, their neighbours and UTF-8.
TEST(JsonWriter, EscapeAgreesWithTheByteByByteRule) {
  auto reference = [](std::string_view s) {
    std::string out;
    char buf[8];
    for (char c : s) {
      if (c == '"')
        out += "\\\"";
      else if (c == '\\')
        out += "\\\\";
      else if (c == '\n')
        out += "\\n";
      else if (c == '\r')
        out += "\\r";
      else if (c == '\t')
        out += "\\t";
      else if (static_cast<unsigned char>(c) < 0x20) {
        std::snprintf(buf, sizeof buf, "\\u%04x",
                      static_cast<unsigned>(static_cast<unsigned char>(c)));
        out += buf;
      } else {
        out += c;
      }
    }
    return out;
  };
  const std::string alphabet = std::string(
      "\0\x01\x1f\x20\x21\x22\x23\x5b\x5c\x5d\x7f\x80\xe6\xb2\x81\xff"
      "\n\r\tab",
      22);
  std::mt19937_64 rng(7);
  for (size_t length = 0; length <= 40; ++length) {
    for (int round = 0; round < 200; ++round) {
      std::string s(length, 'x');
      const int density = round % 4;  // 0: none to escape; 3: mostly.
      for (auto& c : s) {
        if (density > 0 && rng() % 4 < static_cast<uint64_t>(density))
          c = alphabet[rng() % alphabet.size()];
      }
      std::string out = "prefix";
      JsonWriter::Escape(s, out);
      ASSERT_EQ(out, "prefix" + reference(s)) << length << " " << round;
    }
  }
}

}  // namespace
}  // namespace pavilion::base
