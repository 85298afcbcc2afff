// Completes the hand-written OpenAPI document from the route table (see openapi.h). The document
// is read into a small tree that keeps each member's order and each scalar's text as written, so
// the completed document says exactly what the hand-written one said, plus what is derived.
#include <algorithm>
#include <cctype>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "openapi.h"

namespace pavilion::gateway {
namespace {

// A JSON value: a scalar kept as its text (a string with its quotes and escapes, a number, true,
// false, null), an array or an object with its members in order (keys as written, unquoted).
struct Json {
  enum class Kind { kScalar, kArray, kObject } kind = Kind::kScalar;
  std::string text;
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;

  Json* Find(std::string_view key) {
    for (auto& [k, v] : members) {
      if (k == key) return &v;
    }
    return nullptr;
  }
  static Json Raw(std::string text) { return Json{Kind::kScalar, std::move(text), {}, {}}; }
  static Json Object() { return Json{Kind::kObject, {}, {}, {}}; }
};

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  Json Document() {
    Json v = Value();
    Space();
    if (at_ != s_.size()) Fail("content after the document");
    return v;
  }

 private:
  [[noreturn]] void Fail(const char* what) const {
    throw std::invalid_argument("OpenAPI document: " + std::string(what) + " at byte " +
                                std::to_string(at_));
  }
  void Space() {
    while (at_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[at_]))) ++at_;
  }
  bool Take(char c) {
    Space();
    if (at_ < s_.size() && s_[at_] == c) {
      ++at_;
      return true;
    }
    return false;
  }
  void Expect(char c) {
    if (!Take(c)) Fail("unexpected character");
  }
  // A string's text between its quotes, escapes as written.
  std::string StringBody() {
    Expect('"');
    const size_t begin = at_;
    while (at_ < s_.size() && s_[at_] != '"') at_ += s_[at_] == '\\' ? 2 : 1;
    if (at_ >= s_.size()) Fail("unterminated string");
    return std::string(s_.substr(begin, at_++ - begin));
  }
  Json Value() {
    Space();
    if (at_ >= s_.size()) Fail("unexpected end");
    const char c = s_[at_];
    if (c == '{') {
      ++at_;
      Json o = Json::Object();
      if (Take('}')) return o;
      do {
        std::string key = StringBody();
        Expect(':');
        o.members.emplace_back(std::move(key), Value());
      } while (Take(','));
      Expect('}');
      return o;
    }
    if (c == '[') {
      ++at_;
      Json a{Json::Kind::kArray, {}, {}, {}};
      if (Take(']')) return a;
      do a.items.push_back(Value());
      while (Take(','));
      Expect(']');
      return a;
    }
    if (c == '"') return Json::Raw('"' + StringBody() + '"');
    const size_t begin = at_;
    while (at_ < s_.size() && std::string_view(",]} \t\r\n").find(s_[at_]) == std::string::npos) {
      ++at_;
    }
    if (at_ == begin) Fail("a value was expected");
    return Json::Raw(std::string(s_.substr(begin, at_ - begin)));
  }

  std::string_view s_;
  size_t at_ = 0;
};

void Write(const Json& v, std::string& out) {
  switch (v.kind) {
    case Json::Kind::kScalar:
      out += v.text;
      return;
    case Json::Kind::kArray:
      out += '[';
      for (size_t i = 0; i < v.items.size(); ++i) {
        if (i) out += ',';
        Write(v.items[i], out);
      }
      out += ']';
      return;
    case Json::Kind::kObject:
      out += '{';
      for (size_t i = 0; i < v.members.size(); ++i) {
        if (i) out += ',';
        out += '"' + v.members[i].first + "\":";
        Write(v.members[i].second, out);
      }
      out += '}';
      return;
  }
}

// getSellersById, postOrdersByIdPay: the method, then the path's words without /v1, a parameter
// as By<Name>. A route whose generated id another already has names its own in the document.
std::string OperationId(const RouteInfo& route) {
  std::string id;
  for (char c : route.method) id += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view path = route.pattern;
  if (path.starts_with("/v1/")) path.remove_prefix(3);
  bool upper = true;
  for (char c : path) {
    if (c == '{') {
      id += "By";
      upper = true;
    } else if (std::isalnum(static_cast<unsigned char>(c))) {
      id += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      upper = false;
    } else {
      upper = true;  // '/', '.', '_', '-', '}' start a new word.
    }
  }
  return id;
}

// The error answers a route of this kind can give, each with why.
std::vector<std::string> DerivedStatuses(const RouteInfo& route, bool has_body) {
  std::vector<std::string> out;
  if (has_body) out.insert(out.end(), {"400", "413", "415"});       // Body read, limited, typed.
  if (!route.roles.empty()) out.insert(out.end(), {"401", "403"});  // Token, role.
  if (route.pattern.find('{') != std::string::npos) out.push_back("404");  // No such resource.
  out.push_back("405");                                    // Another method on the same path.
  if (!route.ignores_unknown_query) out.push_back("422");  // unknown_parameter.
  out.push_back("500");  // The store failed; nothing was half-written.
  return out;
}

void Complete(Json& op, const RouteInfo& route) {
  if (op.kind != Json::Kind::kObject) return;
  if (!op.Find("operationId")) {
    op.members.insert(op.members.begin(),
                      {"operationId", Json::Raw('"' + OperationId(route) + '"')});
  }
  if (!op.Find("security")) {
    op.members.emplace_back("security",
                            Json::Raw(route.roles.empty() ? "[]" : R"([{"bearer":[]}])"));
  }
  Json* responses = op.Find("responses");
  if (!responses) {
    op.members.emplace_back("responses", Json::Object());
    responses = &op.members.back().second;
  }
  for (const auto& status : DerivedStatuses(route, op.Find("requestBody") != nullptr)) {
    if (!responses->Find(status)) {
      responses->members.emplace_back(status,
                                      Json::Raw(R"({"$ref":"#/components/responses/Error"})"));
    }
  }
  // In status order, as readers scan them ("default", were there one, sorts after the codes).
  std::stable_sort(responses->members.begin(), responses->members.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
}

}  // namespace

std::string CompleteOpenApi(std::string_view hand, const std::vector<RouteInfo>& routes) {
  Json doc = Parser(hand).Document();
  Json* paths = doc.Find("paths");
  if (!paths) throw std::invalid_argument("OpenAPI document: no paths");
  for (const auto& route : routes) {
    Json* item = paths->Find(route.pattern);
    if (!item) continue;  // The gateway's tests name the route the document forgot.
    std::string method;
    for (char c : route.method)
      method += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (Json* op = item->Find(method)) Complete(*op, route);
  }
  std::set<std::string> ids;
  for (auto& [path, item] : paths->members) {
    for (auto& [method, op] : item.members) {
      Json* id = op.Find("operationId");
      if (id && !ids.insert(id->text).second) {
        throw std::invalid_argument("OpenAPI document: operationId " + id->text + " of " + method +
                                    " " + path + " is taken; name it in openapi.cc");
      }
    }
  }
  std::string out;
  out.reserve(hand.size() + 8192);
  Write(doc, out);
  return out;
}

std::string_view Router::OpenApiDocument() {
  static const std::string doc = CompleteOpenApi(HandWrittenOpenApi(), Routes());
  return doc;
}

}  // namespace pavilion::gateway
