// StringAt: the string a JSON answer holds at a path of object keys, for tests that read one
// field of an answer ("" when the body is not JSON, the path is missing or the value is not a
// string).
#pragma once

#include <simdjson.h>

#include <initializer_list>
#include <string>
#include <string_view>

namespace pavilion::testing {

inline std::string StringAt(const std::string& json, std::initializer_list<const char*> path) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(json).get(e)) return "";
  for (const char* key : path) {
    if (e[key].get(e)) return "";
  }
  std::string_view v;
  if (e.get(v)) return "";
  return std::string(v);
}

}  // namespace pavilion::testing
