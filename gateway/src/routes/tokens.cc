// Tokens: POST /v1/tokens/rotate gives the caller a new token and stops the one it called with;
// POST /v1/tokens/revoke stops it. The operator may name a seller, shopper or scoped operator
// (subject_id): revoke stops every token of theirs, rotate does that and issues them one new token
// (how a seller whose token leaked gets a new one). POST /v1/operator-tokens issues a token for an
// operator scoped to a place, GET lists them (Identity, "Operators scoped to a place"). An
// operator scoped to a place acts so only on sellers and operators inside it, never on shoppers.
#include "../views.h"
#include "pavilion/base/json_writer.h"
#include "pavilion/places/place_directory.h"
#include "routes.h"

namespace pavilion::gateway::routes {
namespace {

// The bearer token the caller authenticated with (the router checked its form).
std::string_view CallerToken(const Request& r) {
  return std::string_view(r.http.authorization).substr(std::string_view("Bearer ").size());
}

// Reads the optional {"subject_id": …}; false once it has answered an error.
bool ReadSubject(const Request& r, const Respond& respond, std::string* subject) {
  if (!ReadOptionalStrings(r.http, respond, {{"subject_id", subject}})) return false;
  if (!subject->empty() && r.who->role != Role::kOperator) {
    respond(ErrorResponse(kForbidden,
                          "subject_id: only the operator acts on another's tokens; leave it out "
                          "to act on your own"));
    return false;
  }
  return true;
}

// The role a seller's, shopper's or scoped operator's id names.
std::optional<Role> RoleOfSubject(std::string_view subject) {
  if (subject.starts_with("sel_")) return Role::kSeller;
  if (subject.starts_with("shp_")) return Role::kShopper;
  if (subject.starts_with("opr_")) return Role::kOperator;
  return std::nullopt;
}

constexpr std::string_view kSubjects =
    "subject_id: give a seller's (sel_…), shopper's (shp_…) or scoped operator's (opr_…) id";

// Calls `then` with the place of `subject` (a seller's or scoped operator's; "" for a shopper)
// once it is known to lie in the caller's place: a scoped operator acts on no shopper, and on
// sellers and operators inside its place only. Whether the subject exists is asked only when
// that matters: for a scoped caller, or when `must_exist` (a rotation issues it a token).
void ForSubject(Context& cx, const Principal& who, const std::string& subject, Role role,
                bool must_exist, const Respond& respond, std::function<void(std::string)> then) {
  if (!who.Scoped() && !must_exist) return then("");
  switch (role) {
    case Role::kShopper:
      if (who.Scoped()) return respond(OutsideScope(cx, who, "subject_id"));
      return then("");
    case Role::kOperator: {
      auto op = cx.identity.FindScoped(subject);
      if (!op.ok()) {
        return respond(op.error() == storage::errc::not_found
                           ? ErrorResponse(kNotFound, "subject_id: no operator " + subject +
                                                          "; GET /v1/operator-tokens lists them")
                           : ErrorResponse(kInternal, "could not read the operator"));
      }
      if (!who.Sees(op->place_code)) return respond(OutsideScope(cx, who, "subject_id"));
      return then(op->place_code);
    }
    case Role::kSeller:
      // A seller must exist: the operator registers sellers.
      cx.s.catalog.GetSeller(
          subject, [&cx, who, respond, then = std::move(then)](Result<catalog::Seller> s) {
            if (!s.ok()) return respond(FromServiceError(s.error_detail()));
            if (!who.Sees(s->place_code)) return respond(OutsideScope(cx, who, "subject_id"));
            then("");
          });
      return;
  }
}

void WriteScopedOperator(Context& cx, base::JsonWriter& w, const ScopedOperator& op) {
  w.Field("id", op.id).Field("name", op.name).Field("place_code", op.place_code);
  w.Field("place_name", cx.PlaceName(op.place_code)).Field("created_micros", op.created_micros);
}

HttpResponse TokenAnswer(const std::string& token, const Principal& who) {
  base::JsonWriter w;
  w.BeginObject().Field("token", token).Field("role", ToString(who.role));
  w.Field("subject_id", who.subject).Key("expires_micros");
  if (who.expires_micros == 0) {
    w.Null();
  } else {
    w.Int(who.expires_micros);
  }
  w.EndObject();
  return JsonResponse(201, w.Take());
}

}  // namespace

void RotateToken(Context& cx, const Request& r, Respond respond) {
  // Each rotation is two synced writes and a key kept for good: limited per address like the
  // registrations that issue tokens.
  if (const int64_t wait =
          cx.shopper_limiter.Take(r.http.peer, cx.s.store.clock().MonotonicMicros())) {
    return respond(RateLimited("POST /v1/tokens/rotate", wait));
  }
  std::string subject;
  if (!ReadSubject(r, respond, &subject)) return;
  if (subject.empty()) {
    auto fresh = cx.identity.Rotate(CallerToken(r));
    if (!fresh.ok()) return respond(ErrorResponse(kInternal, "could not store the new token"));
    auto who = cx.identity.Authenticate(*fresh);
    if (!who) return respond(ErrorResponse(kInternal, "could not read the new token back"));
    return respond(TokenAnswer(*fresh, *who));
  }
  auto role = RoleOfSubject(subject);
  if (!role) return respond(ErrorResponse(kInvalidField, kSubjects));
  ForSubject(cx, *r.who, subject, *role, true, respond,
             [&cx, subject, role = *role, respond](const std::string& place) {
               auto revoked = cx.identity.RevokeSubject(subject);
               if (!revoked.ok()) {
                 return respond(ErrorResponse(kInternal, "could not revoke the tokens"));
               }
               // A scoped operator's new token sees its place, as the old ones did.
               auto fresh = cx.identity.Issue(role, subject, place);
               if (!fresh.ok()) {
                 return respond(ErrorResponse(kInternal, "could not store the new token"));
               }
               auto who = cx.identity.Authenticate(*fresh);
               if (!who) {
                 return respond(ErrorResponse(kInternal, "could not read the new token back"));
               }
               respond(TokenAnswer(*fresh, *who));
             });
}

void RevokeToken(Context& cx, const Request& r, Respond respond) {
  if (const int64_t wait =
          cx.shopper_limiter.Take(r.http.peer, cx.s.store.clock().MonotonicMicros())) {
    return respond(RateLimited("POST /v1/tokens/revoke", wait));
  }
  std::string subject;
  if (!ReadSubject(r, respond, &subject)) return;
  auto answer = [respond](int revoked) {
    base::JsonWriter w;
    w.BeginObject().Field("revoked", revoked).EndObject();
    respond(JsonResponse(200, w.Take()));
  };
  if (subject.empty()) {
    if (cx.identity.Revoke(CallerToken(r))) {
      return respond(ErrorResponse(kInternal, "could not revoke the token"));
    }
    return answer(1);
  }
  auto role = RoleOfSubject(subject);
  if (!role) return respond(ErrorResponse(kInvalidField, kSubjects));
  ForSubject(cx, *r.who, subject, *role, false, respond,
             [&cx, subject, respond, answer](const std::string&) {
               auto n = cx.identity.RevokeSubject(subject);
               if (!n.ok()) return respond(ErrorResponse(kInternal, "could not revoke the tokens"));
               answer(*n);
             });
}

void IssueOperatorToken(Context& cx, const Request& r, Respond respond) {
  ScopedOperator op;
  Body body;
  bool ok = body.Object(r.http, [&](std::string_view key, od::value& v) {
    if (key == "name") return body.String(v, op.name, 200);
    if (key == "place_code") return body.String(v, op.place_code, 12);
    return body.Fail(kInvalidField, std::string(key) +
                                        ": not a field of an operator token; give place_code "
                                        "and name");
  });
  if (!ok) return respond(body.TakeError());
  if (auto denied = ScopePlace(cx, *r.who, "place_code", op.place_code)) {
    return respond(std::move(*denied));
  }
  if (!places::LevelOf(op.place_code)) {
    return respond(ErrorResponse(kInvalidField,
                                 "place_code: give the division code of the place the token sees, "
                                 "2, 4, 6, 9 or 12 digits (140430 for 沁县)"));
  }
  if (cx.s.places != nullptr && !cx.s.places->Source().empty() &&
      !cx.s.places->Find(op.place_code)) {
    return respond(ErrorResponse(kInvalidField, "place_code: no division " + op.place_code +
                                                    " in " + cx.s.places->Source() +
                                                    "; look the code up with GET "
                                                    "/v1/places?q=<the place's name>"));
  }
  if (op.name.empty()) {
    return respond(
        ErrorResponse(kInvalidField, "name: required: who holds the token (沁县电商服务中心)"));
  }
  auto token = cx.identity.IssueScoped(op);
  if (!token.ok()) return respond(ErrorResponse(kInternal, "could not store the token"));
  base::JsonWriter w;
  w.BeginObject();
  WriteScopedOperator(cx, w, op);
  w.Field("token", *token).EndObject();
  respond(JsonResponse(201, w.Take()));
}

void ListOperatorTokens(Context& cx, const Request& r, Respond respond) {
  auto ops = cx.identity.ScopedOperators(r.who->place_code);
  if (!ops.ok()) return respond(ErrorResponse(kInternal, "could not read the operators"));
  base::JsonWriter w;
  w.BeginObject().Key("operators").BeginArray();
  for (const auto& op : *ops) {
    w.BeginObject();
    WriteScopedOperator(cx, w, op);
    w.Field("tokens", op.tokens).EndObject();
  }
  w.EndArray().EndObject();
  respond(JsonResponse(200, w.Take()));
}

}  // namespace pavilion::gateway::routes
