// Posting rules: which transfers each order event makes, and the order's settlement book.
//
// A paid order gets an OrderBook: its lines as paid (supplier, distribution, category, poverty
// flag) and, per sub-order (one per shipping seller), where its money is: held, pending (the
// shares are reserved: the after-sale window is open) or payable. Completion records each
// line's shares — the supplier's supply price less the platform fee, each distributor's margin,
// the fee — at the fee rate in force then; every later reversal uses those recorded shares,
// never today's rules. Transfer ids derive from the causing event's ids (order, sub-order,
// refund), so an event handled twice makes the same transfers, which the ledger answers with
// kExists.
//
// Pure: given the book, the event, the rules and (for a reversal) the ledger's balances, the
// transfers to create, all linked (one chain per event: all or none). The caller applies them
// and keeps the book's changes only when they applied. Not thread-safe; the settlement worker.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger.h"
#include "pavilion/events/schema.h"

namespace pavilion::settlement {

namespace schema = events::schema;

inline constexpr std::string_view kPlatform = "platform";

// The operator's fee rules, in basis points of the supplier's gross (its supply price × units,
// or the line's amount when it sells its own product). A seller's override wins, then products
// of registered poor households pay no fee (unless their seller has an override), then the
// category's, then the default.
struct FeeRules {
  uint32_t default_bps = 0;
  std::vector<schema::FeeRate> by_category, by_seller;
  template <class V>
  void Fields(V& v) {
    v(default_bps), v(by_category), v(by_seller);
  }
  uint32_t Bps(std::string_view seller_id, std::string_view category, bool poverty) const;
};

enum class ShareRole : uint8_t { kSupplier, kDistributor1, kDistributor2, kPlatform };
std::string_view ToString(ShareRole r);
bool Parse(std::string_view s, ShareRole* out);

// One party's share of one line, recorded at completion.
struct Share {
  ShareRole role = ShareRole::kSupplier;
  std::string party;        // A seller id, or "platform".
  Fen gross;                // At completion, after refunds made before it.
  Fen reversed;             // Taken back by refunds after completion.
  std::string transfer_id;  // The pending transfer that carries it now.
  Fen clawed;               // Of `reversed`, what a receivable carries (it had been paid out).
  Fen net() const { return gross - reversed; }
  template <class V>
  void Fields(V& v) {
    v(role), v(party), v(gross), v(reversed), v(transfer_id), v(clawed);
  }
};

struct LineBook {
  uint32_t line = 0;
  std::string sku_id, product_id, supplier_id, place_code, category;
  bool poverty = false;  // A registered poor household's product.
  int64_t quantity = 0;
  Fen unit_price, amount;
  schema::Distribution distribution;
  Fen refunded;  // All refunds of this line, before and after completion.
  int64_t refunded_units = 0;
  uint32_t fee_bps = 0;       // Recorded at completion.
  std::vector<Share> shares;  // Empty until completion.
  template <class V>
  void Fields(V& v) {
    v(line), v(sku_id), v(product_id), v(supplier_id), v(place_code), v(category), v(poverty),
        v(quantity), v(unit_price), v(amount), v(distribution), v(refunded), v(refunded_units),
        v(fee_bps), v(shares);
  }
};

enum class SubState : uint8_t { kHeld, kPending, kPayable };
std::string_view ToString(SubState s);
bool Parse(std::string_view s, SubState* out);

struct SubBook {
  std::string sub_id, seller_id;
  SubState state = SubState::kHeld;
  std::vector<uint32_t> lines;  // Indexes into OrderBook::lines.
  int64_t completed_micros = 0, payable_micros = 0;
  template <class V>
  void Fields(V& v) {
    v(sub_id), v(seller_id), v(state), v(lines), v(completed_micros), v(payable_micros);
  }
};

struct OrderBook {
  std::string order_id, shopper_id, provider;
  Fen paid, refunded;
  int64_t paid_micros = 0;
  std::vector<LineBook> lines;
  std::vector<SubBook> subs;
  template <class V>
  void Fields(V& v) {
    v(order_id), v(shopper_id), v(provider), v(paid), v(refunded), v(paid_micros), v(lines),
        v(subs);
  }
  SubBook* Sub(std::string_view seller_id);
  // paid = refunded + shares (supplier + distributors + fee) + still held.
  Fen Shares() const;
};

// What settlement knows of a product from the catalog's events.
struct ProductFacts {
  std::string category;
  bool poverty = false;
  template <class V>
  void Fields(V& v) {
    v(category), v(poverty);
  }
};

std::string HeldAccount(std::string_view order_id);
std::string PayableAccount(std::string_view party);  // fee:platform for the platform.

// order.paid: the book, and the payment from the provider into the order's held account.
OrderBook BookOf(const schema::OrderPaid& paid, int64_t micros,
                 const std::vector<ProductFacts>& products);  // One per line.
std::vector<Transfer> PaymentTransfers(const OrderBook& book);

// suborder.completed: each line's shares, pending. Empty when the sub-order is not held.
std::vector<Transfer> Complete(OrderBook& book, std::string_view seller_id, std::string_view sub_id,
                               const FeeRules& rules, int64_t micros);

// suborder.after_sale_closed: the pending shares post; the money becomes payable.
std::vector<Transfer> Close(OrderBook& book, std::string_view seller_id, int64_t micros);

// refund.completed: held → the shopper; after completion each share reversed in proportion to
// its recorded amount, from a payable balance while there is one and as a receivable beyond it.
std::vector<Transfer> Refund(OrderBook& book, const schema::RefundChanged& refund,
                             const Ledger& ledger, int64_t micros);

// A share's transfer id: `<cause>/<what>/<line>/<k>` (cause: a sub-order or a refund; what:
// share, post, void, reverse, claw). A posted share's is `<sub>/post/<line>/<k>`.
std::string ShareTransferId(std::string_view cause, std::string_view what, uint32_t line, size_t k);

// Every transfer but the last chains to the next: all or none.
std::vector<Transfer> Linked(std::vector<Transfer> ts);

// What a party owes (its receivable: a reversal beyond its payable balance, after a payout) is
// recovered from money that becomes payable to it before it can be paid out again: payable →
// receivable, up to the debt and to the balance plus `incoming` (what the transfers before it in
// the same chain add). Nothing when there is no debt or no money.
std::optional<Transfer> Recovery(std::string id, std::string_view party, Fen incoming,
                                 const Ledger& ledger, std::string_view order_id, int64_t micros);

// Payouts: payable → paid_out pending (in transit), then posted (paid out) or voided (payable
// again). Transfer ids: the payout id, `<payout>/confirm`, `<payout>/return`.
Transfer PayoutTransfer(std::string_view payout_id, std::string_view party, Fen amount,
                        int64_t micros);
Transfer PayoutResolve(std::string_view payout_id, bool confirm, int64_t micros);

}  // namespace pavilion::settlement
