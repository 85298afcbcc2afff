#include "pavilion/order/order.h"

#include "pavilion/base/enum_names.h"

namespace pavilion::order {
namespace {

constexpr EnumNames<OrderStatus, 6> kOrderStatuses({"pending", "rejected", "pending_payment",
                                                    "paid", "cancelled", "completed"});
constexpr EnumNames<SubOrderStatus, 6> kSubOrderStatuses({"pending_payment", "paid", "shipped",
                                                          "delivered", "completed", "cancelled"});
constexpr EnumNames<LineStatus, 4> kLineStatuses({"pending", "reserved", "rejected", "hidden"});
constexpr EnumNames<RefundStatus, 5> kRefundStatuses({"requested", "rejected", "refunded",
                                                      "refunding", "failed"});
constexpr EnumNames<PaymentOutcome, 3> kPaymentOutcomes({"applied", "refund_due",
                                                         "pending_reinstate"});

}  // namespace

std::string_view ToString(OrderStatus s) { return kOrderStatuses.Name(s); }
std::string_view ToString(SubOrderStatus s) { return kSubOrderStatuses.Name(s); }
std::string_view ToString(LineStatus s) { return kLineStatuses.Name(s); }
std::string_view ToString(RefundStatus s) { return kRefundStatuses.Name(s); }
std::string_view ToString(PaymentOutcome s) { return kPaymentOutcomes.Name(s); }

bool Parse(std::string_view name, OrderStatus* out) { return kOrderStatuses.Parse(name, out); }
bool Parse(std::string_view name, SubOrderStatus* out) {
  return kSubOrderStatuses.Parse(name, out);
}
bool Parse(std::string_view name, LineStatus* out) { return kLineStatuses.Parse(name, out); }
bool Parse(std::string_view name, RefundStatus* out) { return kRefundStatuses.Parse(name, out); }
bool Parse(std::string_view name, PaymentOutcome* out) { return kPaymentOutcomes.Parse(name, out); }

}  // namespace pavilion::order
