// kubectl printers for HorizontalPodAutoscaler, Pod, Deployment and Event
// (pkg/printers/internalversion/printers.go, kubectl/pkg/describe/describe.go), and kubectl's
// JSON and YAML printers (cli-runtime/pkg/printers/json.go, yaml.go).
#include "kube/printers.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/strings.h"

namespace llmscale::kube {
namespace {

std::string q(const std::optional<Quantity>& quantity) {
  return quantity ? quantity->to_string() : "<nil>";  // Go prints a nil *Quantity as <nil>
}

// Go's text/tabwriter over a block of lines (no remembered widths), padding 2: what kubectl
// describe uses (minwidth 0, tabwidth 8, padding 2).
std::string tabwrite_block(const std::vector<std::string>& lines) {
  // Cells in a column block align; a line with fewer cells ends the block for later columns.
  std::vector<std::vector<std::string>> rows;
  rows.reserve(lines.size());
  for (const auto& line : lines) {
    std::vector<std::string> cells;
    for (auto part : core::split(line, '\t')) cells.emplace_back(part);
    rows.push_back(std::move(cells));
  }
  std::vector<std::vector<std::size_t>> width(rows.size());
  // Column c of a row is padded to the max width over the contiguous run of rows that have a
  // cell at column c followed by another cell (i.e. the cell is tab-terminated).
  std::size_t max_cols = 0;
  for (const auto& r : rows) max_cols = std::max(max_cols, r.size());
  for (std::size_t c = 0; c + 1 < max_cols; ++c) {
    std::size_t i = 0;
    while (i < rows.size()) {
      if (rows[i].size() <= c + 1) {
        ++i;
        continue;
      }
      std::size_t j = i;
      std::size_t w = 0;
      while (j < rows.size() && rows[j].size() > c + 1) {
        w = std::max(w, rows[j][c].size());
        ++j;
      }
      for (std::size_t k = i; k < j; ++k) {
        width[k].resize(c + 1);
        width[k][c] = w + 2;
      }
      i = j;
    }
  }
  std::string out;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    for (std::size_t c = 0; c < rows[i].size(); ++c) {
      out += rows[i][c];
      if (c + 1 < rows[i].size()) out += std::string(width[i][c] - rows[i][c].size(), ' ');
    }
    out += "\n";
  }
  return out;
}

std::string rfc1123z(core::Time t) {
  // Mon, 02 Jan 2006 15:04:05 -0700
  static constexpr const char* kDays[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto day_point = std::chrono::floor<std::chrono::days>(t);
  std::chrono::year_month_day ymd{day_point};
  long long secs = std::chrono::duration_cast<std::chrono::seconds>(t - day_point).count();
  long long days_since_epoch = day_point.time_since_epoch().count();
  int weekday = int(((days_since_epoch % 7) + 7) % 7);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04d %02lld:%02lld:%02lld +0000", kDays[weekday],
                unsigned(ymd.day()), kMonths[unsigned(ymd.month()) - 1], int(ymd.year()),
                secs / 3600, secs / 60 % 60, secs % 60);
  return buf;
}

std::string map_or_none(const std::map<std::string, std::string>& m) {
  if (m.empty()) return "<none>";
  std::vector<std::string> parts;
  parts.reserve(m.size());
  for (const auto& [k, v] : m) parts.push_back(k + "=" + v);
  return core::join(parts, "\n\t");
}

}  // namespace

std::string human_duration(core::Duration d) {
  long long seconds = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return std::to_string(seconds) + "s";
  long long minutes = seconds / 60;
  if (minutes < 10) {
    long long s = seconds % 60;
    return s == 0 ? std::to_string(minutes) + "m"
                  : std::to_string(minutes) + "m" + std::to_string(s) + "s";
  }
  if (minutes < 60 * 3) return std::to_string(minutes) + "m";
  long long hours = seconds / 3600;
  if (hours < 8) {
    long long m = minutes % 60;
    return m == 0 ? std::to_string(hours) + "h"
                  : std::to_string(hours) + "h" + std::to_string(m) + "m";
  }
  if (hours < 48) return std::to_string(hours) + "h";
  if (hours < 24 * 8) {
    long long h = hours % 24;
    return h == 0 ? std::to_string(hours / 24) + "d"
                  : std::to_string(hours / 24) + "d" + std::to_string(h) + "h";
  }
  if (hours < 24 * 365 * 2) return std::to_string(hours / 24) + "d";
  if (hours < 24 * 365 * 8) {
    long long dy = (hours / 24) % 365;
    return dy == 0 ? std::to_string(hours / 24 / 365) + "y"
                   : std::to_string(hours / 24 / 365) + "y" + std::to_string(dy) + "d";
  }
  return std::to_string(hours / 24 / 365) + "y";
}

