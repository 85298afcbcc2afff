#include "pavilion/events/codec.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <limits>
#include <random>
#include <set>

#include "pavilion/events/clock.h"
#include "pavilion/events/envelope.h"
#include "pavilion/events/schema.h"

namespace pavilion::events {
namespace {

Envelope Sample() {
  Envelope e;
  e.event_id = "ev_1";
  e.type = "order.placed";
  e.stream_id = "ord_abc";
  e.stream_version = 3;
  e.position = 1234567890123ull;
  e.origin = 0xdeadbeefcafef00dull;
  e.time_micros = -5;
  e.correlation_id = "ord_abc";
  e.causation_id = "ev_0";
  e.payload = Encode(schema::OrderPlaced{"ord_abc", "shp_1", {{"sku_1", 2}, {"sku_2", 1}}});
  return e;
}

struct Ints {
  int64_t a = 0, b = 0, c = 0;
  uint64_t d = 0;
  uint32_t e = 0;
  bool f = false;
  template <class V>
  void Fields(V& v) {
    v(a), v(b), v(c), v(d), v(e), v(f);
  }
};

TEST(Codec, IntegersRoundTripIncludingExtremes) {
  Ints in{INT64_MIN, INT64_MAX, -1, UINT64_MAX, 7, true};
  auto out = Decode<Ints>(Encode(in));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->a, INT64_MIN);
  EXPECT_EQ(out->b, INT64_MAX);
  EXPECT_EQ(out->c, -1);
  EXPECT_EQ(out->d, UINT64_MAX);
  EXPECT_EQ(out->e, 7u);
  EXPECT_TRUE(out->f);
}

TEST(Codec, PayloadRoundTrip) {
  schema::OrderPaid c{"ord_1", "shp_1", "builtin", "pay_1", Fen(5980), {}, true};
  c.lines.push_back({0, "sku_1", "prd_1", "sel_1", "140430", 2, Fen(2990), Fen(5980), {}});
  auto out = Decode<schema::OrderPaid>(Encode(c));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->amount, Fen(5980));
  EXPECT_TRUE(out->late);
  ASSERT_EQ(out->lines.size(), 1u);
  EXPECT_EQ(out->lines[0].place_code, "140430");
}

TEST(Codec, RejectsTrailingBytesAndHugeCounts) {
  std::string bytes = Encode(schema::StockReleased{"o", 1, "s", 2, 3});
  EXPECT_FALSE(Decode<schema::StockReleased>(bytes + "x").ok());
  std::string huge;
  PutVarint(huge, 1);  // order_id length 1
  huge += "o";
  PutVarint(huge, 1);  // shopper_id
  huge += "s";
  PutVarint(huge, 1ull << 40);  // item count far beyond the input
  EXPECT_EQ(Decode<schema::OrderPlaced>(huge).error(), errc::corrupt_event);
}

// A field added later: values stored before it decode with the field at its default, values
// with it round-trip, and a cut inside it is still corrupt.
struct Before {
  std::string id;
  int64_t due = 0;
  template <class V>
  void Fields(V& v) {
    v(id), v(due);
  }
};
struct After {
  std::string id;
  int64_t due = 0;
  int64_t since = 7;  // Not 0, to tell "left at its default" from "decoded as 0".
  std::string note;
  template <class V>
  void Fields(V& v) {
    v(id), v(due), v(Added(since)), v(Added(note));
  }
};

TEST(Codec, AddedFieldsAreOptionalAtTheEnd) {
  const std::string old_bytes = Encode(Before{"ord_1", -42});
  auto old = Decode<After>(old_bytes);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->id, "ord_1");
  EXPECT_EQ(old->due, -42);
  EXPECT_EQ(old->since, 7);
  EXPECT_EQ(old->note, "");
  const std::string new_bytes = Encode(After{"ord_1", -42, 1'700'000'000'000'000, "late"});
  auto now = Decode<After>(new_bytes);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->since, 1'700'000'000'000'000);
  EXPECT_EQ(now->note, "late");
  // Every cut is either exactly where a field ends (an older shape, fields after it at their
  // defaults) or corrupt.
  for (size_t n = 0; n < new_bytes.size(); ++n) {
    auto cut = Decode<After>(new_bytes.substr(0, n));
    const bool boundary = n == old_bytes.size() || n == old_bytes.size() + 8;  // since: 8 bytes.
    EXPECT_EQ(cut.ok(), boundary) << n;
  }
  // An older build reading the newer shape sees trailing bytes: corrupt, never misread.
  EXPECT_FALSE(Decode<Before>(new_bytes).ok());
}

TEST(Codec, Crc32cMatchesTheStandardCheckValue) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
  // Lengths around the 8-byte stride agree with a byte-at-a-time fold.
  std::string data = "沁州黄小米 500g 2990 fen, 古丈毛尖";
  for (size_t n = 0; n <= data.size(); ++n) {
    uint32_t bytewise = 0;
    for (size_t i = 0; i < n; ++i) bytewise = Crc32c(data.substr(i, 1), bytewise);
    EXPECT_EQ(Crc32c(std::string_view(data).substr(0, n)), bytewise) << n;
  }
}

