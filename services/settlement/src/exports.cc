// The exports as tables: the columns a spreadsheet shows, in the order an accountant reads them.
#include "pavilion/settlement/exports.h"

namespace pavilion::settlement {

using tables::ColumnType;

tables::Table StatementTable(const Statement& s) {
  tables::Table t;
  t.name = "statement";
  t.columns = {{"day", "日期 day", ColumnType::kDate},
               {"kind", "类型 kind", ColumnType::kText},
               {"order_id", "订单 order", ColumnType::kText},
               {"reference", "凭证 reference", ColumnType::kText},
               {"gross_fen", "销售额 gross (元)", ColumnType::kFen},
               {"fee_fen", "平台费 fee (元)", ColumnType::kFen},
               {"net_fen", "净额 net (元)", ColumnType::kFen},
               {"balance_fen", "余额 balance (元)", ColumnType::kFen}};
  auto summary = [&](const char* kind, const std::string& day, Fen balance) {
    t.rows.push_back({day, std::string(kind), std::string(), std::string(), int64_t(0), int64_t(0),
                      int64_t(0), balance.value()});
  };
  summary("opening", s.from_day, s.opening.total());
  for (const auto& l : s.lines) {
    t.rows.push_back({l.day, l.kind, l.order_id, l.reference, l.gross.value(), l.fee.value(),
                      l.net.value(), l.balance.value()});
  }
  summary("closing", s.to_day, s.closing.total());
  return t;
}

tables::Table PovertyTable(const std::vector<PovertyRow>& rows) {
  tables::Table t;
  t.name = "扶贫台账";
  t.columns = {{"seller_id", "农户编号 household", ColumnType::kText},
               {"name", "农户 name", ColumnType::kText},
               {"place_code", "地区代码 place", ColumnType::kText},
               {"month", "月份 month", ColumnType::kText},
               {"direct_units", "直销件数 direct units", ColumnType::kInteger},
               {"direct_sales_fen", "直销额 direct sales (元)", ColumnType::kFen},
               {"distributed_units", "分销件数 distributed units", ColumnType::kInteger},
               {"distributed_sales_fen", "分销额 distributed sales (元)", ColumnType::kFen},
               {"refunded_units", "退货件数 refunded units", ColumnType::kInteger},
               {"refunded_fen", "退款 refunded (元)", ColumnType::kFen},
               {"settled_fen", "已结算 settled (元)", ColumnType::kFen},
               {"paid_out_fen", "已打款 paid out (元)", ColumnType::kFen}};
  for (const auto& r : rows) {
    t.rows.push_back({r.seller_id, r.name, r.place_code, r.month, r.direct_units,
                      r.direct_sales.value(), r.distributed_units, r.distributed_sales.value(),
                      r.refunded_units, r.refunded.value(), r.settled.value(), r.paid_out.value()});
  }
  return t;
}

}  // namespace pavilion::settlement
