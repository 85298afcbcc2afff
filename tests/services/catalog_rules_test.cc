// The catalog's pure decisions, tested directly: no store, no clock, no worker. What a seller may
// register and list (product_rules), how stock moves (stock_rules), what distribution allows
// (distribution_rules), and the kinds' strings on the wire (kinds.h).
#include <gtest/gtest.h>

#include <limits>
#include <optional>
#include <set>

#include "../../services/catalog/src/category_tree.h"
#include "../../services/catalog/src/distribution_rules.h"
#include "../../services/catalog/src/product_rules.h"
#include "../../services/catalog/src/stock_rules.h"
#include "pavilion/catalog/kinds.h"
#include "pavilion/catalog/pack.h"

namespace pavilion::catalog {
namespace {

using events::svc_errc;
namespace schema = events::schema;

// 2026-03-01 12:00 in China Standard Time.
constexpr int64_t kNow = 1'772'337'600'000'000;

Seller SellerOf(std::string supplier_type) {
  return Seller{"sel_1", "沁县合作社", "140430", std::move(supplier_type), 0};
}

ProductInput Millet() {
  ProductInput in;
  in.seller_id = "sel_1";
  in.title = "沁州黄小米";
  in.skus = {{"500g", Fen(2990), 10}, {"2.5kg", Fen(12800), 5}};
  return in;
}

schema::Certification Sc(std::string from, std::string to) {
  return {"sc_licence", "SC10114043000012", "长治市市场监督管理局", std::move(from), std::move(to)};
}

Sku SkuWith(int64_t stock, int64_t reserved = 0, int64_t sold = 0) {
  Sku s;
  s.id = "sku_1";
  s.stock = stock;
  s.reserved = reserved;
  s.sold = sold;
  return s;
}

// Parse as an optional, so an expectation reads as the value or nullopt.
template <typename E>
std::optional<E> Parsed(std::string_view name) {
  E value{};
  if (!Parse(name, &value)) return std::nullopt;
  return value;
}

TEST(CatalogKinds, EveryKindRoundTripsThroughItsWireString) {
  for (auto t : AllSupplierTypes()) EXPECT_EQ(Parsed<SupplierType>(ToString(t)), t);
  for (auto k : AllCertificationKinds()) EXPECT_EQ(Parsed<CertificationKind>(ToString(k)), k);
  for (auto r :
       {StockRejection::kUnknownSku, StockRejection::kInsufficientStock, StockRejection::kHoldLimit,
        StockRejection::kNewShopperLimit, StockRejection::kNewClientLimit}) {
    EXPECT_EQ(Parsed<StockRejection>(ToString(r)), r);
  }
  EXPECT_EQ(ToString(SupplierType::kPoorHousehold), "poor_household");
  EXPECT_EQ(ToString(CertificationKind::kScLicence), "sc_licence");
  EXPECT_EQ(ToString(StockRejection::kInsufficientStock), "insufficient_stock");
  EXPECT_EQ(Parsed<SupplierType>("pirate"), std::nullopt);
  EXPECT_EQ(Parsed<CertificationKind>("SC_LICENCE"), std::nullopt);
  EXPECT_EQ(Parsed<StockRejection>(""), std::nullopt);
  // The public lists are the enums' strings, in order.
  ASSERT_EQ(SupplierTypes().size(), AllSupplierTypes().size());
  EXPECT_EQ(SupplierTypes().front(), "poor_household");
  EXPECT_EQ(SupplierTypes().back(), "enterprise");
  ASSERT_EQ(CertificationTypes().size(), AllCertificationKinds().size());
  EXPECT_EQ(CertificationTypes()[4], "sc_licence");
}

TEST(CatalogRules, CheckSellerNamesTheFieldToFix) {
  auto ok = CheckSeller({"古丈茶农", "433126", "poor_household"});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, SupplierType::kPoorHousehold);
  auto bad_place = CheckSeller({"n", "14043", "cooperative"});
  EXPECT_EQ(bad_place.error(), svc_errc::invalid_argument);
  EXPECT_NE(bad_place.message().find("place_code"), std::string::npos);
  auto bad_type = CheckSeller({"n", "140430", "pirate"});
  EXPECT_EQ(bad_type.error(), svc_errc::invalid_argument);
  EXPECT_NE(bad_type.message().find("supplier_type: use one of poor_household, cooperative"),
            std::string::npos);
  EXPECT_NE(CheckSeller({"", "140430", "cooperative"}).message().find("name"), std::string::npos);
  EXPECT_TRUE(CheckSeller({"n", "140430001", "cooperative"}).ok());     // A town.
  EXPECT_TRUE(CheckSeller({"n", "140430001002", "cooperative"}).ok());  // A village.
  EXPECT_FALSE(CheckSeller({"n", "14043a", "cooperative"}).ok());
}

TEST(CategoryRules, TheDefaultTreeCountsFoodAsAgriculturalAndListsParentsFirst) {
  const auto tree = CategoryTree::Defaults();
  const auto list = tree->List();
  ASSERT_GE(list.size(), 13u);
  std::set<std::string> seen;
  for (const auto& c : list) {
    if (!c.parent.empty()) {
      EXPECT_TRUE(seen.count(c.parent)) << c.code << " before its parent";
    }
    seen.insert(c.code);
  }
  for (const char* food : {"grain", "tea", "fruit", "eggs", "herbs", "honey", "processed_food"}) {
    ASSERT_NE(tree->Find(food), nullptr) << food;
    EXPECT_TRUE(tree->Find(food)->agricultural) << food;
  }
  EXPECT_FALSE(tree->Find("handicraft")->agricultural);
  EXPECT_FALSE(tree->Find("other")->agricultural);
  EXPECT_TRUE(tree->Find("grain")->needs_sc);
  EXPECT_FALSE(tree->Find("fruit")->needs_sc);
  EXPECT_EQ(tree->Find("fruit")->parent, "fresh");
  EXPECT_EQ(tree->Find("fruit")->depth, 1);
  EXPECT_EQ(tree->Find("fresh")->depth, 0);
}

TEST(CategoryRules, ANewCategoryTakesItsParentsFlagsAndAChangeKeepsWhatItLeavesOut) {
  auto tree = CategoryTree::Defaults();
  CategoryInput in;
  in.code = "kiwi";
  in.name = "猕猴桃 kiwi";
  in.parent = "fruit";
  auto kiwi = tree->Check(in);
  ASSERT_TRUE(kiwi.ok()) << kiwi.message();
  EXPECT_TRUE(kiwi->agricultural);
  EXPECT_FALSE(kiwi->needs_sc);
  EXPECT_EQ(kiwi->depth, 2);
  tree = tree->With(*kiwi);
  EXPECT_EQ(tree->Find("kiwi")->name, "猕猴桃 kiwi");
  // Only the flag changes: the name and parent stay.
  CategoryInput flag;
  flag.code = "kiwi";
  flag.agricultural = false;
  auto changed = tree->Check(flag);
  ASSERT_TRUE(changed.ok()) << changed.message();
  EXPECT_EQ(changed->name, "猕猴桃 kiwi");
  EXPECT_EQ(changed->parent, "fruit");
  EXPECT_FALSE(changed->agricultural);
  // A top-level category made without flags is neither agricultural nor processed food.
  CategoryInput top;
  top.code = "textiles";
  top.name = "纺织品";
  auto t = tree->Check(top);
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->agricultural);
  EXPECT_EQ(t->parent, "");
}

