// Relabeling: Prometheus' relabel_config, for metric_relabel_configs and PodMonitoring
// metricRelabeling.
//
// Semantics follow prometheus/model/relabel (v2.42): actions replace, keep, drop, keepequal,
// dropequal, hashmod, labelmap, labeldrop, labelkeep, lowercase, uppercase; the source label
// values are joined with `separator`; `regex` is RE2 syntax matched in full (anchored
// `^(?:regex)$`); `replacement` and `target_label` expand `$1`, `${1}`, `$name`, `${name}` like
// Go's Regexp.Expand (`$$` is a literal `$`, unknown groups expand to ""); a replace whose result
// is empty, or whose expanded target is not a valid label name, deletes the target label;
// hashmod uses the last 8 bytes of the MD5 of the joined value, big-endian, modulo `modulus`.
// Defaults: action replace, separator ";", regex "(.*)", replacement "$1". Validation rejects
// what Prometheus rejects, with its messages.
//
// RelabelRules is immutable once compiled; share it as std::shared_ptr<const RelabelRules>
// between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "prom/exposition/labels.h"

namespace re2 {
class RE2;
}

namespace llmscale::prom {

enum class RelabelAction {
  kReplace,
  kKeep,
  kDrop,
  kKeepEqual,
  kDropEqual,
  kHashMod,
  kLabelMap,
  kLabelDrop,
  kLabelKeep,
  kLowercase,
  kUppercase,
};

std::string_view relabel_action_name(RelabelAction action);
// Case-insensitive, as Prometheus parses it.
std::optional<RelabelAction> parse_relabel_action(std::string_view name);

struct RelabelConfig {
  std::vector<std::string> source_labels;
  std::string separator = ";";
  std::string target_label;
  std::string regex = "(.*)";
  std::uint64_t modulus = 0;
  std::string replacement = "$1";
  RelabelAction action = RelabelAction::kReplace;
};

class RelabelRule {
 public:
  // Validates like Prometheus' Config.UnmarshalYAML and compiles the regex.
  static core::Result<RelabelRule> compile(RelabelConfig config);

  const RelabelConfig& config() const { return config_; }
  // Applies the rule to `labels`; false when the series is dropped.
  bool apply(LabelsBuilder& labels) const;

 private:
  RelabelConfig config_;
  std::shared_ptr<const re2::RE2> regex_;
};

class RelabelRules {
 public:
  RelabelRules() = default;
  static core::Result<RelabelRules> compile(std::vector<RelabelConfig> configs);

  bool empty() const { return rules_.empty(); }
  std::size_t size() const { return rules_.size(); }
  // Runs every rule in order; false when a rule drops the series (then `labels` is unspecified).
  bool apply(LabelsBuilder& labels) const;
  // nullopt when dropped.
  std::optional<Labels> apply(const Labels& labels) const;

 private:
  std::vector<RelabelRule> rules_;
};

// Field names: Prometheus YAML (source_labels, target_label) or the PodMonitoring CRD
// (sourceLabels, targetLabel).
enum class RelabelFieldNames { kPrometheus, kPodMonitoring };

// Decodes and validates a list of relabel configs from a JSON value (YAML converted by
// core::parse_documents). Errors name the field path: "metric_relabel_configs[1].action: ...".
core::Result<std::vector<RelabelConfig>> decode_relabel_configs(const core::Json& list,
                                                                const std::string& path,
                                                                RelabelFieldNames names);
// Convenience: a YAML or JSON document that is a list of relabel configs.
core::Result<std::vector<RelabelConfig>> parse_relabel_configs(std::string_view text,
                                                               RelabelFieldNames names);

// MD5 digest (RFC 1321) of `data`: hashmod needs exactly Prometheus' hash.
void md5_digest(std::string_view data, unsigned char out[16]);

}  // namespace llmscale::prom
