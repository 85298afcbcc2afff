#include "sales_cube.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <set>

#include "calendar.h"
#include "pavilion/places/place_directory.h"

namespace pavilion::settlement {
namespace {

using events::svc_errc;
namespace schema = events::schema;

constexpr std::string_view kPrefix = "set/sc/";
constexpr char kTiers[] = {'d', 'm', 'q', 'y'};
// Products of fen and units, before dividing: GCC's 128-bit integer (an extension).
__extension__ using Wide = __int128;

// The period number of a day in a tier: 20261103, 202611, 20264, 2026.
uint32_t PeriodOf(char tier, int day) {
  const Civil c = CivilFromDays(day);
  switch (tier) {
    case 'd':
      return static_cast<uint32_t>(c.y * 10000 + c.m * 100 + c.d);
    case 'm':
      return static_cast<uint32_t>(c.y * 100 + c.m);
    case 'q':
      return static_cast<uint32_t>(c.y * 10 + QuarterOf(c.m));
    default:
      return static_cast<uint32_t>(c.y);
  }
}

// A cell's key in memory: kind (money 'c' or orders 'b'), tier, period, row or basket id.
uint64_t Pack(char kind, char tier, uint32_t period, uint32_t id) {
  const uint64_t t = tier == 'd' ? 0 : tier == 'm' ? 1 : tier == 'q' ? 2 : 3;
  return (uint64_t{id} << 32) | (uint64_t{period} << 3) | (t << 1) | (kind == 'b' ? 1 : 0);
}
std::string Hex8(uint32_t id) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", id);
  return buf;
}
std::string PiecePrefix(char kind, char tier, uint32_t period) {
  std::string k(kPrefix);
  k.push_back(kind);
  k.push_back('/');
  k.push_back(tier);
  k.append(std::to_string(period)).push_back('/');
  return k;
}
std::string CellKey(uint64_t packed) {
  static constexpr char kTierOf[] = {'d', 'm', 'q', 'y'};
  const char kind = (packed & 1) ? 'b' : 'c';
  const char tier = kTierOf[(packed >> 1) & 3];
  const auto period = static_cast<uint32_t>((packed >> 3) & ((1u << 29) - 1));
  return PiecePrefix(kind, tier, period) + Hex8(static_cast<uint32_t>(packed >> 32));
}
std::string Key(std::string_view kind, std::string_view id) {
  std::string k(kPrefix);
  k.append(kind).append("/").append(id);
  return k;
}
uint32_t ParseHex8(std::string_view s) {
  uint32_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v, 16);
  return v;
}

// One piece of a day range the cells answer: a whole year, quarter, month or a day.
struct Piece {
  char tier;
  uint32_t period;
};
// Cuts days [a, b] into the fewest whole years, quarters, months and days.
void Decompose(int a, int b, std::vector<Piece>& out) {
  for (int c = a; c <= b;) {
    const Civil v = CivilFromDays(c);
    int end = c;
    char tier = 'd';
    if (v.d == 1) {
      const int year_end = DaysFromCivil(v.y + 1, 1, 1) - 1;
      const int qm = (QuarterOf(v.m) - 1) * 3 + 1;
      const int quarter_end = MonthEnd(v.y, qm + 2);
      if (v.m == 1 && year_end <= b) {
        tier = 'y', end = year_end;
      } else if (v.m == qm && quarter_end <= b) {
        tier = 'q', end = quarter_end;
      } else if (MonthEnd(v.y, v.m) <= b) {
        tier = 'm', end = MonthEnd(v.y, v.m);
      }
    }
    out.push_back({tier, PeriodOf(tier, c)});
    c = end + 1;
  }
}

// The period before [a, b]: the previous whole day, month, quarter or year when [a, b] is one,
// otherwise as many days just before a.
std::pair<int, int> PeriodBefore(int a, int b) {
  for (std::string_view kind : {"year", "quarter", "month"}) {
    if (PeriodStart(kind, a) == a && PeriodEnd(kind, a) == b) {
      return {PeriodStart(kind, a - 1), a - 1};
    }
  }
  return {a - (b - a + 1), a - 1};
}

