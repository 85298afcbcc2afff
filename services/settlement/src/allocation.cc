#include "allocation.h"

#include <algorithm>

namespace pavilion::settlement {

std::vector<Cut> TakeFront(const AllocQueue& queue, Fen amount) {
  std::vector<Cut> cuts;
  for (const auto& [sequence, entry] : queue.entries) {
    if (amount.value() <= 0) break;
    const Fen take = std::min(amount, entry.amount);
    if (take.value() <= 0) continue;
    cuts.push_back({sequence, entry.share, take});
    amount = amount - take;
  }
  return cuts;
}

std::string ShareState(std::string_view sub_state, Fen net, Fen reversed, const ShareAlloc* alloc,
                       bool platform) {
  if (alloc != nullptr && alloc->owed.value() > 0) return "receivable";
  if (net.value() == 0 && reversed.value() > 0) return "reversed";
  if (sub_state != "payable" || platform || alloc == nullptr) return std::string(sub_state);
  if (alloc->payable.value() > 0) return "payable";
  if (alloc->in_transit.value() > 0) return "in_transit";
  if (alloc->paid_out.value() > 0) return "paid_out";
  if (alloc->offset.value() > 0) return "offset";
  return "payable";
}

}  // namespace pavilion::settlement