std::string hpa_targets(const HorizontalPodAutoscaler& hpa) {
  const auto& specs = hpa.spec.metrics;
  const auto& statuses = hpa.status.current_metrics;
  if (specs.empty()) return "<none>";
  std::vector<std::string> list;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const MetricSpec& spec = specs[i];
    const MetricStatus* status = i < statuses.size() ? &statuses[i] : nullptr;
    std::string current = "<unknown>";
    if (spec.type == "External" && spec.external) {
      const auto& t = spec.external->target;
      if (t.average_value) {
        if (status && status->external && status->external->current.average_value) {
          current = status->external->current.average_value->to_string();
        }
        list.push_back(current + "/" + t.average_value->to_string() + " (avg)");
      } else {
        if (status && status->external) current = q(status->external->current.value);
        list.push_back(current + "/" + q(t.value));
      }
    } else if (spec.type == "Pods" && spec.pods) {
      if (status && status->pods) current = q(status->pods->current.average_value);
      list.push_back(current + "/" + q(spec.pods->target.average_value));
    } else if (spec.type == "Object" && spec.object) {
      const auto& t = spec.object->target;
      if (t.average_value) {
        if (status && status->object && status->object->current.average_value) {
          current = status->object->current.average_value->to_string();
        }
        list.push_back(current + "/" + t.average_value->to_string() + " (avg)");
      } else {
        if (status && status->object) current = q(status->object->current.value);
        list.push_back(current + "/" + q(t.value));
      }
    } else if ((spec.type == "Resource" && spec.resource) ||
               (spec.type == "ContainerResource" && spec.container_resource)) {
      bool container = spec.type == "ContainerResource";
      const std::string& name = container ? spec.container_resource->name : spec.resource->name;
      const MetricTarget& t = container ? spec.container_resource->target : spec.resource->target;
      const MetricValueStatus* cur = nullptr;
      if (status && container && status->container_resource)
        cur = &status->container_resource->current;
      if (status && !container && status->resource) cur = &status->resource->current;
      if (t.average_value) {
        if (cur) current = q(cur->average_value);
        list.push_back(name + ": " + current + "/" + t.average_value->to_string());
      } else {
        if (cur && cur->average_utilization)
          current = std::to_string(*cur->average_utilization) + "%";
        std::string target =
            t.average_utilization ? std::to_string(*t.average_utilization) + "%" : "<auto>";
        list.push_back(name + ": " + current + "/" + target);
      }
    } else {
      list.push_back("<unknown type>");
    }
  }
  if (list.size() > 2) {
    std::size_t more = list.size() - 2;
    list.resize(2);
    return core::join(list, ", ") + " + " + std::to_string(more) + " more...";
  }
  return core::join(list, ", ");
}

std::string TableWriter::flush(const std::vector<std::vector<std::string>>& rows) {
  for (const auto& cells : rows) {
    if (widths_.size() < cells.size()) widths_.resize(cells.size(), 0);
    for (std::size_t i = 0; i + 1 < cells.size(); ++i) {
      std::size_t width = std::max<std::size_t>(cells[i].size() + padding_, min_width_);
      widths_[i] = std::max(widths_[i], width);
    }
  }
  std::string out;
  for (const auto& cells : rows) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
      out += cells[i];
      if (i + 1 < cells.size()) out += std::string(widths_[i] - cells[i].size(), ' ');
    }
    out += "\n";
  }
  return out;
}

std::vector<std::string> hpa_table_header() {
  return {"NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"};
}

std::vector<std::string> hpa_table_row(const HorizontalPodAutoscaler& hpa, core::Time now) {
  std::string age = hpa.metadata.creation_timestamp
                        ? human_duration(now - *hpa.metadata.creation_timestamp)
                        : "<unknown>";
  return {hpa.metadata.name,
          hpa.spec.scale_target_ref.kind + "/" + hpa.spec.scale_target_ref.name,
          hpa_targets(hpa),
          hpa.spec.min_replicas ? std::to_string(*hpa.spec.min_replicas) : "<unset>",
          std::to_string(hpa.spec.max_replicas),
          std::to_string(hpa.status.current_replicas),
          age};
}

std::vector<std::string> pod_table_header() {
  return {"NAME", "READY", "STATUS", "RESTARTS", "AGE"};
}

std::vector<std::string> pod_table_row(const Pod& pod, core::Time now) {
  std::string reason = pod.phase;
  int restarts = 0;
  int ready = 0;
  bool has_running = false;
  std::optional<core::Time> last_restart;
  for (auto it = pod.container_statuses.rbegin(); it != pod.container_statuses.rend(); ++it) {
    restarts += it->restart_count;
    if (it->last_terminated_at && (!last_restart || *last_restart < *it->last_terminated_at))
      last_restart = it->last_terminated_at;
    if (!it->waiting_reason.empty()) {
      reason = it->waiting_reason;
    } else if (!it->terminated_reason.empty()) {
      reason = it->terminated_reason;
    } else if (it->ready && pod.phase == "Running") {
      has_running = true;
      ++ready;
    }
  }
  if (reason == "Completed" && has_running) {
    const PodCondition* condition = pod.ready_condition();
    reason = condition != nullptr && condition->status == "True" ? "Running" : "NotReady";
  }
  if (pod.metadata.deletion_timestamp && pod.phase != "Succeeded" && pod.phase != "Failed")
    reason = "Terminating";
  std::string restarts_text = std::to_string(restarts);
  if (restarts != 0 && last_restart)
    restarts_text += " (" + human_duration(now - *last_restart) + " ago)";
  std::string age = pod.metadata.creation_timestamp
                        ? human_duration(now - *pod.metadata.creation_timestamp)
                        : "<unknown>";
  return {pod.metadata.name, std::to_string(ready) + "/" + std::to_string(pod.containers.size()),
          reason, restarts_text, age};
}

