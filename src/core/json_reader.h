// JsonReader: decodes one JSON object field by field, with the field path in every error.
//
// Usage (inside a .cc that includes nlohmann/json.hpp):
//   JsonReader r(node, "spec");
//   r.read("maxReplicas", spec.max_replicas);
//   r.read_object("scaleTargetRef", spec.scale_target_ref, decode_reference);
//   if (auto status = r.finish(); !status) return tl::unexpected(status.error());
//
// Like Go's encoding/json, null reads as "absent". In strict mode (the API server's strict field
// validation) an unknown field is an error: `strict decoding error: unknown field "spec.x"`.
// Only the first error is kept. Not thread-safe; the node must outlive the reader.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/json.h"
#include "core/result.h"
#include "core/time.h"

namespace llmscale::core {

class JsonReader {
 public:
  JsonReader(const Json& node, std::string path, bool strict = true);

  const std::string& path() const { return path_; }
  bool strict() const { return strict_; }
  bool ok() const { return !error_.has_value(); }
  // The path of a field of this object: "spec" + "minReplicas" -> "spec.minReplicas".
  std::string child(std::string_view key) const;

  // Present and not null. Marks the field as known.
  bool has(std::string_view key);
  // The raw field, or nullptr when absent or null. Marks the field as known.
  const Json* get(std::string_view key);
  // Marks fields this decoder accepts but ignores.
  void ignore(std::initializer_list<std::string_view> keys);

  void read(std::string_view key, std::string& out);
  void read(std::string_view key, std::optional<std::string>& out);
  void read(std::string_view key, bool& out);
  void read(std::string_view key, std::int32_t& out);
  void read(std::string_view key, std::optional<std::int32_t>& out);
  void read(std::string_view key, std::int64_t& out);
  void read(std::string_view key, std::optional<std::int64_t>& out);
  void read(std::string_view key, double& out);
  void read(std::string_view key, std::optional<double>& out);
  void read(std::string_view key, Time& out);
  void read(std::string_view key, std::optional<Time>& out);
  void read(std::string_view key, std::map<std::string, std::string>& out);
  void read(std::string_view key, std::vector<std::string>& out);

  // decode(JsonReader& sub, T& value) fills one object.
  template <class T, class Decode>
  void read_object(std::string_view key, T& out, Decode&& decode) {
    const Json* node = get(key);
    if (node == nullptr || !ok()) return;
    decode_object(*node, child(key), out, decode);
  }
  template <class T, class Decode>
  void read_object(std::string_view key, std::optional<T>& out, Decode&& decode) {
    const Json* node = get(key);
    if (node == nullptr || !ok()) return;
    out.emplace();
    decode_object(*node, child(key), *out, decode);
  }
  template <class T, class Decode>
  void read_list(std::string_view key, std::vector<T>& out, Decode&& decode) {
    const Json* node = get(key);
    if (node == nullptr || !ok()) return;
    decode_list(*node, child(key), out, decode);
  }
  template <class T, class Decode>
  void read_list(std::string_view key, std::optional<std::vector<T>>& out, Decode&& decode) {
    const Json* node = get(key);
    if (node == nullptr || !ok()) return;
    out.emplace();
    decode_list(*node, child(key), *out, decode);
  }
  // A map of objects keyed by name: decode(JsonReader&, T&) for each value.
  template <class T, class Decode>
  void read_map(std::string_view key, std::map<std::string, T>& out, Decode&& decode) {
    const Json* node = get(key);
    if (node == nullptr || !ok()) return;
    if (!node->is_object()) return type_error(child(key), "an object", *node);
    for (auto it = node->begin(); it != node->end() && ok(); ++it) {
      decode_object(it.value(), child(key) + "[" + it.key() + "]", out[it.key()], decode);
    }
  }

  // Records an error at `path` (the first one wins).
  void fail(const std::string& path, const std::string& message);
  // Records an error that already names its field.
  void fail(const Error& error);
  void type_error(const std::string& path, const std::string& expected, const Json& found);

  // Unknown fields (strict mode) and the first error.
  Status finish();

 private:
  template <class T, class Decode>
  void decode_object(const Json& node, const std::string& path, T& out, Decode& decode) {
    if (!node.is_null() && !node.is_object()) return type_error(path, "an object", node);
    JsonReader sub(node, path, strict_);
    decode(sub, out);
    if (auto status = sub.finish(); !status) error_ = status.error();
  }
  template <class T, class Decode>
  void decode_list(const Json& node, const std::string& path, std::vector<T>& out, Decode& decode) {
    if (!node.is_array()) return type_error(path, "a list", node);
    out.clear();
    out.resize(node.size());
    for (std::size_t i = 0; i < node.size() && ok(); ++i) {
      decode_object(node[i], path + "[" + std::to_string(i) + "]", out[i], decode);
    }
  }
  bool read_integer(std::string_view key, std::int64_t lo, std::int64_t hi, std::int64_t& out);

  const Json& node_;
  std::string path_;
  bool strict_;
  std::vector<std::string> seen_;
  std::optional<Error> error_;
};

// A short rendering of a JSON value for error messages: string "x", number 3, an object.
std::string describe_json(const Json& node);

}  // namespace llmscale::core
