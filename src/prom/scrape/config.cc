// Prometheus configuration files and PodMonitoring resources -> ScrapeConfig values.
#include "prom/scrape/config.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "core/duration.h"
#include "core/json_reader.h"
#include "core/strings.h"
#include "prom/tsdb/matcher.h"

namespace llmscale::prom {

using core::Json;

core::Status compile_scrape_rules(ScrapeConfig& config) {
  auto relabel = RelabelRules::compile(config.relabel_configs);
  if (!relabel) return tl::unexpected(relabel.error());
  auto metric = RelabelRules::compile(config.metric_relabel_configs);
  if (!metric) return tl::unexpected(metric.error());
  config.relabel_rules = std::make_shared<const RelabelRules>(std::move(*relabel));
  config.metric_relabel_rules = std::make_shared<const RelabelRules>(std::move(*metric));
  return {};
}

// ---- units.ParseBase2Bytes ---------------------------------------------------------------------

namespace {

// alecthomas/units ParseUnit with one unit map.
core::Result<std::int64_t> parse_unit(std::string_view orig,
                                      const std::map<std::string, double, std::less<>>& units) {
  std::string_view s = orig;
  auto invalid = [&] { return core::invalid_argument("units: invalid " + std::string(orig)); };
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return 0;
  if (s.empty()) return invalid();
  double total = 0;
  auto leading_int = [](std::string_view& in, std::int64_t& x) {
    std::size_t i = 0;
    x = 0;
    for (; i < in.size() && in[i] >= '0' && in[i] <= '9'; ++i) {
      if (x > (std::numeric_limits<std::int64_t>::max() - 9) / 10) return false;
      x = x * 10 + (in[i] - '0');
    }
    in.remove_prefix(i);
    return true;
  };
  while (!s.empty()) {
    if (!(s[0] == '.' || (s[0] >= '0' && s[0] <= '9'))) return invalid();
    std::size_t before = s.size();
    std::int64_t x = 0;
    if (!leading_int(s, x)) return invalid();
    double g = static_cast<double>(x);
    bool pre = before != s.size();
    bool post = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      std::size_t frac_start = s.size();
      if (!leading_int(s, x)) return invalid();
      double scale = 1;
      for (std::size_t n = frac_start - s.size(); n > 0; --n) scale *= 10;
      g += static_cast<double>(x) / scale;
      post = frac_start != s.size();
    }
    if (!pre && !post) return invalid();
    std::size_t i = 0;
    while (i < s.size() && !(s[i] == '.' || (s[i] >= '0' && s[i] <= '9'))) ++i;
    std::string_view unit = s.substr(0, i);
    s.remove_prefix(i);
    auto it = units.find(unit);
    if (it == units.end()) {
      return core::invalid_argument("units: unknown unit " + std::string(unit) + " in " +
                                    std::string(orig));
    }
    total += g * it->second;
  }
  if (negative) total = -total;
  if (total < -9223372036854775808.0 || total >= 9223372036854775808.0) {
    return core::invalid_argument("units: overflow parsing unit");
  }
  return static_cast<std::int64_t>(total);
}

std::map<std::string, double, std::less<>> make_unit_map(std::string_view suffix,
                                                         std::string_view short_suffix) {
  std::map<std::string, double, std::less<>> m;
  m[std::string(short_suffix)] = 1;
  double scale = 1;
  for (char prefix : std::string_view("KMGTPE")) {
    scale *= 1024;
    m[std::string(1, prefix) + std::string(suffix)] = scale;
  }
  return m;
}

}  // namespace

core::Result<std::int64_t> parse_base2_bytes(std::string_view text) {
  static const auto* const kBytes =
      new std::map<std::string, double, std::less<>>(make_unit_map("iB", "B"));
  static const auto* const kOldBytes =
      new std::map<std::string, double, std::less<>>(make_unit_map("B", "B"));
  auto n = parse_unit(text, *kBytes);
  if (n) return n;
  return parse_unit(text, *kOldBytes);
}

// ---- Prometheus configuration decoding ---------------------------------------------------------

namespace {

// Where a value sits: JSON pointer for line lookup, dotted path for messages.
struct Where {
  const core::SourceLines* lines = nullptr;
  std::string pointer;
  std::string path;

  Where field(std::string_view key) const {
    Where w{lines, pointer + "/", path.empty() ? std::string(key) : path + "." + std::string(key)};
    for (char c : key) {
      if (c == '~') {
        w.pointer += "~0";
      } else if (c == '/') {
        w.pointer += "~1";
      } else {
        w.pointer.push_back(c);
      }
    }
    return w;
  }
  Where item(std::size_t i) const {
    return Where{lines, pointer + "/" + std::to_string(i), path + "[" + std::to_string(i) + "]"};
  }
  int line() const {
    int n = lines != nullptr ? core::source_line(*lines, pointer) : 0;
    return n > 0 ? n : 1;
  }
};

// An error in upstream's words, with where it happened appended.
tl::unexpected<core::Error> located(const Where& where, const std::string& message) {
  std::string suffix = " (at ";
  suffix += where.path.empty() ? "top level" : where.path;
  suffix += ", line " + std::to_string(where.line()) + ")";
  return core::invalid_argument(message + suffix);
}

// go-yaml v2's type errors and unknown fields ("yaml: unmarshal errors:\n  line 3: ...").
tl::unexpected<core::Error> unmarshal_error(const Where& where, const std::string& what) {
  return core::invalid_argument("yaml: unmarshal errors:\n  line " + std::to_string(where.line()) +
                                ": " + what);
}

std::string short_tag(const Json& v) {
  if (v.is_string()) return "!!str";
  if (v.is_boolean()) return "!!bool";
  if (v.is_number_integer() || v.is_number_unsigned()) return "!!int";
  if (v.is_number_float()) return "!!float";
  if (v.is_object()) return "!!map";
  if (v.is_array()) return "!!seq";
  return "!!null";
}

std::string scalar_text(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_float()) return core::go_format_float(v.get<double>());
  if (v.is_null()) return "";
  return v.dump();
}

