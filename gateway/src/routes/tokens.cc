// Tokens: POST /v1/tokens/rotate gives the caller a new token and stops the one it called with;
// POST /v1/tokens/revoke stops it. The operator may name a seller or shopper (subject_id): revoke
// stops every token of theirs, rotate does that and issues them one new token (how a seller whose
// token leaked gets a new one).
#include "../views.h"
#include "pavilion/base/json_writer.h"
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

// The role a seller's or shopper's id names.
std::optional<Role> RoleOfSubject(std::string_view subject) {
  if (subject.starts_with("sel_")) return Role::kSeller;
  if (subject.starts_with("shp_")) return Role::kShopper;
  return std::nullopt;
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
  if (!role) {
    return respond(ErrorResponse(kInvalidField,
                                 "subject_id: give a seller's (sel_…) or shopper's (shp_…) id"));
  }
  auto issue = [&cx, subject, role = *role, respond] {
    auto revoked = cx.identity.RevokeSubject(subject);
    if (!revoked.ok()) return respond(ErrorResponse(kInternal, "could not revoke the tokens"));
    auto fresh = cx.identity.Issue(role, subject);
    if (!fresh.ok()) return respond(ErrorResponse(kInternal, "could not store the new token"));
    auto who = cx.identity.Authenticate(*fresh);
    if (!who) return respond(ErrorResponse(kInternal, "could not read the new token back"));
    respond(TokenAnswer(*fresh, *who));
  };
  if (*role == Role::kShopper) return issue();
  // A seller must exist: the operator registers sellers.
  cx.s.catalog.GetSeller(subject, [issue, respond](Result<catalog::Seller> s) {
    if (!s.ok()) return respond(FromServiceError(s.error_detail()));
    issue();
  });
}

void RevokeToken(Context& cx, const Request& r, Respond respond) {
  if (const int64_t wait =
          cx.shopper_limiter.Take(r.http.peer, cx.s.store.clock().MonotonicMicros())) {
    return respond(RateLimited("POST /v1/tokens/revoke", wait));
  }
  std::string subject;
  if (!ReadSubject(r, respond, &subject)) return;
  int revoked = 1;
  if (subject.empty()) {
    if (cx.identity.Revoke(CallerToken(r))) {
      return respond(ErrorResponse(kInternal, "could not revoke the token"));
    }
  } else {
    if (!RoleOfSubject(subject)) {
      return respond(ErrorResponse(kInvalidField,
                                   "subject_id: give a seller's (sel_…) or shopper's (shp_…) id"));
    }
    auto n = cx.identity.RevokeSubject(subject);
    if (!n.ok()) return respond(ErrorResponse(kInternal, "could not revoke the tokens"));
    revoked = *n;
  }
  base::JsonWriter w;
  w.BeginObject().Field("revoked", revoked).EndObject();
  respond(JsonResponse(200, w.Take()));
}

}  // namespace pavilion::gateway::routes
