// JsonReader: typed field access with field paths in errors.
#include "core/json_reader.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/strings.h"

namespace llmscale::core {

JsonReader::JsonReader(const Json& node, std::string path, bool strict)
    : node_(node), path_(std::move(path)), strict_(strict) {}

std::string JsonReader::child(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

const Json* JsonReader::get(std::string_view key) {
  seen_.emplace_back(key);
  if (!node_.is_object()) return nullptr;
  auto it = node_.find(std::string(key));
  if (it == node_.end() || it->is_null()) return nullptr;
  return &*it;
}

bool JsonReader::has(std::string_view key) {
  return get(key) != nullptr;
}

void JsonReader::ignore(std::initializer_list<std::string_view> keys) {
  for (auto key : keys) seen_.emplace_back(key);
}

void JsonReader::fail(const std::string& path, const std::string& message) {
  if (!error_) error_ = Error{ErrorCode::kInvalidArgument, path + ": " + message};
}

void JsonReader::fail(const Error& error) {
  if (!error_) error_ = error;
}

std::string describe_json(const Json& node) {
  switch (node.type()) {
    case Json::value_t::string: return "string " + go_quote(node.get<std::string>());
    case Json::value_t::boolean:
      return std::string("bool ") + (node.get<bool>() ? "true" : "false");
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: return "number " + node.dump();
    case Json::value_t::object: return "an object";
    case Json::value_t::array: return "a list";
    case Json::value_t::null: return "null";
    default: return "a value";
  }
}

void JsonReader::type_error(const std::string& path, const std::string& expected,
                            const Json& found) {
  fail(path, "expected " + expected + ", got " + describe_json(found));
}

void JsonReader::read(std::string_view key, std::string& out) {
  const Json* node = get(key);
  if (node == nullptr) return;
  if (!node->is_string()) return type_error(child(key), "a string", *node);
  out = node->get<std::string>();
}

void JsonReader::read(std::string_view key, std::optional<std::string>& out) {
  if (!has(key)) return;
  out.emplace();
  read(key, *out);
}

void JsonReader::read(std::string_view key, bool& out) {
  const Json* node = get(key);
  if (node == nullptr) return;
  if (!node->is_boolean()) return type_error(child(key), "a boolean", *node);
  out = node->get<bool>();
}

bool JsonReader::read_integer(std::string_view key, std::int64_t lo, std::int64_t hi,
                              std::int64_t& out) {
  const Json* node = get(key);
  if (node == nullptr) return false;
  std::string range =
      lo == std::numeric_limits<std::int32_t>::min() ? "a 32-bit integer" : "an integer";
  if (node->is_number_integer()) {
    if (node->is_number_unsigned() &&
        node->get<std::uint64_t>() > std::uint64_t(std::numeric_limits<std::int64_t>::max())) {
      type_error(child(key), range, *node);
      return false;
    }
    std::int64_t v = node->get<std::int64_t>();
    if (v < lo || v > hi) {
      type_error(child(key), range, *node);
      return false;
    }
    out = v;
    return true;
  }
  type_error(child(key), range, *node);
  return false;
}

void JsonReader::read(std::string_view key, std::int32_t& out) {
  std::int64_t v;
  if (read_integer(key, std::numeric_limits<std::int32_t>::min(),
                   std::numeric_limits<std::int32_t>::max(), v)) {
    out = std::int32_t(v);
  }
}

void JsonReader::read(std::string_view key, std::optional<std::int32_t>& out) {
  std::int64_t v;
  if (read_integer(key, std::numeric_limits<std::int32_t>::min(),
                   std::numeric_limits<std::int32_t>::max(), v)) {
    out = std::int32_t(v);
  }
}

void JsonReader::read(std::string_view key, std::int64_t& out) {
  std::int64_t v;
  if (read_integer(key, std::numeric_limits<std::int64_t>::min(),
                   std::numeric_limits<std::int64_t>::max(), v)) {
    out = v;
  }
}

void JsonReader::read(std::string_view key, std::optional<std::int64_t>& out) {
  std::int64_t v;
  if (read_integer(key, std::numeric_limits<std::int64_t>::min(),
                   std::numeric_limits<std::int64_t>::max(), v)) {
    out = v;
  }
}

void JsonReader::read(std::string_view key, double& out) {
  const Json* node = get(key);
  if (node == nullptr) return;
  if (!node->is_number()) return type_error(child(key), "a number", *node);
  out = node->get<double>();
}

void JsonReader::read(std::string_view key, std::optional<double>& out) {
  if (!has(key)) return;
  out.emplace();
  read(key, *out);
}

void JsonReader::read(std::string_view key, Time& out) {
  const Json* node = get(key);
  if (node == nullptr) return;
  if (!node->is_string()) return type_error(child(key), "an RFC 3339 time string", *node);
  auto t = parse_rfc3339(node->get<std::string>());
  if (!t) return fail(child(key), t.error().message);
  out = *t;
}

void JsonReader::read(std::string_view key, std::optional<Time>& out) {
  if (!has(key)) return;
  out.emplace();
  read(key, *out);
}

void JsonReader::read(std::string_view key, std::map<std::string, std::string>& out) {
  const Json* node = get(key);
  if (node == nullptr) return;
  if (!node->is_object()) return type_error(child(key), "a map of strings", *node);
  for (auto it = node->begin(); it != node->end(); ++it) {
    if (it->is_null()) {
      out[it.key()] = "";
      continue;
    }
    if (!it->is_string()) return type_error(child(key) + "." + it.key(), "a string", *it);
    out[it.key()] = it->get<std::string>();
  }
}

void JsonReader::read(std::string_view key, std::vector<std::string>& out) {
  const Json* node = get(key);
  if (node == nullptr) return;
  if (!node->is_array()) return type_error(child(key), "a list of strings", *node);
  out.clear();
  for (std::size_t i = 0; i < node->size(); ++i) {
    const Json& item = (*node)[i];
    if (!item.is_string()) {
      return type_error(child(key) + "[" + std::to_string(i) + "]", "a string", item);
    }
    out.push_back(item.get<std::string>());
  }
}

Status JsonReader::finish() {
  if (error_) return tl::unexpected(*error_);
  if (strict_ && node_.is_object()) {
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      if (std::find(seen_.begin(), seen_.end(), it.key()) == seen_.end()) {
        return invalid_argument("strict decoding error: unknown field " +
                                go_quote(child(it.key())));
      }
    }
  }
  return {};
}

}  // namespace llmscale::core