tl::unexpected<core::Error> type_error(const Where& where, const Json& v,
                                       std::string_view go_type) {
  // go-yaml names the line where the value node starts: for a block collection under its key,
  // the line of its first entry.
  Where at = where;
  if (v.is_object() && !v.empty()) {
    at = where.field(v.begin().key());
  } else if (v.is_array() && !v.empty()) {
    at = where.item(0);
  }
  std::string what = "cannot unmarshal " + short_tag(v);
  if (!v.is_object() && !v.is_array()) {
    std::string value = scalar_text(v);
    // go-yaml shortens long values in type errors.
    what += value.size() > 10 ? " `" + value.substr(0, 7) + "...`" : " `" + value + "`";
  }
  what += " into " + std::string(go_type);
  return unmarshal_error(at, what);
}

// A mapping decoded into a Go struct: fields are claimed as they are read; the rest are unknown.
class StructReader {
 public:
  StructReader(const Json& node, Where where, std::string go_type)
      : node_(node), where_(std::move(where)), go_type_(std::move(go_type)) {}

  const Where& where() const { return where_; }
  // The value of `key` (nullptr when absent or null), claiming the field.
  const Json* get(std::string_view key) {
    known_.insert(std::string(key));
    auto it = node_.find(std::string(key));
    if (it == node_.end() || it->is_null()) return nullptr;
    return &*it;
  }
  bool present(std::string_view key) const { return node_.contains(std::string(key)); }

  // Unknown fields, in document order.
  core::Status finish() const {
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      if (!known_.count(it.key())) {
        return unmarshal_error(where_.field(it.key()),
                               "field " + it.key() + " not found in type " + go_type_);
      }
    }
    return {};
  }

  core::Status read_string(std::string_view key, std::string& out) {
    const Json* v = get(key);
    if (v == nullptr) return {};
    if (v->is_object() || v->is_array()) return type_error(where_.field(key), *v, "string");
    out = scalar_text(*v);
    return {};
  }
  core::Status read_bool(std::string_view key, bool& out) {
    const Json* v = get(key);
    if (v == nullptr) return {};
    if (!v->is_boolean()) return type_error(where_.field(key), *v, "bool");
    out = v->get<bool>();
    return {};
  }
  // go-yaml v2 into a uint: non-negative integers, and floats that fit (truncated).
  core::Status read_uint(std::string_view key, std::uint64_t& out) {
    const Json* v = get(key);
    if (v == nullptr) return {};
    if (v->is_number_unsigned()) {
      out = v->get<std::uint64_t>();
      return {};
    }
    if (v->is_number_integer() && v->get<std::int64_t>() >= 0) {
      out = static_cast<std::uint64_t>(v->get<std::int64_t>());
      return {};
    }
    if (v->is_number_float()) {
      double d = v->get<double>();
      if (d >= 0 && d < 18446744073709551616.0) {
        out = static_cast<std::uint64_t>(d);
        return {};
      }
    }
    return type_error(where_.field(key), *v, "uint");
  }
  // model.Duration: a scalar parsed with model.ParseDuration.
  core::Status read_duration(std::string_view key, core::Duration& out) {
    std::string text;
    if (auto s = read_string(key, text); !s) return s;
    if (!present(key) || node_.at(std::string(key)).is_null()) return {};
    auto d = core::parse_prometheus_duration(text);
    if (!d) return located(where_.field(key), d.error().message);
    out = *d;
    return {};
  }
  core::Status read_string_list(std::string_view key, std::vector<std::string>& out) {
    const Json* v = get(key);
    if (v == nullptr) return {};
    return decode_string_list(*v, where_.field(key), out);
  }

  static core::Status decode_string_list(const Json& v, const Where& where,
                                         std::vector<std::string>& out) {
    if (!v.is_array()) return type_error(where, v, "[]string");
    out.clear();
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (v[i].is_object() || v[i].is_array()) return type_error(where.item(i), v[i], "string");
      out.push_back(scalar_text(v[i]));
    }
    return {};
  }

 private:
  const Json& node_;
  Where where_;
  std::string go_type_;
  std::set<std::string> known_;
};

// model.LabelSet: names validated, values any scalar.
core::Result<Labels> decode_label_set(const Json& v, const Where& where) {
  if (!v.is_object()) return type_error(where, v, "model.LabelSet");
  std::vector<std::pair<std::string, std::string>> pairs;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (it->is_object() || it->is_array()) {
      return type_error(where.field(it.key()), *it, "model.LabelValue");
    }
    if (!is_valid_label_name(it.key())) {
      return located(where.field(it.key()),
                     core::go_quote(it.key()) + " is not a valid label name");
    }
    pairs.emplace_back(it.key(), scalar_text(*it));
  }
  return Labels::from_pairs(std::move(pairs));
}

// Relabel configs: Prometheus' field names, `relabel.plain` for unknown fields, upstream's
// validation messages (relabel.h) with the location appended.
core::Result<std::vector<RelabelConfig>> decode_prometheus_relabel(const Json& v,
                                                                   const Where& where) {
  if (!v.is_array()) return type_error(where, v, "[]*relabel.Config");
  static const std::set<std::string> kFields = {"source_labels", "separator",   "regex", "modulus",
                                                "target_label",  "replacement", "action"};
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i].is_null()) {
      return located(where.item(i),
                     where.path == "relabel_configs" || where.path.ends_with(".relabel_configs")
                         ? "empty or null target relabeling rule in scrape config"
                         : "empty or null metric relabeling rule in scrape config");
    }
    if (!v[i].is_object()) return type_error(where.item(i), v[i], "relabel.plain");
    for (auto it = v[i].begin(); it != v[i].end(); ++it) {
      if (!kFields.count(it.key())) {
        return unmarshal_error(where.item(i).field(it.key()),
                               "field " + it.key() + " not found in type relabel.plain");
      }
    }
  }
  auto configs = decode_relabel_configs(v, where.path, RelabelFieldNames::kPrometheus);
  if (configs) return configs;
  // "<path>[i].field: message" -> upstream message at that place.
  const std::string& message = configs.error().message;
  if (message.starts_with(where.path + "[")) {
    auto close = message.find(']', where.path.size());
    auto colon = message.find(": ", where.path.size());
    if (close != std::string::npos && colon != std::string::npos) {
      std::size_t index = std::stoul(message.substr(where.path.size() + 1));
      Where at = where.item(index);
      std::string rest = message.substr(close + 1, colon - close - 1);  // ".action" or ""
      if (rest.starts_with(".")) at = at.field(rest.substr(1));
      return located(at, message.substr(colon + 2));
    }
  }
  return located(where, message);
}