TEST(CategoryRules, RefusesBadCodesMissingNamesUnknownParentsCyclesAndDepth) {
  auto tree = CategoryTree::Defaults();
  auto refused = [&](const CategoryInput& in, std::string_view start) {
    auto r = tree->Check(in);
    ASSERT_FALSE(r.ok()) << in.code;
    EXPECT_EQ(r.error(), svc_errc::invalid_argument);
    EXPECT_EQ(r.message().rfind(start, 0), 0u) << r.message();
  };
  CategoryInput in;
  in.name = "x";
  for (const char* bad : {"", "Tea", "9tea", "tea-leaf", "茶"}) {
    in.code = bad;
    refused(in, "code: use 1 to 40 lowercase letters");
  }
  in.code = std::string(41, 'a');
  refused(in, "code:");
  in = {};
  in.code = "kiwi";
  refused(in, "name: give a new category its name");
  in.name = "";
  refused(in, "name: 1 to 100 bytes");
  in.name = "猕猴桃";
  in.parent = "gadgets";
  refused(in, "parent: no category gadgets; use one of fresh");
  // fresh cannot go under fruit, which is below it, nor under itself.
  CategoryInput move;
  move.code = "fresh";
  move.parent = "fruit";
  refused(move, "parent: fruit is below fresh");
  move.parent = "fresh";
  refused(move, "parent: fresh is the category itself");
  // Four levels at most, counting what a moved category carries below it.
  for (const char* code : {"l2", "l3"}) {
    CategoryInput level;
    level.code = code;
    level.name = code;
    level.parent = code == std::string("l2") ? "fruit" : "l2";
    auto c = tree->Check(level);
    ASSERT_TRUE(c.ok()) << c.message();
    tree = tree->With(*c);
  }
  EXPECT_EQ(tree->Find("l3")->depth, 3);
  CategoryInput deeper;
  deeper.code = "l4";
  deeper.name = "l4";
  deeper.parent = "l3";
  refused(deeper, "parent: the tree is at most 4 levels deep");
  CategoryInput carry;  // herbs (depth 0, nothing below) may go under l2; fresh (2 below) not.
  carry.code = "herbs";
  carry.parent = "l2";
  EXPECT_TRUE(tree->Check(carry).ok());
  carry.code = "fresh";
  carry.parent = "herbs";
  refused(carry, "parent: the tree is at most 4 levels deep");
}

