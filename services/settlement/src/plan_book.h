// PlanBook: the targets and award rules operators define, kept as the log holds them.
//
// A definition is one event on its own stream (the target's `tgt_…` or the rule's `awr_…` id,
// each id greater than the one before: NextId): `target.defined` / `award_rule.defined` at version
// 1, and `target.retired` / `award_rule.retired` at version 2 once retired (never twice). A
// definition is read from its stream, so it is exactly what the log says; the book adds an index of
// the ids in the order they were made (`set/pl/t/<id>`, `set/pl/a/<id>` → ""), written in the same
// batch as the definition's event and again by the sales processor's fold of it, so that a
// rebuild from the log (SettlementService::Reset) lists them again.
//
// Threads: the sales worker only. Commands (Define*, Retire*) wait until what they wrote is
// durable, so the next command on the worker sees it: how many definitions are active (bounded
// by kMaxActiveTargets and kMaxActiveAwardRules) is counted once from the index and kept.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pavilion/events/event_store.h"
#include "pavilion/events/processor.h"
#include "pavilion/settlement/targets.h"

namespace pavilion::settlement {

class PlanBook {
 public:
  explicit PlanBook(events::EventStore& store) : store_(store) {}
  struct Kind;  // Targets or award rules (plan_book.cc).

  // The fold: target.defined and award_rule.defined put their id in the index.
  static std::vector<std::string> EventTypes();
  void Handle(const events::Envelope& e, events::Transaction& tx);

  // `t` and `r` checked already (plan_rules.h); their ids are minted here.
  Result<TargetView> DefineTarget(events::schema::TargetDefined t);
  Result<AwardRuleView> DefineAwardRule(events::schema::AwardRuleDefined r);
  // Retiring a retired one answers it unchanged; not_found for no such id.
  Result<TargetView> RetireTarget(const std::string& id);
  Result<AwardRuleView> RetireAwardRule(const std::string& id);

  Result<TargetView> Target(const std::string& id);
  Result<AwardRuleView> AwardRule(const std::string& id);
  Result<TargetPage> Targets(const DefinitionsQuery& q);
  Result<AwardRulePage> AwardRules(const DefinitionsQuery& q);

  // The most index entries one page reads (retired ones it skips included).
  static constexpr size_t kMaxScannedPerPage = 10'000;

 private:
  struct Stored {
    std::string id, payload;
    int64_t defined_micros = 0, retired_micros = 0;
  };
  Result<Stored> Read(const Kind& kind, const std::string& id);
  Result<Stored> Define(const Kind& kind, const std::string& id, std::string payload);
  Result<Stored> Retire(const Kind& kind, const std::string& id);
  // Those `keep` takes (given the payload), from the index in id order.
  Result<std::vector<Stored>> Page(const Kind& kind, const DefinitionsQuery& q,
                                   const std::function<bool(std::string_view)>& keep,
                                   std::string* next_after);
  Result<size_t*> Active(const Kind& kind);
  Result<std::string> NextId(const Kind& kind);
  template <typename View, typename Payload>
  static Result<View> ViewOf(Result<Stored> s);
  template <typename View, typename Payload>
  Result<DefinitionPage<View>> PageOf(const Kind& kind, const DefinitionsQuery& q);

  events::EventStore& store_;
  std::optional<size_t> active_[2];        // Targets, award rules; counted on first use.
  std::optional<std::string> last_id_[2];  // The last id made; read from the index first.
};

}  // namespace pavilion::settlement
