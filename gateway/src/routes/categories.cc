// Categories: GET /v1/categories (the tree, public: shoppers browse by it) and PUT
// /v1/categories/{code} (an operator adds a category or changes one). The tree is read on the
// calling thread (CatalogService::Categories); a change runs on the catalog's worker.
#include "../body.h"
#include "../views.h"
#include "pavilion/base/json_writer.h"
#include "routes.h"

namespace pavilion::gateway::routes {
namespace {

void WriteCategory(base::JsonWriter& w, const catalog::Category& c) {
  w.BeginObject().Field("code", c.code).Field("name", c.name).Field("parent", c.parent);
  w.Field("depth", c.depth).Field("agricultural", c.agricultural).Field("needs_sc", c.needs_sc);
  w.EndObject();
}

}  // namespace

void ListCategories(Context& cx, const Request&, Respond respond) {
  base::JsonWriter w;
  w.BeginObject().Key("categories").BeginArray();
  for (const auto& c : cx.s.catalog.Categories()) WriteCategory(w, c);
  w.EndArray().EndObject();
  respond(JsonResponse(200, w.Take()));
}

void PutCategory(Context& cx, const Request& r, Respond respond) {
  catalog::CategoryInput in;
  in.code = r.params.at(0);
  Body body;
  bool ok = body.Object(r.http, [&](std::string_view key, od::value& v) {
    if (key == "name") return body.String(v, in.name.emplace(), 100);
    if (key == "parent") return body.String(v, in.parent.emplace(), 40);
    if (key == "agricultural") return body.Bool(v, in.agricultural.emplace());
    if (key == "needs_sc") return body.Bool(v, in.needs_sc.emplace());
    return body.Fail(kInvalidField, std::string(key) +
                                        ": not a field of a category; give name, parent, "
                                        "agricultural and needs_sc (the code is in the path)");
  });
  if (!ok) return respond(body.TakeError());
  cx.s.catalog.SetCategory(std::move(in), [respond](Result<catalog::Category> c) {
    if (!c.ok()) return respond(FromServiceError(c.error_detail()));
    base::JsonWriter w;
    WriteCategory(w, *c);
    respond(JsonResponse(200, w.Take()));
  });
}

}  // namespace pavilion::gateway::routes
