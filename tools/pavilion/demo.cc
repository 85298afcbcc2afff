#include "demo.h"

#include <future>

namespace pavilion::tools {
namespace {

struct DemoSku {
  const char* spec;
  int64_t price_fen;
  int64_t stock;
};

struct DemoProduct {
  const char* title;
  std::vector<DemoSku> skus;
  const char* category = "other";
  const char* brand = "";
  std::vector<events::schema::Certification> certifications = {};
  const char* production_base = nullptr;  // Set: register a traced batch.
};

struct DemoSeller {
  const char* name;
  const char* place_code;
  const char* supplier_type;
  std::vector<DemoProduct> products;
};

// Demo licences: valid for years either side of today, so the demo never ages out.
events::schema::Certification Sc(const char* number) {
  return {"sc_licence", number, "县市场监督管理局", "2020-01-01", "2099-12-31"};
}
events::schema::Certification Cert(const char* type, const char* number, const char* issuer) {
  return {type, number, issuer, "2020-01-01", "2099-12-31"};
}

}  // namespace

Result<DemoPavilion> LoadDemoPavilion(catalog::CatalogService& catalog) {
  const std::vector<DemoSeller> sellers = {
      {"沁州黄小米合作社",
       "140430",
       "cooperative",
       {{"沁州黄小米 (地理标志)",
         {{"500g", 2990, 500}, {"2.5kg 礼盒", 12800, 120}},
         "grain",
         "沁州黄",
         {Sc("SC10114043000011"), Cert("geographic_indication", "AGI00123", "农业农村部")},
         "沁县沁州黄镇次村村谷子基地"},
        {"沁州黄米醋", {{"500ml", 1890, 300}}, "condiment", "沁州黄", {Sc("SC10314043000022")}}}},
      {"次村村电商服务站",
       "140430",
       "village_station",
       {{"沁县核桃仁", {{"250g", 3580, 200}}, "nuts", "", {Sc("SC11914043000033")}},
        {"沁县土鸡蛋", {{"30枚", 4500, 150}}, "eggs"}}},
      {"古丈县茶农张大姐 (建档立卡贫困户)",
       "433126",
       "poor_household",
       {{"古丈毛尖 有机绿茶",
         {{"100g", 16800, 80}, {"250g 礼盒", 38800, 30}},
         "tea",
         "古丈毛尖",
         {Sc("SC11443312600044"), Cert("organic", "ORG-2024-0871", "中绿华夏有机食品认证中心")},
         "古丈县古阳镇有机茶园"},
        {"古丈八月瓜", {{"3斤装", 5800, 60}}, "fruit"}}},
      {"周至猕猴桃家庭农场",
       "610124",
       "family_farm",
       {{"周至猕猴桃 徐香",
         {{"5斤装", 4990, 400}, {"10斤装", 8990, 200}},
         "fruit",
         "周至猕猴桃",
         {Cert("geographic_indication", "AGI00456", "农业农村部")}}}},
      {"临潼石榴龙头企业",
       "610115",
       "leading_enterprise",
       {{"临潼石榴 净皮甜",
         {{"8个装", 5990, 300}},
         "fruit",
         "临潼石榴",
         {Cert("green_food", "LB-18-2101610115", "中国绿色食品发展中心")}}}},
      {"六安瓜片茶业",
       "341524",
       "enterprise",
       {{"六安瓜片 明前", {{"125g", 19800, 100}}, "tea", "六安瓜片", {Sc("SC11434152400055")}}}},
      {"霍山石斛专业合作社",
       "341525",
       "cooperative",
       {{"霍山石斛 枫斗", {{"50g", 68000, 40}}, "herbs", "霍山石斛"}}},
  };
  DemoPavilion demo;
  std::vector<std::string> seller_ids;
  for (const auto& s : sellers) {
    auto seller = events::Await<catalog::Seller>([&](auto done) {
      catalog.RegisterSeller(catalog::SellerInput{s.name, s.place_code, s.supplier_type}, done);
    });
    if (!seller.ok()) return seller.error_detail();
    seller_ids.push_back(seller->id);
    demo.sellers.push_back({seller->id, s.name});
    for (const auto& p : s.products) {
      catalog::ProductInput in;
      in.seller_id = seller->id;
      in.title = p.title;
      in.category = p.category;
      in.brand = p.brand;
      in.certifications = p.certifications;
      in.details.params = {{"产地", s.name}};
      for (const auto& k : p.skus) in.skus.push_back({k.spec, Fen(k.price_fen), k.stock});
      auto product = events::Await<catalog::Product>(
          [&](auto done) { catalog.CreateProduct(std::move(in), done); });
      if (!product.ok()) return product.error_detail();
      demo.skus += static_cast<int>(product->skus.size());
      if (p.production_base == nullptr) continue;
      events::schema::TraceRecord record;
      record.production_base = p.production_base;
      record.farming = {{"2026-04-10", "整地施有机肥"}, {"2026-06-18", "人工除草"}};
      record.soil_water_inspection = "2026-03 土壤、灌溉水检测合格";
      record.harvest_date = "2026-09-25";
      record.packing_date = "2026-10-02";
      record.inspection_report = "县农产品质量检测站 2026-1002 合格";
      auto batch = events::Await<catalog::Batch>([&](auto done) {
        catalog.RegisterBatch({product->id, "", record}, done);
      });
      if (!batch.ok()) return batch.error_detail();
      demo.trace_codes.push_back(batch->trace_code);
    }
  }
  // The village service station resells the millet cooperative's products (代卖, 一键分销) with a
  // 15 % margin: listings that share the cooperative's stock.
  auto listed = events::Await<catalog::DistributeReport>([&](auto done) {
    catalog.Distribute({seller_ids[1], seller_ids[0], {}, 15, 0}, done);
  });
  if (!listed.ok()) return listed.error_detail();
  demo.listings = listed->created;
  return demo;
}

}  // namespace pavilion::tools