// Fields Prometheus 2.42 knows that llmscale does not implement.
const std::set<std::string>& unsupported_scrape_fields() {
  static const auto* const kFields = new std::set<std::string>{"azure_sd_configs",
                                                               "consul_sd_configs",
                                                               "digitalocean_sd_configs",
                                                               "docker_sd_configs",
                                                               "dockerswarm_sd_configs",
                                                               "dns_sd_configs",
                                                               "ec2_sd_configs",
                                                               "eureka_sd_configs",
                                                               "file_sd_configs",
                                                               "gce_sd_configs",
                                                               "hetzner_sd_configs",
                                                               "http_sd_configs",
                                                               "ionos_sd_configs",
                                                               "kubernetes_sd_configs",
                                                               "kuma_sd_configs",
                                                               "lightsail_sd_configs",
                                                               "linode_sd_configs",
                                                               "marathon_sd_configs",
                                                               "nerve_sd_configs",
                                                               "nomad_sd_configs",
                                                               "openstack_sd_configs",
                                                               "ovhcloud_sd_configs",
                                                               "puppetdb_sd_configs",
                                                               "scaleway_sd_configs",
                                                               "serverset_sd_configs",
                                                               "triton_sd_configs",
                                                               "uyuni_sd_configs",
                                                               "vultr_sd_configs",
                                                               "basic_auth",
                                                               "authorization",
                                                               "oauth2",
                                                               "bearer_token",
                                                               "bearer_token_file",
                                                               "proxy_url"};
  return *kFields;
}

core::Status decode_tls_config(const Json& v, const Where& where, ScrapeTlsConfig& out) {
  if (!v.is_object()) return type_error(where, v, "config.TLSConfig");
  StructReader r(v, where, "config.plain");
  for (const char* unsupported : {"ca", "cert", "key", "min_version", "max_version"}) {
    if (r.get(unsupported) != nullptr) {
      return located(where.field(unsupported),
                     std::string("tls_config.") + unsupported +
                         " is not supported by llmscale (use the *_file fields)");
    }
  }
  if (auto s = r.read_string("ca_file", out.ca_file); !s) return s;
  if (auto s = r.read_string("cert_file", out.cert_file); !s) return s;
  if (auto s = r.read_string("key_file", out.key_file); !s) return s;
  if (auto s = r.read_string("server_name", out.server_name); !s) return s;
  if (auto s = r.read_bool("insecure_skip_verify", out.insecure_skip_verify); !s) return s;
  if (auto s = r.finish(); !s) return s;
  // config.TLSConfig.Validate.
  if (!out.cert_file.empty() && out.key_file.empty()) {
    return located(where,
                   "exactly one of key or key_file must be configured when a client "
                   "certificate is configured");
  }
  if (out.cert_file.empty() && !out.key_file.empty()) {
    return located(where,
                   "exactly one of cert or cert_file must be configured when a client key "
                   "is configured");
  }
  return {};
}

// Prometheus: config.CheckTargetAddress.
core::Status check_target_address(std::string_view address, const Where& where) {
  if (address.find('/') != std::string_view::npos) {
    return located(where, core::go_quote(address) + " is not a valid hostname");
  }
  return {};
}

core::Result<TargetGroup> decode_static_config(const Json& v, const Where& where,
                                               std::size_t index) {
  static constexpr std::string_view kGroupType =
      "struct { Targets []string \"yaml:\\\"targets\\\"\"; Labels model.LabelSet "
      "\"yaml:\\\"labels\\\"\" }";
  if (!v.is_object()) return type_error(where, v, kGroupType);
  StructReader r(v, where, std::string(kGroupType));
  std::vector<std::string> targets;
  if (auto s = r.read_string_list("targets", targets); !s) return tl::unexpected(s.error());
  TargetGroup group;
  if (const Json* labels = r.get("labels")) {
    auto set = decode_label_set(*labels, where.field("labels"));
    if (!set) return tl::unexpected(set.error());
    group.labels = std::move(*set);
  }
  if (auto s = r.finish(); !s) return tl::unexpected(s.error());
  group.source = std::to_string(index);
  for (const auto& target : targets) group.targets.push_back(Labels{{"__address__", target}});
  return group;
}

