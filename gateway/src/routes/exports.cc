// The settlement's exports as JSON, CSV or XLSX: GET /v1/statements/{party_id} (the party itself
// or the operator; one scoped to a place, for a seller in it), GET /v1/poverty-ledger and
// GET /v1/reports/sales (operator; one scoped to a place, within it). XLSX is written on a
// blocking job: libxlsxwriter writes a temporary file.
#include "../views.h"
#include "pavilion/base/json_writer.h"
#include "pavilion/tables/table.h"
#include "routes.h"

namespace pavilion::gateway::routes {
namespace {

// The tables in the format asked for: CSV writes one table alone and several one after the other
// under their names, XLSX a sheet each (created at `created_micros`, 0: now), and JSON is what
// `json` writes into the answer's object.
void Answer(Context& cx, const Respond& respond, const std::string& format, const std::string& file,
            std::vector<tables::Table> sheets, int64_t created_micros,
            const std::function<void(base::JsonWriter&, const std::vector<tables::Table>&)>& json) {
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
    out.body = sheets.size() == 1 ? tables::WriteCsv(sheets[0]) : tables::WriteCsv(sheets);
    return respond(std::move(out));
  }
  if (format == "xlsx") {
    return cx.jobs.Run(respond, [sheets = std::move(sheets), created_micros, attach]() {
      auto bytes = tables::WriteXlsx(sheets, created_micros);
      if (!bytes.ok()) return ErrorResponse(kInternal, "the workbook could not be written");
      HttpResponse out;
      attach(out, "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
      out.body = std::move(bytes).value();
      return out;
    });
  }
  base::JsonWriter w;
  w.BeginObject();
  json(w, sheets);
  w.EndObject();
  respond(JsonResponse(200, w.Take()));
}

// One table: JSON carries `fields` (an open object's members) before its rows.
void AnswerTable(Context& cx, const Respond& respond, const std::string& format,
                 const std::string& file, tables::Table table,
                 const std::function<void(base::JsonWriter&)>& fields) {
  std::vector<tables::Table> sheets;
  sheets.push_back(std::move(table));
  Answer(cx, respond, format, file, std::move(sheets), 0,
         [&fields](base::JsonWriter& w, const std::vector<tables::Table>& t) {
           fields(w);
           w.Key("rows");
           tables::WriteJsonRows(w, t[0]);
         });
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
      AnswerTable(
          cx, respond, format, FileName("statement-" + st.party_id, st.from_day, st.to_day),
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
        AnswerTable(cx, respond, format, FileName("poverty-ledger", query.from_day, query.to_day),
                    settlement::PovertyTable(*rows), [&query](base::JsonWriter& w) {
                      w.Field("from", query.from_day).Field("to", query.to_day);
                      w.Field("place_code", query.place_code).Field("by_month", query.by_month);
                    });
      });
}

void GetSalesReport(Context& cx, const Request& r, Respond respond) {
  settlement::ReportQuery query;
  std::string format, error;
  if (!Format(r.query, &format, &error) || !r.query.PlaceCode(&query.place_code, &error)) {
    return respond(ErrorResponse(kInvalidField, error));
  }
  // A scoped operator reports on its place (by default) or a place in it.
  if (auto denied = ScopePlace(cx, *r.who, "place_code", query.place_code)) {
    return respond(std::move(*denied));
  }
  query.period = r.query.Get("period");
  const auto top = r.query.Int("top", 1, settlement::kMaxReportTop, &error);
  if (!error.empty()) return respond(ErrorResponse(kInvalidField, error));
  query.top = static_cast<size_t>(top.value_or(10));
  if (auto bad = ReadAsOf(cx, r.query, &query.as_of_micros)) return respond(std::move(*bad));
  cx.s.settlement.SalesReport(query, [&cx, respond, format](Result<settlement::SalesReport> got) {
    if (!got.ok()) return respond(FromServiceError(got.error_detail()));
    settlement::SalesReport& report = *got;
    const std::string file = "sales-report-" +
                             (report.place_code.empty() ? "pavilion" : report.place_code) + "-" +
                             report.period;
    std::vector<tables::Table> sheets{report.summary};
    std::vector<std::string> keys;
    for (auto& section : report.sections) {
      keys.push_back(section.key);
      sheets.push_back(std::move(section.table));
    }
    Answer(cx, respond, format, file, std::move(sheets), report.as_of_micros,
           [&report, &keys](base::JsonWriter& w, const std::vector<tables::Table>& t) {
             w.Field("place_code", report.place_code).Field("place_name", report.place_name);
             w.Field("period", report.period).Field("from", report.from_day);
             w.Field("to", report.to_day).Field("as_of", events::CstTime(report.as_of_micros));
             w.Field("as_of_micros", report.as_of_micros).Field("sub_level", report.sub_level);
             for (size_t i = 0; i < keys.size(); ++i) {
               w.Key(keys[i]);
               tables::WriteJsonRows(w, t[i + 1]);
             }
           });
  });
}

}  // namespace pavilion::gateway::routes
