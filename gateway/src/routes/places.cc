// Places: GET /v1/places/{code} (a division with its level, full name and ancestors) and GET
// /v1/places (the provinces, a place's children, or places found by name), from the directory
// `pavilion serve --places` loaded (services/places). Public: the divisions are public data.
// Answered on the calling thread: the directory reads the store, which any thread may.
#include "../views.h"
#include "pavilion/base/json_writer.h"
#include "pavilion/places/place_directory.h"
#include "routes.h"

namespace pavilion::gateway::routes {
namespace {

// The directory, or the answer saying it is not there (a server started without --places).
places::PlaceDirectory* Directory(Context& cx, const Respond& respond) {
  if (cx.s.places != nullptr && !cx.s.places->Source().empty()) return cx.s.places;
  respond(ErrorResponse(kNotConfigured,
                        "the place directory is not loaded: start the server with --places DIR "
                        "(scripts/places.sh fetches the divisions)"));
  return nullptr;
}

void WritePlace(base::JsonWriter& w, const places::Place& p) {
  w.BeginObject().Field("code", p.code).Field("name", p.name);
  w.Field("level", places::ToString(p.level)).Field("parent", p.parent).EndObject();
}

}  // namespace

void GetPlace(Context& cx, const Request& r, Respond respond) {
  auto* directory = Directory(cx, respond);
  if (directory == nullptr) return;
  const std::string& code = r.params.at(0);
  auto place = directory->Find(code);
  if (!place) {
    return respond(ErrorResponse(
        kNotFound, "no place " + code +
                       "; a division code has 2, 4, 6, 9 or 12 digits (province to village)"));
  }
  base::JsonWriter w;
  w.BeginObject().Field("code", place->code).Field("name", place->name);
  w.Field("level", places::ToString(place->level)).Field("parent", place->parent);
  const std::vector<places::Place> ancestors = directory->Ancestors(code);
  w.Field("full_name", places::PlaceDirectory::FullName(*place, ancestors));
  w.Key("ancestors").BeginArray();
  for (const auto& a : ancestors) WritePlace(w, a);
  w.EndArray().EndObject();
  respond(JsonResponse(200, w.Take()));
}

void ListPlaces(Context& cx, const Request& r, Respond respond) {
  auto* directory = Directory(cx, respond);
  if (directory == nullptr) return;
  std::string error;
  const auto limit = r.query.Int("limit", 1, 1000, &error);
  if (!error.empty()) return respond(ErrorResponse(kInvalidField, error));
  const std::string& parent = r.query.Get("parent");
  if (!parent.empty() && !directory->Find(parent)) {
    return respond(ErrorResponse(kInvalidField, "parent: no place " + parent +
                                                    "; give a division code (2, 4, 6 or 9 "
                                                    "digits), or leave it out for the provinces"));
  }
  std::vector<places::Place> found;
  std::string next;
  if (r.query.Has("q")) {
    // By name, down to towns, within `parent` when given.
    const std::string& q = r.query.Get("q");
    if (q.empty() || q.size() > 100) {
      return respond(ErrorResponse(kInvalidField, "q: give 1 to 100 bytes of a place's name"));
    }
    found = directory->Search(q, parent, static_cast<size_t>(limit.value_or(100)));
  } else {
    const size_t n = static_cast<size_t>(limit.value_or(1000));
    auto children = directory->Children(parent, n + 1, r.query.Get("after"));
    if (!children.ok()) return respond(FromServiceError(children.error_detail()));
    found = std::move(*children);
    if (found.size() > n) {
      found.resize(n);
      next = found.back().code;
    }
  }
  base::JsonWriter w;
  w.BeginObject().Key("places").BeginArray();
  for (const auto& p : found) WritePlace(w, p);
  w.EndArray();
  if (!next.empty()) w.Field("next_after", next);
  w.EndObject();
  respond(JsonResponse(200, w.Take()));
}

}  // namespace pavilion::gateway::routes