core::Result<ScrapeConfig> decode_scrape_config(const Json& v, const Where& where) {
  if (!v.is_object()) return type_error(where, v, "config.ScrapeConfig");
  StructReader r(v, where, "config.ScrapeConfig");
  ScrapeConfig c;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (unsupported_scrape_fields().count(it.key())) {
      return located(where.field(it.key()),
                     it.key() +
                         " is not supported by llmscale (static_configs and PodMonitoring "
                         "documents are)");
    }
  }
  if (auto s = r.read_string("job_name", c.job_name); !s) return tl::unexpected(s.error());
  if (auto s = r.read_bool("honor_labels", c.honor_labels); !s) return tl::unexpected(s.error());
  if (auto s = r.read_bool("honor_timestamps", c.honor_timestamps); !s) {
    return tl::unexpected(s.error());
  }
  if (const Json* params = r.get("params")) {
    Where pw = where.field("params");
    if (!params->is_object()) return type_error(pw, *params, "url.Values");
    for (auto it = params->begin(); it != params->end(); ++it) {
      std::vector<std::string> values;
      if (!it->is_null()) {
        if (auto s = StructReader::decode_string_list(*it, pw.field(it.key()), values); !s) {
          return tl::unexpected(s.error());
        }
      }
      c.params[it.key()] = std::move(values);
    }
  }
  if (auto s = r.read_duration("scrape_interval", c.scrape_interval); !s) {
    return tl::unexpected(s.error());
  }
  if (auto s = r.read_duration("scrape_timeout", c.scrape_timeout); !s) {
    return tl::unexpected(s.error());
  }
  if (auto s = r.read_string("metrics_path", c.metrics_path); !s) return tl::unexpected(s.error());
  if (auto s = r.read_string("scheme", c.scheme); !s) return tl::unexpected(s.error());
  {
    std::string text;
    if (auto s = r.read_string("body_size_limit", text); !s) return tl::unexpected(s.error());
    if (r.present("body_size_limit") && !v.at("body_size_limit").is_null()) {
      auto bytes = parse_base2_bytes(text);
      if (!bytes) return located(where.field("body_size_limit"), bytes.error().message);
      c.body_size_limit = *bytes;
    }
  }
  for (auto [key, out] :
       {std::pair{"sample_limit", &c.sample_limit}, std::pair{"target_limit", &c.target_limit},
        std::pair{"label_limit", &c.label_limit},
        std::pair{"label_name_length_limit", &c.label_name_length_limit},
        std::pair{"label_value_length_limit", &c.label_value_length_limit}}) {
    if (auto s = r.read_uint(key, *out); !s) return tl::unexpected(s.error());
  }
  if (const Json* tls = r.get("tls_config")) {
    c.tls_config.emplace();
    if (auto s = decode_tls_config(*tls, where.field("tls_config"), *c.tls_config); !s) {
      return tl::unexpected(s.error());
    }
  }
  if (auto s = r.read_bool("follow_redirects", c.follow_redirects); !s) {
    return tl::unexpected(s.error());
  }
  bool enable_http2 = true;
  if (auto s = r.read_bool("enable_http2", enable_http2); !s) return tl::unexpected(s.error());
  if (const Json* groups = r.get("static_configs")) {
    Where gw = where.field("static_configs");
    if (!groups->is_array()) return type_error(gw, *groups, "[]*targetgroup.Group");
    for (std::size_t i = 0; i < groups->size(); ++i) {
      if ((*groups)[i].is_null()) continue;
      auto group = decode_static_config((*groups)[i], gw.item(i), i);
      if (!group) return tl::unexpected(group.error());
      c.static_configs.push_back(std::move(*group));
    }
  }
  if (const Json* rules = r.get("relabel_configs")) {
    auto configs = decode_prometheus_relabel(*rules, where.field("relabel_configs"));
    if (!configs) return tl::unexpected(configs.error());
    c.relabel_configs = std::move(*configs);
  }
  if (const Json* rules = r.get("metric_relabel_configs")) {
    auto configs = decode_prometheus_relabel(*rules, where.field("metric_relabel_configs"));
    if (!configs) return tl::unexpected(configs.error());
    c.metric_relabel_configs = std::move(*configs);
  }
  if (auto s = r.finish(); !s) return tl::unexpected(s.error());

  // ScrapeConfig.UnmarshalYAML's checks, in its order.
  if (c.job_name.empty()) return located(where.field("job_name"), "job_name is empty");
  if (c.relabel_configs.empty()) {
    for (std::size_t g = 0; g < c.static_configs.size(); ++g) {
      for (std::size_t t = 0; t < c.static_configs[g].targets.size(); ++t) {
        std::string_view address = c.static_configs[g].targets[t].get("__address__");
        Where tw = where.field("static_configs").item(g).field("targets").item(t);
        if (auto s = check_target_address(address, tw); !s) return tl::unexpected(s.error());
      }
    }
  }
  if (auto s = compile_scrape_rules(c); !s) return located(where, s.error().message);
  return c;
}

core::Result<GlobalConfig> decode_global(const Json& v, const Where& where) {
  GlobalConfig defaults;
  GlobalConfig g;
  g.scrape_interval = core::Duration::zero();
  g.scrape_timeout = core::Duration::zero();
  g.evaluation_interval = core::Duration::zero();
  if (!v.is_object()) return type_error(where, v, "config.plain");
  StructReader r(v, where, "config.plain");
  if (auto s = r.read_duration("scrape_interval", g.scrape_interval); !s) {
    return tl::unexpected(s.error());
  }
  if (auto s = r.read_duration("scrape_timeout", g.scrape_timeout); !s) {
    return tl::unexpected(s.error());
  }
  if (auto s = r.read_duration("evaluation_interval", g.evaluation_interval); !s) {
    return tl::unexpected(s.error());
  }
  if (auto s = r.read_string("query_log_file", g.query_log_file); !s) {
    return tl::unexpected(s.error());
  }
  if (const Json* labels = r.get("external_labels")) {
    auto set = decode_label_set(*labels, where.field("external_labels"));
    if (!set) return tl::unexpected(set.error());
    g.external_labels = std::move(*set);
  }
  if (auto s = r.finish(); !s) return tl::unexpected(s.error());
  // GlobalConfig.UnmarshalYAML.
  if (g.scrape_interval == core::Duration::zero()) g.scrape_interval = defaults.scrape_interval;
  if (g.scrape_timeout > g.scrape_interval) {
    return located(where, "global scrape timeout greater than scrape interval");
  }
  if (g.scrape_timeout == core::Duration::zero()) {
    g.scrape_timeout = std::min(defaults.scrape_timeout, g.scrape_interval);
  }
  if (g.evaluation_interval == core::Duration::zero()) {
    g.evaluation_interval = defaults.evaluation_interval;
  }
  return g;
}

