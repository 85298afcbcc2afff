// GET /healthz, GET /metrics, GET /v1/openapi.json: the server about itself.
#include <map>
#include <string>

#include "../views.h"
#include "routes.h"

namespace pavilion::gateway::routes {

void Health(Context&, const Request&, Respond respond) {
  respond(JsonResponse(200, R"({"status":"ok"})"));
}

void GetMetrics(Context& cx, const Request&, Respond respond) {
  auto& store = cx.s.store;
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4";
  cx.metrics.Render(r.body);
  AppendMetric(r.body, "pavilion_events_appended_total", "counter",
               "Events appended to the event store since the process started.",
               static_cast<int64_t>(store.events_appended()));
  AppendMetric(r.body, "pavilion_event_batches_total", "counter",
               "Batches the event store wrote (one store write each) since the process started.",
               static_cast<int64_t>(store.batches_written()));
  AppendMetric(r.body, "pavilion_log_head", "gauge", "Position of the newest event in the log.",
               static_cast<int64_t>(store.head()));
  r.body +=
      "# HELP pavilion_store_sync_seconds Time each sync of the event store (fdatasync "
      "of the RocksDB WAL) took.\n# TYPE pavilion_store_sync_seconds histogram\n";
  store.sync_latency().Render(r.body, "pavilion_store_sync_seconds", "");
  r.body +=
      "# HELP pavilion_store_append_seconds Time from an append to its durable answer "
      "(queue, write, sync).\n# TYPE pavilion_store_append_seconds histogram\n";
  store.append_latency().Render(r.body, "pavilion_store_append_seconds", "");
  // The storage engine's own figures (bytes on disk and in memory per column family, level-0
  // files, compaction debt, write stalls), each name's series under one TYPE line.
  struct Series {
    std::string_view help;
    std::string samples;
  };
  std::map<std::string, Series> figures;
  for (const auto& f : store.kv().Figures()) {
    const std::string name = "pavilion_store_" + f.name;
    Series& s = figures[name];
    s.help = f.help;
    s.samples += name + (f.family.empty() ? "" : "{family=\"" + f.family + "\"}") + " " +
                 std::to_string(f.value) + "\n";
  }
  for (const auto& [name, series] : figures) {
    DescribeMetric(r.body, name, name.ends_with("_total") ? "counter" : "gauge",
                   series.help.empty() ? "A figure of the storage engine." : series.help);
    r.body += series.samples;
  }
  if (cx.metrics_hook) cx.metrics_hook(r.body);
  respond(std::move(r));
}

void OpenApi(Context&, const Request&, Respond respond) {
  respond(JsonResponse(200, std::string(Router::OpenApiDocument())));
}

}  // namespace pavilion::gateway::routes