TEST(CatalogRules, CheckProductRefusesEachBadFieldByName) {
  const Seller seller = SellerOf("cooperative");
  ASSERT_TRUE(CheckProduct(Millet(), seller, *CategoryTree::Defaults(), kNow).ok());
  auto expect_refused = [&](ProductInput in, std::string_view field) {
    auto r = CheckProduct(in, seller, *CategoryTree::Defaults(), kNow);
    EXPECT_EQ(r.error(), svc_errc::invalid_argument) << field;
    EXPECT_EQ(r.message().rfind(field, 0), 0u) << r.message();
  };
  auto in = Millet();
  in.title.clear();
  expect_refused(in, "title");
  in = Millet();
  in.skus.clear();
  expect_refused(in, "skus");
  in = Millet();
  in.skus.resize(kMaxSkusPerProduct + 1, {"x", Fen(1), 0});
  expect_refused(in, "skus");
  in = Millet();
  in.skus[1].spec.clear();
  expect_refused(in, "skus[1].spec");
  in = Millet();
  in.skus[0].price = Fen(0);
  expect_refused(in, "skus[0].price_fen");
  in = Millet();
  in.skus[0].price = Fen(kMaxPriceFen + 1);
  expect_refused(in, "skus[0].price_fen");
  in = Millet();
  in.skus[0].stock = -1;
  expect_refused(in, "skus[0].stock");
  in = Millet();
  in.category = "gadgets";
  expect_refused(in, "category: no category \"gadgets\"; use one of fresh, aquatic");
  in = Millet();
  in.brand = std::string(101, 'b');
  expect_refused(in, "brand");
  in = Millet();
  in.place_code = "1404";
  expect_refused(in, "place_code");
  in = Millet();
  in.certifications = {{"halal", "1", "", "", ""}};
  expect_refused(in, "certifications[0].type");
  in = Millet();
  in.certifications = {{"organic", "", "", "", ""}};
  expect_refused(in, "certifications[0].number");
  in = Millet();
  in.certifications = {Sc("2026-13-01", "")};
  expect_refused(in, "certifications[0].valid_from/valid_to");
  in = Millet();
  in.details.barcode = std::string(33, '6');
  expect_refused(in, "barcode");
}

