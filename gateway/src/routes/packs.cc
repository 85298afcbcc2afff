// Product data packs (数据包): POST /v1/packs imports one, GET /v1/packs exports a seller's
// catalogue as one (docs/packs.md); an operator scoped to a place, for a seller in it. Both
// block on archives and the catalog piece by piece, so they run as BlockingJobs, off the HTTP
// and service threads.
#include <memory>

#include "../views.h"
#include "pavilion/catalog/pack.h"
#include "pavilion/catalog/pack_file.h"
#include "routes.h"

namespace pavilion::gateway::routes {
namespace {

// The pack reader sniffs the content rather than trusting the type: bytes sent as an archive that
// are none would be read as a Taobao CSV, and the answer would talk about CSV columns. So a body
// declared an archive must start like one (a zip's "PK", a gzip's magic: either is read whatever
// the type said, as before).
std::optional<HttpResponse> CheckArchive(std::string_view type, std::string_view body) {
  std::string_view magic = body.substr(0, 2);
  if (magic == "PK" || magic == "\x1F\x8B") return std::nullopt;
  if (type == "application/gzip") {
    return ErrorResponse(kInvalidPack,
                         "the body is not a readable gzip archive; send the pack's .tar.gz "
                         "file itself, or a zipped pack as application/zip");
  }
  return ErrorResponse(kInvalidPack,
                       "the body is not a readable zip archive; send the pack's .zip file "
                       "itself (a native or 淘宝助理 pack), or bare NDJSON as "
                       "application/x-ndjson, or a Taobao CSV as text/csv");
}

// Imports the pack in `body` for the seller on a job of its own: every byte of it is read
// there, never on an HTTP or service thread (opening it decompresses every entry: PackFile
// checks them all, which for a bomb is up to the limits).
void Import(Context& cx, const Respond& respond, const std::string& seller_id,
            std::shared_ptr<std::string> body) {
  cx.jobs.Run(respond, [&cx, seller_id, body = std::move(body)]() {
    auto pack = catalog::PackFile::OpenBytes(std::move(*body));
    if (!pack.ok()) return ErrorResponse(kInvalidPack, pack.message());
    auto report = catalog::ImportPackFile(cx.s.catalog, **pack, seller_id);
    if (!report.ok()) {
      return report.error() == events::svc_errc::invalid_argument
                 ? ErrorResponse(kInvalidPack, report.message())
                 : FromServiceError(report.error_detail());
    }
    base::JsonWriter w;
    w.BeginObject().Field("rows", report->rows).Field("created", report->created);
    w.Field("updated", report->updated).Field("unchanged", report->unchanged);
    w.Field("rejected", static_cast<int>(report->errors.size()));
    w.Key("errors").BeginArray();
    for (const auto& e : report->errors) {
      w.BeginObject().Field("row", e.row).Field("message", e.message).EndObject();
    }
    w.EndArray();
    w.Field("ignored_images", report->ignored_images).Key("ignored_image_names").BeginArray();
    for (const auto& name : report->ignored_image_names) w.String(name);
    w.EndArray().EndObject();
    return JsonResponse(200, w.Take());
  });
}

// Exports the seller's catalogue as `format` asks: a zip on a job of its own, NDJSON from the
// catalog's thread.
void Export(Context& cx, const Respond& respond, const std::string& seller_id,
            const std::string& format) {
  if (format != "ndjson") {
    return cx.jobs.Run(respond, [&cx, seller_id, format] {
      auto zip = catalog::ExportPackFile(
          cx.s.catalog, seller_id,
          format == "native" ? catalog::PackFormat::kNative : catalog::PackFormat::kTaobao);
      if (!zip.ok()) return FromServiceError(zip.error_detail());
      HttpResponse out;
      out.content_type = "application/zip";
      out.headers.emplace_back("Content-Disposition",
                               "attachment; filename=\"" + seller_id +
                                   (format == "native" ? ".pack.zip\"" : ".taobao.zip\""));
      out.body = std::move(zip).value();
      return out;
    });
  }
  cx.s.catalog.ExportPack(seller_id, [respond](Result<std::vector<catalog::PackRow>> rows) {
    if (!rows.ok()) return respond(FromServiceError(rows.error_detail()));
    HttpResponse out;
    out.content_type = "application/x-ndjson";
    for (const auto& row : *rows) {
      out.body += catalog::PackRowJson(row);
      out.body += '\n';
    }
    respond(std::move(out));
  });
}

}  // namespace

// A zipped native or 淘宝助理 pack, a bare NDJSON or a Taobao CSV.
void ImportPack(Context& cx, const Request& r, Respond respond) {
  std::string_view ct = PackMediaType(r.http.content_type);
  if (ct.empty()) {
    return respond(ErrorResponse(kUnsupportedMediaType,
                                 "send a pack as application/zip (native or 淘宝助理), "
                                 "application/x-ndjson or text/csv"));
  }
  std::string seller_id = r.query.Get("seller_id");
  if (auto denied = ActFor(*r.who, Role::kSeller, "seller_id", seller_id)) {
    return respond(std::move(*denied));
  }
  if (ct == "application/zip" || ct == "application/x-zip-compressed" || ct == "application/gzip") {
    if (auto bad = CheckArchive(ct, r.http.body)) return respond(std::move(*bad));
  }
  // The router owns the request for this call and reads nothing of it after: the body moves.
  auto body = std::make_shared<std::string>(std::move(const_cast<std::string&>(r.http.body)));
  ForSeller(cx, *r.who, "seller_id", seller_id, respond,
            [&cx, respond, seller_id, body] { Import(cx, respond, seller_id, body); });
}

// format=ndjson (default), native (zip with images) or taobao (淘宝助理 zip).
void ExportPack(Context& cx, const Request& r, Respond respond) {
  std::string seller_id = r.query.Get("seller_id");
  if (auto denied = ActFor(*r.who, Role::kSeller, "seller_id", seller_id)) {
    return respond(std::move(*denied));
  }
  std::string format = r.query.Has("format") ? r.query.Get("format") : "ndjson";
  if (format != "ndjson" && format != "native" && format != "taobao") {
    return respond(ErrorResponse(kInvalidField, "format: use ndjson, native or taobao"));
  }
  ForSeller(cx, *r.who, "seller_id", seller_id, respond,
            [&cx, respond, seller_id, format] { Export(cx, respond, seller_id, format); });
}

}  // namespace pavilion::gateway::routes
