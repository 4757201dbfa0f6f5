// Scrape configuration: a Prometheus configuration file (`global` + `scrape_configs`) and
// Google Managed Prometheus PodMonitoring resources (monitoring.googleapis.com/v1), possibly in
// one multi-document YAML file.
//
// Prometheus (v2.42, the version Debian 12 ships; `promtool check config` is the oracle in
// tests): the same fields, defaults and validation order as config.Load — scrape_interval 1m,
// scrape_timeout 10s (capped at the interval), metrics_path /metrics, scheme http,
// honor_timestamps true; unknown fields are errors ("yaml: unmarshal errors:\n  line 3: field foo
// not found in type config.ScrapeConfig"), as are type mismatches ("cannot unmarshal !!str `abc`
// into uint"), bad durations ("not a valid duration string: \"1.5s\""), bad sizes
// ("units: unknown unit XB in 10XB"), timeouts over the interval, duplicate job names, URLs in
// static targets. Upstream's messages are kept verbatim; llmscale appends where it happened,
// " (at scrape_configs[1].scrape_timeout, line 7)", which upstream does not say for semantic
// errors. Fields Prometheus knows but llmscale does not implement (service discovery other than
// static_configs, authentication, proxies) are refused with "... is not supported by llmscale";
// top-level sections that do not affect scraping (rule_files, alerting, remote_write,
// remote_read, storage, tracing) are accepted and reported in `warnings`.
//
// PodMonitoring (GMP prometheus-engine, pkg/operator/apis/monitoring/v1): decoded strictly like
// the API server does for the CRD (`strict decoding error: unknown field "spec.foo"`), defaulted
// like the CRD (interval 1m, path /metrics, targetLabels.metadata [container, pod,
// top_level_controller_name, top_level_controller_type], filterRunning true), validated like the
// operator's admission webhook (timeout <= interval, allowed metadata labels, protected labels in
// metricRelabeling, no labelmap). pod_monitoring_scrape_configs() turns one into the scrape
// configs the operator generates — one per endpoint, job name "PodMonitoring/<ns>/<name>/<port>",
// with the operator's relabel rules over Kubernetes pod discovery labels — so targets and their
// labels come out exactly as on GKE: project_id/location/cluster (when configured), namespace,
// job (= PodMonitoring name), instance (<pod>:<port>, or <node>:<port> for DaemonSet pods),
// and pod/container/node/top_level_controller_* as requested in targetLabels.metadata.
//
// Values; immutable after parsing; safe to share between threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "core/time.h"
#include "prom/exposition/labels.h"
#include "prom/scrape/relabel.h"

namespace llmscale::prom {

// Discovered targets: each element of `targets` is one target's labels (`__address__` at
// least); `labels` apply to all of them (a target's own labels win). Prometheus'
// targetgroup.Group.
struct TargetGroup {
  std::string source;
  std::vector<Labels> targets;
  Labels labels;
};

// Prometheus: config.DefaultGlobalConfig.
struct GlobalConfig {
  core::Duration scrape_interval = std::chrono::minutes(1);
  core::Duration scrape_timeout = std::chrono::seconds(10);
  core::Duration evaluation_interval = std::chrono::minutes(1);
  std::string query_log_file;
  Labels external_labels;
};

// TLS settings of a scrape config's HTTP client (tls_config).
struct ScrapeTlsConfig {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string server_name;
  bool insecure_skip_verify = false;
};

// Prometheus: config.ScrapeConfig (the fields llmscale implements).
struct ScrapeConfig {
  std::string job_name;
  bool honor_labels = false;
  bool honor_timestamps = true;
  // Query parameters of every scrape (url.Values), in name order.
  std::map<std::string, std::vector<std::string>> params;
  core::Duration scrape_interval{};  // filled from global when 0
  core::Duration scrape_timeout{};
  std::string metrics_path = "/metrics";
  std::string scheme = "http";
  // 0: no limit. body_size_limit is in bytes (Prometheus' units.Base2Bytes: "10MB", "1KiB").
  std::int64_t body_size_limit = 0;
  std::uint64_t sample_limit = 0;
  std::uint64_t target_limit = 0;
  std::uint64_t label_limit = 0;
  std::uint64_t label_name_length_limit = 0;
  std::uint64_t label_value_length_limit = 0;
  std::optional<ScrapeTlsConfig> tls_config;
  bool follow_redirects = true;

