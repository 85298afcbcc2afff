#include "plan_book.h"

namespace pavilion::settlement {
namespace {

using events::svc_errc;
namespace schema = events::schema;

// The place a definition lies in (DefinitionsQuery::within): a target's scope, a rule's `within`.
std::string_view PlaceOf(const schema::TargetDefined& t) {
  return t.parts.empty() ? std::string_view() : t.parts[0].scope.place_code;
}
std::string_view PlaceOf(const schema::AwardRuleDefined& r) { return r.within; }

}  // namespace

struct PlanBook::Kind {
  size_t slot;                        // Its active_ count.
  std::string_view what;              // "target", "award rule": for messages.
  std::string_view index;             // Its index's key prefix.
  std::string_view id_prefix;         // NewId's.
  std::string_view defined, retired;  // Its event types.
  size_t max_active;
  std::string_view route;  // Where an operator retires one.
};

// The two kinds of definition.
static const PlanBook::Kind kTargets{0,
                                     "target",
                                     "set/pl/t/",
                                     "tgt",
                                     schema::TargetDefined::kType,
                                     schema::DefinitionRetired::kTarget,
                                     kMaxActiveTargets,
                                     "DELETE /v1/targets/{id}"};
static const PlanBook::Kind kRules{1,
                                   "award rule",
                                   "set/pl/a/",
                                   "awr",
                                   schema::AwardRuleDefined::kType,
                                   schema::DefinitionRetired::kAwardRule,
                                   kMaxActiveAwardRules,
                                   "DELETE /v1/award-rules/{id}"};

std::vector<std::string> PlanBook::EventTypes() {
  return {std::string(kTargets.defined), std::string(kRules.defined)};
}

void PlanBook::Handle(const events::Envelope& e, events::Transaction& tx) {
  const Kind& kind = e.type == kTargets.defined ? kTargets : kRules;
  tx.state().Put(std::string(kind.index) + e.stream_id, "");
}

Result<PlanBook::Stored> PlanBook::Read(const Kind& kind, const std::string& id) {
  const std::string missing = "no " + std::string(kind.what) + " " + id;
  // Only ids this book mints name definitions: anything else is no stream of one.
  if (id.rfind(std::string(kind.id_prefix) + "_", 0) != 0) return {svc_errc::not_found, missing};
  auto events = store_.ReadStream(id, 1, 2);
  if (!events.ok()) return {svc_errc::internal, "reading " + id + " failed"};
  if (events->empty() || events->front().type != kind.defined) {
    return {svc_errc::not_found, missing};
  }
  Stored s{id, std::move(events->front().payload), events->front().time_micros, 0};
  if (events->size() > 1 && (*events)[1].type == kind.retired) {
    s.retired_micros = (*events)[1].time_micros;
  }
  return s;
}

Result<size_t*> PlanBook::Active(const Kind& kind) {
  auto& active = active_[kind.slot];
  if (!active) {
    size_t n = 0;
    std::vector<std::string> ids;
    const std::string begin(kind.index);
    auto ec = store_.kv().Scan(begin, storage::PrefixEnd(begin),
                               [&](std::string_view k, std::string_view) {
                                 ids.emplace_back(k.substr(begin.size()));
                                 return true;
                               });
    if (ec) return {svc_errc::internal, "reading the " + std::string(kind.what) + "s failed"};
    for (const auto& id : ids) {
      auto s = Read(kind, id);
      if (!s.ok()) return s.error_detail();
      n += s->retired_micros == 0;
    }
    active = n;
  }
  return &*active;
}

// NewId's ids sort by the millisecond they were made in, and by chance within it; the book's
// must sort in the order definitions were made (lists page through them by id). Commands run
// one at a time, so an id not past the last one is replaced by the last one's successor
// (the same millisecond, its random part plus one): still unique, since only this book mints
// ids of the kind.
Result<std::string> PlanBook::NextId(const Kind& kind) {
  auto& last = last_id_[kind.slot];
  if (!last) {
    last.emplace();
    const std::string begin(kind.index);
    auto ec = store_.kv().ScanReverse(begin, storage::PrefixEnd(begin),
                                      [&](std::string_view k, std::string_view) {
                                        *last = std::string(k.substr(begin.size()));
                                        return false;
                                      });
    if (ec) return {svc_errc::internal, "reading the " + std::string(kind.what) + "s failed"};
  }
  std::string id = events::NewId(kind.id_prefix);
  if (id <= *last) {
    id = *last;
    for (size_t i = id.size(); i-- > kind.id_prefix.size() + 1;) {
      char& c = id[i];
      if (c != 'f') {
        c = c == '9' ? 'a' : static_cast<char>(c + 1);
        break;
      }
      c = '0';
    }
  }
  *last = id;
  return id;
}

Result<PlanBook::Stored> PlanBook::Define(const Kind& kind, const std::string& id,
                                          std::string payload) {
  auto active = Active(kind);
  if (!active.ok()) return active.error_detail();
  if (**active >= kind.max_active) {
    return {svc_errc::invalid_argument,
            "name: " + std::to_string(kind.max_active) + " " + std::string(kind.what) +
                "s are active, the most there may be; retire one first (" +
                std::string(kind.route) + ")"};
  }
  events::AppendRequest req;
  // kNoStream: the id may be a successor NextId derived rather than one NewId minted.
  req.events.push_back(events::NewEvent{id, events::kNoStream, std::string(kind.defined),
                                        std::move(payload), "", "", 1});
  req.state.Put(std::string(kind.index) + id, "");
  if (!store_.AppendAndWait(std::move(req)).ok()) {
    return {svc_errc::internal, "could not store the " + std::string(kind.what)};
  }
  ++**active;
  return Read(kind, id);
}

Result<PlanBook::Stored> PlanBook::Retire(const Kind& kind, const std::string& id) {
  auto s = Read(kind, id);
  if (!s.ok() || s->retired_micros != 0) return s;
  auto active = Active(kind);
  if (!active.ok()) return active.error_detail();
  events::AppendRequest req;
  req.events.push_back(events::NewEvent{id, 1, std::string(kind.retired),
                                        events::Encode(schema::DefinitionRetired{id}), "", "", 1});
  if (!store_.AppendAndWait(std::move(req)).ok()) {
    return {svc_errc::internal, "could not retire the " + std::string(kind.what)};
  }
  if (**active > 0) --**active;
  return Read(kind, id);
}

Result<std::vector<PlanBook::Stored>> PlanBook::Page(
    const Kind& kind, const DefinitionsQuery& q, const std::function<bool(std::string_view)>& keep,
    std::string* next_after) {
  const std::string prefix(kind.index);
  // After `after`: the first key past it (ids hold no '\0').
  const std::string begin = q.after.empty() ? prefix : prefix + q.after + std::string(1, '\0');
  std::vector<Stored> out;
  std::error_code inner;
  size_t scanned = 0;
  std::string last;
  auto ec = store_.kv().Scan(begin, storage::PrefixEnd(prefix),
                             [&](std::string_view k, std::string_view) {
                               const std::string id(k.substr(prefix.size()));
                               if (out.size() == q.limit || scanned == kMaxScannedPerPage) {
                                 *next_after = last;  // There is more after it.
                                 return false;
                               }
                               ++scanned;
                               last = id;
                               auto s = Read(kind, id);
                               if (!s.ok()) {
                                 inner = std::make_error_code(std::errc::io_error);
                                 return false;
                               }
                               if ((q.retired || s->retired_micros == 0) && keep(s->payload)) {
                                 out.push_back(*s);
                               }
                               return true;
                             });
  if (ec || inner)
    return {svc_errc::internal, "reading the " + std::string(kind.what) + "s failed"};
  return out;
}

template <typename View, typename Payload>
Result<View> PlanBook::ViewOf(Result<Stored> s) {
  if (!s.ok()) return s.error_detail();
  auto payload = events::Decode<Payload>(s->payload);
  if (!payload.ok()) return {svc_errc::internal, s->id + " does not decode"};
  View v;
  v.definition = std::move(*payload);
  v.defined_micros = s->defined_micros;
  v.retired_micros = s->retired_micros;
  return v;
}

Result<TargetView> PlanBook::DefineTarget(schema::TargetDefined t) {
  auto id = NextId(kTargets);
  if (!id.ok()) return id.error_detail();
  t.target_id = *id;
  return ViewOf<TargetView, schema::TargetDefined>(Define(kTargets, *id, events::Encode(t)));
}

Result<AwardRuleView> PlanBook::DefineAwardRule(schema::AwardRuleDefined r) {
  auto id = NextId(kRules);
  if (!id.ok()) return id.error_detail();
  r.rule_id = *id;
  return ViewOf<AwardRuleView, schema::AwardRuleDefined>(Define(kRules, *id, events::Encode(r)));
}

Result<TargetView> PlanBook::RetireTarget(const std::string& id) {
  return ViewOf<TargetView, schema::TargetDefined>(Retire(kTargets, id));
}

Result<AwardRuleView> PlanBook::RetireAwardRule(const std::string& id) {
  return ViewOf<AwardRuleView, schema::AwardRuleDefined>(Retire(kRules, id));
}

Result<TargetView> PlanBook::Target(const std::string& id) {
  return ViewOf<TargetView, schema::TargetDefined>(Read(kTargets, id));
}

Result<AwardRuleView> PlanBook::AwardRule(const std::string& id) {
  return ViewOf<AwardRuleView, schema::AwardRuleDefined>(Read(kRules, id));
}

template <typename View, typename Payload>
Result<DefinitionPage<View>> PlanBook::PageOf(const Kind& kind, const DefinitionsQuery& q) {
  DefinitionPage<View> page;
  auto keep = [&q](std::string_view payload) {
    if (q.within.empty()) return true;
    auto p = events::Decode<Payload>(payload);
    return p.ok() && PlaceOf(*p).starts_with(q.within);
  };
  auto stored = Page(kind, q, keep, &page.next_after);
  if (!stored.ok()) return stored.error_detail();
  for (auto& s : *stored) {
    auto v = ViewOf<View, Payload>(std::move(s));
    if (!v.ok()) return v.error_detail();
    page.items.push_back(std::move(*v));
  }
  return page;
}

Result<TargetPage> PlanBook::Targets(const DefinitionsQuery& q) {
  return PageOf<TargetView, schema::TargetDefined>(kTargets, q);
}

Result<AwardRulePage> PlanBook::AwardRules(const DefinitionsQuery& q) {
  return PageOf<AwardRuleView, schema::AwardRuleDefined>(kRules, q);
}

}  // namespace pavilion::settlement
