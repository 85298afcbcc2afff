// The settlement's exports as JSON, CSV or XLSX: GET /v1/statements/{party_id} (the party itself
// or the operator; one scoped to a place, for a seller in it) and GET /v1/poverty-ledger
// (operator; one scoped to a place, within it). XLSX is written on a blocking job:
// libxlsxwriter writes a temporary file.
#include "../views.h"
#include "pavilion/base/json_writer.h"
#include "pavilion/tables/table.h"
#include "routes.h"

namespace pavilion::gateway::routes {
namespace {

// The table in the format asked for; JSON answers carry `fields` (an open object's members)
// before the rows.
void Answer(Context& cx, const Respond& respond, const std::string& format, const std::string& file,
            tables::Table table, const std::function<void(base::JsonWriter&)>& fields) {
  // By value: the XLSX job runs after this call has returned (found by a test: the name was read
  // from freed memory).
  auto attach = [file](HttpResponse& out, const char* ext, const char* type) {
    out.content_type = type;
    out.headers.emplace_back("Content-Disposition",
                             "attachment; filename=\"" + file + "." + ext + "\"");
  };
  if (format == "csv") {
    HttpResponse out;
    attach(out, "csv", "text/csv; charset=utf-8");
    out.body = tables::WriteCsv(table);
    return respond(std::move(out));
  }
  if (format == "xlsx") {
    return cx.jobs.Run(respond, [table = std::move(table), attach]() {
      auto bytes = tables::WriteXlsx(table);
      if (!bytes.ok()) return ErrorResponse(kInternal, "the workbook could not be written");
      HttpResponse out;
      attach(out, "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
      out.body = std::move(bytes).value();
      return out;
    });
  }
  base::JsonWriter w;
  w.BeginObject();
  fields(w);
  w.Key("rows");
  tables::WriteJsonRows(w, table);
  w.EndObject();
  respond(JsonResponse(200, w.Take()));
}

bool Format(const Query& q, std::string* format, std::string* error) {
  *format = q.Has("format") ? q.Get("format") : "json";
  if (*format == "json" || *format == "csv" || *format == "xlsx") return true;
  *error = "format: use json, csv or xlsx";
  return false;
}

// "statement-<party>-<from>-<to>": the period in the name, "all" for an open end.
std::string FileName(std::string stem, const std::string& from, const std::string& to) {
  return stem + "-" + (from.empty() ? "all" : from) + "-" + (to.empty() ? "all" : to);
}

}  // namespace

void GetStatement(Context& cx, const Request& r, Respond respond) {
  settlement::StatementQuery query;
  query.party_id = r.params.at(0);
  if (r.who->role != Role::kOperator && r.who->subject != query.party_id) {
    return respond(ErrorResponse(kForbidden, "party_id: a seller sees only its own statement"));
  }
  std::string format, error;
  if (!Format(r.query, &format, &error) || !r.query.Days(&query.from_day, &query.to_day, &error)) {
    return respond(ErrorResponse(kInvalidField, error));
  }
  ForSeller(cx, *r.who, "party_id", query.party_id, respond, [&cx, respond, format, query] {
    cx.s.settlement.Statement(query, [&cx, respond, format](Result<settlement::Statement> s) {
      if (!s.ok()) return respond(FromServiceError(s.error_detail()));
      const settlement::Statement& st = *s;
      Answer(cx, respond, format, FileName("statement-" + st.party_id, st.from_day, st.to_day),
             settlement::StatementTable(st), [&st](base::JsonWriter& w) {
               w.Field("party_id", st.party_id).Field("from", st.from_day).Field("to", st.to_day);
               auto balance = [&w](const char* key, const settlement::StatementBalance& b) {
                 w.Key(key).BeginObject().Field("pending_fen", b.pending.value());
                 w.Field("payable_fen", b.payable.value());
                 w.Field("receivable_fen", b.receivable.value());
                 w.Field("balance_fen", b.total().value()).EndObject();
               };
               balance("opening", st.opening);
               balance("closing", st.closing);
             });
    });
  });
}

void GetPovertyLedger(Context& cx, const Request& r, Respond respond) {
  settlement::PovertyQuery query;
  std::string format, error;
  if (!Format(r.query, &format, &error) || !r.query.Days(&query.from_day, &query.to_day, &error) ||
      !r.query.PlaceCode(&query.place_code, &error)) {
    return respond(ErrorResponse(kInvalidField, error));
  }
  if (auto denied = ScopePlace(cx, *r.who, "place_code", query.place_code)) {
    return respond(std::move(*denied));
  }
  query.by_month = r.query.Flag("by_month");
  cx.s.settlement.PovertyLedger(
      query, [&cx, respond, format, query](Result<std::vector<settlement::PovertyRow>> rows) {
        if (!rows.ok()) return respond(FromServiceError(rows.error_detail()));
        Answer(cx, respond, format, FileName("poverty-ledger", query.from_day, query.to_day),
               settlement::PovertyTable(*rows), [&query](base::JsonWriter& w) {
                 w.Field("from", query.from_day).Field("to", query.to_day);
                 w.Field("place_code", query.place_code).Field("by_month", query.by_month);
               });
      });
}

}  // namespace pavilion::gateway::routes
