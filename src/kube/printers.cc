// kubectl printers for HorizontalPodAutoscaler (pkg/printers/internalversion/printers.go and
// kubectl/pkg/describe/describe.go).
#include "kube/printers.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

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
      std::string age = human_duration(e.age);
      if (e.count > 1)
        age += " (x" + std::to_string(e.count) + " over " + human_duration(e.age) + ")";
      rows.push_back("  " + e.type + "\t" + e.reason + "\t" + age + "\t" + e.from + "\t" +
                     e.message);
    }
    out += tabwrite_block(rows);
  }
  (void)now;
  return out;
}

}  // namespace llmscale::kube