std::string describe_hpa(const HorizontalPodAutoscaler& hpa,
                         const std::vector<DescribedEvent>& events, core::Time now) {
  std::vector<std::string> lines;
  lines.push_back("Name:\t" + hpa.metadata.name);
  lines.push_back("Namespace:\t" + hpa.metadata.namespace_);
  lines.push_back("Labels:\t" + map_or_none(hpa.metadata.labels));
  lines.push_back("Annotations:\t" + map_or_none(hpa.metadata.annotations));
  lines.push_back("CreationTimestamp:\t" + (hpa.metadata.creation_timestamp
                                                ? rfc1123z(*hpa.metadata.creation_timestamp)
                                                : std::string("<unset>")));
  lines.push_back("Reference:\t" + hpa.spec.scale_target_ref.kind + "/" +
                  hpa.spec.scale_target_ref.name);
  lines.push_back("Metrics:\t( current / target )");
  const auto& statuses = hpa.status.current_metrics;
  for (std::size_t i = 0; i < hpa.spec.metrics.size(); ++i) {
    const MetricSpec& m = hpa.spec.metrics[i];
    const MetricStatus* s = i < statuses.size() ? &statuses[i] : nullptr;
    std::string current = "<unknown>";
    if (m.type == "External" && m.external) {
      const auto& t = m.external->target;
      if (t.average_value) {
        if (s && s->external && s->external->current.average_value)
          current = s->external->current.average_value->to_string();
        lines.push_back("  " + core::go_quote(m.external->metric.name) +
                        " (target average value):\t" + current + " / " +
                        t.average_value->to_string());
      } else {
        if (s && s->external) current = q(s->external->current.value);
        lines.push_back("  " + core::go_quote(m.external->metric.name) + " (target value):\t" +
                        current + " / " + q(t.value));
      }
    } else if (m.type == "Pods" && m.pods) {
      if (s && s->pods) current = q(s->pods->current.average_value);
      lines.push_back("  " + core::go_quote(m.pods->metric.name) + " on pods:\t" + current + " / " +
                      q(m.pods->target.average_value));
    } else if (m.type == "Object" && m.object) {
      std::string head = "  \"" + m.object->metric.name + "\" on " +
                         m.object->described_object.kind + "/" + m.object->described_object.name +
                         " ";
      if (m.object->target.type == "AverageValue") {
        if (s && s->object) current = q(s->object->current.average_value);
        lines.push_back(head + "(target average value):\t" + current + " / " +
                        q(m.object->target.average_value));
      } else {
        if (s && s->object) current = q(s->object->current.value);
        lines.push_back(head + "(target value):\t" + current + " / " + q(m.object->target.value));
      }
    } else if ((m.type == "Resource" && m.resource) ||
               (m.type == "ContainerResource" && m.container_resource)) {
      bool container = m.type == "ContainerResource";
      const std::string& name = container ? m.container_resource->name : m.resource->name;
      const MetricTarget& t = container ? m.container_resource->target : m.resource->target;
      const MetricValueStatus* cur = nullptr;
      if (s && container && s->container_resource) cur = &s->container_resource->current;
      if (s && !container && s->resource) cur = &s->resource->current;
      std::string head = container ? "  resource " + name + " of container \"" +
                                         m.container_resource->container + "\" on pods"
                                   : "  resource " + name + " on pods";
      if (t.average_value) {
        if (cur) current = q(cur->average_value);
        lines.push_back(head + ":\t" + current + " / " + t.average_value->to_string());
      } else {
        if (cur && cur->average_utilization) {
          current = std::to_string(*cur->average_utilization) + "% (" + q(cur->average_value) + ")";
        }
        std::string target =
            t.average_utilization ? std::to_string(*t.average_utilization) + "%" : "<auto>";
        lines.push_back(head + "  (as a percentage of request):\t" + current + " / " + target);
      }
    } else {
      lines.push_back("  <unknown metric type " + core::go_quote(m.type) + ">");
    }
  }
  lines.push_back("Min replicas:\t" + (hpa.spec.min_replicas
                                           ? std::to_string(*hpa.spec.min_replicas)
                                           : std::string("<unset>")));
  lines.push_back("Max replicas:\t" + std::to_string(hpa.spec.max_replicas));
  if (hpa.spec.behavior) {
    lines.push_back("Behavior:");
    auto rules = [&](const std::string& title, const std::optional<HPAScalingRules>& r) {
      if (!r) return;
      lines.push_back("  " + title + ":");
      if (r->stabilization_window_seconds) {
        lines.push_back("    Stabilization Window: " +
                        std::to_string(*r->stabilization_window_seconds) + " seconds");
      }
      if (r->select_policy) lines.push_back("    Select Policy: " + *r->select_policy);
      if (r->tolerance) lines.push_back("    Tolerance: " + r->tolerance->to_string());
      lines.push_back("    Policies:");
      for (const auto& p : r->policies.value_or(std::vector<HPAScalingPolicy>{})) {
        lines.push_back("      - Type: " + p.type + "\tValue: " + std::to_string(p.value) +
                        "\tPeriod: " + std::to_string(p.period_seconds) + " seconds");
      }
    };
    rules("Scale Up", hpa.spec.behavior->scale_up);
    rules("Scale Down", hpa.spec.behavior->scale_down);
  }
  lines.push_back(hpa.spec.scale_target_ref.kind + " pods:\t" +
                  std::to_string(hpa.status.current_replicas) + " current / " +
                  std::to_string(hpa.status.desired_replicas) + " desired");
  std::string out = tabwrite_block(lines);
  if (!hpa.status.conditions.empty()) {
    out += "Conditions:\n";
    std::vector<std::string> rows = {"  Type\tStatus\tReason\tMessage",
                                     "  ----\t------\t------\t-------"};
    for (const auto& c : hpa.status.conditions) {
      rows.push_back("  " + c.type + "\t" + c.status + "\t" + c.reason + "\t" + c.message);
    }
    out += tabwrite_block(rows);
  }
  if (events.empty()) {
    out += "Events:  <none>\n";
  } else {
    out += "Events:\n";
    std::vector<std::string> rows = {"  Type\tReason\tAge\tFrom\tMessage",
                                     "  ----\t------\t----\t----\t-------"};
    for (const auto& e : events) {
      const std::string since_first = human_duration(e.first_age.value_or(e.age));
      std::string age = since_first;
      if (e.count > 1)
        age =
            human_duration(e.age) + " (x" + std::to_string(e.count) + " over " + since_first + ")";
      rows.push_back("  " + e.type + "\t" + e.reason + "\t" + age + "\t" + e.from + "\t" +
                     e.message);
    }
    out += tabwrite_block(rows);
  }
  (void)now;
  return out;
}