core::Status decode_prometheus_document(const Json& doc, const core::SourceLines& lines,
                                        CollectConfig& out) {
  Where root{&lines, "", ""};
  if (!doc.is_object()) return type_error(root, doc, "config.plain");
  StructReader r(doc, root, "config.plain");
  if (const Json* global = r.get("global")) {
    auto g = decode_global(*global, root.field("global"));
    if (!g) return tl::unexpected(g.error());
    out.global = std::move(*g);
  }
  for (const char* ignored :
       {"rule_files", "alerting", "remote_write", "remote_read", "storage", "tracing"}) {
    if (r.get(ignored) != nullptr) {
      out.warnings.push_back(
          std::string(ignored) +
          " is ignored: llmscale collect only scrapes, stores and answers queries");
    }
  }
  std::vector<ScrapeConfig> configs;
  if (const Json* list = r.get("scrape_configs")) {
    Where lw = root.field("scrape_configs");
    if (!list->is_array()) return type_error(lw, *list, "[]*config.ScrapeConfig");
    for (std::size_t i = 0; i < list->size(); ++i) {
      if ((*list)[i].is_null()) {
        return located(lw.item(i), "empty or null scrape config section");
      }
      auto c = decode_scrape_config((*list)[i], lw.item(i));
      if (!c) return tl::unexpected(c.error());
      configs.push_back(std::move(*c));
    }
  }
  if (auto s = r.finish(); !s) return s;
  // Config.UnmarshalYAML: global overrides and unique job names.
  std::set<std::string> jobs;
  for (std::size_t i = 0; i < configs.size(); ++i) {
    ScrapeConfig& c = configs[i];
    Where cw = root.field("scrape_configs").item(i);
    if (c.scrape_interval == core::Duration::zero()) c.scrape_interval = out.global.scrape_interval;
    if (c.scrape_timeout > c.scrape_interval) {
      return located(cw,
                     "scrape timeout greater than scrape interval for scrape config with job "
                     "name " +
                         core::go_quote(c.job_name));
    }
    if (c.scrape_timeout == core::Duration::zero()) {
      c.scrape_timeout = std::min(out.global.scrape_timeout, c.scrape_interval);
    }
    if (!jobs.insert(c.job_name).second) {
      return located(cw,
                     "found multiple scrape configs with job name " + core::go_quote(c.job_name));
    }
  }
  out.scrape_configs = std::move(configs);
  return {};
}

}  // namespace

// ---- PodMonitoring --------------------------------------------------------------------------

namespace {

constexpr std::string_view kPodMonitoringApiVersion = "monitoring.googleapis.com/v1";

void decode_selector(core::JsonReader& r, PodLabelSelector& out) {
  r.read("matchLabels", out.match_labels);
  r.read_list("matchExpressions", out.match_expressions,
              [](core::JsonReader& e, PodLabelSelectorRequirement& req) {
                e.read("key", req.key);
                e.read("operator", req.op);
                e.read("values", req.values);
              });
}

// Port: intstr.IntOrString.
void read_port(core::JsonReader& r, PodMonitoringEndpoint& ep) {
  const Json* port = r.get("port");
  if (port == nullptr) return;
  if (port->is_string()) {
    ep.port_name = port->get<std::string>();
  } else if (port->is_number_integer()) {
    std::int64_t n = port->get<std::int64_t>();
    if (n < std::numeric_limits<std::int32_t>::min() ||
        n > std::numeric_limits<std::int32_t>::max()) {
      r.fail(r.child("port"), "Invalid value: " + port->dump() + ": must fit in int32");
      return;
    }
    ep.port_number = static_cast<std::int32_t>(n);
  } else {
    r.type_error(r.child("port"), "an integer or a string", *port);
  }
}

// Go's %v of a model.Duration.
std::string duration_text(core::Duration d) {
  return core::format_prometheus_duration(d);
}

// The operator's convertRelabelingRule checks (protected target labels, no labelmap).
const std::vector<std::string>& protected_labels() {
  static const auto* const kLabels = new std::vector<std::string>{
      "__address__", "cluster", "instance", "job", "location", "namespace", "project_id"};
  return *kLabels;
}

std::string go_list(const std::vector<std::string>& items) {
  return "[" + core::join(items, " ") + "]";
}

core::Status check_gmp_relabel_rule(const RelabelConfig& c, std::string_view action_text) {
  auto is_protected = [](const std::string& name) {
    const auto& p = protected_labels();
    return std::find(p.begin(), p.end(), name) != p.end();
  };
  switch (c.action) {
    case RelabelAction::kReplace:
    case RelabelAction::kHashMod:
    case RelabelAction::kLowercase:
    case RelabelAction::kUppercase:
      if (is_protected(c.target_label)) {
        return core::invalid_argument("cannot relabel with action " + core::go_quote(action_text) +
                                      " onto protected label " + core::go_quote(c.target_label));
      }
      break;
    case RelabelAction::kLabelDrop:
    case RelabelAction::kLabelKeep: {
      auto matcher = Matcher::make(MatchType::kRegexMatch, "label", c.regex);
      if (!matcher) return tl::unexpected(matcher.error());
      bool any = false, all = true;
      for (const auto& label : protected_labels()) {
        bool m = matcher->matches(std::string_view(label));
        any = any || m;
        all = all && m;
      }
      if (c.action == RelabelAction::kLabelDrop && any) {
        return core::invalid_argument("regex " + c.regex +
                                      " would drop at least one of the protected labels " +
                                      go_list(protected_labels()));
      }
      if (c.action == RelabelAction::kLabelKeep && !all) {
        return core::invalid_argument("regex " + c.regex +
                                      " would drop at least one of the protected labels " +
                                      go_list(protected_labels()));
      }
      break;
    }
    case RelabelAction::kLabelMap:
      return core::invalid_argument("relabeling with action " + core::go_quote(action_text) +
                                    " not allowed");
    case RelabelAction::kKeep:
    case RelabelAction::kDrop:
    case RelabelAction::kKeepEqual:
    case RelabelAction::kDropEqual: break;
  }
  return {};
}

const std::vector<std::string>& allowed_metadata_labels() {
  static const auto* const kLabels = new std::vector<std::string>{
      "container", "node", "pod", "top_level_controller_name", "top_level_controller_type"};
  return *kLabels;
}

}  // namespace

