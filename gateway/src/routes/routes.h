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

// ---- Operators scoped to a place (operator_scope.cc) ----
// The route table admits a scoped operator (Principal::place_code) only on routes whose roles
// include kScoped (router.cc); their handlers limit it with these, so each rule is written once:
// - a place a request names (a filter, a definition's scope, a new seller's place) defaults to
//   the operator's place and must lie in it: ScopePlace;
// - a seller it acts for, or whose accounts or statement it reads, must lie in it: ForSeller;
// - an order is read only when one of its lines was placed in it (else 404, as for a seller or
//   shopper not in the order): ForOrder; a sub-order is acted on only for a seller in it:
//   ForOrderSeller.
// A refusal is 403 forbidden, "<field>: this token sees 140430 (山西省长治市沁县) only". For
// everyone else each lets the request through unchanged, without a lookup.

// The 403 for a scoped operator asking for what lies outside its place.
HttpResponse OutsideScope(const Context& cx, const Principal& who, std::string_view field);
// The place a request names in `field`, as `who` may ask for it: for a scoped operator its own
// place when `place` is empty, `place` itself when it lies in that place, else the 403 to answer;
// unchanged for anyone else.
std::optional<HttpResponse> ScopePlace(const Context& cx, const Principal& who,
                                       std::string_view field, std::string& place);
// Calls `then` once the seller `seller_id` (named by `field`) is known to lie in a scoped
// operator's place; answers 403 otherwise (404 for no such seller). At once for anyone else.
void ForSeller(Context& cx, const Principal& who, std::string_view field,
               const std::string& seller_id, const Respond& respond, std::function<void()> then);
// ForSeller for the seller of product `product_id` (404 for no such product).
void ForProductSeller(Context& cx, const Principal& who, const std::string& product_id,
                      const Respond& respond, std::function<void()> then);
// Calls `then` once order `order_id` is known to have a line placed in a scoped operator's
// place; answers 404 otherwise. At once for anyone else.
void ForOrder(Context& cx, const Principal& who, const std::string& order_id,
              const Respond& respond, std::function<void()> then);
// Whether a scoped operator sees order `o`: one of its lines was placed in its place.
bool SeesOrder(const Principal& who, const order::Order& o);
// Calls `then` once the seller of the sub-order `id` names — a sub-order's id, a refund's, or
// empty for the order's only sub-order — is known to lie in a scoped operator's place (when
// `id` names none, the order service answers what is wrong). At once for anyone else.
void ForOrderSeller(Context& cx, const Principal& who, const std::string& order_id,
                    const std::string& id, const Respond& respond, std::function<void()> then);

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
// tokens.cc: rotate and revoke, and the tokens of operators scoped to a place
void RotateToken(Context& cx, const Request& r, Respond respond);
void RevokeToken(Context& cx, const Request& r, Respond respond);
void IssueOperatorToken(Context& cx, const Request& r, Respond respond);
void ListOperatorTokens(Context& cx, const Request& r, Respond respond);

}  // namespace routes
}  // namespace pavilion::gateway
