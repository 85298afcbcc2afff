#include "pavilion/gateway/metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

namespace pavilion::gateway {
namespace {

#ifndef PAVILION_VERSION
#define PAVILION_VERSION "unknown"
#endif
#if defined(__clang__)
constexpr std::string_view kCompiler = "clang " __clang_version__;
#elif defined(__GNUC__)
constexpr std::string_view kCompiler = "gcc " __VERSION__;
#else
constexpr std::string_view kCompiler = "unknown";
#endif

std::string ReadFile(const char* path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A label value as the text format wants it: backslash, quote and newline escaped.
std::string LabelValue(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    out += c == '\n' ? 'n' : c;
  }
  return out;
}

void AppendSample(std::string& out, std::string_view name, double value) {
  std::ostringstream s;
  s.precision(15);
  s << value;
  out.append(name).append(" ").append(s.str()).append("\n");
}

}  // namespace

void DescribeMetric(std::string& out, std::string_view name, std::string_view type,
                    std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void AppendMetric(std::string& out, std::string_view name, std::string_view type,
                  std::string_view help, int64_t value) {
  DescribeMetric(out, name, type, help);
  out.append(name).append(" ").append(std::to_string(value)).append("\n");
}

Metrics::Metrics(std::vector<std::string> route_names)
    : names_(std::move(route_names)), routes_(new Route[names_.size()]) {}

void Metrics::Observe(size_t route, int status, int64_t micros) {
  CountResponse(status);
  if (route >= names_.size()) return;
  Route& r = routes_[route];
  int cls = status / 100;
  if (cls >= 1 && cls <= 5) r.by_class[cls].fetch_add(1, std::memory_order_relaxed);
  r.latency.Observe(micros);
}

void Metrics::CountResponse(int status) {
  if (status < kMinStatus || status > kMaxStatus) status = 500;
  by_status_[status - kMinStatus].fetch_add(1, std::memory_order_relaxed);
}

uint64_t Metrics::responses(int status) const {
  if (status < kMinStatus || status > kMaxStatus) return 0;
  return by_status_[status - kMinStatus].load(std::memory_order_relaxed);
}

void Metrics::Render(std::string& out) const {
  DescribeMetric(out, "pavilion_http_requests_total", "counter",
                 "HTTP requests by route and status class (2xx, 4xx, ...).");
  for (size_t i = 0; i < names_.size(); ++i) {
    for (int cls = 1; cls <= 5; ++cls) {
      uint64_t n = routes_[i].by_class[cls].load(std::memory_order_relaxed);
      if (n == 0) continue;
      out += "pavilion_http_requests_total{route=\"" + names_[i] + "\",code=\"" +
             std::to_string(cls) + "xx\"} " + std::to_string(n) + "\n";
    }
  }
  DescribeMetric(out, "pavilion_http_request_duration_seconds", "histogram",
                 "Time from a request's arrival at the router to its answer, by route.");
  for (size_t i = 0; i < names_.size(); ++i) {
    const Route& r = routes_[i];
    if (r.latency.count() == 0) continue;
    r.latency.Render(out, "pavilion_http_request_duration_seconds", "route=\"" + names_[i] + "\"");
  }
  DescribeMetric(out, "pavilion_http_responses_total", "counter",
                 "HTTP answers by status code, the server's own (413) included.");
  for (int status = kMinStatus; status <= kMaxStatus; ++status) {
    const uint64_t n = by_status_[status - kMinStatus].load(std::memory_order_relaxed);
    if (n == 0) continue;
    out += "pavilion_http_responses_total{code=\"" + std::to_string(status) + "\"} " +
           std::to_string(n) + "\n";
  }
  RenderProcess(out);
  DescribeMetric(out, "pavilion_build_info", "gauge",
                 "Always 1; the labels name the version and the compiler of this build.");
  out += "pavilion_build_info{version=\"" + LabelValue(PAVILION_VERSION) + "\",compiler=\"" +
         LabelValue(kCompiler) + "\"} 1\n";
}

void Metrics::RenderProcess(std::string& out) {
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  // /proc/self/stat: the fields after the command name (in parentheses, which may hold spaces)
  // start with the third, the state; utime is the 14th, stime 15th, starttime 22nd, vsize 23rd,
  // rss (pages) 24th.
  const std::string stat = ReadFile("/proc/self/stat");
  std::vector<std::string> f;
  if (auto paren = stat.rfind(')'); paren != std::string::npos) {
    std::istringstream in(stat.substr(paren + 1));
    f.assign(std::istream_iterator<std::string>(in), {});
  }
  const auto field = [&f](size_t n) -> double {
    return n - 3 < f.size() ? std::strtod(f[n - 3].c_str(), nullptr) : 0;
  };
  DescribeMetric(out, "process_cpu_seconds_total", "counter",
                 "User and system CPU time the process has spent, in seconds.");
  AppendSample(out, "process_cpu_seconds_total", (field(14) + field(15)) / ticks);
  DescribeMetric(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  AppendSample(out, "process_resident_memory_bytes", field(24) * page);
  DescribeMetric(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
  AppendSample(out, "process_virtual_memory_bytes", field(23));
  // Boot time (btime, seconds since the epoch) plus the start in ticks since boot.
  double boot = 0;
  const std::string proc_stat = ReadFile("/proc/stat");
  if (auto at = proc_stat.find("\nbtime "); at != std::string::npos) {
    boot = std::strtod(proc_stat.c_str() + at + 7, nullptr);
  }
  DescribeMetric(out, "process_start_time_seconds", "gauge",
                 "Start time of the process since the Unix epoch, in seconds.");
  AppendSample(out, "process_start_time_seconds", boot + field(22) / ticks);
  int64_t fds = 0;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (dirent* e = readdir(dir)) {
      if (e->d_name[0] != '.') ++fds;
    }
    closedir(dir);
    --fds;  // The directory's own descriptor, open only while it is read.
  }
  AppendMetric(out, "process_open_fds", "gauge", "Open file descriptors.", fds);
  rlimit limit{};
  const bool known = getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY;
  AppendMetric(out, "process_max_fds", "gauge",
               "The most file descriptors the process may open (its soft limit).",
               known ? static_cast<int64_t>(limit.rlim_cur) : -1);
}

}  // namespace pavilion::gateway
