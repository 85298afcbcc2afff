// Routes: what a handler is given, and every handler, by resource. The route table in
// router.cc names, for each method and path, the roles it admits, the query parameters it takes
// and its handler; by the time a handler runs, the caller has been authenticated for one of
// those roles and the query holds only parameters the route declares.
//
// A handler is a plain function: it reads the request, calls a service and answers through
// `respond` exactly once, on whatever thread the service answers on. It keeps nothing of the
// Request after it returns (copy what a callback needs). The Context is the router's and
// outlives every call; handlers may be called from many threads at once.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../blocking_jobs.h"
#include "../body.h"
#include "../order_waits.h"
#include "../rate_limiter.h"
#include "pavilion/gateway/identity.h"
#include "pavilion/gateway/metrics.h"
#include "pavilion/gateway/router.h"

namespace pavilion::gateway {

// What every handler shares: the services and the router's own parts.
struct Context {
  Context(Services services, Identity& identity, Timers& timers, RouterOptions options,
          std::vector<std::string> route_names)
      : s(services),
        identity(identity),
        options(std::move(options)),
        metrics(std::move(route_names)),
        shopper_limiter(this->options.shopper_registrations),
        order_limiter(this->options.order_placements),
        order_waits(std::make_shared<OrderWaits>(timers, this->options.order_wait_ms)) {}

  // Today's business day (YYYY-MM-DD, UTC+8), from the store's clock.
  std::string Today() const;
  // "山西省长治市沁县" for a place code answers show beside it; empty without --places or for a
  // code the directory does not have.
  std::string PlaceName(std::string_view code) const;