core::Result<PodMonitoring> decode_pod_monitoring(const Json& document, const std::string& where) {
  PodMonitoring pm;
  std::string api_version, kind;
  core::JsonReader r(document, "");
  r.read("apiVersion", api_version);
  r.read("kind", kind);
  r.read_object("metadata", pm, [](core::JsonReader& m, PodMonitoring& out) {
    m.read("name", out.name);
    std::string ns;
    m.read("namespace", ns);
    if (!ns.empty()) out.namespace_ = ns;
    m.read("labels", out.labels);
    m.ignore({"annotations", "uid", "resourceVersion", "generation", "creationTimestamp",
              "generateName", "managedFields", "finalizers", "ownerReferences"});
  });
  std::vector<std::vector<RelabelConfig>> relabel_per_endpoint;
  std::vector<Json> relabel_nodes;
  r.read_object("spec", pm, [&](core::JsonReader& s, PodMonitoring& out) {
    s.read_object("selector", out.selector, decode_selector);
    s.read_list("endpoints", out.endpoints, [&](core::JsonReader& e, PodMonitoringEndpoint& ep) {
      read_port(e, ep);
      e.read("scheme", ep.scheme);
      e.read("path", ep.path);
      if (const Json* params = e.get("params")) {
        if (!params->is_object()) {
          e.type_error(e.child("params"), "an object", *params);
        } else {
          for (auto it = params->begin(); it != params->end(); ++it) {
            std::vector<std::string> values;
            if (!it->is_array()) {
              e.type_error(e.child("params") + "." + it.key(), "a list", *it);
              return;
            }
            for (const auto& value : *it) {
              if (!value.is_string()) {
                e.type_error(e.child("params") + "." + it.key(), "a list of strings", *it);
                return;
              }
              values.push_back(value.get<std::string>());
            }
            ep.params[it.key()] = std::move(values);
          }
        }
      }
      e.read("interval", ep.interval);
      e.read("timeout", ep.timeout);
      if (const Json* rules = e.get("metricRelabeling")) {
        auto configs = decode_relabel_configs(*rules, e.child("metricRelabeling"),
                                              RelabelFieldNames::kPodMonitoring);
        if (!configs) {
          e.fail(configs.error());
          return;
        }
        ep.metric_relabeling = std::move(*configs);
      }
      e.read_object("tls", ep, [](core::JsonReader& t, PodMonitoringEndpoint& out) {
        t.read("insecureSkipVerify", out.tls_insecure_skip_verify);
      });
      for (const char* unsupported : {"authorization", "basicAuth", "oauth2", "proxyUrl"}) {
        if (e.get(unsupported) != nullptr) {
          e.fail(e.child(unsupported), "not supported by llmscale");
          return;
        }
      }
    });
    s.read_object("targetLabels", out, [](core::JsonReader& t, PodMonitoring& o) {
      if (t.has("metadata")) {
        std::vector<std::string> metadata;
        t.read("metadata", metadata);
        o.target_labels_metadata = std::move(metadata);
      }
      t.read_list("fromPod", o.target_labels_from_pod,
                  [](core::JsonReader& m, PodMonitoringLabelMapping& mapping) {
                    m.read("from", mapping.from);
                    m.read("to", mapping.to);
                  });
    });
    s.read_object("limits", out, [](core::JsonReader& l, PodMonitoring& o) {
      for (auto [key, field] :
           {std::pair{"samples", &o.limit_samples}, std::pair{"labels", &o.limit_labels},
            std::pair{"labelNameLength", &o.limit_label_name_length},
            std::pair{"labelValueLength", &o.limit_label_value_length}}) {
        std::int64_t value = 0;
        l.read(key, value);
        if (value < 0) {
          l.fail(l.child(key), "Invalid value: " + std::to_string(value) +
                                   ": should be greater than or equal to 0");
        }
        *field = static_cast<std::uint64_t>(value);
      }
    });
    s.read("filterRunning", out.filter_running);
  });
  r.ignore({"status"});
  auto fail = [&](const std::string& message) {
    return core::invalid_argument(where + ": PodMonitoring " +
                                  core::go_quote(pm.namespace_ + "/" + pm.name) + ": " + message);
  };
  if (auto status = r.finish(); !status) {
    return core::invalid_argument(where + ": PodMonitoring " +
                                  core::go_quote(pm.namespace_ + "/" + pm.name) + ": " +
                                  status.error().message);
  }
  if (api_version != kPodMonitoringApiVersion) {
    return fail("apiVersion: Unsupported value: " + core::go_quote(api_version) +
                ": supported values: " + core::go_quote(kPodMonitoringApiVersion));
  }
  if (pm.name.empty()) return fail("metadata.name: Required value");
  if (!document.contains("spec")) return fail("spec: Required value");
  // CRD schema checks.
  if (pm.endpoints.empty()) return fail("at least one endpoint is required");
  if (pm.endpoints.size() > 10) {
    return fail("spec.endpoints: Too many: " + std::to_string(pm.endpoints.size()) +
                ": must have at most 10 items");
  }
  for (std::size_t i = 0; i < pm.endpoints.size(); ++i) {
    const auto& ep = pm.endpoints[i];
    std::string path = "spec.endpoints[" + std::to_string(i) + "]";
    if (!ep.scheme.empty() && ep.scheme != "http" && ep.scheme != "https") {
      return fail(path + ".scheme: Unsupported value: " + core::go_quote(ep.scheme) +
                  ": supported values: \"http\", \"https\"");
    }
    if (ep.port_name.empty() && ep.port_number == 0) {
      return fail(path + ".port: Invalid value: \"0\": Port is required");
    }
  }
  if (pm.target_labels_metadata) {
    for (const auto& label : *pm.target_labels_metadata) {
      const auto& allowed = allowed_metadata_labels();
      if (std::find(allowed.begin(), allowed.end(), label) == allowed.end()) {
        return fail("metadata label " + core::go_quote(label) + " not allowed, must be one of " +
                    go_list(allowed));
      }
    }
  }
  // The webhook: generating the scrape configs validates the rest.
  auto configs = pod_monitoring_scrape_configs(pm, GmpTargetLabels{"p", "l", "c"});
  if (!configs) return fail(configs.error().message);
  return pm;
}

