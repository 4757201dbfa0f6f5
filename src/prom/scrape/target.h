// From discovered labels to scrape targets: Prometheus' scrape.PopulateLabels and
// TargetsFromGroup (v2.42), as pure functions.
//
// For each target of a group: the group's labels fill in what the target lacks; the scrape
// config's job, __scrape_interval__, __scrape_timeout__, __metrics_path__, __scheme__ and the
// first value of each param (__param_<name>) are added when absent; relabel_configs run (a
// dropped target is reported as dropped, with its discovered labels); then __address__ gets the
// scheme's default port when it has none, interval and timeout are re-read from their labels and
// validated, __meta_* labels are removed and `instance` defaults to the address. The result's
// public labels (no `__` prefix) are the target labels every sample gets; the URL is
// scheme://address + path + the params (config params overridden by __param_* labels, sorted
// by name as url.Values.Encode does).
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "prom/exposition/labels.h"
#include "prom/scrape/config.h"

namespace llmscale::prom {

struct ScrapeTargetSpec {
  Labels labels;             // after relabeling, internal `__` labels included
  Labels discovered_labels;  // before relabeling
  std::string url;           // scheme://host:port/path?query
  core::Duration interval{};
  core::Duration timeout{};

  // The target labels stored with every sample: `labels` without those starting with "__".
  Labels public_labels() const;
  // Identity within a pool (Prometheus' Target.hash): labels and URL.
  std::uint64_t hash() const;
};

// One discovered target's fate.
struct TargetOutcome {
  std::optional<ScrapeTargetSpec> target;  // set when kept
  Labels discovered_labels;                // always set
  std::optional<core::Error> error;        // invalid target (no address, bad interval...)
};

// Prometheus: PopulateLabels + the Target it builds. `discovered` already merges the group's
// labels (see targets_from_group).
TargetOutcome populate_target(const Labels& discovered, const ScrapeConfig& config);

// Every target of `group`, in order.
std::vector<TargetOutcome> targets_from_group(const TargetGroup& group, const ScrapeConfig& config);

}  // namespace llmscale::prom
