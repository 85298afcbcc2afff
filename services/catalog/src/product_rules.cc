#include "product_rules.h"

#include <algorithm>
#include <cstdio>
#include <unordered_map>

#include "category_tree.h"

namespace pavilion::catalog {
namespace {

using events::svc_errc;
namespace schema = events::schema;

std::string JoinedList(auto all) {
  std::string list;
  for (auto v : all) list += (list.empty() ? "" : ", ") + std::string(ToString(v));
  return list;
}

}  // namespace

std::string ControlCharacter(std::string_view field, std::string_view s, bool multiline) {
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    unsigned code = 0x100;  // None.
    if (c < 0x20 || c == 0x7F) {
      if (multiline && (c == '\t' || c == '\n' || c == '\r')) continue;
      code = c;
    } else if (c == 0xC2 && i + 1 < s.size()) {
      const auto next = static_cast<unsigned char>(s[i + 1]);
      if (next >= 0x80 && next <= 0x9F) code = next;
    }
    if (code == 0x100) continue;
    char hex[8];
    std::snprintf(hex, sizeof hex, "U+%04X", code);
    return std::string(field) + ": contains the control character " + hex + " at byte " +
           std::to_string(i) + "; remove it" +
           (multiline ? "" : " (line breaks and tabs belong only in a description)");
  }
  return {};
}

std::string_view ImageType(std::string_view b) {
  auto starts = [&](std::string_view magic, size_t at = 0) {
    return b.size() >= at + magic.size() && b.substr(at, magic.size()) == magic;
  };
  if (starts("\xFF\xD8\xFF")) return "jpg";
  if (starts("\x89PNG\r\n\x1A\n")) return "png";
  if (starts("GIF87a") || starts("GIF89a")) return "gif";
  if (starts("RIFF") && starts("WEBP", 8)) return "webp";
  return {};
}

const std::vector<std::string>& CertificationTypes() {
  static const std::vector<std::string> kTypes = [] {
    std::vector<std::string> types;
    for (auto k : AllCertificationKinds()) types.emplace_back(ToString(k));
    return types;
  }();
  return kTypes;
}

const std::vector<std::string>& SupplierTypes() {
  static const std::vector<std::string> kTypes = [] {
    std::vector<std::string> types;
    for (auto t : AllSupplierTypes()) types.emplace_back(ToString(t));
    return types;
  }();
  return kTypes;
}

bool CertificationValid(const schema::Certification& c, const std::string& day) {
  return (c.valid_from.empty() || c.valid_from <= day) && (c.valid_to.empty() || day <= c.valid_to);
}

