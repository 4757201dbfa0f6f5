// Relabeling: validation, application and config decoding, after prometheus/model/relabel.
#include "prom/scrape/relabel.h"

#include <algorithm>
#include <cstring>

#include <re2/re2.h>
#include <nlohmann/json.hpp>

#include "core/json_reader.h"
#include "core/strings.h"
#include "prom/tsdb/matcher.h"

namespace llmscale::prom {
namespace {

struct ActionName {
  RelabelAction action;
  std::string_view name;
};
constexpr ActionName kActions[] = {
    {RelabelAction::kReplace, "replace"},     {RelabelAction::kKeep, "keep"},
    {RelabelAction::kDrop, "drop"},           {RelabelAction::kKeepEqual, "keepequal"},
    {RelabelAction::kDropEqual, "dropequal"}, {RelabelAction::kHashMod, "hashmod"},
    {RelabelAction::kLabelMap, "labelmap"},   {RelabelAction::kLabelDrop, "labeldrop"},
    {RelabelAction::kLabelKeep, "labelkeep"}, {RelabelAction::kLowercase, "lowercase"},
    {RelabelAction::kUppercase, "uppercase"},
};

// Prometheus: relabelTarget = ^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$
bool is_valid_relabel_target(std::string_view s) {
  static const re2::RE2 kTarget(R"(^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$)");
  return re2::RE2::FullMatch(re2::StringPiece(s.data(), s.size()), kTarget);
}

bool full_match(const re2::RE2& re, std::string_view value, std::vector<std::string_view>* groups) {
  re2::StringPiece input(value.data(), value.size());
  if (groups == nullptr) return re2::RE2::FullMatch(input, re);
  int n = re.NumberOfCapturingGroups() + 1;
  std::vector<re2::StringPiece> sub(static_cast<std::size_t>(n));
  if (!re.Match(input, 0, input.size(), re2::RE2::ANCHOR_BOTH, sub.data(), n)) return false;
  groups->clear();
  for (const auto& s : sub) {
    groups->push_back(s.data() == nullptr ? std::string_view()
                                          : std::string_view(s.data(), s.size()));
  }
  return true;
}

std::string to_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

}  // namespace

std::string_view relabel_action_name(RelabelAction action) {
  for (const auto& a : kActions) {
    if (a.action == action) return a.name;
  }
  return "?";
}

std::optional<RelabelAction> parse_relabel_action(std::string_view name) {
  std::string lower = core::to_lower(name);
  for (const auto& a : kActions) {
    if (a.name == lower) return a.action;
  }
  return std::nullopt;
}

core::Result<RelabelRule> RelabelRule::compile(RelabelConfig c) {
  const RelabelConfig defaults;
  std::string_view action = relabel_action_name(c.action);
  auto error = [](std::string message) { return core::invalid_argument(std::move(message)); };
  if (c.modulus == 0 && c.action == RelabelAction::kHashMod) {
    return error("relabel configuration for hashmod requires non-zero modulus");
  }
  bool needs_target =
      c.action == RelabelAction::kReplace || c.action == RelabelAction::kHashMod ||
      c.action == RelabelAction::kLowercase || c.action == RelabelAction::kUppercase ||
      c.action == RelabelAction::kKeepEqual || c.action == RelabelAction::kDropEqual;
  if (needs_target && c.target_label.empty()) {
    return error("relabel configuration for " + std::string(action) +
                 " action requires 'target_label' value");
  }
  if ((c.action == RelabelAction::kReplace || c.action == RelabelAction::kLowercase ||
       c.action == RelabelAction::kUppercase) &&
      !is_valid_relabel_target(c.target_label)) {
    return error("\"" + c.target_label + "\" is invalid 'target_label' for " + std::string(action) +
                 " action");
  }
  if ((c.action == RelabelAction::kLowercase || c.action == RelabelAction::kUppercase ||
       c.action == RelabelAction::kKeepEqual || c.action == RelabelAction::kDropEqual) &&
      c.replacement != defaults.replacement) {
    return error("'replacement' can not be set for " + std::string(action) + " action");
  }
  if (c.action == RelabelAction::kLabelMap && !is_valid_relabel_target(c.replacement)) {
    return error("\"" + c.replacement + "\" is invalid 'replacement' for " + std::string(action) +
                 " action");
  }
  if (c.action == RelabelAction::kHashMod && !is_valid_label_name(c.target_label)) {
    return error("\"" + c.target_label + "\" is invalid 'target_label' for " + std::string(action) +
                 " action");
  }
  if ((c.action == RelabelAction::kKeepEqual || c.action == RelabelAction::kDropEqual) &&
      (c.regex != defaults.regex || c.modulus != defaults.modulus ||
       c.separator != defaults.separator || c.replacement != defaults.replacement)) {
    return error(std::string(action) +
                 " action requires only 'source_labels' and `target_label`, and no other fields");
  }
  if ((c.action == RelabelAction::kLabelDrop || c.action == RelabelAction::kLabelKeep) &&
      (!c.source_labels.empty() || !c.target_label.empty() || c.modulus != defaults.modulus ||
       c.separator != defaults.separator || c.replacement != defaults.replacement)) {
    return error(std::string(action) + " action requires only 'regex', and no other fields");
  }
  auto regex = compile_anchored_regex(c.regex);
  if (!regex) return tl::unexpected(regex.error());
  RelabelRule rule;
  rule.config_ = std::move(c);
  rule.regex_ = std::move(*regex);
  return rule;
}

bool RelabelRule::apply(LabelsBuilder& lb) const {
  const RelabelConfig& c = config_;
  std::string value;
  for (std::size_t i = 0; i < c.source_labels.size(); ++i) {
    if (i > 0) value += c.separator;
    value.append(lb.get(c.source_labels[i]));
  }
  switch (c.action) {
    case RelabelAction::kDrop: return !full_match(*regex_, value, nullptr);
    case RelabelAction::kKeep: return full_match(*regex_, value, nullptr);
    case RelabelAction::kDropEqual: return lb.get(c.target_label) != value;
    case RelabelAction::kKeepEqual: return lb.get(c.target_label) == value;
    case RelabelAction::kReplace: {
      std::vector<std::string_view> groups;
      if (!full_match(*regex_, value, &groups)) break;  // no match: no replacement
      std::string target = expand_regex_template(*regex_, c.target_label, groups);
      if (!is_valid_label_name(target)) {
        lb.del(c.target_label);
        break;
      }
      std::string result = expand_regex_template(*regex_, c.replacement, groups);
      if (result.empty()) {
        lb.del(c.target_label);
        break;
      }
      lb.set(target, result);
      break;
    }
    case RelabelAction::kLowercase: lb.set(c.target_label, core::to_lower(value)); break;
    case RelabelAction::kUppercase: lb.set(c.target_label, to_upper(value)); break;
    case RelabelAction::kHashMod: {
      unsigned char digest[16];
      md5_digest(value, digest);
      std::uint64_t h = 0;
      for (int i = 8; i < 16; ++i) h = (h << 8) | digest[i];
      lb.set(c.target_label, std::to_string(h % c.modulus));
      break;
    }
    case RelabelAction::kLabelMap:
    case RelabelAction::kLabelDrop:
    case RelabelAction::kLabelKeep: {
      // Decide on a snapshot of the names: the builder changes while we go.
      std::vector<std::pair<std::string, std::string>> current;
      lb.for_each([&](std::string_view n, std::string_view v) { current.emplace_back(n, v); });
      std::vector<std::string_view> groups;
      for (const auto& [name, label_value] : current) {
        bool match =
            full_match(*regex_, name, c.action == RelabelAction::kLabelMap ? &groups : nullptr);
        if (c.action == RelabelAction::kLabelMap) {
          if (match) lb.set(expand_regex_template(*regex_, c.replacement, groups), label_value);
        } else if (c.action == RelabelAction::kLabelDrop) {
          if (match) lb.del(name);
        } else if (!match) {
          lb.del(name);
        }
      }
      break;
    }
  }
  return true;
}

core::Result<RelabelRules> RelabelRules::compile(std::vector<RelabelConfig> configs) {
  RelabelRules rules;
  for (std::size_t i = 0; i < configs.size(); ++i) {
    auto rule = RelabelRule::compile(std::move(configs[i]));
    if (!rule) return core::with_context(rule.error(), "[" + std::to_string(i) + "]");
    rules.rules_.push_back(std::move(*rule));
  }
  return rules;
}

bool RelabelRules::apply(LabelsBuilder& labels) const {
  for (const RelabelRule& rule : rules_) {
    if (!rule.apply(labels)) return false;
  }
  return true;
}

std::optional<Labels> RelabelRules::apply(const Labels& labels) const {
  LabelsBuilder lb(labels);
  if (!apply(lb)) return std::nullopt;
  return lb.labels();
}

namespace {

// go-yaml decodes a scalar into a string field whatever it looks like (`regex: 200`).
void read_scalar_string(core::JsonReader& r, std::string_view key, std::string& out) {
  const core::Json* node = r.get(key);
  if (node == nullptr) return;
  if (node->is_string()) {
    out = node->get<std::string>();
  } else if (node->is_number_integer()) {
    out = node->dump();
  } else if (node->is_boolean()) {
    out = node->get<bool>() ? "true" : "false";
  } else if (node->is_number_float()) {
    out = node->dump();
  } else {
    r.type_error(r.child(key), "a string", *node);
  }
}

void decode_one(core::JsonReader& r, RelabelConfig& c, RelabelFieldNames names) {
  bool pm = names == RelabelFieldNames::kPodMonitoring;
  const char* source_key = pm ? "sourceLabels" : "source_labels";
  const char* target_key = pm ? "targetLabel" : "target_label";
  if (const core::Json* node = r.get(source_key)) {
    if (!node->is_array()) {
      r.type_error(r.child(source_key), "a list", *node);
    } else {
      for (std::size_t i = 0; i < node->size(); ++i) {
        const core::Json& item = (*node)[i];
        std::string path = r.child(source_key) + "[" + std::to_string(i) + "]";
        if (!item.is_string()) {
          r.type_error(path, "a string", item);
          return;
        }
        std::string name = item.get<std::string>();
        if (!is_valid_label_name(name)) {
          r.fail(path, "\"" + name + "\" is not a valid label name");
          return;
        }
        c.source_labels.push_back(std::move(name));
      }
    }
  }
  read_scalar_string(r, "separator", c.separator);
  read_scalar_string(r, target_key, c.target_label);
  read_scalar_string(r, "regex", c.regex);
  read_scalar_string(r, "replacement", c.replacement);
  std::int64_t modulus = 0;
  if (r.has("modulus")) {
    r.read("modulus", modulus);
    if (modulus < 0) r.fail(r.child("modulus"), "must not be negative");
    c.modulus = static_cast<std::uint64_t>(modulus);
  }
  if (const core::Json* node = r.get("action")) {
    if (!node->is_string()) {
      r.type_error(r.child("action"), "a string", *node);
      return;
    }
    std::string name = node->get<std::string>();
    if (name.empty()) {
      r.fail(r.child("action"), "relabel action cannot be empty");
      return;
    }
    auto action = parse_relabel_action(name);
    if (!action) {
      r.fail(r.child("action"), "unknown relabel action \"" + name + "\"");
      return;
    }
    c.action = *action;
  }
}

}  // namespace

core::Result<std::vector<RelabelConfig>> decode_relabel_configs(const core::Json& list,
                                                                const std::string& path,
                                                                RelabelFieldNames names) {
  std::vector<RelabelConfig> out;
  if (list.is_null()) return out;
  if (!list.is_array()) {
    return core::invalid_argument(path + ": expected a list, got " + core::describe_json(list));
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    std::string item_path = path + "[" + std::to_string(i) + "]";
    const core::Json& item = list[i];
    if (!item.is_object()) {
      return core::invalid_argument(item_path + ": expected an object, got " +
                                    core::describe_json(item));
    }
    core::JsonReader r(item, item_path);
    RelabelConfig c;
    decode_one(r, c, names);
    if (auto status = r.finish(); !status) return tl::unexpected(status.error());
    if (auto rule = RelabelRule::compile(c); !rule) {
      return core::with_context(rule.error(), item_path);
    }
    out.push_back(std::move(c));
  }
  return out;
}

core::Result<std::vector<RelabelConfig>> parse_relabel_configs(std::string_view text,
                                                               RelabelFieldNames names) {
  auto doc = core::parse_document(text);
  if (!doc) return tl::unexpected(doc.error());
  return decode_relabel_configs(
      *doc,
      names == RelabelFieldNames::kPodMonitoring ? "metricRelabeling" : "metric_relabel_configs",
      names);
}

// MD5 (RFC 1321), compact.
void md5_digest(std::string_view data, unsigned char out[16]) {
  static constexpr std::uint32_t kK[64] = {
      0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613,
      0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193,
      0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
      0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
      0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122,
      0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
      0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244,
      0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
      0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
      0xeb86d391};
  static constexpr int kShift[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                                     5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
                                     4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                                     6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};
  std::uint32_t h[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
  std::string msg(data);
  std::uint64_t bit_len = static_cast<std::uint64_t>(data.size()) * 8;
  msg.push_back(static_cast<char>(0x80));
  while (msg.size() % 64 != 56) msg.push_back(0);
  for (int i = 0; i < 8; ++i) msg.push_back(static_cast<char>((bit_len >> (8 * i)) & 0xff));
  auto rotl = [](std::uint32_t x, int c) { return (x << c) | (x >> (32 - c)); };
  for (std::size_t off = 0; off < msg.size(); off += 64) {
    std::uint32_t w[16];
    for (int i = 0; i < 16; ++i) {
      const auto* p = reinterpret_cast<const unsigned char*>(msg.data() + off + 4 * i);
      w[i] = p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
    }
    std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
    for (int i = 0; i < 64; ++i) {
      std::uint32_t f;
      int g;
      if (i < 16) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (i < 32) {
        f = (d & b) | (~d & c);
        g = (5 * i + 1) % 16;
      } else if (i < 48) {
        f = b ^ c ^ d;
        g = (3 * i + 5) % 16;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) % 16;
      }
      std::uint32_t tmp = d;
      d = c;
      c = b;
      b = b + rotl(a + f + kK[i] + w[g], kShift[i]);
      a = tmp;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
  }
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j)
      out[4 * i + j] = static_cast<unsigned char>((h[i] >> (8 * j)) & 0xff);
  }
}

}  // namespace llmscale::prom