TEST(CatalogRules, ProcessedFoodNeedsAnScLicenceValidThatDay) {
  const Seller seller = SellerOf("cooperative");
  auto in = Millet();
  in.category = "grain";
  auto none = CheckProduct(in, seller, *CategoryTree::Defaults(), kNow);
  EXPECT_EQ(none.error(), svc_errc::invalid_argument);
  EXPECT_NE(none.message().find("SC licence"), std::string::npos);
  in.certifications = {Sc("2025-01-01", "2026-02-28")};  // Expired the day before.
  EXPECT_FALSE(CheckProduct(in, seller, *CategoryTree::Defaults(), kNow).ok());
  in.certifications = {Sc("2026-03-02", "")};  // Not yet in force.
  EXPECT_FALSE(CheckProduct(in, seller, *CategoryTree::Defaults(), kNow).ok());
  in.certifications = {Sc("2026-03-01", "2026-03-01")};  // Inclusive on both ends.
  EXPECT_TRUE(CheckProduct(in, seller, *CategoryTree::Defaults(), kNow).ok());
  in.certifications = {{"organic", "OF-1", "", "", ""}};  // Another kind does not count.
  EXPECT_FALSE(CheckProduct(in, seller, *CategoryTree::Defaults(), kNow).ok());
  in.category = "fruit";  // Fresh produce needs none.
  in.certifications.clear();
  EXPECT_TRUE(CheckProduct(in, seller, *CategoryTree::Defaults(), kNow).ok());
}

TEST(CatalogRules, APoorHouseholdsLowestPriceIsItsFloor) {
  auto in = Millet();
  auto coop = CheckProduct(in, SellerOf("cooperative"), *CategoryTree::Defaults(), kNow);
  ASSERT_TRUE(coop.ok());
  EXPECT_EQ(*coop, Fen(0));
  auto poor = CheckProduct(in, SellerOf("poor_household"), *CategoryTree::Defaults(), kNow);
  ASSERT_TRUE(poor.ok());
  EXPECT_EQ(*poor, Fen(2990));
  in.floor_price_fen = 3000;  // Above the cheapest SKU.
  auto under = CheckProduct(in, SellerOf("poor_household"), *CategoryTree::Defaults(), kNow);
  EXPECT_EQ(under.error(), svc_errc::invalid_argument);
  EXPECT_NE(under.message().find("protective floor price of 3000 fen"), std::string::npos);
  EXPECT_TRUE(InPovertyZone(SellerOf("poor_household")));
  EXPECT_FALSE(InPovertyZone(SellerOf("cooperative")));
}

TEST(CatalogRules, SellerDefaultsAreWhatTheContentHashSees) {
  const Seller poor = SellerOf("poor_household");
  auto in = Millet();
  const uint64_t before = ContentHash(in);
  ApplySellerDefaults(in, poor);
  EXPECT_EQ(in.place_code, "140430");
  EXPECT_EQ(in.floor_price_fen, 2990);
  EXPECT_NE(ContentHash(in), before);
  auto again = Millet();
  ApplySellerDefaults(again, poor);
  EXPECT_EQ(ContentHash(again), ContentHash(in));  // Equal content, equal hash.
  again.skus[0].stock = 11;
  EXPECT_NE(ContentHash(again), ContentHash(in));  // A row's stock is content.
  auto own_place = Millet();
  own_place.place_code = "140430001";
  ApplySellerDefaults(own_place, SellerOf("cooperative"));
  EXPECT_EQ(own_place.place_code, "140430001");
  EXPECT_EQ(own_place.floor_price_fen, -1);
}

TEST(CatalogRules, DetailsAndImagesAreCheckedForForm) {
  schema::ProductDetails d;
  EXPECT_EQ(CheckDetails(d), "");
  d.images = {"https://example.com/" + std::string(1000, 'a')};
  EXPECT_EQ(CheckDetails(d).rfind("images[0]", 0), 0u);
  d.images = {"not-stored.jpg"};  // Whether it is stored is not a rule's question.
  EXPECT_EQ(CheckDetails(d), "");
  d.params = {{"", "500g"}};
  EXPECT_EQ(CheckDetails(d).rfind("params[0]", 0), 0u);
  d.params.clear();
  d.weight_grams = -1;
  EXPECT_EQ(CheckDetails(d).rfind("weight_grams", 0), 0u);

  EXPECT_EQ(*CheckImage("\xFF\xD8\xFF\xE0 jpeg"), "jpg");
  EXPECT_EQ(*CheckImage("\x89PNG\r\n\x1A\n..."), "png");
  EXPECT_EQ(*CheckImage(std::string_view("RIFF\0\0\0\0WEBPVP8 ", 16)), "webp");
  EXPECT_EQ(CheckImage("%PDF-1.7").error(), svc_errc::invalid_argument);
  std::string huge(kMaxImageBytes + 1, '\0');
  huge.replace(0, 6, "GIF89a");
  EXPECT_EQ(CheckImage(huge).message(), "image: at most 8 MiB");
  EXPECT_TRUE(IsUrl("http://a") && IsUrl("https://a") && !IsUrl("ftp://a"));
}

