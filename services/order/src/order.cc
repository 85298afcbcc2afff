#include "pavilion/order/order.h"

#include <array>
#include <utility>

namespace pavilion::order {
namespace {

// Each enum's names, in the order of its values.
constexpr std::array kOrderStatuses = {
    std::string_view("pending"), std::string_view("rejected"),  std::string_view("pending_payment"),
    std::string_view("paid"),    std::string_view("cancelled"), std::string_view("completed")};
constexpr std::array kSubOrderStatuses = {
    std::string_view("pending_payment"), std::string_view("paid"),
    std::string_view("shipped"),         std::string_view("delivered"),
    std::string_view("completed"),       std::string_view("cancelled")};
constexpr std::array kLineStatuses = {std::string_view("pending"), std::string_view("reserved"),
                                      std::string_view("rejected"), std::string_view("hidden")};
constexpr std::array kRefundStatuses = {std::string_view("requested"), std::string_view("approved"),
                                        std::string_view("rejected"), std::string_view("refunded")};
constexpr std::array kPaymentOutcomes = {std::string_view("applied"),
                                         std::string_view("refund_due"),
                                         std::string_view("pending_reinstate")};

template <typename E, size_t N>
std::string_view NameOf(const std::array<std::string_view, N>& names, E value) {
  const auto i = static_cast<size_t>(value);
  return i < N ? names[i] : std::string_view("unknown");
}

template <typename E, size_t N>
bool ValueOf(const std::array<std::string_view, N>& names, std::string_view name, E* out) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == name) {
      *out = static_cast<E>(i);
      return true;
    }
  }
  return false;
}

}  // namespace

std::string_view ToString(OrderStatus s) { return NameOf(kOrderStatuses, s); }
std::string_view ToString(SubOrderStatus s) { return NameOf(kSubOrderStatuses, s); }
std::string_view ToString(LineStatus s) { return NameOf(kLineStatuses, s); }
std::string_view ToString(RefundStatus s) { return NameOf(kRefundStatuses, s); }
std::string_view ToString(PaymentOutcome s) { return NameOf(kPaymentOutcomes, s); }

bool Parse(std::string_view name, OrderStatus* out) { return ValueOf(kOrderStatuses, name, out); }
bool Parse(std::string_view name, SubOrderStatus* out) {
  return ValueOf(kSubOrderStatuses, name, out);
}
bool Parse(std::string_view name, LineStatus* out) { return ValueOf(kLineStatuses, name, out); }
bool Parse(std::string_view name, RefundStatus* out) { return ValueOf(kRefundStatuses, name, out); }
bool Parse(std::string_view name, PaymentOutcome* out) {
  return ValueOf(kPaymentOutcomes, name, out);
}

}  // namespace pavilion::order