std::vector<std::string> pod_table_header(bool wide) {
  auto header = pod_table_header();
  if (wide) header.insert(header.end(), {"IP", "NODE", "NOMINATED NODE", "READINESS GATES"});
  return header;
}

std::vector<std::string> pod_table_row(const Pod& pod, core::Time now, bool wide) {
  auto row = pod_table_row(pod, now);
  // printPod, options.Wide: podIPs[0] (podIP here), nodeName, nominatedNodeName, readiness
  // gates; a local process fleet has no nodes and no gates.
  if (wide)
    row.insert(row.end(),
               {pod.pod_ip.empty() ? "<none>" : pod.pod_ip, "<none>", "<none>", "<none>"});
  return row;
}

namespace {

// translateTimestampSince: "<unknown>" for a zero time.
std::string age_since(const std::optional<core::Time>& t, core::Time now) {
  return t ? human_duration(now - *t) : "<unknown>";
}

}  // namespace

std::vector<std::string> deployment_table_header(bool wide) {
  std::vector<std::string> header = {"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"};
  if (wide) header.insert(header.end(), {"CONTAINERS", "IMAGES", "SELECTOR"});
  return header;
}

std::vector<std::string> deployment_table_row(const Deployment& d, core::Time now, bool wide) {
  // printDeployment: READY is readyReplicas/spec.replicas (defaulted to 1 by the API server).
  std::int32_t desired = d.replicas.value_or(1);
  std::vector<std::string> row = {
      d.metadata.name, std::to_string(d.ready_replicas) + "/" + std::to_string(desired),
      std::to_string(d.updated_replicas), std::to_string(d.available_replicas),
      age_since(d.metadata.creation_timestamp, now)};
  if (wide) {
    // layoutContainerCells, and metav1.LabelSelectorAsSelector(spec.selector).String().
    std::vector<std::string> names, images;
    for (const auto& c : d.containers) {
      names.push_back(c.name);
      images.push_back(c.image);
    }
    auto selector = to_selector(d.selector);
    row.insert(row.end(), {core::join(names, ","), core::join(images, ","),
                           selector ? selector->to_string() : "<invalid>"});
  }
  return row;
}

std::vector<std::string> event_table_header(bool wide) {
  if (wide)
    return {"LAST SEEN", "TYPE",    "REASON",     "OBJECT", "SUBOBJECT",
            "SOURCE",    "MESSAGE", "FIRST SEEN", "COUNT",  "NAME"};
  return {"LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"};
}