TEST(CatalogRules, TraceRecordsNeedABaseAndOrderedDates) {
  schema::TraceRecord r;
  auto no_base = CheckTraceRecord(r);
  ASSERT_TRUE(no_base.has_value());
  EXPECT_EQ(no_base->code, svc_errc::invalid_argument);
  EXPECT_EQ(no_base->message.rfind("production_base", 0), 0u);
  r.production_base = "沁县次村乡基地";
  EXPECT_FALSE(CheckTraceRecord(r).has_value());
  r.harvest_date = "2025-10-02";
  r.packing_date = "2025-10-01";
  ASSERT_TRUE(CheckTraceRecord(r).has_value());
  EXPECT_EQ(CheckTraceRecord(r)->message, "packing_date: cannot be before harvest_date");
  r.packing_date = "2025-10-20";
  EXPECT_FALSE(CheckTraceRecord(r).has_value());
  r.farming = {{"2025-05-01", ""}};
  EXPECT_EQ(CheckTraceRecord(r)->message.rfind("farming[0]", 0), 0u);
  r.farming.clear();
  r.inspection_report = std::string(2001, 'x');
  EXPECT_TRUE(CheckTraceRecord(r).has_value());
}

TEST(StockRules, AReservationNeedsAKnownSkuAndEnoughStock) {
  Sku sku = SkuWith(5);
  EXPECT_EQ(CheckReserve(nullptr, 1), StockRejection::kUnknownSku);
  EXPECT_EQ(CheckReserve(&sku, 6), StockRejection::kInsufficientStock);
  EXPECT_EQ(CheckReserve(&sku, 0), StockRejection::kInsufficientStock);
  EXPECT_EQ(CheckReserve(&sku, -3), StockRejection::kInsufficientStock);
  EXPECT_EQ(CheckReserve(&sku, 5), std::nullopt);
  EXPECT_FALSE(OverHoldCap(/*held=*/100, /*quantity=*/100, /*cap=*/0));  // No cap.
  EXPECT_FALSE(OverHoldCap(2, 3, 5));
  EXPECT_TRUE(OverHoldCap(3, 3, 5));
  EXPECT_EQ(HeldAfter(2, -5), 0);
  EXPECT_EQ(HeldAfter(2, 3), 5);
}

TEST(StockRules, EveryMoveKeepsTheUnitsAccountedFor) {
  Sku sku = SkuWith(10);
  Reserve(sku, 4);
  EXPECT_EQ(sku.stock, 6);
  EXPECT_EQ(sku.reserved, 4);
  Release(sku, 1);
  EXPECT_EQ(sku.stock, 7);
  EXPECT_EQ(sku.reserved, 3);
  Sell(sku, 3);
  EXPECT_EQ(sku.reserved, 0);
  EXPECT_EQ(sku.sold, 3);
  EXPECT_TRUE(CanTake(&sku, 7));
  EXPECT_FALSE(CanTake(&sku, 8));
  EXPECT_FALSE(CanTake(nullptr, 0));
  SellFromStock(sku, 2);
  EXPECT_EQ(sku.stock, 5);
  EXPECT_EQ(sku.sold, 5);
  EXPECT_EQ(sku.stock + sku.reserved + sku.sold, 10);
  EXPECT_EQ(Restock(sku, 8), 5);  // Never more than were sold.
  EXPECT_EQ(sku.stock, 10);
  EXPECT_EQ(sku.sold, 0);

  schema::StockReserved reserved;
  SetLevels(sku, reserved);
  EXPECT_EQ(reserved.levels(), (schema::StockLevels{10, 0, 0}));
  schema::StockRejected rejected;
  SetLevels(sku, rejected);
  EXPECT_EQ(rejected.available, 10);
}