  std::vector<TargetGroup> static_configs;
  std::vector<RelabelConfig> relabel_configs;
  std::vector<RelabelConfig> metric_relabel_configs;
  // Compiled forms of the two lists above (never null after parsing or building).
  std::shared_ptr<const RelabelRules> relabel_rules;
  std::shared_ptr<const RelabelRules> metric_relabel_rules;

  // Set for configs generated from a PodMonitoring: targets come from Kubernetes pod discovery
  // (every pod of the PodSource; the relabel rules select), not from static_configs.
  bool pod_discovery = false;
  // "PodMonitoring/<namespace>/<name>" for generated configs, empty otherwise.
  std::string origin;
};

// Compiles relabel_configs / metric_relabel_configs into the shared rule objects.
core::Status compile_scrape_rules(ScrapeConfig& config);

// ---- PodMonitoring (monitoring.googleapis.com/v1) ----------------------------------------------

struct PodLabelSelectorRequirement {
  std::string key;
  std::string op;  // In, NotIn, Exists, DoesNotExist
  std::vector<std::string> values;
};
struct PodLabelSelector {
  std::map<std::string, std::string> match_labels;
  std::vector<PodLabelSelectorRequirement> match_expressions;
};

struct PodMonitoringEndpoint {
  // Name or number of the container port (intstr.IntOrString).
  std::string port_name;
  std::int32_t port_number = 0;
  std::string scheme;  // "", http or https
  std::string path;    // "" means /metrics
  std::map<std::string, std::vector<std::string>> params;
  std::string interval = "1m";  // CRD default
  std::string timeout;          // "" means the interval
  std::vector<RelabelConfig> metric_relabeling;
  bool tls_insecure_skip_verify = false;
};

struct PodMonitoringLabelMapping {
  std::string from;
  std::string to;  // "" means `from`
};

struct PodMonitoring {
  std::string name;
  std::string namespace_ = "default";
  std::map<std::string, std::string> labels;
  PodLabelSelector selector;
  std::vector<PodMonitoringEndpoint> endpoints;
  // nullopt: the CRD default [container, pod, top_level_controller_name,
  // top_level_controller_type]; an explicit null is the empty list (GMP's compatibility rule).
  std::optional<std::vector<std::string>> target_labels_metadata;
  std::vector<PodMonitoringLabelMapping> target_labels_from_pod;
  std::uint64_t limit_samples = 0;
  std::uint64_t limit_labels = 0;
  std::uint64_t limit_label_name_length = 0;
  std::uint64_t limit_label_value_length = 0;
  bool filter_running = true;
};

// The labels GMP's collectors stamp on every target (empty values are left out).
struct GmpTargetLabels {
  std::string project_id;
  std::string location;
  std::string cluster;
};

// Decodes and validates one PodMonitoring document (apiVersion monitoring.googleapis.com/v1,
// kind PodMonitoring). `where` prefixes error messages.
core::Result<PodMonitoring> decode_pod_monitoring(const core::Json& document,
                                                  const std::string& where);

// The operator's scrape configs for `pm` (one per endpoint), using `global` for nothing but
// defaults it does not set itself. Errors are the webhook's ("invalid definition for endpoint
// with index 0: ...").
core::Result<std::vector<ScrapeConfig>> pod_monitoring_scrape_configs(const PodMonitoring& pm,
                                                                      const GmpTargetLabels& gmp);

// ---- The file ---------------------------------------------------------------------------------

struct CollectConfig {
  GlobalConfig global;
  std::vector<ScrapeConfig> scrape_configs;  // from scrape_configs, validated and defaulted
  std::vector<PodMonitoring> pod_monitorings;
  std::vector<std::string> warnings;  // sections accepted but without effect
};

// Parses a configuration file: YAML documents that are either a Prometheus configuration (at
// most one; the document without `kind`) or PodMonitoring resources (`kind: PodMonitoring`), in
// any order. Empty text is an empty configuration.
core::Result<CollectConfig> parse_collect_config(std::string_view text);

// Prometheus' units.ParseBase2Bytes ("1KB" = "1KiB" = 1024, "1.5MB", "0"), with its errors.
core::Result<std::int64_t> parse_base2_bytes(std::string_view text);

}  // namespace llmscale::prom