std::vector<std::string> event_table_row(const Event& e, core::Time now, bool wide) {
  // printEvent: lastTimestamp falls back to firstTimestamp; a zero count is a singleton (1);
  // OBJECT is lower-case kind/name.
  std::string first = age_since(e.first_timestamp, now);
  std::string last = e.last_timestamp ? human_duration(now - *e.last_timestamp) : first;
  std::int32_t count = e.count == 0 ? 1 : e.count;
  std::string target = core::to_lower(e.involved_object.kind);
  if (!e.involved_object.name.empty()) target += "/" + e.involved_object.name;
  std::string message(core::trim(e.message));
  if (!wide) return {last, e.type, e.reason, target, message};
  // formatEventSource: "component, host", or the component alone.
  std::string source = e.source_component;
  if (!e.source_host.empty()) source += ", " + e.source_host;
  return {last,
          e.type,
          e.reason,
          target,
          e.involved_object.field_path,
          source,
          message,
          first,
          std::to_string(count),
          e.metadata.name};
}

std::string format_labels(const Labels& labels) {
  if (labels.empty()) return "<none>";
  std::vector<std::string> parts;
  parts.reserve(labels.size());
  for (const auto& [k, v] : labels) parts.push_back(k + "=" + v);
  return core::join(parts, ",");
}

std::size_t json_depth(const core::Json& value) {
  std::size_t deepest = 0;
  std::vector<std::pair<const core::Json*, std::size_t>> stack = {{&value, 0}};
  while (!stack.empty()) {
    auto [node, depth] = stack.back();
    stack.pop_back();
    if (!node->is_structured()) continue;
    deepest = std::max(deepest, depth + 1);
    if (node->is_object()) {
      for (auto it = node->begin(); it != node->end(); ++it)
        stack.emplace_back(&it.value(), depth + 1);
    } else {
      for (const auto& child : *node) stack.emplace_back(&child, depth + 1);
    }
  }
  return deepest;
}