namespace {

RelabelConfig replace_rule(std::vector<std::string> sources, std::string target,
                           std::string regex = "(.*)", std::string replacement = "$1") {
  RelabelConfig c;
  c.action = RelabelAction::kReplace;
  c.source_labels = std::move(sources);
  c.target_label = std::move(target);
  c.regex = std::move(regex);
  c.replacement = std::move(replacement);
  return c;
}
RelabelConfig filter_rule(RelabelAction action, std::vector<std::string> sources,
                          std::string regex) {
  RelabelConfig c;
  c.action = action;
  c.source_labels = std::move(sources);
  c.regex = std::move(regex);
  return c;
}

}  // namespace

core::Result<std::vector<ScrapeConfig>> pod_monitoring_scrape_configs(const PodMonitoring& pm,
                                                                      const GmpTargetLabels& gmp) {
  static const std::string kMeta = "__meta_kubernetes_";
  std::vector<RelabelConfig> common;
  // Collector-level target labels, forced so metric labels cannot overwrite them.
  common.push_back(replace_rule({}, "project_id", "(.*)", gmp.project_id));
  common.push_back(replace_rule({}, "location", "(.*)", gmp.location));
  common.push_back(replace_rule({}, "cluster", "(.*)", gmp.cluster));
  // Pods of the PodMonitoring's namespace only.
  common.push_back(filter_rule(RelabelAction::kKeep, {kMeta + "namespace"}, pm.namespace_));
  // The selector, as relabeling over pod label meta labels (values are regexes upstream too).
  for (const auto& [key, value] : pm.selector.match_labels) {
    common.push_back(filter_rule(RelabelAction::kKeep,
                                 {kMeta + "pod_label_" + sanitize_label_name(key)}, value));
  }
  for (const auto& expr : pm.selector.match_expressions) {
    std::string key = sanitize_label_name(expr.key);
    if (expr.op == "In") {
      common.push_back(filter_rule(RelabelAction::kKeep, {kMeta + "pod_label_" + key},
                                   core::join(expr.values, "|")));
    } else if (expr.op == "NotIn") {
      common.push_back(filter_rule(RelabelAction::kDrop, {kMeta + "pod_label_" + key},
                                   core::join(expr.values, "|")));
    } else if (expr.op == "Exists") {
      common.push_back(
          filter_rule(RelabelAction::kKeep, {kMeta + "pod_labelpresent_" + key}, "true"));
    } else if (expr.op == "DoesNotExist") {
      common.push_back(
          filter_rule(RelabelAction::kDrop, {kMeta + "pod_labelpresent_" + key}, "true"));
    } else {
      return core::invalid_argument("unsupported operator: " + core::go_quote(expr.op));
    }
  }
  std::set<std::string> metadata{"container", "pod", "top_level_controller_name",
                                 "top_level_controller_type"};
  if (pm.target_labels_metadata) {
    metadata.clear();
    for (const auto& label : *pm.target_labels_metadata) {
      const auto& allowed = allowed_metadata_labels();
      if (std::find(allowed.begin(), allowed.end(), label) == allowed.end()) {
        return core::invalid_argument("metadata label " + core::go_quote(label) +
                                      " not allowed, must be one of " + go_list(allowed));
      }
      metadata.insert(label);
    }
  }
  if (metadata.count("pod")) common.push_back(replace_rule({kMeta + "pod_name"}, "pod"));
  if (metadata.count("container")) {
    common.push_back(replace_rule({kMeta + "pod_container_name"}, "container"));
  }
  if (metadata.count("node")) common.push_back(replace_rule({kMeta + "pod_node_name"}, "node"));
  if (metadata.count("top_level_controller_name")) {
    common.push_back(replace_rule({kMeta + "pod_controller_name"}, "top_level_controller_name"));
    common.push_back(
        replace_rule({kMeta + "pod_controller_kind", kMeta + "pod_labelpresent_pod_template_hash",
                      kMeta + "pod_controller_name"},
                     "top_level_controller_name", "ReplicaSet;true;(.+)-[a-z0-9]+"));
    common.push_back(replace_rule({kMeta + "pod_controller_kind", kMeta + "pod_controller_name"},
                                  "top_level_controller_name", "Job;(.+)-\\d{8}$"));
  }
  if (metadata.count("top_level_controller_type")) {
    common.push_back(replace_rule({kMeta + "pod_controller_kind"}, "top_level_controller_type"));
    common.push_back(
        replace_rule({kMeta + "pod_controller_kind", kMeta + "pod_labelpresent_pod_template_hash",
                      kMeta + "pod_controller_name"},
                     "top_level_controller_type", "ReplicaSet;true;(.+)-[a-z0-9]+", "Deployment"));
    common.push_back(replace_rule({kMeta + "pod_controller_kind", kMeta + "pod_controller_name"},
                                  "top_level_controller_type", "Job;(.+)-\\d{8}$", "CronJob"));
  }
  // The namespace label is always set for PodMonitorings; job is the resource's name.
  common.push_back(replace_rule({kMeta + "namespace"}, "namespace"));
  common.push_back(replace_rule({}, "job", "(.*)", pm.name));
  if (pm.filter_running) {
    common.push_back(
        filter_rule(RelabelAction::kDrop, {kMeta + "pod_phase"}, "(Failed|Succeeded)"));
  }
  // instance: the pod name, or the node name for DaemonSet pods, plus the port.
  common.push_back(replace_rule({kMeta + "pod_name"}, "__tmp_instance"));
  common.push_back(replace_rule({kMeta + "pod_controller_kind", kMeta + "pod_node_name"},
                                "__tmp_instance", "DaemonSet;(.*)", "$1"));

  std::vector<ScrapeConfig> out;
  std::set<std::string> job_names;
  for (std::size_t i = 0; i < pm.endpoints.size(); ++i) {
    const PodMonitoringEndpoint& ep = pm.endpoints[i];
    auto endpoint_error = [&](const std::string& message) {
      return core::invalid_argument("invalid definition for endpoint with index " +
                                    std::to_string(i) + ": " + message);
    };
    ScrapeConfig c;
    c.relabel_configs = common;
    std::string port_text;
    if (!ep.port_name.empty()) {
      port_text = ep.port_name;
      if (auto re = compile_anchored_regex(ep.port_name); !re) {
        return endpoint_error("invalid port name " + core::go_quote(ep.port_name) + ": " +
                              re.error().message);
      }
      c.relabel_configs.push_back(
          filter_rule(RelabelAction::kKeep, {kMeta + "pod_container_port_name"}, ep.port_name));
      c.relabel_configs.push_back(replace_rule(
          {"__tmp_instance", kMeta + "pod_container_port_name"}, "instance", "(.+);(.+)", "$1:$2"));
    } else if (ep.port_number != 0) {
      port_text = std::to_string(ep.port_number);
      // Identical targets for every candidate of the pod: no container label, the pod IP.
      RelabelConfig drop_container;
      drop_container.action = RelabelAction::kLabelDrop;
      drop_container.regex = "container";
      c.relabel_configs.push_back(drop_container);
      c.relabel_configs.push_back(
          replace_rule({"__tmp_instance"}, "instance", "(.*)", "$1:" + port_text));
      c.relabel_configs.push_back(
          replace_rule({kMeta + "pod_ip"}, "__address__", "(.*)", "$1:" + port_text));
    } else {
      return endpoint_error("port must be set");
    }
    for (const auto& mapping : pm.target_labels_from_pod) {
      std::string to = mapping.to.empty() ? mapping.from : mapping.to;
      RelabelConfig rule =
          replace_rule({kMeta + "pod_label_" + sanitize_label_name(mapping.from)}, to);
      if (auto s = check_gmp_relabel_rule(rule, "replace"); !s) {
        return endpoint_error("invalid pod label mapping: " + s.error().message);
      }
      c.relabel_configs.push_back(std::move(rule));
    }
    auto interval = core::parse_prometheus_duration(ep.interval);
    if (!interval) return endpoint_error("invalid scrape interval: " + interval.error().message);
    c.scrape_interval = *interval;
    c.scrape_timeout = *interval;
    if (!ep.timeout.empty()) {
      auto timeout = core::parse_prometheus_duration(ep.timeout);
      if (!timeout) return endpoint_error("invalid scrape timeout: " + timeout.error().message);
      if (*timeout > *interval) {
        return endpoint_error("scrape timeout " + duration_text(*timeout) +
                              " must not be greater than scrape interval " +
                              duration_text(*interval));
      }
      c.scrape_timeout = *timeout;
    }
    if (c.scrape_interval <= core::Duration::zero()) {
      return endpoint_error("invalid scrape interval: must be positive");
    }
    c.metrics_path = ep.path.empty() ? "/metrics" : ep.path;
    c.scheme = ep.scheme.empty() ? "http" : ep.scheme;
    c.params = ep.params;
    for (const auto& rule : ep.metric_relabeling) {
      std::string action(relabel_action_name(rule.action));
      if (auto s = check_gmp_relabel_rule(rule, action); !s)
        return endpoint_error(s.error().message);
    }
    c.metric_relabel_configs = ep.metric_relabeling;
    c.sample_limit = pm.limit_samples;
    c.label_limit = pm.limit_labels;
    c.label_name_length_limit = pm.limit_label_name_length;
    c.label_value_length_limit = pm.limit_label_value_length;
    if (ep.tls_insecure_skip_verify) {
      c.tls_config.emplace();
      c.tls_config->insecure_skip_verify = true;
    }
    c.origin = "PodMonitoring/" + pm.namespace_ + "/" + pm.name;
    c.job_name = c.origin + "/" + port_text;
    c.pod_discovery = true;
    if (auto s = compile_scrape_rules(c); !s) {
      return endpoint_error("invalid scrape configuration: " + s.error().message);
    }
    if (!job_names.insert(c.job_name).second) {
      return core::invalid_argument(
          "duplicated job name " + c.job_name + " for endpoints with index " +
          std::to_string(i - 1) + " and " + std::to_string(i) +
          ";consider creating a separate custom resource (PodMonitoring, etc.) for endpoints that "
          "share the same resource name, namespace and port name");
    }
    out.push_back(std::move(c));
  }
  return out;
}