TEST(StockRules, AChainDividesThePriceFromTheSupplierOut) {
  Sku supplier = SkuWith(3), first = SkuWith(0), second = SkuWith(0);
  supplier.seller_id = "sel_supplier";
  supplier.price = Fen(1000);
  first.seller_id = "sel_first";
  first.price = Fen(1100);
  second.seller_id = "sel_second";
  second.price = Fen(1250);
  EXPECT_TRUE(DistributionOf(SkuChain{{&supplier}, 1}).commissions.empty());
  EXPECT_EQ(SkuChain{}.stock(), nullptr);
  const SkuChain chain{{&second, &first, &supplier}, 3};
  EXPECT_EQ(chain.stock(), &supplier);
  auto d = DistributionOf(chain);
  EXPECT_EQ(d.listing_seller_id, "sel_second");
  EXPECT_EQ(d.supply_price, Fen(1000));
  ASSERT_EQ(d.commissions.size(), 2u);
  EXPECT_EQ(d.commissions[0].seller_id, "sel_first");
  EXPECT_EQ(d.commissions[0].unit, Fen(100));
  EXPECT_EQ(d.commissions[1].seller_id, "sel_second");
  EXPECT_EQ(d.commissions[1].unit, Fen(150));
}

TEST(DistributionRules, MarkupsRoundUpAndChainsStopAtTwoLevels) {
  EXPECT_EQ(MarkedUp(Fen(999), 10, 0), Fen(1099));  // 1098.9 rounds up.
  EXPECT_EQ(MarkedUp(Fen(1000), 0, 50), Fen(1050));
  EXPECT_EQ(MarkedUp(Fen(kMaxPriceFen), 1000, 100'000'000), Fen(kMaxPriceFen * 11 + 100'000'000));
  Product listing;
  listing.markup_percent = 0;
  listing.floor_price = Fen(1200);
  EXPECT_EQ(ListingPrice(Fen(1000), listing), Fen(1200));  // The supplier's floor binds.
  // Money is checked, never wrapped: a price past int64 is no price.
  EXPECT_EQ(MarkedUp(Fen(std::numeric_limits<int64_t>::max() / 100), 1000, 0), std::nullopt);
  EXPECT_EQ(MarkedUp(Fen(std::numeric_limits<int64_t>::max() - 10), 0, 100), std::nullopt);
  listing.markup_percent = 1000;
  EXPECT_EQ(ListingPrice(Fen(std::numeric_limits<int64_t>::max() / 20), listing), std::nullopt);

  DistributeInput in{"sel_d", "sel_s", {}, 10, 0};
  EXPECT_FALSE(CheckMarkup(in).has_value());
  EXPECT_FALSE(CheckDistribute(in, kMaxDistribute).has_value());
  EXPECT_EQ(CheckDistribute(in, kMaxDistribute + 1)->message.rfind("product_ids", 0), 0u);
  in.markup_percent = 1001;
  EXPECT_EQ(CheckMarkup(in)->message.rfind("markup_percent", 0), 0u);
  in.markup_percent = 0;
  in.markup_fen = -1;
  EXPECT_EQ(CheckMarkup(in)->code, svc_errc::invalid_argument);
  in.markup_fen = 0;
  in.supplier_id = "sel_d";
  EXPECT_EQ(CheckDistribute(in, 1)->message.rfind("supplier_id", 0), 0u);

  Product source;
  source.id = "prd_1";
  EXPECT_EQ(CheckDistributable(source, "", "sel_d", 0), "");
  source.level = 1;
  EXPECT_EQ(CheckDistributable(source, "sel_s", "sel_d", 0), "");
  EXPECT_EQ(CheckDistributable(source, "sel_d", "sel_d", 2),
            "product_ids[2]: prd_1 resells your own product");
  source.level = 2;
  EXPECT_NE(CheckDistributable(source, "sel_s", "sel_d", 0).find("at most two levels"),
            std::string::npos);
}

