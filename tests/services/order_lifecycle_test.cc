// The order's rules (services/order/src/lifecycle.h) on their own: no store, no clock, no
// worker. Each test builds an order in memory, decides, and reads the order and the events the
// decision emitted.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../../services/order/src/lifecycle.h"

namespace pavilion::order {
namespace {

using events::svc_errc;
namespace schema = events::schema;

constexpr int64_t kNow = 1'700'000'000'000'000;
constexpr int64_t kDay = 24ll * 3600 * 1'000'000;

const Actor kShopper{Role::kShopper, "shp_1"};
const Actor kSeller{Role::kSeller, "sel_1"};
const Actor kOperator{Role::kOperator, ""};

// A decision at `now` into its own transaction.
struct Decided {
  explicit Decided(const OrderOptions& options, int64_t now = kNow) : d{now, options, tx} {}
  std::vector<std::string> types() const {
    std::vector<std::string> out;
    for (const auto& e : tx.events()) out.push_back(e.type);
    return out;
  }
  events::Transaction tx;
  Decision d;
};

// An order of `lines` (seller, unit price, quantity), every line reserved and decided.
Order Reserved(const OrderOptions& options,
               const std::vector<std::tuple<std::string, int64_t, int64_t>>& lines) {
  PlaceOrderInput in{"shp_1", {}, ""};
  for (size_t i = 0; i < lines.size(); ++i) {
    in.items.push_back({"sku_" + std::to_string(i), std::get<2>(lines[i])});
  }
  Order o = Pending("ord_1", in, RequestHash(in), kNow);
  for (size_t i = 0; i < lines.size(); ++i) {
    OrderLine& l = o.lines[i];
    l.status = LineStatus::kReserved;
    l.seller_id = std::get<0>(lines[i]);
    l.product_id = "prd_" + std::to_string(i);
    l.unit_price = Fen(std::get<1>(lines[i]));
    l.amount = l.unit_price * l.quantity;
  }
  Decided decided(options);
  Decide(o, decided.d);
  return o;
}

Order Paid(const OrderOptions& options, Order o) {
  Decided decided(options);
  auto r = ApplyPayment(o, Payment{"builtin", "pay_1", o.total, 0, {}}, decided.d);
  EXPECT_TRUE(r.ok() && *r) << r.message();
  return o;
}

class OrderRules : public ::testing::Test {
 protected:
  Order One() { return Reserved(options_, {{"sel_1", 500, 1}}); }
  OrderOptions options_;
};

TEST_F(OrderRules, EveryLineReservedSplitsBySellerAndAwaitsPayment) {
  Decided decided(options_);
  PlaceOrderInput in{"shp_1", {{"a", 1}, {"b", 1}, {"c", 2}}, ""};
  Order o = Pending("ord_1", in, RequestHash(in), kNow - 1000);
  const std::string sellers[] = {"qin", "guzhang", "qin"};
  for (size_t i = 0; i < 3; ++i) {
    o.lines[i].status = LineStatus::kReserved;
    o.lines[i].seller_id = sellers[i];
    o.lines[i].unit_price = Fen(100);
    o.lines[i].amount = Fen(100) * o.lines[i].quantity;
  }
  Decide(o, decided.d);
  EXPECT_EQ(o.status, OrderStatus::kPendingPayment);
  EXPECT_EQ(o.total, Fen(400));
  EXPECT_EQ(o.pay_deadline_micros, kNow + options_.payment_timeout_micros);
  ASSERT_EQ(o.sub_orders.size(), 2u);
  EXPECT_EQ(o.sub_orders[0].seller_id, "qin");
  EXPECT_EQ(o.sub_orders[0].lines, (std::vector<uint32_t>{0, 2}));
  EXPECT_EQ(o.sub_orders[0].total, Fen(300));
  EXPECT_EQ(o.sub_orders[1].id, "ord_1-s2");
  EXPECT_EQ(decided.types(), std::vector<std::string>{"order.reserved"});
  // What order.reserved rebuilds is the order Decide made.
  auto event = events::Decode<schema::OrderReserved>(decided.tx.events()[0].payload);
  ASSERT_TRUE(event.ok());
  Order rebuilt = Pending("ord_1", in, RequestHash(in), 0);
  ApplyReserved(rebuilt, *event);
  EXPECT_EQ(events::Encode(rebuilt), events::Encode(o));
}

TEST_F(OrderRules, ALineNotReservedRejectsTheOrderAndReleasesTheOthers) {
  Decided decided(options_);
  PlaceOrderInput in{"shp_1", {{"a", 1}, {"b", 2}}, ""};
  Order o = Pending("ord_1", in, RequestHash(in), kNow);
  o.lines[0].status = LineStatus::kReserved;
  o.lines[1].status = LineStatus::kRejected;
  o.lines[1].reason = "insufficient_stock";
  Decide(o, decided.d);
  EXPECT_EQ(o.status, OrderStatus::kRejected);
  ASSERT_EQ(decided.types(), std::vector<std::string>{"order.rejected"});
  auto event = events::Decode<schema::OrderRejected>(decided.tx.events()[0].payload);
  ASSERT_TRUE(event.ok());
  ASSERT_EQ(event->release.size(), 1u);
  EXPECT_EQ(event->release[0].sku_id, "a");
  ASSERT_EQ(event->rejected.size(), 1u);
  EXPECT_EQ(event->rejected[0].reason, "insufficient_stock");
}

TEST_F(OrderRules, ValidateNamesTheFieldToFix) {
  EXPECT_EQ(Validate({"shp_1", {{"a", 1}}, ""}), "");
  EXPECT_EQ(Validate({"", {{"a", 1}}, ""}), "shopper_id: give the shopper's id");
  EXPECT_EQ(Validate({"shp_1", {}, ""}), "items: give 1 to 100 items");
  EXPECT_EQ(Validate({"shp_1", {{"a", 0}}, ""}),
            "items[0].quantity: give a whole number from 1 to 1000000");
  EXPECT_EQ(Validate({"shp_1", {{"a", 1}, {"a", 2}}, ""}),
            "items[1].sku_id: a appears twice; give each SKU once");
}

// Every command against every order state: the legal ones move it, the others get 409 naming
// the current state.
TEST_F(OrderRules, StateMachineTable) {
  struct Row {
    const char* command;
    const char* from;
    bool allowed;
  };
  const std::vector<Row> table = {
      {"pay", "pending_payment", true},   {"pay", "paid", false},
      {"pay", "cancelled", false},        {"cancel", "pending_payment", true},
      {"cancel", "paid", false},          {"cancel", "shipped", false},
      {"ship", "pending_payment", false}, {"ship", "paid", true},
      {"ship", "cancelled", false},       {"deliver", "paid", false},
      {"deliver", "shipped", true},       {"confirm", "paid", false},
      {"confirm", "shipped", true},       {"confirm", "delivered", true},
      {"deliver", "completed", false},    {"cancel", "completed", false},
  };
  for (const auto& row : table) {
    SCOPED_TRACE(std::string(row.command) + " from " + row.from);
    Order o = One();
    Decided decided(options_);
    Decision& d = decided.d;
    auto pay = [&] {
      auto ok = CheckPay(o, kShopper);
      return ok.ok() ? ApplyPayment(o, Payment{"builtin", "pay_1", o.total, 0, {}}, d) : ok;
    };
    auto cancel = [&] { return Cancel(o, kShopper, d); };
    auto ship = [&] { return Ship(o, "", "EMS", "E1", kSeller, d); };
    auto deliver = [&] { return Deliver(o, "", kSeller, d); };
    auto confirm = [&] { return Confirm(o, "", kShopper, /*automatic=*/false, d); };
    const std::string from = row.from;
    if (from == "cancelled") {
      ASSERT_TRUE(cancel().ok());
    }
    if (from != "pending_payment" && from != "cancelled") {
      ASSERT_TRUE(pay().ok());
    }
    if (from == "shipped" || from == "delivered" || from == "completed") {
      ASSERT_TRUE(ship().ok());
    }
    if (from == "delivered") {
      ASSERT_TRUE(deliver().ok());
    }
    if (from == "completed") {
      ASSERT_TRUE(confirm().ok());
    }
    const std::string cmd = row.command;
    const std::string before = events::Encode(o);
    auto r = cmd == "pay"       ? pay()
             : cmd == "cancel"  ? cancel()
             : cmd == "ship"    ? ship()
             : cmd == "deliver" ? deliver()
                                : confirm();
    if (row.allowed) {
      EXPECT_TRUE(r.ok()) << r.message();
    } else {
      EXPECT_EQ(r.error(), svc_errc::conflict) << r.message();
      EXPECT_NE(r.message().find(" is "), std::string::npos) << "names the current state";
      EXPECT_EQ(events::Encode(o), before) << "a refused command changes nothing";
    }
  }
}

TEST_F(OrderRules, EachRoleDoesOnlyItsPart) {
  Order o = One();
  Decided decided(options_);
  EXPECT_EQ(CheckPay(o, kSeller).error(), svc_errc::forbidden);
  EXPECT_EQ(Cancel(o, kSeller, decided.d).error(), svc_errc::forbidden);
  o = Paid(options_, o);
  EXPECT_EQ(Ship(o, "", "EMS", "E1", Actor{Role::kSeller, "sel_other"}, decided.d).error(),
            svc_errc::not_found);
  ASSERT_TRUE(Ship(o, "", "EMS", "E1", kSeller, decided.d).ok());
  EXPECT_EQ(Deliver(o, "", kShopper, decided.d).error(), svc_errc::forbidden);
  EXPECT_EQ(Confirm(o, "", kSeller, false, decided.d).error(), svc_errc::forbidden);
  EXPECT_EQ(RequestRefund(o, {"ord_1", "", {}, -1, false, ""}, kSeller, decided.d).error(),
            svc_errc::forbidden);
  EXPECT_TRUE(CanSee(o, kShopper));
  EXPECT_TRUE(CanSee(o, kSeller));
  EXPECT_TRUE(CanSee(o, kOperator));
  EXPECT_FALSE(CanSee(o, Actor{Role::kShopper, "shp_2"}));
  EXPECT_FALSE(CanSee(o, Actor{Role::kSeller, "sel_2"}));
}

TEST_F(OrderRules, ShippingSetsTheAutoConfirmTimeoutAndRepeatsAreNoChange) {
  Order o = Paid(options_, One());
  Decided decided(options_, kNow + 5);
  auto shipped = Ship(o, "", "EMS", "E1", kSeller, decided.d);
  ASSERT_TRUE(shipped.ok() && *shipped);
  EXPECT_EQ(o.sub_orders[0].status, SubOrderStatus::kShipped);
  EXPECT_EQ(o.sub_orders[0].shipped_micros, kNow + 5);
  ASSERT_EQ(decided.d.confirm_due.size(), 1u);
  EXPECT_EQ(decided.d.confirm_due[0].first, kNow + 5 + options_.auto_confirm_micros);
  EXPECT_EQ(decided.d.confirm_due[0].second, "ord_1-s1");
  EXPECT_EQ(decided.types(), std::vector<std::string>{"suborder.shipped"});
  Decided again(options_);
  auto repeat = Ship(o, "", "EMS", "E1", kSeller, again.d);
  ASSERT_TRUE(repeat.ok());
  EXPECT_FALSE(*repeat);
  EXPECT_TRUE(again.tx.empty());
}

TEST_F(OrderRules, ConfirmingTheLastSubOrderCompletesTheOrder) {
  Order o = Paid(options_, Reserved(options_, {{"sel_1", 100, 1}, {"sel_2", 200, 1}}));
  Decided decided(options_);
  ASSERT_TRUE(Ship(o, "", "EMS", "E1", kSeller, decided.d).ok());
  ASSERT_TRUE(Confirm(o, "", kShopper, false, decided.d).ok());
  EXPECT_EQ(o.status, OrderStatus::kPaid);  // sel_2's part is still open.
  ASSERT_TRUE(Ship(o, "", "SF", "S1", Actor{Role::kSeller, "sel_2"}, decided.d).ok());
  ASSERT_TRUE(Confirm(o, "ord_1-s2", kShopper, /*automatic=*/true, decided.d).ok());
  EXPECT_EQ(o.status, OrderStatus::kCompleted);
}

TEST_F(OrderRules, PaymentsAfterTheOrderIsSettledAreOwedBack) {
  Order o = One();
  Decided decided(options_);
  // The wrong amount pays nothing.
  ASSERT_TRUE(ApplyPayment(o, Payment{"alipay", "t1", Fen(1), 0, {}}, decided.d).ok());
  EXPECT_EQ(o.status, OrderStatus::kPendingPayment);
  EXPECT_EQ(o.payments.back().outcome, PaymentOutcome::kRefundDue);
  ASSERT_TRUE(ApplyPayment(o, Payment{"alipay", "t2", o.total, 0, {}}, decided.d).ok());
  EXPECT_EQ(o.status, OrderStatus::kPaid);
  EXPECT_EQ(o.payments.back().outcome, PaymentOutcome::kApplied);
  // The same notification again changes nothing; a second payment is owed back.
  auto repeat = ApplyPayment(o, Payment{"alipay", "t2", o.total, 0, {}}, decided.d);
  ASSERT_TRUE(repeat.ok());
  EXPECT_FALSE(*repeat);
  ASSERT_TRUE(ApplyPayment(o, Payment{"wechat", "t3", o.total, 0, {}}, decided.d).ok());
  EXPECT_EQ(o.payments.back().outcome, PaymentOutcome::kRefundDue);
  EXPECT_EQ(decided.types(),
            (std::vector<std::string>{"payment.refund_due", "order.paid", "payment.refund_due"}));
}

TEST_F(OrderRules, ALatePaymentAsksForTheStockAgain) {
  Order o = One();
  Decided decided(options_);
  CancelUnpaid(o, "payment_timeout", decided.d);
  ASSERT_TRUE(ApplyPayment(o, Payment{"alipay", "t1", o.total, 0, {}}, decided.d).ok());
  EXPECT_EQ(o.payments.back().outcome, PaymentOutcome::kPendingReinstate);
  EXPECT_TRUE(Reinstated(o, schema::StockReinstated{"ord_1", true, ""}, decided.d));
  EXPECT_EQ(o.status, OrderStatus::kPaid);
  EXPECT_FALSE(Reinstated(o, schema::StockReinstated{"ord_1", true, ""}, decided.d))
      << "a redelivery";
  EXPECT_EQ(decided.types(), (std::vector<std::string>{"order.cancelled",
                                                       "order.reinstate_requested", "order.paid"}));
}

TEST_F(OrderRules, RefundsCoverEachUnitOnceAndCloseWithTheWindow) {
  Order o = Paid(options_, Reserved(options_, {{"sel_1", 1000, 3}}));
  Decided decided(options_);
  auto asked =
      RequestRefund(o, {"ord_1", "", {{"sku_0", 2}}, -1, true, "broken"}, kShopper, decided.d);
  ASSERT_TRUE(asked.ok()) << asked.message();
  EXPECT_EQ(o.refunds[0].amount, Fen(2000));
  // One open refund per sub-order.
  EXPECT_EQ(
      RequestRefund(o, {"ord_1", "", {{"sku_0", 1}}, -1, true, ""}, kShopper, decided.d).error(),
      svc_errc::conflict);
  EXPECT_EQ(CheckRefundDecision(o, "ord_1-r1", true, kShopper).error(), svc_errc::forbidden);
  auto checked = CheckRefundDecision(o, "ord_1-r1", true, kSeller);
  ASSERT_TRUE(checked.ok() && *checked != nullptr);
  ApproveRefund(o, **checked, decided.d);
  EXPECT_EQ(o.refunds[0].status, RefundStatus::kRefunded);
  EXPECT_EQ(o.sub_orders[0].refunded, Fen(2000));
  auto again = CheckRefundDecision(o, "ord_1-r1", true, kSeller);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, nullptr) << "the same decision again is no change";
  // Only one unit is left to refund.
  auto too_many =
      RequestRefund(o, {"ord_1", "", {{"sku_0", 2}}, -1, true, ""}, kShopper, decided.d);
  EXPECT_EQ(too_many.error(), svc_errc::invalid_argument);
  EXPECT_NE(too_many.message().find("must be 1 to 1"), std::string::npos) << too_many.message();
  // After the window closes nothing more is refunded.
  ASSERT_TRUE(Ship(o, "", "EMS", "E1", kSeller, decided.d).ok());
  ASSERT_TRUE(Confirm(o, "", kShopper, false, decided.d).ok());
  Decided later(options_, kNow + options_.after_sale_micros + kDay);
  EXPECT_EQ(RequestRefund(o, {"ord_1", "", {}, -1, false, ""}, kShopper, later.d).error(),
            svc_errc::conflict);
}

TEST_F(OrderRules, AFullRefundBeforeShippingCancelsTheSubOrderAndReturnsEveryUnit) {
  Order o = Paid(options_, Reserved(options_, {{"sel_1", 1000, 3}}));
  Decided decided(options_);
  ASSERT_TRUE(RequestRefund(o, {"ord_1", "", {}, -1, false, ""}, kShopper, decided.d).ok());
  auto checked = CheckRefundDecision(o, "ord_1-r1", true, kOperator);
  ASSERT_TRUE(checked.ok() && *checked != nullptr);
  ApproveRefund(o, **checked, decided.d);
  EXPECT_EQ(o.sub_orders[0].status, SubOrderStatus::kCancelled);
  EXPECT_EQ(o.status, OrderStatus::kCompleted);
  ASSERT_EQ(o.refunds[0].items.size(), 1u);
  EXPECT_EQ(o.refunds[0].items[0].quantity, 3);
  EXPECT_TRUE(o.refunds[0].with_return);
}

// A provider that pays back later: approved → refunding (nothing refunded yet), then the
// provider's word. A record stored before refund attempts existed still decodes.
TEST_F(OrderRules, ARefundPaidBackLaterWaitsForTheProvider) {
  Order o = Paid(options_, Reserved(options_, {{"sel_1", 1000, 3}}));
  Decided decided(options_);
  ASSERT_TRUE(RequestRefund(o, {"ord_1", "", {}, 1000, false, ""}, kShopper, decided.d).ok());
  std::string before_attempts = events::Encode(o);
  auto checked = CheckRefundDecision(o, "ord_1-r1", true, kSeller);
  ASSERT_TRUE(checked.ok() && *checked != nullptr);
  EXPECT_EQ(RefundRequestId(o, **checked), "ord_1-r1");
  ApproveRefund(o, **checked, RefundResult{"rfd_1", false}, decided.d);
  EXPECT_EQ(o.refunds[0].status, RefundStatus::kRefunding);
  EXPECT_EQ(o.sub_orders[0].refunded, Fen(0));
  EXPECT_EQ(RefundRequestId(o, o.refunds[0]), "ord_1-r1-2");
  EXPECT_EQ(decided.types().back(), "refund.approved");
  Decided told(options_, kNow + kDay);
  auto failed = RefundNotified(o, {"ord_1", "rfd_1", false, Fen(1000), "closed"}, told.d);
  ASSERT_TRUE(failed.ok() && *failed) << failed.message();
  EXPECT_EQ(o.refunds[0].status, RefundStatus::kFailed);
  EXPECT_EQ(o.refund_attempts[0].notified_micros, kNow + kDay);
  EXPECT_EQ(told.types(), (std::vector<std::string>{"refund.failed"}));

  ASSERT_EQ(before_attempts.back(), '\0');  // The empty attempts, written last.
  before_attempts.pop_back();               // As a record from before they existed.
  auto old = events::Decode<Order>(before_attempts);
  ASSERT_TRUE(old.ok()) << old.message();
  EXPECT_TRUE(old->refund_attempts.empty());
  EXPECT_EQ(old->refunds.size(), 1u);
  auto now = events::Decode<Order>(events::Encode(o));
  ASSERT_TRUE(now.ok()) << now.message();
  ASSERT_EQ(now->refund_attempts.size(), 1u);
  EXPECT_EQ(now->refund_attempts[0].failure, "closed");
}

TEST_F(OrderRules, ASellerSeesItsOwnPartOnly) {
  Order o = Paid(options_, Reserved(options_, {{"sel_1", 100, 1}, {"sel_2", 200, 1}}));
  Order view = ViewFor(o, kSeller);
  ASSERT_EQ(view.sub_orders.size(), 1u);
  EXPECT_EQ(view.total, Fen(100));
  EXPECT_EQ(view.lines[1].status, LineStatus::kHidden);
  EXPECT_TRUE(view.payments.empty());
  EXPECT_EQ(ViewFor(o, kOperator).sub_orders.size(), 2u);
}

TEST(OrderStatuses, NamesRoundTripAndUnknownNamesAreRefused) {
  for (auto s : {OrderStatus::kPending, OrderStatus::kRejected, OrderStatus::kPendingPayment,
                 OrderStatus::kPaid, OrderStatus::kCancelled, OrderStatus::kCompleted}) {
    OrderStatus back{};
    ASSERT_TRUE(Parse(ToString(s), &back)) << ToString(s);
    EXPECT_EQ(back, s);
  }
  SubOrderStatus sub = SubOrderStatus::kPaid;
  EXPECT_FALSE(Parse("rejected", &sub));
  EXPECT_EQ(sub, SubOrderStatus::kPaid);
  Role role{};
  EXPECT_TRUE(Parse("seller", &role));
  EXPECT_EQ(role, Role::kSeller);
  EXPECT_FALSE(Parse("admin", &role));
  // A stored record names its statuses; one with a name this build does not know is corrupt.
  Payment p{"alipay", "t1", Fen(1), 0, PaymentOutcome::kRefundDue};
  std::string bytes = events::Encode(p);
  EXPECT_NE(bytes.find("refund_due"), std::string::npos);
  bytes.replace(bytes.find("refund_due"), 10, "refund_dux");
  EXPECT_FALSE(events::Decode<Payment>(bytes).ok());
}

}  // namespace
}  // namespace pavilion::order