TEST(Envelope, RoundTrip) {
  Envelope e = Sample();
  auto out = DecodeEnvelope(EncodeEnvelope(e));
  ASSERT_TRUE(out.ok()) << out.message();
  EXPECT_EQ(out->event_id, e.event_id);
  EXPECT_EQ(out->stream_version, 3u);
  EXPECT_EQ(out->position, e.position);
  EXPECT_EQ(out->origin, e.origin);
  EXPECT_EQ(out->time_micros, -5);
  EXPECT_EQ(out->payload, e.payload);
}

TEST(Envelope, EveryTruncationIsRejected) {
  std::string bytes = EncodeEnvelope(Sample());
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(DecodeEnvelope(bytes.substr(0, n)).ok()) << "length " << n;
  }
}

TEST(Envelope, EveryBitFlipIsRejected) {
  std::string bytes = EncodeEnvelope(Sample());
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string copy = bytes;
      copy[i] = static_cast<char>(copy[i] ^ (1 << bit));
      EXPECT_FALSE(DecodeEnvelope(copy).ok()) << "byte " << i << " bit " << bit;
    }
  }
}

TEST(Envelope, UnknownSchemaVersionIsRejected) {
  Envelope e = Sample();
  e.schema_version = kMaxSchemaVersion + 1;
  EXPECT_EQ(DecodeEnvelope(EncodeEnvelope(e)).error(), errc::unsupported_schema);
}

TEST(Ids, AreUniqueAndPrefixed) {
  std::set<std::string> ids;
  for (int i = 0; i < 10000; ++i) ids.insert(NewId("ord"));
  EXPECT_EQ(ids.size(), 10000u);
  EXPECT_EQ(ids.begin()->substr(0, 4), "ord_");
}

TEST(IsDay, NamesOnlyDaysOfTheCalendar) {
  EXPECT_TRUE(IsDay("2026-02-28"));
  EXPECT_TRUE(IsDay("2024-02-29"));  // A leap year.
  EXPECT_TRUE(IsDay("2000-02-29"));  // Divisible by 400.
  EXPECT_TRUE(IsDay("2026-12-31"));
  EXPECT_FALSE(IsDay("2026-02-30"));
  EXPECT_FALSE(IsDay("2025-02-29"));
  EXPECT_FALSE(IsDay("1900-02-29"));  // Divisible by 100, not 400.
  EXPECT_FALSE(IsDay("2026-04-31"));
  EXPECT_FALSE(IsDay("2026-13-01"));
  EXPECT_FALSE(IsDay("2026-00-10"));
  EXPECT_FALSE(IsDay("2026-01-00"));
  EXPECT_FALSE(IsDay("2026-1-01"));
  EXPECT_FALSE(IsDay("2026/01/01"));
}

TEST(BusinessDay, UsesChinaStandardTime) {
  // 2026-11-22 16:30 UTC is 2026-11-23 00:30 in Beijing.
  EXPECT_EQ(BusinessDay(1795365000ll * 1'000'000), "2026-11-23");
  // And it began at 16:00 UTC the day before.
  EXPECT_EQ(BusinessDayStartMicros("2026-11-23"), 1795363200ll * 1'000'000);
  EXPECT_EQ(BusinessDay(BusinessDayStartMicros("2026-11-23")), "2026-11-23");
  EXPECT_EQ(BusinessDay(BusinessDayStartMicros("2026-11-23") - 1), "2026-11-22");
  EXPECT_EQ(BusinessDay(BusinessDayStartMicros("2024-03-01") - 1), "2024-02-29");
}

TEST(BusinessDay, CstTimeWritesTheMomentAsAsOfReadsIt) {
  EXPECT_EQ(CstTime(1795365000ll * 1'000'000 + 7), "2026-11-23T00:30:00.000007+08:00");
  EXPECT_EQ(CstTime(BusinessDayStartMicros("2026-11-23") - 1), "2026-11-22T23:59:59.999999+08:00");
  EXPECT_EQ(CstTime(-1), "1970-01-01T07:59:59.999999+08:00");
}

TEST(Fen, CheckedArithmeticRefusesWhatCannotBeRepresented) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(Fen(2).CheckedAdd(Fen(3)), Fen(5));
  EXPECT_EQ(Fen(kMax).CheckedAdd(Fen(1)), std::nullopt);
  EXPECT_EQ(Fen(-kMax).CheckedSub(Fen(2)), std::nullopt);
  EXPECT_EQ(Fen(5).CheckedSub(Fen(7)), Fen(-2));
  EXPECT_EQ(Fen(2990).CheckedMul(3), Fen(8970));
  EXPECT_EQ(Fen(kMax / 2 + 1).CheckedMul(2), std::nullopt);
  EXPECT_EQ(Fen(-1).CheckedMul(std::numeric_limits<int64_t>::min()), std::nullopt);
}

}  // namespace
}  // namespace pavilion::events