// Control characters are refused in every text field, naming the field; a description (and the
// trace record's inspection texts) keep tabs and line breaks, but never a NUL.
TEST(CatalogRules, ControlCharactersAreRefusedByField) {
  const Seller seller = SellerOf("cooperative");
  auto refused = [&](ProductInput in, std::string_view field) {
    auto r = CheckProduct(in, seller, *CategoryTree::Defaults(), kNow);
    EXPECT_EQ(r.error(), svc_errc::invalid_argument) << field;
    EXPECT_EQ(r.message().rfind(std::string(field) + ": contains the control character", 0), 0u)
        << r.message();
  };
  auto in = Millet();
  in.title = std::string("沁州黄\0小米", sizeof("沁州黄\0小米") - 1);
  refused(in, "title");
  in.title = "沁州黄\n小米";
  refused(in, "title");
  in.title = "沁州黄\xC2\x85小米";  // U+0085, a C1 control (NEL)
  refused(in, "title");
  in = Millet();
  in.brand = "沁州\x7F黄";
  refused(in, "brand");
  in = Millet();
  in.skus[1].spec = "2.5\tkg";
  refused(in, "skus[1].spec");
  in = Millet();
  in.details.subtitle = "新\r米";
  refused(in, "subtitle");
  in = Millet();
  in.details.params = {{"产地", "沁县\x01"}};
  refused(in, "params[0].value");
  in = Millet();
  in.certifications = {Sc("", "")};
  in.certifications[0].issuer = "长治\x1B[31m";
  refused(in, "certifications[0].issuer");
  in = Millet();
  in.details.description = "<p>高山云雾</p>\n\t<p>手工\r\n炒制</p>";
  EXPECT_TRUE(CheckProduct(in, seller, *CategoryTree::Defaults(), kNow).ok());
  in.details.description += std::string(1, '\0');
  refused(in, "description");
  in = Millet();
  in.title = "沁州黄小米 é 𝄞";  // Ordinary non-ASCII is text.
  EXPECT_TRUE(CheckProduct(in, seller, *CategoryTree::Defaults(), kNow).ok());

  auto seller_in =
      SellerInput{std::string("沁县\0合作社", sizeof("沁县\0合作社") - 1), "140430", "cooperative"};
  EXPECT_EQ(CheckSeller(seller_in).message().rfind("name: contains the control character", 0), 0u);

  schema::TraceRecord r;
  r.production_base = std::string("次村村\0基地", sizeof("次村村\0基地") - 1);
  EXPECT_EQ(CheckTraceRecord(r)->message.rfind("production_base: contains", 0), 0u);
  r.production_base = "次村村基地";
  r.inspection_report = "SX-2026-0931\n合格";
  EXPECT_FALSE(CheckTraceRecord(r).has_value());
  r.inspection_report += std::string(1, '\0');
  EXPECT_EQ(CheckTraceRecord(r)->message.rfind("inspection_report: contains", 0), 0u);
  r.inspection_report.clear();
  r.farming = {{"2026-05-01", "播种\b"}};
  EXPECT_EQ(CheckTraceRecord(r)->message.rfind("farming[0].operation: contains", 0), 0u);
}

// Two SKUs of one product cannot share a spec (edits and pack rows match SKUs by it), and a
// negative floor price is refused rather than read as "none".
TEST(CatalogRules, SpecsAreUniqueAndFloorPricesAreNotNegative) {
  const Seller seller = SellerOf("cooperative");
  auto in = Millet();
  in.skus.push_back({"500g", Fen(3000), 1});
  auto twice = CheckProduct(in, seller, *CategoryTree::Defaults(), kNow);
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.message().rfind("skus[2].spec: \"500g\" is already the spec of skus[0]", 0), 0u)
      << twice.message();
  in = Millet();
  in.floor_price_fen = -5;
  auto negative = CheckProduct(in, seller, *CategoryTree::Defaults(), kNow);
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.message().rfind("floor_price_fen: ", 0), 0u) << negative.message();
  in.floor_price_fen = -1;  // The internal "none" (the field left out).
  EXPECT_TRUE(CheckProduct(in, seller, *CategoryTree::Defaults(), kNow).ok());
  in.floor_price_fen = 2990;
  EXPECT_TRUE(CheckProduct(in, seller, *CategoryTree::Defaults(), kNow).ok());
  // A pack row says "none" by leaving the field out: -5 there is refused too, by name.
  auto pack = ParseNdjsonPack(
      R"({"outer_id":"A","title":"t","floor_price_fen":-5,"skus":[{"spec":"1","price_fen":1,"stock":1}]})"
      "\n",
      10);
  ASSERT_EQ(pack.errors.size(), 1u);
  EXPECT_EQ(pack.errors[0].message.rfind("floor_price_fen: ", 0), 0u) << pack.errors[0].message;
}

}  // namespace
}  // namespace pavilion::catalog
