#include "pavilion/catalog/pack.h"

#include <simdjson.h>

#include "pavilion/base/json_writer.h"

namespace pavilion::catalog {
namespace {

namespace dom = simdjson::dom;

constexpr const char* kFloorPriceHint =
    "give a price in fen between 0 and 10000000000, or leave it out for none";

// Reads one field of an object into `out`; absent is fine unless `required`.
class Row {
 public:
  Row(dom::object obj, std::string prefix) : obj_(obj), prefix_(std::move(prefix)) {}

  bool Str(const char* key, std::string* out, size_t max, bool required = false) {
    dom::element e;
    if (obj_[key].get(e)) return !required || Fail(key, "required");
    std::string_view v;
    if (e.get(v)) return Fail(key, "expected a string");
    if (v.size() > max) return Fail(key, "at most " + std::to_string(max) + " bytes");
    out->assign(v);
    return true;
  }

  bool Int(const char* key, int64_t* out, bool required = false) {
    dom::element e;
    if (obj_[key].get(e)) return !required || Fail(key, "required");
    if (e.get(*out)) return Fail(key, "expected an integer");
    return true;
  }

  // An absent array leaves `*present` false: a default dom::array must not be iterated.
  bool Array(const char* key, dom::array* out, bool* present) {
    dom::element e;
    *present = false;
    if (obj_[key].get(e)) return true;
    if (e.get(*out)) return Fail(key, "expected an array");
    *present = true;
    return true;
  }

  bool Fail(std::string_view key, std::string_view what) {
    error_ = prefix_ + std::string(key) + ": " + std::string(what);
    return false;
  }
  const std::string& error() const { return error_; }