// ---- The file ---------------------------------------------------------------------------------

core::Result<CollectConfig> parse_collect_config(std::string_view text) {
  std::vector<core::SourceLines> lines;
  auto documents = core::parse_documents(text, &lines);
  if (!documents) return tl::unexpected(documents.error());
  CollectConfig config;
  bool have_prometheus = false;
  std::set<std::string> names;
  for (std::size_t d = 0; d < documents->size(); ++d) {
    const Json& doc = (*documents)[d];
    const core::SourceLines& doc_lines = d < lines.size() ? lines[d] : core::SourceLines{};
    bool resource = doc.is_object() && doc.contains("kind");
    if (!resource) {
      if (have_prometheus) {
        return core::invalid_argument(
            "document " + std::to_string(d) + " (line " +
            std::to_string(core::source_line(doc_lines, "")) +
            "): a second Prometheus configuration; a file holds at most one (plus PodMonitorings)");
      }
      have_prometheus = true;
      if (auto s = decode_prometheus_document(doc, doc_lines, config); !s) {
        return tl::unexpected(s.error());
      }
      continue;
    }
    std::string where = "document " + std::to_string(d) + " (line " +
                        std::to_string(std::max(1, core::source_line(doc_lines, ""))) + ")";
    const Json& kind = doc["kind"];
    if (!kind.is_string() || kind.get<std::string>() != "PodMonitoring") {
      return core::invalid_argument(
          where + ": kind " +
          (kind.is_string() ? core::go_quote(kind.get<std::string>()) : kind.dump()) +
          " is not supported (a Prometheus configuration or kind PodMonitoring is)");
    }
    auto pm = decode_pod_monitoring(doc, where);
    if (!pm) return tl::unexpected(pm.error());
    if (!names.insert(pm->namespace_ + "/" + pm->name).second) {
      return core::invalid_argument(where + ": PodMonitoring " +
                                    core::go_quote(pm->namespace_ + "/" + pm->name) +
                                    " already exists");
    }
    config.pod_monitorings.push_back(std::move(*pm));
  }
  return config;
}

}  // namespace llmscale::prom
