// Images: POST /v1/images stores one by its content (the seller, or the operator); GET
// /v1/images/{ref} serves it to anyone, cacheable for good since the ref names the content.
#include "../views.h"
#include "routes.h"

namespace pavilion::gateway::routes {

// The image is the raw body (image/jpeg, image/png, image/gif, image/webp).
void UploadImage(Context& cx, const Request& r, Respond respond) {
  if (!MediaTypeIs(r.http.content_type, "image/")) {
    return respond(
        ErrorResponse(kUnsupportedMediaType,
                      "send the image itself with Content-Type: image/jpeg (png, gif, webp)"));
  }
  cx.s.catalog.StoreImage(r.http.body, [respond](Result<std::string> ref) {
    if (!ref.ok()) return respond(FromServiceError(ref.error_detail()));
    base::JsonWriter w;
    w.BeginObject().Field("ref", *ref).Field("url", "/v1/images/" + *ref).EndObject();
    respond(JsonResponse(201, w.Take()));
  });
}

void GetImage(Context& cx, const Request& r, Respond respond) {
  cx.s.catalog.GetImage(r.params[0], [respond, ref = r.params[0]](Result<std::string> image) {
    if (!image.ok()) return respond(FromServiceError(image.error_detail()));
    HttpResponse out;
    std::string_view type = catalog::ImageType(*image);
    out.content_type = type == "jpg" ? "image/jpeg" : "image/" + std::string(type);
    // The ref names the content, so it never changes.
    out.headers.emplace_back("Cache-Control", "public, max-age=31536000, immutable");
    out.headers.emplace_back("ETag", "\"" + ref + "\"");  // The router needs not hash it.
    out.body = std::move(image).value();
    respond(std::move(out));
  });
}

}  // namespace pavilion::gateway::routes
