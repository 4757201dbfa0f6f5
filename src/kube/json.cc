// Manifest text to JSON: JSON directly, YAML through go-yaml v2's scalar resolution.
#include "kube/json.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <set>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

namespace llmscale::kube {
namespace {

using core::Result;

bool is_one_of(std::string_view s, std::initializer_list<std::string_view> options) {
  for (auto o : options) {
    if (s == o) return true;
  }
  return false;
}

// strconv.ParseInt/ParseUint(s, 0, 64) after removing underscores.
bool parse_go_integer(std::string_view text, Json& out) {
  std::string plain;
  for (char c : text) {
    if (c != '_') plain.push_back(c);
  }
  std::string_view s = plain;
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return false;
  int base = 10;
  if (s.size() > 1 && s[0] == '0') {
    if (s[1] == 'x' || s[1] == 'X') base = 16, s.remove_prefix(2);
    else if (s[1] == 'b' || s[1] == 'B') base = 2, s.remove_prefix(2);
    else if (s[1] == 'o' || s[1] == 'O') base = 8, s.remove_prefix(2);
    else base = 8, s.remove_prefix(1);
  }
  if (s.empty()) return false;
  std::uint64_t magnitude = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), magnitude, base);
  if (ec != std::errc() || ptr != s.data() + s.size()) return false;
  if (negative) {
    if (magnitude > std::uint64_t(1) << 63) return false;
    out = std::int64_t(0 - magnitude);
  } else if (magnitude <= std::uint64_t(std::numeric_limits<std::int64_t>::max())) {
    out = std::int64_t(magnitude);
  } else {
    out = magnitude;
  }
  return true;
}

// ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
bool is_yaml_style_float(std::string_view s) {
  std::size_t i = 0;
  auto digits = [&] {
    std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - start;
  };
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  } else {
    if (digits() == 0) return false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      digits();
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

// go-yaml v2's resolve() for a plain (unquoted, untagged) scalar.
Result<Json> resolve_plain(const std::string& in, const YAML::Mark& mark) {
  if (is_one_of(in, {"", "~", "null", "Null", "NULL"})) return Json(nullptr);
  if (is_one_of(in, {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"})) {
    return Json(true);
  }
  if (is_one_of(in, {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"})) {
    return Json(false);
  }
  if (is_one_of(in, {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf",
                     "-.INF", ".nan", ".NaN", ".NAN"})) {
    return core::invalid_argument("yaml: line " + std::to_string(mark.line + 1) +
                                  ": json: unsupported value: " + in);
  }
  char first = in[0];
  bool numeric_hint = (first >= '0' && first <= '9') || first == '+' || first == '-';
  if (first == '.' || numeric_hint) {
    if (numeric_hint) {
      Json integer;
      if (parse_go_integer(in, integer)) return integer;
    }
    std::string plain;
    for (char c : in) {
      if (c != '_' || first == '.') plain.push_back(c);
    }
    if (first == '.' || is_yaml_style_float(plain)) {
      char* end = nullptr;
      double v = std::strtod(plain.c_str(), &end);
      if (end == plain.c_str() + plain.size() && std::isfinite(v)) return Json(v);
    }
  }
  return Json(in);
}

std::string yaml_error(const YAML::Mark& mark, const std::string& message) {
  if (mark.is_null()) return "yaml: " + message;
  return "yaml: line " + std::to_string(mark.line + 1) + ", column " +
         std::to_string(mark.column + 1) + ": " + message;
}

Result<Json> yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return Json(nullptr);
    case YAML::NodeType::Scalar: {
      const std::string& tag = node.Tag();
      const std::string& text = node.Scalar();
      if (tag == "!" || tag == "tag:yaml.org,2002:str" || tag == "!!str") return Json(text);
      return resolve_plain(text, node.Mark());
    }
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (const auto& item : node) {
        auto value = yaml_to_json(item);
        if (!value) return value;
        out.push_back(std::move(*value));
      }
      return out;
    }
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& entry : node) {
        auto key = yaml_to_json(entry.first);
        if (!key) return key;
        std::string key_text;
        if (key->is_string()) {
          key_text = key->get<std::string>();
        } else if (key->is_null()) {
          key_text = "null";
        } else {
          key_text = key->dump();
        }
        if (out.contains(key_text)) {
          return core::invalid_argument(
              yaml_error(entry.first.Mark(), "key " + nlohmann::json(key_text).dump() +
                                                 " already set in map"));
        }
        auto value = yaml_to_json(entry.second);
        if (!value) return value;
        out[key_text] = std::move(*value);
      }
      return out;
    }
  }
  return Json(nullptr);
}

bool looks_like_json(std::string_view text) {
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    return c == '{' || c == '[';
  }
  return false;
}

}  // namespace

Result<std::vector<Json>> parse_documents(std::string_view text) {
  // Like kubectl's YAMLOrJSONDecoder: text that opens with '{' or '[' is JSON, strictly.
  if (looks_like_json(text)) {
    try {
      return std::vector<Json>{Json::parse(text.begin(), text.end())};
    } catch (const nlohmann::json::parse_error& e) {
      return core::invalid_argument(std::string("json: ") + e.what());
    }
  }
  std::vector<Json> documents;
  try {
    for (const YAML::Node& doc : YAML::LoadAll(std::string(text))) {
      auto value = yaml_to_json(doc);
      if (!value) return tl::unexpected(value.error());
      if (!value->is_null()) documents.push_back(std::move(*value));
    }
  } catch (const YAML::Exception& e) {
    return core::invalid_argument(yaml_error(e.mark, e.msg));
  }
  return documents;
}

Result<Json> parse_document(std::string_view text) {
  auto documents = parse_documents(text);
  if (!documents) return tl::unexpected(documents.error());
  if (documents->size() != 1) {
    return core::invalid_argument("expected exactly one document, found " +
                                  std::to_string(documents->size()));
  }
  return std::move((*documents)[0]);
}

std::string to_pretty_json(const Json& value) { return value.dump(2); }

std::string go_format_float(double value) {
  if (value == 0) return "0";
  double magnitude = std::fabs(value);
  char buf[64];
  if (magnitude < 1e-6 || magnitude >= 1e21) {
    auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
    std::string s(buf, ptr);
    // Go writes e-07 as e-7 and keeps the sign: 1e+21.
    auto e = s.find('e');
    std::string mantissa = s.substr(0, e);
    std::string exponent = s.substr(e + 1);
    char sign = '+';
    if (exponent[0] == '-' || exponent[0] == '+') {
      sign = exponent[0];
      exponent.erase(0, 1);
    }
    while (exponent.size() > 1 && exponent[0] == '0') exponent.erase(0, 1);
    return mantissa + "e" + sign + exponent;
  }
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed);
  return std::string(buf, ptr);
}

}  // namespace llmscale::kube
