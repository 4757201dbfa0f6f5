// Prometheus' PopulateLabels: discovered labels -> target labels, URL, interval and timeout.
#include "prom/scrape/target.h"

#include <xxhash.h>

#include "core/duration.h"
#include "core/strings.h"
#include "net/url.h"

namespace llmscale::prom {
namespace {

constexpr std::string_view kAddressLabel = "__address__";
constexpr std::string_view kSchemeLabel = "__scheme__";
constexpr std::string_view kMetricsPathLabel = "__metrics_path__";
constexpr std::string_view kScrapeIntervalLabel = "__scrape_interval__";
constexpr std::string_view kScrapeTimeoutLabel = "__scrape_timeout__";
constexpr std::string_view kParamPrefix = "__param_";
constexpr std::string_view kMetaPrefix = "__meta_";

// Go's net.SplitHostPort, reduced to "does it split".
bool splits_host_port(std::string_view s) {
  auto colon = s.rfind(':');
  if (colon == std::string_view::npos) return false;
  if (!s.empty() && s[0] == '[') {
    auto end = s.find(']');
    if (end == std::string_view::npos) return false;
    if (end + 1 != colon) return false;  // missing port, or junk after ']'
    std::string_view host = s.substr(1, end - 1);
    return host.find('[') == std::string_view::npos && host.find(']') == std::string_view::npos;
  }
  std::string_view host = s.substr(0, colon);
  if (host.find(':') != std::string_view::npos) return false;  // too many colons
  return host.find('[') == std::string_view::npos && host.find(']') == std::string_view::npos;
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80           ? 1
                    : (c >> 5) == 0x6  ? 2
                    : (c >> 4) == 0xE  ? 3
                    : (c >> 3) == 0x1E ? 4
                                       : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

std::string escape_path(std::string_view path) {
  // Go's url.URL.EscapedPath for an unescaped path: keep what a path may hold.
  static constexpr std::string_view kKeep = "-._~!$&'()*+,;=:@/";
  std::string out;
  for (char c : path) {
    auto u = static_cast<unsigned char>(c);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        kKeep.find(c) != std::string_view::npos) {
      out.push_back(c);
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

TargetOutcome invalid(const Labels& discovered, std::string message) {
  TargetOutcome out;
  out.discovered_labels = discovered;
  out.error = core::Error{core::ErrorCode::kInvalidArgument, std::move(message)};
  return out;
}

}  // namespace

Labels ScrapeTargetSpec::public_labels() const {
  std::vector<Label> kept;
  for (Label l : labels) {
    if (!l.name.starts_with("__")) kept.push_back(l);
  }
  return Labels::from_sorted(kept);
}

std::uint64_t ScrapeTargetSpec::hash() const {
  std::string key(labels.data());
  key.push_back('\xff');
  key += url;
  return XXH3_64bits(key.data(), key.size());
}

TargetOutcome populate_target(const Labels& discovered, const ScrapeConfig& config) {
  LabelsBuilder lb(discovered);
  auto set_default = [&](std::string_view name, std::string_view value) {
    if (lb.get(name).empty()) lb.set(name, value);
  };
  set_default("job", config.job_name);
  set_default(kScrapeIntervalLabel, core::format_prometheus_duration(config.scrape_interval));
  set_default(kScrapeTimeoutLabel, core::format_prometheus_duration(config.scrape_timeout));
  set_default(kMetricsPathLabel, config.metrics_path);
  set_default(kSchemeLabel, config.scheme);
  for (const auto& [name, values] : config.params) {
    if (!values.empty()) lb.set(std::string(kParamPrefix) + name, values[0]);
  }
  TargetOutcome out;
  out.discovered_labels = lb.labels();
  if (config.relabel_rules && !config.relabel_rules->empty() && !config.relabel_rules->apply(lb)) {
    return out;  // dropped by relabeling
  }
  std::string address(lb.get(kAddressLabel));
  if (address.empty()) return invalid(out.discovered_labels, "no address");
  std::string scheme(lb.get(kSchemeLabel));
  if (!splits_host_port(address) && splits_host_port(address + ":1234")) {
    if (scheme == "http" || scheme.empty()) {
      address += ":80";
    } else if (scheme == "https") {
      address += ":443";
    } else {
      return invalid(out.discovered_labels, "invalid scheme: " + core::go_quote(config.scheme));
    }
    lb.set(kAddressLabel, address);
  }
  if (address.find('/') != std::string::npos) {
    return invalid(out.discovered_labels, core::go_quote(address) + " is not a valid hostname");
  }
  std::string interval_text(lb.get(kScrapeIntervalLabel));
  auto interval = core::parse_prometheus_duration(interval_text);
  if (!interval) {
    return invalid(out.discovered_labels,
                   "error parsing scrape interval: " + interval.error().message);
  }
  if (*interval == core::Duration::zero()) {
    return invalid(out.discovered_labels, "scrape interval cannot be 0");
  }
  std::string timeout_text(lb.get(kScrapeTimeoutLabel));
  auto timeout = core::parse_prometheus_duration(timeout_text);
  if (!timeout) {
    return invalid(out.discovered_labels,
                   "error parsing scrape timeout: " + timeout.error().message);
  }
  if (*timeout == core::Duration::zero()) {
    return invalid(out.discovered_labels, "scrape timeout cannot be 0");
  }
  if (*timeout > *interval) {
    return invalid(out.discovered_labels,
                   "scrape timeout cannot be greater than scrape interval (" +
                       core::go_quote(timeout_text) + " > " + core::go_quote(interval_text) + ")");
  }
  // Meta labels go; other internal labels stay on the target (not on its samples).
  std::vector<std::string> meta;
  lb.for_each([&](std::string_view name, std::string_view) {
    if (name.starts_with(kMetaPrefix)) meta.emplace_back(name);
  });
  for (const auto& name : meta) lb.del(name);
  if (lb.get("instance").empty()) lb.set("instance", address);
  ScrapeTargetSpec spec;
  spec.labels = lb.labels();
  for (Label l : spec.labels) {
    if (!valid_utf8(l.value)) {
      return invalid(out.discovered_labels, "invalid label value for " + core::go_quote(l.name) +
                                                ": " + core::go_quote(l.value));
    }
  }
  spec.discovered_labels = out.discovered_labels;
  spec.interval = *interval;
  spec.timeout = *timeout;
  // Target.URL(): config params, the first value of each replaced by __param_<name>.
  std::map<std::string, std::vector<std::string>> params = config.params;
  for (Label l : spec.labels) {
    if (!l.name.starts_with(kParamPrefix)) continue;
    std::string name(l.name.substr(kParamPrefix.size()));
    auto& values = params[name];
    if (values.empty()) {
      values.emplace_back(l.value);
    } else {
      values[0] = std::string(l.value);
    }
  }
  std::string query;
  for (const auto& [name, values] : params) {
    for (const auto& value : values) {
      if (!query.empty()) query.push_back('&');
      query += net::query_escape(name) + "=" + net::query_escape(value);
    }
  }
  std::string path(spec.labels.get(kMetricsPathLabel));
  if (!path.empty() && path[0] != '/') path.insert(path.begin(), '/');
  spec.url = std::string(spec.labels.get(kSchemeLabel)) + "://" + address + escape_path(path);
  if (!query.empty()) spec.url += "?" + query;
  out.target = std::move(spec);
  return out;
}

std::vector<TargetOutcome> targets_from_group(const TargetGroup& group,
                                              const ScrapeConfig& config) {
  std::vector<TargetOutcome> out;
  out.reserve(group.targets.size());
  for (const Labels& target : group.targets) {
    LabelsBuilder lb(target);
    for (Label l : group.labels) {
      if (!target.has(l.name)) lb.set(l.name, l.value);
    }
    out.push_back(populate_target(lb.labels(), config));
  }
  return out;
}

}  // namespace llmscale::prom