 private:
  dom::object obj_;
  std::string prefix_;
  std::string error_;
};

// Reads each object of an array field with `fn`, which returns false on the first bad field; the
// first problem (of this field or an earlier one) stays in `*error`.
template <typename Fn>
void EachObject(bool present, dom::array items, std::string_view field, std::string* error, Fn fn) {
  if (!present) return;
  size_t i = 0;
  for (auto it = items.begin(); error->empty() && it != items.end(); ++it, ++i) {
    std::string at = std::string(field) + "[" + std::to_string(i) + "].";
    dom::object obj;
    if ((*it).get(obj)) {
      *error = at + ": expected an object";
      return;
    }
    Row r(obj, at);
    if (!fn(r)) {
      *error = r.error();
      return;
    }
  }
}

}  // namespace

ParsedPack ParseNdjsonPack(std::string_view text, size_t max_rows, int first_row) {
  ParsedPack pack;
  dom::parser parser;
  int row = first_row - 1;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++row;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (pack.rows.size() + pack.errors.size() >= max_rows) {
      pack.errors.push_back({row, "pack: more than " + std::to_string(max_rows) + " rows"});
      break;
    }
    dom::element doc;
    dom::object obj;
    if (auto err = parser.parse(line.data(), line.size()).get(doc); err) {
      pack.errors.push_back({row, std::string("not valid JSON: ") + simdjson::error_message(err)});
      continue;
    }
    if (doc.get(obj)) {
      pack.errors.push_back({row, "each line must be a JSON object"});
      continue;
    }
    PackRow out;
    out.row = row;
    ProductInput& p = out.product;
    Row r(obj, "");
    dom::array skus, certs, images, params;
    bool has_skus = false, has_certs = false, has_images = false, has_params = false;
    auto& d = p.details;
    bool ok =
        r.Str("outer_id", &out.outer_id, 64, true) && r.Str("title", &p.title, 300, true) &&
        r.Str("brand", &p.brand, 100) && r.Str("category", &p.category, 40) &&
        r.Str("place_code", &p.place_code, 12) && r.Int("floor_price_fen", &p.floor_price_fen) &&
        r.Array("skus", &skus, &has_skus) && r.Array("certifications", &certs, &has_certs) &&
        r.Str("subtitle", &d.subtitle, 300) && r.Str("description", &d.description, 100'000) &&
        r.Array("images", &images, &has_images) && r.Array("params", &params, &has_params) &&
        r.Int("weight_grams", &d.weight_grams) && r.Str("barcode", &d.barcode, 32);
    if (ok && out.outer_id.empty()) ok = r.Fail("outer_id", "required");
    // -1 is the internal "none": a row says none by leaving the field out, never by a negative.
    if (ok && p.floor_price_fen < 0 && obj["floor_price_fen"].error() == simdjson::SUCCESS) {
      ok = r.Fail("floor_price_fen", kFloorPriceHint);
    }
    // The first problem of the line is reported: its row and field.
    std::string error = ok ? "" : r.error();
    EachObject(has_skus, skus, "skus", &error, [&](Row& s) {
      SkuInput in;
      int64_t price = 0;
      if (!(s.Str("spec", &in.spec, 100, true) && s.Int("price_fen", &price, true) &&
            s.Int("stock", &in.stock, true))) {
        return false;
      }
      in.price = Fen(price);
      p.skus.push_back(std::move(in));
      return true;
    });
    EachObject(has_certs, certs, "certifications", &error, [&](Row& c) {
      events::schema::Certification in;
      if (!(c.Str("type", &in.type, 40, true) && c.Str("number", &in.number, 100, true) &&
            c.Str("issuer", &in.issuer, 200) && c.Str("valid_from", &in.valid_from, 10) &&
            c.Str("valid_to", &in.valid_to, 10))) {
        return false;
      }
      p.certifications.push_back(std::move(in));
      return true;
    });
    size_t i = 0;
    if (has_images)
      for (auto it = images.begin(); error.empty() && it != images.end(); ++it, ++i) {
        std::string_view name;
        if ((*it).get(name) || name.empty() || name.size() > 1000) {
          error = "images[" + std::to_string(i) + "]: expected an image name or URL";
          break;
        }
        d.images.emplace_back(name);
      }
    EachObject(has_params, params, "params", &error, [&](Row& c) {
      events::schema::Param in;
      if (!(c.Str("name", &in.name, 60, true) && c.Str("value", &in.value, 500, true))) {
        return false;
      }
      d.params.push_back(std::move(in));
      return true;
    });
    if (!error.empty()) {
      pack.errors.push_back({row, std::move(error)});
      continue;
    }
    if (p.category.empty()) p.category = "other";
    pack.rows.push_back(std::move(out));
  }
  return pack;
}

std::string PackRowJson(const PackRow& row) {
  const ProductInput& p = row.product;
  base::JsonWriter w;
  w.BeginObject().Field("outer_id", row.outer_id).Field("title", p.title);
  w.Field("brand", p.brand).Field("category", p.category).Field("place_code", p.place_code);
  if (p.floor_price_fen >= 0) w.Field("floor_price_fen", p.floor_price_fen);
  w.Key("certifications").BeginArray();
  for (const auto& c : p.certifications) {
    w.BeginObject().Field("type", c.type).Field("number", c.number);
    w.Field("issuer", c.issuer).Field("valid_from", c.valid_from);
    w.Field("valid_to", c.valid_to).EndObject();
  }
  w.EndArray().Key("skus").BeginArray();
  for (const auto& sku : p.skus) {
    w.BeginObject().Field("spec", sku.spec).Field("price_fen", sku.price.value());
    w.Field("stock", sku.stock).EndObject();
  }
  w.EndArray();
  const auto& d = p.details;
  if (!d.subtitle.empty()) w.Field("subtitle", d.subtitle);
  if (!d.description.empty()) w.Field("description", d.description);
  if (!d.images.empty()) {
    w.Key("images").BeginArray();
    for (const auto& image : d.images) w.String(image);
    w.EndArray();
  }
  if (!d.params.empty()) {
    w.Key("params").BeginArray();
    for (const auto& param : d.params) {
      w.BeginObject().Field("name", param.name).Field("value", param.value).EndObject();
    }
    w.EndArray();
  }
  if (d.weight_grams != 0) w.Field("weight_grams", d.weight_grams);
  if (!d.barcode.empty()) w.Field("barcode", d.barcode);
  w.EndObject();
  return w.Take();
}

}  // namespace pavilion::catalog