  Services s;
  Identity& identity;
  RouterOptions options;
  Metrics metrics;
  std::function<void(std::string&)> metrics_hook;
  RateLimiter shopper_limiter, order_limiter;
  std::shared_ptr<OrderWaits> order_waits;  // Shared with its armed sweep.
  BlockingJobs jobs;  // Last: destroyed first, waiting for the jobs that use the rest.
};

struct Request {
  const HttpRequest& http;
  const std::vector<std::string>& params;  // Path parameters in pattern order: {id}, {code}…
  const Query& query;                      // Only parameters the route declares.
  const Principal* who;                    // The caller; null on public routes.
};

using Handler = void (*)(Context& cx, const Request& r, Respond respond);

// Whom a request acts for: a seller or shopper only for itself (the field may be left out), the
// operator for anyone it names. Returns the error to send, if any. (In router.cc, with the rest
// of authentication.)
std::optional<HttpResponse> ActFor(const Principal& who, Role role, std::string_view field,
                                   std::string& id);

namespace routes {

// system.cc
void Health(Context& cx, const Request& r, Respond respond);
void GetMetrics(Context& cx, const Request& r, Respond respond);
void OpenApi(Context& cx, const Request& r, Respond respond);
// sellers.cc
void CreateSeller(Context& cx, const Request& r, Respond respond);
void GetSeller(Context& cx, const Request& r, Respond respond);
void ListSellers(Context& cx, const Request& r, Respond respond);
void GetPlace(Context& cx, const Request& r, Respond respond);
void ListPlaces(Context& cx, const Request& r, Respond respond);
// shoppers.cc
void CreateShopper(Context& cx, const Request& r, Respond respond);
// categories.cc
void ListCategories(Context& cx, const Request& r, Respond respond);
void PutCategory(Context& cx, const Request& r, Respond respond);
// products.cc
void CreateProduct(Context& cx, const Request& r, Respond respond);
void ListProducts(Context& cx, const Request& r, Respond respond);
void GetProduct(Context& cx, const Request& r, Respond respond);
void UpdateProduct(Context& cx, const Request& r, Respond respond);
// distributions.cc
void Distribute(Context& cx, const Request& r, Respond respond);
// images.cc
void UploadImage(Context& cx, const Request& r, Respond respond);
void GetImage(Context& cx, const Request& r, Respond respond);
// trace.cc: batches and the trace records, QR codes and pages they publish
void RegisterBatch(Context& cx, const Request& r, Respond respond);
void GetTrace(Context& cx, const Request& r, Respond respond);
void TraceQrSvg(Context& cx, const Request& r, Respond respond);
void TraceQrPng(Context& cx, const Request& r, Respond respond);
void TracePage(Context& cx, const Request& r, Respond respond);
// packs.cc
void ImportPack(Context& cx, const Request& r, Respond respond);
void ExportPack(Context& cx, const Request& r, Respond respond);
// orders.cc
void CreateOrder(Context& cx, const Request& r, Respond respond);
void ListOrders(Context& cx, const Request& r, Respond respond);
void GetOrder(Context& cx, const Request& r, Respond respond);
void PayOrder(Context& cx, const Request& r, Respond respond);
void CancelOrder(Context& cx, const Request& r, Respond respond);
void ShipOrder(Context& cx, const Request& r, Respond respond);
void DeliverOrder(Context& cx, const Request& r, Respond respond);
void ConfirmOrder(Context& cx, const Request& r, Respond respond);
// Shared by the handlers of orders, refunds and payments: the caller as the order service
// knows it, and the callback that answers a command with the order (rendered by whoever writes
// the answer) or its error.
order::Actor ActorOf(const Principal& who);
std::function<void(Result<order::Order>)> OrderAnswer(Respond respond, int status = 200);
// refunds.cc
void RequestRefund(Context& cx, const Request& r, Respond respond);
void ApproveRefund(Context& cx, const Request& r, Respond respond);
void RejectRefund(Context& cx, const Request& r, Respond respond);
void RetryRefund(Context& cx, const Request& r, Respond respond);
// payments.cc
void PaymentNotify(Context& cx, const Request& r, Respond respond);
void RefundNotify(Context& cx, const Request& r, Respond respond);
// stats.cc
void SalesStats(Context& cx, const Request& r, Respond respond);
// `as_of` as every route on the sales projection takes it: an RFC 3339 time or a business day
// (as it closed; today's as it stands), not later than now. *micros is 0 when it is absent;
// returns the answer to give when it is wrong.
std::optional<HttpResponse> ReadAsOf(Context& cx, const Query& q, int64_t* micros);
// targets.cc: targets and award rules
void DefineTarget(Context& cx, const Request& r, Respond respond);
void ListTargets(Context& cx, const Request& r, Respond respond);
void GetTarget(Context& cx, const Request& r, Respond respond);
void RetireTarget(Context& cx, const Request& r, Respond respond);
void DefineAwardRule(Context& cx, const Request& r, Respond respond);
void ListAwardRules(Context& cx, const Request& r, Respond respond);
void GetAwardRule(Context& cx, const Request& r, Respond respond);
void RetireAwardRule(Context& cx, const Request& r, Respond respond);
void GetAwardResults(Context& cx, const Request& r, Respond respond);
// settlement.cc: the ledger, fee rules and payouts
void GetOrderSettlement(Context& cx, const Request& r, Respond respond);
void GetAccount(Context& cx, const Request& r, Respond respond);
void GetAccountEntries(Context& cx, const Request& r, Respond respond);
void GetLedgerAudit(Context& cx, const Request& r, Respond respond);
void GetFeeRules(Context& cx, const Request& r, Respond respond);
void PutFeeRules(Context& cx, const Request& r, Respond respond);
void RunPayouts(Context& cx, const Request& r, Respond respond);
void ListPayouts(Context& cx, const Request& r, Respond respond);
void ConfirmPayout(Context& cx, const Request& r, Respond respond);
void ReturnPayout(Context& cx, const Request& r, Respond respond);

// exports.cc
void GetStatement(Context& cx, const Request& r, Respond respond);
void GetPovertyLedger(Context& cx, const Request& r, Respond respond);
void GetSalesReport(Context& cx, const Request& r, Respond respond);
// tokens.cc
void RotateToken(Context& cx, const Request& r, Respond respond);
void RevokeToken(Context& cx, const Request& r, Respond respond);

}  // namespace routes
}  // namespace pavilion::gateway