std::optional<places::Level> LevelNamed(std::string_view name) {
  for (int l = 0; l < 5; ++l) {
    if (places::ToString(static_cast<places::Level>(l)) == name) {
      return static_cast<places::Level>(l);
    }
  }
  return std::nullopt;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

bool SalesCube::Agricultural(std::string_view category) const {
  auto it = agricultural_.find(category);
  return it != agricultural_.end() && it->second;
}

std::optional<int64_t> ParseAsOf(std::string_view t) {
  if (t.size() == 10) {
    if (!events::IsDay(t)) return std::nullopt;
    // As the business day closed: its last microsecond, UTC+8.
    return (int64_t{DayNumber(t)} + 1) * kMicrosPerDay - kCstOffsetMicros - 1;
  }
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)
  if (t.size() < 20 || !events::IsDay(t.substr(0, 10)) || (t[10] != 'T' && t[10] != 't') ||
      t[13] != ':' || t[16] != ':' || !AllDigits(t.substr(11, 2)) || !AllDigits(t.substr(14, 2)) ||
      !AllDigits(t.substr(17, 2))) {
    return std::nullopt;
  }
  const int hh = Digits(t.substr(11, 2)), mm = Digits(t.substr(14, 2)),
            ss = Digits(t.substr(17, 2));
  if (hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  size_t i = 19;
  int64_t frac = 0;
  if (i < t.size() && t[i] == '.') {
    ++i;
    int n = 0;
    const size_t start = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
      if (n < 6) frac = frac * 10 + (t[i] - '0'), ++n;
      ++i;
    }
    if (i == start) return std::nullopt;
    while (n < 6) frac *= 10, ++n;
  }
  int64_t offset = 0;
  const std::string_view zone = t.substr(i);
  if (zone == "Z" || zone == "z") {
    offset = 0;
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':' &&
             AllDigits(zone.substr(1, 2)) && AllDigits(zone.substr(4, 2))) {
    const int oh = Digits(zone.substr(1, 2)), om = Digits(zone.substr(4, 2));
    if (oh > 23 || om > 59) return std::nullopt;
    offset = (zone[0] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  const int64_t seconds =
      int64_t{DayNumber(t.substr(0, 10))} * 86400 + hh * 3600 + mm * 60 + std::min(ss, 59) - offset;
  return seconds * 1'000'000 + frac;
}

std::optional<int64_t> GrowthBps(Fen now, Fen base) {
  if (base.value() <= 0) return std::nullopt;
  __extension__ using Wide = __int128;  // GCC's: the difference of two int64 sums, × 10000.
  return static_cast<int64_t>((Wide{now.value()} - base.value()) * 10000 / base.value());
}

SalesCube::SalesCube(events::EventStore& store, size_t cache_limit)
    : store_(store),
      cache_limit_(cache_limit),
      handlers_(events::Handlers()
                    .On<schema::SellerRegistered>([this](const auto& s, const auto&, auto& tx) {
                      Load();
                      SellerFacts& f = Seller(s.seller_id);
                      f.supplier_type = s.supplier_type;
                      f.name = s.name;
                      tx.state().Put(Key("s", s.seller_id), events::Encode(f));
                    })
                    .On<schema::ProductCreated>(
                        [this](const auto& p, const auto&, auto& tx) { ProductSeen(p, tx); })
                    .On<schema::ProductCreated>(
                        schema::ProductCreated::kUpdated,
                        [this](const auto& p, const auto&, auto& tx) { ProductSeen(p, tx); })
                    .On<schema::CategorySet>([this](const auto& c, const auto&, auto& tx) {
                      Load();
                      agricultural_[c.code] = c.agricultural;
                      tx.state().Put(Key("c", c.code), c.agricultural ? "1" : "0");
                    })
                    .On<schema::OrderPaid>(
                        [this](const auto& p, const auto& e, auto& tx) { Paid(p, e, tx); })
                    .On<schema::RefundChanged>(
                        schema::RefundChanged::kCompleted,
                        [this](const auto& r, const auto& e, auto& tx) { Refunded(r, e, tx); })) {}

void SalesCube::ProductSeen(const schema::ProductCreated& p, events::Transaction& tx) {
  Load();
  ProductFacts& f = Product(p.product_id);
  f = ProductFacts{p.brand, p.category, p.poverty_zone, p.title};
  tx.state().Put(Key("p", p.product_id), events::Encode(f));
}

void SalesCube::Load() {
  if (loaded_) return;
  loaded_ = true;
  auto& kv = store_.kv();
  for (const auto& c : schema::DefaultCategories()) agricultural_[c.code] = c.agricultural;
  const std::string categories = Key("c", "");
  storage::ScanOrAbort(kv, categories, storage::PrefixEnd(categories),
                       [&](std::string_view k, std::string_view v) {
                         agricultural_[std::string(k.substr(categories.size()))] = v == "1";
                         return true;
                       });
  const std::string dims = Key("t", ""), baskets = Key("k", "");
  storage::ScanOrAbort(kv, dims, storage::PrefixEnd(dims),
                       [&](std::string_view k, std::string_view v) {
                         const uint32_t id = ParseHex8(k.substr(dims.size()));
                         auto d = events::Decode<Dim>(v);
                         if (dims_.size() <= id) dims_.resize(id + 1);
                         if (d.ok()) {
                           dims_[id] = *d;
                           dim_ids_.emplace(std::string(v), id);
                         }
                         return true;
                       });
  // Only the next basket id: baskets are read as they are named.
  if (auto ec = kv.ScanReverse(baskets, storage::PrefixEnd(baskets),
                               [&](std::string_view k, std::string_view) {
                                 next_basket_ = ParseHex8(k.substr(baskets.size())) + 1;
                                 return false;
                               })) {
    std::fprintf(stderr, "pavilion: fatal: reading the sales baskets failed: %s\n",
                 ec.message().c_str());
    std::abort();
  }
}

const std::vector<uint32_t>* SalesCube::Basket(uint32_t id) {
  if (auto it = baskets_.find(id); it != baskets_.end()) return &it->second;
  std::string bytes;
  if (!storage::GetOrAbort(store_.kv(), Key("k", Hex8(id)), &bytes)) return nullptr;
  auto b = events::Decode<std::vector<uint32_t>>(bytes);
  if (!b.ok()) return nullptr;
  return &(baskets_[id] = std::move(*b));
}

void SalesCube::Trim() {
  if (cached() < cache_limit_) return;
  (void)store_.AppendAndWait(events::AppendRequest{});
  cells_.clear();
  orders_.clear();
  products_.clear();
  sellers_.clear();
  days_.clear();
  baskets_.clear();
  basket_ids_.clear();
}

void SalesCube::AfterBatch(events::Transaction& batch) {
  if (dirty_.empty() && position_ == 0) return;
  for (uint64_t packed : dirty_) batch.state().Put(CellKey(packed), events::Encode(cells_[packed]));
  dirty_.clear();
  dirty_set_.clear();
  if (position_ != 0) batch.state().Put(Key("pos", ""), std::to_string(position_));
  position_ = 0;
  ++committed_;
  batch.OnDurable([durable = durable_](std::error_code) { durable->fetch_add(1); });
}

SalesCube::ProductFacts& SalesCube::Product(const std::string& id) {
  auto [it, fresh] = products_.try_emplace(id);
  if (fresh) {
    std::string bytes;
    if (storage::GetOrAbort(store_.kv(), Key("p", id), &bytes)) {
      if (auto f = events::Decode<ProductFacts>(bytes); f.ok()) it->second = *f;
    }
  }
  return it->second;
}

SalesCube::SellerFacts& SalesCube::Seller(const std::string& id) {
  auto [it, fresh] = sellers_.try_emplace(id);
  if (fresh) {
    std::string bytes;
    if (storage::GetOrAbort(store_.kv(), Key("s", id), &bytes)) {
      if (auto f = events::Decode<SellerFacts>(bytes); f.ok()) it->second = *f;
    }
  }
  return it->second;
}

SalesCube::OrderBook* SalesCube::Order(const std::string& id) {
  if (auto it = orders_.find(id); it != orders_.end()) return &it->second;
  std::string bytes;
  if (!storage::GetOrAbort(store_.kv(), Key("o", id), &bytes)) return nullptr;
  auto b = events::Decode<OrderBook>(bytes);
  if (!b.ok()) return nullptr;
  return &(orders_[id] = std::move(*b));
}

SalesCube::Cell& SalesCube::CellAt(char kind, char tier, uint32_t period, uint32_t id) {
  const uint64_t packed = Pack(kind, tier, period, id);
  auto [it, fresh] = cells_.try_emplace(packed);
  if (fresh) {
    std::string bytes;
    if (storage::GetOrAbort(store_.kv(), CellKey(packed), &bytes)) {
      if (auto c = events::Decode<Cell>(bytes); c.ok()) it->second = *c;
    }
  }
  if (dirty_set_.insert(packed).second) dirty_.push_back(packed);
  return it->second;
}

void SalesCube::Book(char kind, int day, uint32_t id, const Cell& delta) {
  for (char tier : kTiers) {
    Cell& c = CellAt(kind, tier, PeriodOf(tier, day), id);
    c.paid = c.paid.SaturatingAdd(delta.paid);
    c.refunded = c.refunded.SaturatingAdd(delta.refunded);
    c.units_paid += delta.units_paid;
    c.units_refunded += delta.units_refunded;
    c.orders += delta.orders;
  }
}

void SalesCube::NoteDay(const std::string& day, uint64_t position, events::Transaction& tx) {
  position_ = std::max(position_, position);
  if (!days_.insert(day).second) return;
  std::string bytes;
  if (storage::GetOrAbort(store_.kv(), Key("d", day), &bytes)) return;  // Before a cache drop.
  tx.state().Put(Key("d", day), std::to_string(position));
}

uint32_t SalesCube::DimOf(const std::string& seller, const std::string& place,
                          const std::string& product, const std::string& channel,
                          events::Transaction& tx) {
  const ProductFacts& p = Product(product);
  const SellerFacts& s = Seller(seller);
  Dim d{seller,
        place,
        product,
        p.brand,
        p.category,
        channel,
        s.supplier_type,
        Agricultural(p.category),
        p.poverty || s.supplier_type == "poor_household"};
  std::string encoded = events::Encode(d);
  if (auto it = dim_ids_.find(encoded); it != dim_ids_.end()) return it->second;
  const auto id = static_cast<uint32_t>(dims_.size());
  tx.state().Put(Key("t", Hex8(id)), encoded);
  dims_.push_back(std::move(d));
  dim_ids_.emplace(std::move(encoded), id);
  return id;
}

uint32_t SalesCube::BasketOf(std::vector<uint32_t> dims, events::Transaction& tx) {
  std::sort(dims.begin(), dims.end());
  dims.erase(std::unique(dims.begin(), dims.end()), dims.end());
  std::string encoded = events::Encode(dims);
  if (auto it = basket_ids_.find(encoded); it != basket_ids_.end()) return it->second;
  std::string known;
  if (storage::GetOrAbort(store_.kv(), Key("kb", encoded), &known)) {
    const uint32_t id = ParseHex8(known);
    basket_ids_.emplace(std::move(encoded), id);
    return id;
  }
  const uint32_t id = next_basket_++;
  tx.state().Put(Key("k", Hex8(id)), encoded);
  tx.state().Put(Key("kb", encoded), Hex8(id));
  baskets_.emplace(id, std::move(dims));
  basket_ids_.emplace(std::move(encoded), id);
  return id;
}

void SalesCube::Paid(const schema::OrderPaid& paid, const events::Envelope& e,
                     events::Transaction& tx) {
  Load();
  if (Order(paid.order_id) != nullptr) return;  // Booked already.
  const std::string day = events::BusinessDay(e.time_micros);
  const int dayn = DayOfMicros(e.time_micros);
  NoteDay(day, e.position, tx);
  OrderBook book;
  std::vector<uint32_t> dims;
  for (const auto& line : paid.lines) {
    const std::string& channel = line.distribution.listing_seller_id;
    const uint32_t dim = DimOf(line.seller_id, line.place_code, line.product_id,
                               channel.empty() ? "direct" : channel, tx);
    Cell delta;
    delta.paid = line.amount;
    delta.units_paid = line.quantity;
    Book('c', dayn, dim, delta);
    book.lines.push_back({line.line, dim, line.amount, Fen(0), line.quantity, 0});
    dims.push_back(dim);
    SellerFacts& s = Seller(line.seller_id);
    if (s.first_day.empty()) {
      s.first_day = day;
      tx.state().Put(Key("s", line.seller_id), events::Encode(s));
    }
  }
  book.basket = BasketOf(std::move(dims), tx);
  Cell one;
  one.orders = 1;
  Book('b', dayn, book.basket, one);
  tx.state().Put(Key("o", paid.order_id), events::Encode(book));
  orders_[paid.order_id] = std::move(book);
}

void SalesCube::Refunded(const schema::RefundChanged& r, const events::Envelope& e,
                         events::Transaction& tx) {
  Load();
  const std::string day = events::BusinessDay(e.time_micros);
  const int dayn = DayOfMicros(e.time_micros);
  NoteDay(day, e.position, tx);
  int64_t units = 0;
  for (const auto& item : r.items) units += item.quantity;
  OrderBook* book = Order(r.order_id);
  if (book == nullptr) {
    // A refund of an order the log never showed paid: it still comes off its seller and place.
    OrderBook fresh;
    fresh.lines.push_back(
        {0, DimOf(r.seller_id, r.place_code, "", "direct", tx), Fen(0), Fen(0), 0, 0});
    orders_[r.order_id] = std::move(fresh);
    book = &orders_[r.order_id];
  }
  for (const auto& done : book->refunds) {
    if (done.refund_id == r.refund_id) return;
  }
  // The refund's lines: its sub-order's (its seller's), or all when none match.
  std::vector<size_t> lines;
  for (size_t i = 0; i < book->lines.size(); ++i) {
    if (dims_[book->lines[i].dim].seller_id == r.seller_id) lines.push_back(i);
  }
  if (lines.empty()) {
    for (size_t i = 0; i < book->lines.size(); ++i) lines.push_back(i);
  }
  // Spread over those lines by the value of the units it names, else by what is left on each,
  // to the fen (largest remainder); returned units go to the lines they name.
  std::vector<Wide> weight(book->lines.size(), 0);
  std::vector<int64_t> returned(book->lines.size(), 0);
  for (const auto& item : r.items) {
    for (size_t i : lines) {
      const BookLine& l = book->lines[i];
      if (l.line != item.line) continue;
      if (l.quantity > 0) weight[i] += Wide{l.amount.value()} * item.quantity / l.quantity;
      returned[i] += item.quantity;
      units -= item.quantity;
      break;
    }
  }
  returned[lines[0]] += units;  // Units naming no line of the sub-order.
  Wide total = 0;
  for (size_t i : lines) total += weight[i];
  if (total <= 0) {
    for (size_t i : lines) {
      const BookLine& l = book->lines[i];
      weight[i] = std::max<int64_t>(0, l.amount.value() - l.refunded.value());
      total += weight[i];
    }
  }
  std::vector<int64_t> share(book->lines.size(), 0);
  const int64_t amount = r.amount.value();
  if (total <= 0) {
    share[lines[0]] = amount;
  } else {
    int64_t given = 0;
    std::vector<std::pair<Wide, size_t>> rest;
    for (size_t i : lines) {
      const Wide scaled = Wide{amount} * weight[i];
      share[i] = static_cast<int64_t>(scaled / total);
      given += share[i];
      rest.push_back({scaled % total, i});
    }
    std::stable_sort(rest.begin(), rest.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    for (size_t k = 0; given < amount && k < rest.size(); ++k, ++given) ++share[rest[k].second];
  }
  RefundBooking booking{r.refund_id, {}};
  for (size_t i : lines) {
    if (share[i] == 0 && returned[i] == 0) continue;
    BookLine& l = book->lines[i];
    l.refunded = l.refunded.SaturatingAdd(Fen(share[i]));
    l.returned += returned[i];
    Cell delta;
    delta.refunded = Fen(share[i]);
    delta.units_refunded = returned[i];
    Book('c', dayn, l.dim, delta);
    auto part = std::find_if(booking.parts.begin(), booking.parts.end(),
                             [&](const RefundPart& p) { return p.dim == l.dim; });
    if (part == booking.parts.end()) {
      booking.parts.push_back({l.dim, Fen(share[i]), returned[i]});
    } else {
      part->amount = part->amount.SaturatingAdd(Fen(share[i]));
      part->units += returned[i];
    }
  }
  book->refunds.push_back(std::move(booking));
  tx.state().Put(Key("o", r.order_id), events::Encode(*book));
}

// What a query sums: per group, per bucket, the totals and the sellers seen selling.
struct SalesCube::Aggregation {
  struct Acc {
    SalesTotals t;
    // Indexes into seller_ids: sorted and made unique when it doubles, and at the end.
    std::vector<uint32_t> sellers;
    size_t compact_at = 64;
    void Sold(uint32_t seller) {
      if (!sellers.empty() && sellers.back() == seller) return;
      sellers.push_back(seller);
      if (sellers.size() < compact_at) return;
      Compact();
      compact_at = 2 * sellers.size() + 64;
    }
    void Compact() {
      std::sort(sellers.begin(), sellers.end());
      sellers.erase(std::unique(sellers.begin(), sellers.end()), sellers.end());
    }
    bool seen = false;
  };
  size_t buckets = 0;
  std::vector<std::string> seller_ids;
  std::map<std::string, std::vector<Acc>> groups;
  // One answer holds at most kMaxQueryCells groups × buckets: a query asking for more (every
  // seller by day over years) is refused rather than allowed to take the server's memory.
  static constexpr size_t kMaxQueryCells = 1 << 20;
  bool too_big = false;
  std::vector<Acc>* Group(const std::string& key) {
    auto it = groups.find(key);
    if (it != groups.end()) return &it->second;
    if ((groups.size() + 1) * buckets > kMaxQueryCells) {
      too_big = true;
      return nullptr;
    }
    return &groups.emplace(key, std::vector<Acc>(buckets)).first->second;
  }
};

namespace {

// The group a dimension row falls in, or nullopt when the filter leaves it out.
struct Grouper {
  const SalesQuery& q;
  size_t digits = 0;  // group_by=place at a level: the code's length there.

  bool Passes(const SalesCube::Dim& d) const {
    const SalesFilter& f = q.filter;
    if (!f.seller_id.empty() && d.seller_id != f.seller_id) return false;
    if (!f.supplier_type.empty() && d.supplier_type != f.supplier_type) return false;
    if (!f.brand.empty() && d.brand != f.brand) return false;
    if (!f.category.empty() && d.category != f.category) return false;
    if (!f.product_id.empty() && d.product_id != f.product_id) return false;
    if (!f.channel.empty() && d.channel != f.channel) return false;
    if (!f.within.empty() && d.place_code.compare(0, f.within.size(), f.within) != 0) return false;
    if (f.agricultural && d.agricultural != *f.agricultural) return false;
    if (f.poverty && d.poverty != *f.poverty) return false;
    if (f.rural && !places::IsRural(d.place_code)) return false;
    const auto one_of = [](const std::vector<std::string>& list, const std::string& v) {
      return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
    };
    return one_of(f.brands, d.brand) && one_of(f.seller_ids, d.seller_id);
  }
  std::string KeyOf(const SalesCube::Dim& d) const {
    const std::string& g = q.group_by;
    if (g == "seller") return d.seller_id;
    if (g == "place") {
      // A place coarser than the level (a product placed at its county, grouped by town) keeps
      // its own code: its sales are in no finer place.
      if (digits != 0 && d.place_code.size() > digits) return d.place_code.substr(0, digits);
      return d.place_code;
    }
    if (g == "supplier_type") return d.supplier_type;
    if (g == "brand") return d.brand;
    if (g == "category") return d.category;
    if (g == "agricultural") return d.agricultural ? "true" : "false";
    if (g == "product") return d.product_id;
    if (g == "channel") return d.channel;
    if (g == "poverty") return d.poverty ? "true" : "false";
    return "";
  }
};

}  // namespace

Result<bool> SalesCube::Aggregate(const SalesQuery& q,
                                  const std::vector<std::pair<int, int>>& buckets, int as_of_day,
                                  Aggregation& into) {
  Grouper grouper{q};
  if (!q.level.empty()) {
    grouper.digits = places::PrefixAt("000000000000", *LevelNamed(q.level)).size();
  }
  into.buckets = buckets.size();
  auto& kv = store_.kv();
  // Each row's group and seller are worked out once a query (a scan meets a row in every
  // period it sold in, and its filter and key are strings): kUnseen until then, kLeftOut when
  // the filter leaves it out, else an index into `slots`. Sellers are counted by their index in
  // `seller_ids`, and each basket's groups are worked out once too.
  constexpr int32_t kUnseen = -2, kLeftOut = -1;
  struct RowMemo {
    int32_t slot = kUnseen;
    uint32_t seller = 0;
  };
  std::vector<RowMemo> memo(dims_.size());
  std::vector<std::vector<Aggregation::Acc>*> slots;
  std::unordered_map<const void*, int32_t> slot_of_group;
  std::unordered_map<std::string, uint32_t> seller_index;
  std::vector<std::string>& seller_ids = into.seller_ids;
  auto row = [&](uint32_t id) -> const RowMemo& {
    RowMemo& m = memo[id];
    if (m.slot != kUnseen) return m;
    m.slot = kLeftOut;
    const Dim& d = dims_[id];
    if (!grouper.Passes(d)) return m;
    auto* g = into.Group(grouper.KeyOf(d));
    if (g == nullptr) return m;  // Too big: the query is refused below.
    // One slot a group: a basket's rows in one group count its order once.
    auto [slot, fresh] = slot_of_group.try_emplace(g, static_cast<int32_t>(slots.size()));
    if (fresh) slots.push_back(g);
    m.slot = slot->second;
    auto [it, added] = seller_index.try_emplace(d.seller_id, uint32_t(seller_ids.size()));
    if (added) seller_ids.push_back(d.seller_id);
    m.seller = it->second;
    return m;
  };
  std::unordered_map<uint32_t, std::vector<int32_t>> basket_slots;
  // Per bucket, one money delta per row and one order count per basket, from cells or a replay.
  auto add_money = [&](size_t b, uint32_t id, const Cell& c) {
    if (id >= dims_.size()) return;
    const RowMemo& m = row(id);
    if (m.slot < 0) return;
    auto& acc = (*slots[size_t(m.slot)])[b];
    acc.seen = true;
    acc.t.paid = acc.t.paid.SaturatingAdd(c.paid);
    acc.t.refunded = acc.t.refunded.SaturatingAdd(c.refunded);
    acc.t.units_paid += c.units_paid;
    acc.t.units_refunded += c.units_refunded;
    if (c.units_paid > 0) acc.Sold(m.seller);
  };
  auto add_orders = [&](size_t b, uint32_t basket, int64_t n) {
    if (n == 0) return;
    auto it = basket_slots.find(basket);
    if (it == basket_slots.end()) {
      std::vector<int32_t> found;
      if (const std::vector<uint32_t>* rows = Basket(basket)) {
        for (uint32_t id : *rows) {
          if (id >= dims_.size()) continue;
          const int32_t slot = row(id).slot;
          if (slot >= 0 && std::find(found.begin(), found.end(), slot) == found.end()) {
            found.push_back(slot);
          }
        }
      }
      it = basket_slots.emplace(basket, std::move(found)).first;
    }
    for (int32_t slot : it->second) {
      auto& acc = (*slots[size_t(slot)])[b];
      acc.seen = true;
      acc.t.orders += n;
    }
  };
  std::error_code inner;
  for (size_t b = 0; b < buckets.size(); ++b) {
    const auto [from, to] = buckets[b];
    std::vector<Piece> pieces;
    Decompose(from, std::min(to, as_of_day - 1), pieces);
    for (const Piece& p : pieces) {
      for (char kind : {'c', 'b'}) {
        const std::string prefix = PiecePrefix(kind, p.tier, p.period);
        auto ec = kv.Scan(prefix, storage::PrefixEnd(prefix),
                          [&](std::string_view k, std::string_view v) {
                            auto c = events::Decode<Cell>(v);
                            if (!c.ok()) {
                              inner = c.error();
                              return false;
                            }
                            const uint32_t id = ParseHex8(k.substr(prefix.size()));
                            if (kind == 'c') {
                              add_money(b, id, *c);
                            } else {
                              add_orders(b, id, c->orders);
                            }
                            return true;
                          });
        if (ec || inner) return {svc_errc::internal, "reading the sales cells failed"};
      }
    }
    if (as_of_day < from || as_of_day > to) continue;
    // The as_of day itself: its events up to as_of, replayed from where the day began in the
    // log, each booked as the fold booked it (the order's booking).
    std::string start, last;
    if (kv.Get(Key("d", DayString(as_of_day)), &start) || kv.Get(Key("pos", ""), &last)) continue;
    uint64_t at = std::stoull(start);
    const uint64_t end = std::stoull(last);
    bool past = false;
    while (at <= end && !past) {
      std::vector<events::Envelope> events;
      if (store_.ReadAll(at, 512, &events, events::Upto::kWritten) || events.empty()) break;
      for (const auto& e : events) {
        at = e.position + 1;
        if (e.position > end) {
          past = true;
          break;
        }
        if (e.type != schema::OrderPaid::kType && e.type != schema::RefundChanged::kCompleted) {
          continue;
        }
        const int day = DayOfMicros(e.time_micros);
        if (day > as_of_day) {  // The log's times do not go back over midnight.
          past = true;
          break;
        }
        if (day != as_of_day || e.time_micros > q.as_of_micros) continue;
        std::string bytes;
        if (e.type == schema::OrderPaid::kType) {
          auto paid = events::Decode<schema::OrderPaid>(e.payload);
          if (!paid.ok() || kv.Get(Key("o", paid->order_id), &bytes)) continue;
          auto book = events::Decode<OrderBook>(bytes);
          if (!book.ok()) continue;
          for (const auto& l : book->lines) {
            Cell c;
            c.paid = l.amount;
            c.units_paid = l.quantity;
            add_money(b, l.dim, c);
          }
          add_orders(b, book->basket, 1);
        } else {
          auto refund = events::Decode<schema::RefundChanged>(e.payload);
          if (!refund.ok() || kv.Get(Key("o", refund->order_id), &bytes)) continue;
          auto book = events::Decode<OrderBook>(bytes);
          if (!book.ok()) continue;
          for (const auto& r : book->refunds) {
            if (r.refund_id != refund->refund_id) continue;
            for (const auto& part : r.parts) {
              Cell c;
              c.refunded = part.amount;
              c.units_refunded = part.units;
              add_money(b, part.dim, c);
            }
          }
        }
      }
    }
  }
  // Derived columns: net, selling and new sellers.
  for (auto& [key, accs] : into.groups) {
    for (size_t b = 0; b < accs.size(); ++b) {
      SalesTotals& t = accs[b].t;
      t.amount = t.paid.SaturatingSub(t.refunded);
      t.units = t.units_paid - t.units_refunded;
      accs[b].Compact();
      const std::vector<uint32_t>& sellers = accs[b].sellers;
      t.selling_sellers = static_cast<int64_t>(sellers.size());
      const std::string first = DayString(buckets[b].first), last = DayString(buckets[b].second);
      for (uint32_t s : sellers) {
        const std::string& day = Seller(into.seller_ids[s]).first_day;
        if (!day.empty() && day >= first && day <= last) ++t.new_sellers;
      }
    }
  }
  if (into.too_big) {
    return {
        svc_errc::invalid_argument,
        "group_by: the answer would hold more than " + std::to_string(Aggregation::kMaxQueryCells) +
            " groups × periods; filter it (within, seller_id, brand, …) or use a longer period"};
  }
  return true;
}

int64_t SalesCube::FoldedMoment(int64_t now) {
  if (durable_->load() != committed_) (void)store_.AppendAndWait(events::AppendRequest{});
  std::string folded;
  uint64_t at = 1;
  if (!store_.kv().Get(Key("pos", ""), &folded)) at = std::stoull(folded) + 1;
  // A bounded look: past 4,096 events of other kinds up to now, take the rest as folded.
  std::vector<events::Envelope> events;
  for (int page = 0; page < 16; ++page) {
    events.clear();
    if (store_.ReadAll(at, 256, &events, events::Upto::kWritten) || events.empty()) return now;
    for (const auto& e : events) {
      if (e.time_micros > now) return now;
      if (e.type == schema::OrderPaid::kType || e.type == schema::RefundChanged::kCompleted) {
        return std::min(now, e.time_micros - 1);
      }
      at = e.position + 1;
    }
  }
  return now;
}

Result<std::vector<SalesRow>> SalesCube::Query(const SalesQuery& in) {
  SalesQuery q = in;
  if (std::find(std::begin(kSalesGroupings), std::end(kSalesGroupings), q.group_by) ==
      std::end(kSalesGroupings)) {
    return {svc_errc::invalid_argument,
            "group_by: use seller, place, supplier_type, brand, category, agricultural, product, "
            "channel, poverty or total"};
  }
  if (q.by_day && q.period.empty()) q.period = "day";
  if (!q.period.empty() && std::find(std::begin(kSalesPeriods), std::end(kSalesPeriods),
                                     q.period) == std::end(kSalesPeriods)) {
    return {svc_errc::invalid_argument, "period: use day, month, quarter or year"};
  }
  if (!q.level.empty()) {
    if (q.group_by != "place") {
      return {svc_errc::invalid_argument,
              "level: only with group_by=place (e.g. group_by=place&level=town)"};
    }
    if (!LevelNamed(q.level)) {
      return {svc_errc::invalid_argument, "level: use province, city, county, town or village"};
    }
  }
  if (!q.filter.within.empty() &&
      (!AllDigits(q.filter.within) || !places::LevelOf(q.filter.within))) {
    return {svc_errc::invalid_argument,
            "within: give a place code of 2, 4, 6, 9 or 12 digits (province to village)"};
  }
  if ((!q.from_day.empty() && !events::IsDay(q.from_day)) ||
      (!q.to_day.empty() && !events::IsDay(q.to_day))) {
    return {svc_errc::invalid_argument, "from/to: use a day as YYYY-MM-DD"};
  }
  if (!q.from_day.empty() && !q.to_day.empty() && q.from_day > q.to_day) {
    return {svc_errc::invalid_argument, "from: must not be after to"};
  }
  if (q.as_of_micros != 0 && q.as_of_micros > store_.clock().NowMicros()) {
    return {svc_errc::invalid_argument,
            "as_of: that moment has not come yet; give a time (RFC 3339) or a business day up to "
            "now"};
  }
  Trim();
  Load();
  // Reads see what the fold has written once it is durable: a query reads one state.
  if (durable_->load() != committed_) (void)store_.AppendAndWait(events::AppendRequest{});
  auto& kv = store_.kv();
  const std::string days = Key("d", "");
  std::string first_day, last_day;
  (void)kv.Scan(days, storage::PrefixEnd(days), [&](std::string_view k, std::string_view) {
    first_day = std::string(k.substr(days.size()));
    return false;
  });
  (void)kv.ScanReverse(days, storage::PrefixEnd(days), [&](std::string_view k, std::string_view) {
    last_day = std::string(k.substr(days.size()));
    return false;
  });
  if (first_day.empty()) return std::vector<SalesRow>{};
  const int as_of_day =
      q.as_of_micros != 0 ? DayOfMicros(q.as_of_micros) : std::numeric_limits<int>::max();
  int from = DayNumber(q.from_day.empty() ? first_day : q.from_day);
  int to = DayNumber(q.to_day.empty() ? last_day : q.to_day);
  if (q.to_day.empty() && as_of_day < to) to = as_of_day;
  if (from > to) return std::vector<SalesRow>{};
  // The buckets: the range cut at the period's bounds, or the range itself.
  std::vector<std::pair<int, int>> buckets;
  std::vector<std::string> labels;
  if (q.period.empty()) {
    buckets.push_back({from, to});
    labels.emplace_back();
  } else {
    for (int c = from; c <= to;) {
      const int end = std::min(to, PeriodEnd(q.period, c));
      buckets.push_back({c, end});
      labels.push_back(Label(q.period, c));
      c = end + 1;
    }
  }
  if (buckets.size() > kMaxPeriods) {
    return {svc_errc::invalid_argument,
            "period: " + std::to_string(buckets.size()) + " periods from " + DayString(from) +
                " to " + DayString(to) + "; give at most " + std::to_string(kMaxPeriods) +
                " (narrow from/to, or use a longer period)"};
  }
  Aggregation main;
  if (auto ok = Aggregate(q, buckets, as_of_day, main); !ok.ok()) return ok.error_detail();
  Aggregation year_ago, previous;
  if (q.compare_year) {
    std::vector<std::pair<int, int>> shifted;
    for (auto [a, b] : buckets) shifted.push_back({YearBefore(a), YearBefore(b)});
    if (auto ok = Aggregate(q, shifted, as_of_day, year_ago); !ok.ok()) return ok.error_detail();
  }
  if (q.compare_previous) {
    std::vector<std::pair<int, int>> shifted;
    for (auto [a, b] : buckets) shifted.push_back(PeriodBefore(a, b));
    if (auto ok = Aggregate(q, shifted, as_of_day, previous); !ok.ok()) return ok.error_detail();
  }
  // The groups in order: by key, or the top N by net over the range (ties by key).
  std::vector<std::pair<Fen, std::string>> order;
  for (const auto& [key, accs] : main.groups) {
    Fen net;
    for (const auto& a : accs) net = net.SaturatingAdd(a.t.amount);
    order.push_back({net, key});
  }
  if (q.top > 0) {
    std::stable_sort(order.begin(), order.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    if (order.size() > q.top) order.resize(q.top);
  }
  std::vector<SalesRow> rows;
  for (const auto& [net, key] : order) {
    const auto& accs = main.groups.at(key);
    for (size_t b = 0; b < accs.size(); ++b) {
      if (!accs[b].seen) continue;
      SalesRow row{key, labels[b], accs[b].t, std::nullopt, std::nullopt};
      auto other = [&](const Aggregation& a) {
        auto it = a.groups.find(key);
        return it == a.groups.end() ? SalesTotals{} : it->second[b].t;
      };
      if (q.compare_year) row.year_ago = other(year_ago);
      if (q.compare_previous) row.previous = other(previous);
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

}  // namespace pavilion::settlement