namespace {

// Object members in Go's map order (sorted by key bytes), as encoding/json and go-yaml write
// map[string]interface{}.
std::vector<std::pair<std::string, const core::Json*>> sorted_members(const core::Json& object) {
  std::vector<std::pair<std::string, const core::Json*>> members;
  for (auto it = object.begin(); it != object.end(); ++it)
    members.emplace_back(it.key(), &it.value());
  std::sort(members.begin(), members.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return members;
}

void write_json(std::string& out, const core::Json& v, int indent) {
  std::string pad(static_cast<std::size_t>(indent + 1) * 4, ' ');
  std::string close_pad(static_cast<std::size_t>(indent) * 4, ' ');
  if (v.is_object()) {
    if (v.empty()) {
      out += "{}";
      return;
    }
    out += "{\n";
    bool first = true;
    for (const auto& [key, child] : sorted_members(v)) {
      if (!first) out += ",\n";
      first = false;
      out += pad;
      core::append_go_json_string(out, key);
      out += ": ";
      write_json(out, *child, indent + 1);
    }
    out += "\n" + close_pad + "}";
  } else if (v.is_array()) {
    if (v.empty()) {
      out += "[]";
      return;
    }
    out += "[\n";
    bool first = true;
    for (const auto& child : v) {
      if (!first) out += ",\n";
      first = false;
      out += pad;
      write_json(out, child, indent + 1);
    }
    out += "\n" + close_pad + "]";
  } else if (v.is_string()) {
    core::append_go_json_string(out, v.get_ref<const std::string&>());
  } else if (v.is_number_float()) {
    out += core::go_format_float(v.get<double>());
  } else {
    out += v.dump();  // integers, booleans, null
  }
}

// ---- go-yaml v2's emitter (emitterc.go), for the shapes JSON documents have -----------------

bool is_blankz(std::string_view s, std::size_t i) {
  return i >= s.size() || s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' ||
         s[i] == '\0';
}

// One code point of UTF-8 at `i` (invalid bytes read as U+FFFD, one byte long).
char32_t decode_utf8(std::string_view s, std::size_t i, std::size_t& width) {
  auto c = static_cast<unsigned char>(s[i]);
  width = 1;
  if (c < 0x80) return c;
  int n = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : -1;
  if (n < 0 || i + static_cast<std::size_t>(n) >= s.size()) return 0xFFFD;
  char32_t cp = c & (0x3F >> n);
  for (int k = 1; k <= n; ++k) {
    auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0xFFFD;
    cp = (cp << 6) | (cc & 0x3F);
  }
  width = static_cast<std::size_t>(n) + 1;
  return cp;
}

bool is_printable(char32_t c) {
  return c == 0x0A || (c >= 0x20 && c <= 0x7E) || c == 0x85 || (c >= 0xA0 && c <= 0xD7FF) ||
         (c >= 0xE000 && c <= 0xFFFD && c != 0xFEFF) || (c >= 0x10000 && c <= 0x10FFFF);
}

bool is_break(char32_t c) {
  return c == '\r' || c == '\n' || c == 0x85 || c == 0x2028 || c == 0x2029;
}

// resolve.go: whether a plain scalar would read back as something other than this string
// (null, bool, int, float, timestamp), or as a base-60 float (isBase60Float).
bool resolves_to_non_string(const std::string& s) {
  if (s.empty()) return true;
  static const char* const kWords[] = {
      "y",    "Y",    "yes",   "Yes",   "YES",   "n",     "N",     "no",    "No",   "NO",
      "true", "True", "TRUE",  "false", "False", "FALSE", "on",    "On",    "ON",   "off",
      "Off",  "OFF",  "~",     "null",  "Null",  "NULL",  ".nan",  ".NaN",  ".NAN", ".inf",
      ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", "<<"};
  for (const char* w : kWords)
    if (s == w) return true;
  char c = s[0];
  if (c == '.') {
    static const std::regex kFloat(R"(^\.[0-9]+([eE][-+]?[0-9]+)?$)");
    return std::regex_match(s, kFloat);
  }
  if (!(c == '+' || c == '-' || (c >= '0' && c <= '9'))) return false;
  static const std::regex kTimestamp(
      R"(^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?)?$)");
  if (std::regex_match(s, kTimestamp)) return true;
  std::string plain;
  for (char ch : s)
    if (ch != '_') plain += ch;
  // strconv.ParseInt/ParseUint base 0, and yamlStyleFloat.
  static const std::regex kInt(R"(^[-+]?(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[0-9]+)$)");
  static const std::regex kYamlFloat(R"(^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$)");
  static const std::regex kBase60(R"(^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$)");
  return std::regex_match(plain, kInt) || std::regex_match(plain, kYamlFloat) ||
         std::regex_match(s, kBase60);
}

// strconv.FormatFloat(f, 'g', -1, 64) as go-yaml's floatv writes it.
std::string yaml_float(double f) {
  if (std::isnan(f)) return ".nan";
  if (std::isinf(f)) return f > 0 ? ".inf" : "-.inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, f, std::chars_format::scientific);
  std::string sci(buf, end);  // d[.ddd]e[+-]XX
  std::size_t e = sci.find('e');
  std::string mantissa = sci.substr(0, e);
  int exp = std::stoi(sci.substr(e + 1));
  bool negative = mantissa[0] == '-';
  if (negative) mantissa.erase(0, 1);
  std::string digits;
  for (char ch : mantissa)
    if (ch != '.') digits += ch;
  std::string out = negative ? "-" : "";
  if (exp < -4 || exp >= 6) {  // %e when the exponent is < -4 or >= 6 (shortest precision)
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char ebuf[16];
    std::snprintf(ebuf, sizeof ebuf, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    return out + ebuf;
  }
  if (exp < 0) return out + "0." + std::string(static_cast<std::size_t>(-exp - 1), '0') + digits;
  auto point = static_cast<std::size_t>(exp) + 1;
  if (digits.size() <= point) return out + digits + std::string(point - digits.size(), '0');
  return out + digits.substr(0, point) + "." + digits.substr(point);
}

class YamlEmitter {
 public:
  std::string take() { return std::move(out_); }

  // A node at `indent` (the column of the enclosing collection's entries; -1 at the top).
  void node(const core::Json& v, int indent, bool mapping_context) {
    if (v.is_object() && !v.empty()) {
      mapping(v, indent);
    } else if (v.is_array() && !v.empty()) {
      sequence(v, indent, mapping_context);
    } else if (v.is_object()) {
      indicator("{}", true, false, false);
    } else if (v.is_array()) {
      indicator("[]", true, false, false);
    } else {
      scalar(v, indent < 0 ? 0 : indent + kBestIndent, /*simple_key=*/false);
    }
  }

 private:
  static constexpr int kBestIndent = 2;
  static constexpr int kBestWidth = 80;

  void mapping(const core::Json& v, int indent) {
    int inner = indent < 0 ? 0 : indent + kBestIndent;
    for (const auto& [key, child] : sorted_members(v)) {
      write_indent(inner);
      scalar(core::Json(key), inner, /*simple_key=*/true);
      indicator(":", false, false, false);
      node(*child, inner, /*mapping_context=*/true);
    }
  }

  void sequence(const core::Json& v, int indent, bool mapping_context) {
    // A sequence that is a mapping's value is indentless: its dashes align with the keys.
    int inner = indent < 0 ? 0 : (mapping_context && !indention_ ? indent : indent + kBestIndent);
    for (const auto& child : v) {
      write_indent(inner);
      indicator("-", true, false, true);
      node(child, inner, /*mapping_context=*/false);
    }
  }

  void scalar(const core::Json& v, int indent, bool simple_key) {
    indent_ = indent;
    if (v.is_string()) {
      string_scalar(v.get_ref<const std::string&>(), simple_key);
    } else if (v.is_boolean()) {
      plain(v.get<bool>() ? "true" : "false", false);
    } else if (v.is_null()) {
      plain("null", false);
    } else if (v.is_number_float()) {
      plain(yaml_float(v.get<double>()), false);
    } else {
      plain(v.dump(), false);
    }
  }

  enum class Style { kPlain, kSingle, kDouble, kLiteral };

  void string_scalar(const std::string& s, bool simple_key) {
    // encode.go stringv: literal for multi-line text, plain when it reads back as the same
    // string, else double-quoted; emitterc.go select_scalar_style then downgrades.
    Style style = s.find('\n') != std::string::npos ? Style::kLiteral
                  : resolves_to_non_string(s)       ? Style::kDouble
                                                    : Style::kPlain;
    Analysis a = analyze(s);
    if (style == Style::kPlain &&
        (!a.block_plain_allowed || (s.empty() && simple_key) || (simple_key && a.multiline)))
      style = Style::kSingle;
    if (style == Style::kSingle && !a.single_quoted_allowed) style = Style::kDouble;
    if (style == Style::kLiteral && (!a.block_allowed || simple_key)) style = Style::kDouble;
    bool breaks = !simple_key;
    switch (style) {
      case Style::kPlain: plain(s, breaks); break;
      case Style::kSingle: single_quoted(s, breaks); break;
      case Style::kDouble: double_quoted(s, breaks); break;
      case Style::kLiteral: literal(s); break;
    }
  }

  struct Analysis {
    bool multiline = false;
    bool block_plain_allowed = true;
    bool single_quoted_allowed = true;
    bool block_allowed = true;
  };

  // yaml_emitter_analyze_scalar, block context.
  static Analysis analyze(std::string_view s) {
    Analysis a;
    if (s.empty()) return a;
    bool block_indicators = false, leading_space = false, leading_break = false,
         trailing_space = false, trailing_break = false, break_space = false, space_break = false,
         previous_space = false, previous_break = false, line_breaks = false, special = false;
    if (s.substr(0, 3) == "---" || s.substr(0, 3) == "...") block_indicators = true;
    bool preceded_by_whitespace = true;
    for (std::size_t i = 0; i < s.size();) {
      std::size_t width = 1;
      char32_t c = decode_utf8(s, i, width);
      bool followed_by_whitespace = is_blankz(s, i + width);
      if (i == 0) {
        if (std::string_view("#,[]{}&*!|>'\"%@`").find(static_cast<char>(c)) !=
                std::string_view::npos &&
            c < 0x80)
          block_indicators = true;
        if ((c == '?' || c == ':' || c == '-') && followed_by_whitespace) block_indicators = true;
      } else {
        if (c == ':' && followed_by_whitespace) block_indicators = true;
        if (c == '#' && preceded_by_whitespace) block_indicators = true;
      }
      if (!is_printable(c)) special = true;
      if (c == ' ') {
        if (i == 0) leading_space = true;
        if (i + width == s.size()) trailing_space = true;
        if (previous_break) break_space = true;
        previous_space = true;
        previous_break = false;
      } else if (is_break(c)) {
        line_breaks = true;
        if (i == 0) leading_break = true;
        if (i + width == s.size()) trailing_break = true;
        if (previous_space) space_break = true;
        previous_space = false;
        previous_break = true;
      } else {
        previous_space = false;
        previous_break = false;
      }
      preceded_by_whitespace = c == ' ' || c == '\t' || is_break(c);
      i += width;
    }
    a.multiline = line_breaks;
    if (leading_space || leading_break || trailing_space || trailing_break)
      a.block_plain_allowed = false;
    if (trailing_space) a.block_allowed = false;
    if (break_space) {
      a.block_plain_allowed = false;
      a.single_quoted_allowed = false;
    }
    if (space_break || special) {
      a.block_plain_allowed = false;
      a.single_quoted_allowed = false;
      a.block_allowed = false;
    }
    if (line_breaks || block_indicators) a.block_plain_allowed = false;
    return a;
  }

  void put(std::string_view text, std::size_t columns) {
    out_ += text;
    column_ += static_cast<int>(columns);
  }
  void put_char_at(std::string_view s, std::size_t& i) {
    std::size_t width = 1;
    decode_utf8(s, i, width);
    put(s.substr(i, width), 1);
    i += width;
  }
  void put_break() {
    out_ += '\n';
    column_ = 0;
  }

  void write_indent(int indent) {
    if (indent < 0) indent = 0;
    if (!indention_ || column_ > indent || (column_ == indent && !whitespace_)) put_break();
    while (column_ < indent) put(" ", 1);
    whitespace_ = true;
    indention_ = true;
  }

  void indicator(std::string_view text, bool need_whitespace, bool is_whitespace,
                 bool is_indention) {
    if (need_whitespace && !whitespace_) put(" ", 1);
    put(text, text.size());
    whitespace_ = is_whitespace;
    indention_ = indention_ && is_indention;
  }

  void plain(std::string_view s, bool allow_breaks) {
    if (!whitespace_) put(" ", 1);
    bool spaces = false;
    for (std::size_t i = 0; i < s.size();) {
      if (s[i] == ' ') {
        if (allow_breaks && !spaces && column_ > kBestWidth &&
            !(i + 1 < s.size() && s[i + 1] == ' ')) {
          write_indent(indent_);
          ++i;
        } else {
          put_char_at(s, i);
        }
        spaces = true;
      } else {
        put_char_at(s, i);
        spaces = false;
      }
    }
    whitespace_ = false;
    indention_ = false;
  }

  void single_quoted(std::string_view s, bool allow_breaks) {
    indicator("'", true, false, false);
    bool spaces = false;
    for (std::size_t i = 0; i < s.size();) {
      if (s[i] == ' ') {
        if (allow_breaks && !spaces && column_ > kBestWidth && i != 0 && i != s.size() - 1 &&
            !(i + 1 < s.size() && s[i + 1] == ' ')) {
          write_indent(indent_);
          ++i;
        } else {
          put_char_at(s, i);
        }
        spaces = true;
      } else {
        if (s[i] == '\'') put("'", 1);
        put_char_at(s, i);
        spaces = false;
      }
    }
    indicator("'", false, false, false);
  }

  void double_quoted(std::string_view s, bool allow_breaks) {
    indicator("\"", true, false, false);
    bool spaces = false;
    for (std::size_t i = 0; i < s.size();) {
      std::size_t width = 1;
      char32_t c = decode_utf8(s, i, width);
      if (!is_printable(c) || c == 0xFEFF || is_break(c) || c == '"' || c == '\\') {
        std::string esc = "\\";
        switch (c) {
          case 0x00: esc += '0'; break;
          case 0x07: esc += 'a'; break;
          case 0x08: esc += 'b'; break;
          case 0x09: esc += 't'; break;
          case 0x0A: esc += 'n'; break;
          case 0x0B: esc += 'v'; break;
          case 0x0C: esc += 'f'; break;
          case 0x0D: esc += 'r'; break;
          case 0x1B: esc += 'e'; break;
          case '"': esc += '"'; break;
          case '\\': esc += '\\'; break;
          case 0x85: esc += 'N'; break;
          case 0xA0: esc += '_'; break;
          case 0x2028: esc += 'L'; break;
          case 0x2029: esc += 'P'; break;
          default: {
            char buf[16];
            if (c <= 0xFF) {
              std::snprintf(buf, sizeof buf, "x%02X", static_cast<unsigned>(c));
            } else if (c <= 0xFFFF) {
              std::snprintf(buf, sizeof buf, "u%04X", static_cast<unsigned>(c));
            } else {
              std::snprintf(buf, sizeof buf, "U%08X", static_cast<unsigned>(c));
            }
            esc += buf;
          }
        }
        put(esc, esc.size());
        i += width;
        spaces = false;
      } else if (c == ' ') {
        if (allow_breaks && !spaces && column_ > kBestWidth && i != 0 && i != s.size() - 1) {
          write_indent(indent_);
          if (i + 1 < s.size() && s[i + 1] == ' ') put("\\", 1);
          ++i;
        } else {
          put_char_at(s, i);
        }
        spaces = true;
      } else {
        put_char_at(s, i);
        spaces = false;
      }
    }
    indicator("\"", false, false, false);
  }

  void literal(std::string_view s) {
    indicator("|", true, false, false);
    // yaml_emitter_write_block_scalar_hints: an indentation indicator when the text starts
    // with a space or a break; "-" without a final break, "+" with more than one.
    std::string hints;
    if (!s.empty() && (s[0] == ' ' || s[0] == '\n')) hints += std::to_string(kBestIndent);
    if (s.empty() || s.back() != '\n') {
      hints += "-";
    } else if (s.size() >= 2 && s[s.size() - 2] == '\n') {
      hints += "+";
    }
    if (!hints.empty()) indicator(hints, false, false, false);
    put_break();
    indention_ = true;
    whitespace_ = true;
    bool breaks = true;
    for (std::size_t i = 0; i < s.size();) {
      if (s[i] == '\n') {
        put_break();
        ++i;
        indention_ = true;
        breaks = true;
      } else {
        if (breaks) {
          write_indent(indent_);
          // write_indent only breaks the line when needed: after put_break it pads.
        }
        put_char_at(s, i);
        indention_ = false;
        breaks = false;
      }
    }
  }

  std::string out_;
  int column_ = 0;
  int indent_ = 0;
  bool whitespace_ = true;
  bool indention_ = true;
};

}  // namespace

std::string kubectl_json(const core::Json& value) {
  std::string out;
  write_json(out, value, 0);
  out += "\n";
  return out;
}

std::string kubectl_yaml(const core::Json& value) {
  YamlEmitter emitter;
  emitter.node(value, -1, /*mapping_context=*/false);
  std::string out = emitter.take();
  if (out.empty() || out.back() != '\n') out += "\n";
  return out;
}

}  // namespace llmscale::kube