bool ValidPlaceCode(std::string_view code) {
  if (code.size() != 6 && code.size() != 9 && code.size() != 12) return false;
  return std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string UnknownPlace(places::PlaceDirectory* places, std::string_view code) {
  // Not loaded: only the form was checked (and nothing is read).
  if (places == nullptr || places->Source().empty() || code.empty() || places->Find(code)) {
    return "";
  }
  return "place_code: no division " + std::string(code) + " in " + places->Source() +
         "; look the code up with GET /v1/places?q=<the place's name>";
}

Result<SupplierType> CheckSeller(const SellerInput& in) {
  if (!ValidText(in.name, 200)) {
    return {svc_errc::invalid_argument, "name: give the seller's name (1 to 200 bytes)"};
  }
  if (auto bad = ControlCharacter("name", in.name); !bad.empty()) {
    return {svc_errc::invalid_argument, std::move(bad)};
  }
  if (!ValidPlaceCode(in.place_code)) {
    return {svc_errc::invalid_argument,
            "place_code: use an administrative-division code of 6, 9 or 12 digits, e.g. "
            "\"140430\" for 沁县"};
  }
  return CheckSupplierType(in.supplier_type);
}

Result<SupplierType> CheckSupplierType(std::string_view name) {
  SupplierType type{};
  if (!Parse(name, &type)) {
    return {svc_errc::invalid_argument,
            "supplier_type: use one of " + JoinedList(AllSupplierTypes())};
  }
  return type;
}

bool InPovertyZone(const Seller& seller) {
  SupplierType type{};
  return Parse(seller.supplier_type, &type) && type == SupplierType::kPoorHousehold;
}

std::string CheckDetails(const schema::ProductDetails& d) {
  if (d.subtitle.size() > 300) return "subtitle: at most 300 bytes";
  if (d.description.size() > 100'000) return "description: at most 100000 bytes";
  if (d.images.size() > kMaxImagesPerProduct) return "images: at most 20 images";
  for (size_t i = 0; i < d.images.size(); ++i) {
    if (IsUrl(d.images[i]) && d.images[i].size() > 1000) {
      return "images[" + std::to_string(i) + "]: URLs are at most 1000 bytes";
    }
  }
  if (d.params.size() > 100) return "params: at most 100 parameters";
  for (size_t i = 0; i < d.params.size(); ++i) {
    if (!ValidText(d.params[i].name, 60) || d.params[i].value.size() > 500) {
      return "params[" + std::to_string(i) +
             "]: give a name (1 to 60 bytes) and a value (at most 500 bytes)";
    }
  }
  if (d.weight_grams < 0 || d.weight_grams > 100'000'000) {
    return "weight_grams: give grams between 0 and 100000000";
  }
  if (d.barcode.size() > 32) return "barcode: at most 32 characters";
  for (const auto& [field, text] :
       {std::pair{"subtitle", &d.subtitle}, std::pair{"barcode", &d.barcode}}) {
    if (auto bad = ControlCharacter(field, *text); !bad.empty()) return bad;
  }
  if (auto bad = ControlCharacter("description", d.description, true); !bad.empty()) return bad;
  for (size_t i = 0; i < d.images.size(); ++i) {
    if (auto bad = ControlCharacter("images[" + std::to_string(i) + "]", d.images[i]);
        !bad.empty()) {
      return bad;
    }
  }
  for (size_t i = 0; i < d.params.size(); ++i) {
    const std::string at = "params[" + std::to_string(i) + "].";
    if (auto bad = ControlCharacter(at + "name", d.params[i].name); !bad.empty()) return bad;
    if (auto bad = ControlCharacter(at + "value", d.params[i].value); !bad.empty()) return bad;
  }
  return {};
}

Result<Fen> CheckProduct(const ProductInput& in, const Seller& seller,
                         const CategoryTree& categories, int64_t now_micros) {
  if (!ValidText(in.title, 300)) {
    return {svc_errc::invalid_argument, "title: give a title of 1 to 300 bytes"};
  }
  if (auto bad = ControlCharacter("title", in.title); !bad.empty()) {
    return {svc_errc::invalid_argument, std::move(bad)};
  }
  if (in.skus.empty() || in.skus.size() > kMaxSkusPerProduct) {
    return {svc_errc::invalid_argument, "skus: give 1 to 200 SKUs"};
  }
  for (size_t i = 0; i < in.skus.size(); ++i) {
    const auto& s = in.skus[i];
    std::string at = "skus[" + std::to_string(i) + "].";
    if (!ValidText(s.spec, 100)) {
      return {svc_errc::invalid_argument, at + "spec: give a spec such as \"500g\""};
    }
    if (auto bad = ControlCharacter(at + "spec", s.spec); !bad.empty()) {
      return {svc_errc::invalid_argument, std::move(bad)};
    }
    if (s.price.value() <= 0 || s.price.value() > kMaxPriceFen) {
      return {svc_errc::invalid_argument,
              at + "price_fen: give a price in fen between 1 and 10000000000"};
    }
    if (s.stock < 0 || s.stock > kMaxStock) {
      return {svc_errc::invalid_argument, at + "stock: give a stock between 0 and 1000000000"};
    }
  }
  // SKUs are told apart by their spec (an edit or a pack row matches them by it), so two
  // SKUs with one spec would make one of them unreachable.
  std::unordered_map<std::string_view, size_t> spec_at;
  for (size_t i = 0; i < in.skus.size(); ++i) {
    auto [it, fresh] = spec_at.emplace(in.skus[i].spec, i);
    if (!fresh) {
      return {svc_errc::invalid_argument, "skus[" + std::to_string(i) + "].spec: \"" +
                                              in.skus[i].spec + "\" is already the spec of skus[" +
                                              std::to_string(it->second) +
                                              "]; give each SKU of a product its own spec"};
    }
  }
  if (in.floor_price_fen < -1 || in.floor_price_fen > kMaxPriceFen) {
    return {svc_errc::invalid_argument,
            "floor_price_fen: give a price in fen between 0 and 10000000000, or leave it out "
            "for none"};
  }
  const Category* cat = categories.Find(in.category);
  if (cat == nullptr) {
    return {svc_errc::invalid_argument, "category: no category \"" + in.category +
                                            "\"; use one of " + categories.Codes() +
                                            " (GET /v1/categories)"};
  }
  if (in.brand.size() > 100) return {svc_errc::invalid_argument, "brand: at most 100 bytes"};
  if (auto bad = ControlCharacter("brand", in.brand); !bad.empty()) {
    return {svc_errc::invalid_argument, std::move(bad)};
  }
  if (!in.place_code.empty() && !ValidPlaceCode(in.place_code)) {
    return {svc_errc::invalid_argument, "place_code: use a 6, 9 or 12-digit division code"};
  }
  const std::string today =
      in.certifications.empty() ? std::string() : events::BusinessDay(now_micros);
  bool has_sc = false;
  for (size_t i = 0; i < in.certifications.size(); ++i) {
    const auto& c = in.certifications[i];
    std::string at = "certifications[" + std::to_string(i) + "].";
    CertificationKind kind{};
    if (!Parse(c.type, &kind)) {
      return {svc_errc::invalid_argument,
              at + "type: use pollution_free, green_food, organic, geographic_indication, "
                   "sc_licence or iso"};
    }
    if (!ValidText(c.number, 100)) return {svc_errc::invalid_argument, at + "number: required"};
    for (const auto& [field, text] :
         {std::pair{"number", &c.number}, std::pair{"issuer", &c.issuer}}) {
      if (auto bad = ControlCharacter(at + field, *text); !bad.empty()) {
        return {svc_errc::invalid_argument, std::move(bad)};
      }
    }
    if ((!c.valid_from.empty() && !events::IsDay(c.valid_from)) ||
        (!c.valid_to.empty() && !events::IsDay(c.valid_to))) {
      return {svc_errc::invalid_argument, at + "valid_from/valid_to: use YYYY-MM-DD"};
    }
    has_sc = has_sc || (kind == CertificationKind::kScLicence && CertificationValid(c, today));
  }
  if (cat->needs_sc && !has_sc) {
    return {svc_errc::invalid_argument,
            "certifications: category " + cat->code +
                " is processed food and needs an SC licence (sc_licence) valid today"};
  }
  if (auto bad = CheckDetails(in.details); !bad.empty()) {
    return {svc_errc::invalid_argument, std::move(bad)};
  }
  const bool poverty = InPovertyZone(seller);
  Fen lowest(INT64_MAX);
  for (const auto& s : in.skus) lowest = std::min(lowest, s.price);
  Fen floor = in.floor_price_fen >= 0 ? Fen(in.floor_price_fen) : poverty ? lowest : Fen(0);
  if (lowest < floor) {
    return {svc_errc::invalid_argument,
            "skus: no price may be below the protective floor price of " +
                std::to_string(floor.value()) + " fen"};
  }
  return floor;
}

void ApplySellerDefaults(ProductInput& in, const Seller& seller) {
  if (in.place_code.empty()) in.place_code = seller.place_code;
  if (in.floor_price_fen < 0 && InPovertyZone(seller) && !in.skus.empty()) {
    Fen lowest(INT64_MAX);
    for (const auto& sku : in.skus) lowest = std::min(lowest, sku.price);
    in.floor_price_fen = lowest.value();
  }
}

uint64_t ContentHash(const ProductInput& in) {
  std::string c;
  c.reserve(256 + in.title.size() + in.details.description.size());
  auto field = [&c](std::string_view f, char separator = '\x1f') {
    c.append(f);
    c.push_back(separator);
  };
  for (const auto* f : {&in.title, &in.brand, &in.category, &in.place_code}) field(*f);
  c += std::to_string(in.floor_price_fen);
  for (const auto& cert : in.certifications) {
    c.push_back('\x1e');
    for (const auto* f : {&cert.type, &cert.number, &cert.issuer, &cert.valid_from}) field(*f);
    c.append(cert.valid_to);
  }
  c.push_back('\x1c');
  events::Writer details(c);
  details(in.details);
  for (const auto& sku : in.skus) {
    c.push_back('\x1d');
    field(sku.spec);
    field(std::to_string(sku.price.value()));
    c.append(std::to_string(sku.stock));
  }
  return events::Fingerprint64(c);
}

Result<std::string_view> CheckImage(std::string_view bytes) {
  std::string_view type = ImageType(bytes);
  if (type.empty()) {
    return {svc_errc::invalid_argument, "image: send a JPEG, PNG, GIF or WebP image"};
  }
  if (bytes.size() > kMaxImageBytes) return {svc_errc::invalid_argument, "image: at most 8 MiB"};
  return type;
}

std::optional<Error> CheckTraceRecord(const schema::TraceRecord& r) {
  auto invalid = [](std::string message) {
    return Error{make_error_code(svc_errc::invalid_argument), std::move(message)};
  };
  if (!ValidText(r.production_base, 200)) {
    return invalid("production_base: name the production base (1 to 200 bytes)");
  }
  if (auto bad = ControlCharacter("production_base", r.production_base); !bad.empty()) {
    return invalid(std::move(bad));
  }
  for (const auto& [field, value] :
       {std::pair{"harvest_date", &r.harvest_date}, std::pair{"packing_date", &r.packing_date}}) {
    if (!value->empty() && !events::IsDay(*value)) {
      return invalid(std::string(field) + ": use YYYY-MM-DD");
    }
  }
  if (!r.harvest_date.empty() && !r.packing_date.empty() && r.packing_date < r.harvest_date) {
    return invalid("packing_date: cannot be before harvest_date");
  }
  if (r.farming.size() > 100) return invalid("farming: at most 100 steps");
  for (size_t i = 0; i < r.farming.size(); ++i) {
    if (!events::IsDay(r.farming[i].date) || !ValidText(r.farming[i].operation, 200)) {
      return invalid("farming[" + std::to_string(i) +
                     "]: give a date (YYYY-MM-DD) and an operation");
    }
  }
  for (size_t i = 0; i < r.farming.size(); ++i) {
    if (auto bad = ControlCharacter("farming[" + std::to_string(i) + "].operation",
                                    r.farming[i].operation);
        !bad.empty()) {
      return invalid(std::move(bad));
    }
  }
  for (const auto* text : {&r.soil_water_inspection, &r.inspection_report}) {
    if (text->size() > 2000) return invalid("inspection texts: at most 2000 bytes each");
  }
  for (const auto& [field, text] : {std::pair{"soil_water_inspection", &r.soil_water_inspection},
                                    std::pair{"inspection_report", &r.inspection_report}}) {
    if (auto bad = ControlCharacter(field, *text, true); !bad.empty())
      return invalid(std::move(bad));
  }
  return std::nullopt;
}

}  // namespace pavilion::catalog
