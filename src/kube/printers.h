// kubectl's output: for HPAs the TARGETS column, `get hpa` rows (with Go tabwriter alignment and
// `--watch`'s remembered column widths), HumanDuration ages, and the `describe hpa` layout; the
// `get pods|deploy|events` tables (with `-o wide`'s priority-1 columns and `--show-labels`);
// and `-o json` / `-o yaml` (kubectl's JSONPrinter and YAMLPrinter over unstructured objects).
// Pure formatting; byte-for-byte what kubectl v1.30+ prints.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/time.h"
#include "kube/objects.h"
#include "kube/workloads.h"

namespace llmscale::kube {

// k8s.io/apimachinery/pkg/util/duration.HumanDuration: "6s", "3m37s", "146m", "2d3h".
std::string human_duration(core::Duration d);

// The TARGETS column: "208m/100m", "<unknown>/5", "0/10 (avg)", "cpu: 50%/80%",
// "a/b, c/d + 1 more...".
std::string hpa_targets(const HorizontalPodAutoscaler& hpa);

// kubectl's tabwriter for tables (minwidth 6, padding 3, RememberWidths): the rows of one
// flush align together; column widths only grow from flush to flush, which is why
// `kubectl get -w` keeps later, shorter values padded to the widest seen so far. The last cell
// of a row is not padded.
class TableWriter {
 public:
  explicit TableWriter(int min_width = 6, int padding = 3)
      : min_width_(min_width), padding_(padding) {}
  // Formats rows flushed together (e.g. the header and the initial list), one line each.
  std::string flush(const std::vector<std::vector<std::string>>& rows);
  // One row flushed on its own (a watch event).
  std::string row(const std::vector<std::string>& cells) { return flush({cells}); }

 private:
  int min_width_;
  int padding_;
  std::vector<std::size_t> widths_;
};

// `kubectl get hpa` columns.
std::vector<std::string> hpa_table_header();
std::vector<std::string> hpa_table_row(const HorizontalPodAutoscaler& hpa, core::Time now);

// `kubectl get pods` columns (NAME READY STATUS RESTARTS AGE) and a row as kubectl's printPod
// computes it: READY counts running+ready containers, STATUS is the last container's waiting or
// terminated reason over the phase and "Terminating" once deleted, RESTARTS "2 (5m ago)".
std::vector<std::string> pod_table_header();
std::vector<std::string> pod_table_row(const Pod& pod, core::Time now);
// `-o wide` adds IP NODE NOMINATED NODE READINESS GATES (printPod's options.Wide cells).
std::vector<std::string> pod_table_header(bool wide);
std::vector<std::string> pod_table_row(const Pod& pod, core::Time now, bool wide);

// `kubectl get deploy`: NAME READY UP-TO-DATE AVAILABLE AGE (+ wide CONTAINERS IMAGES SELECTOR).
std::vector<std::string> deployment_table_header(bool wide);
std::vector<std::string> deployment_table_row(const Deployment& deployment, core::Time now,
                                              bool wide);

// `kubectl get events`: LAST SEEN TYPE REASON OBJECT MESSAGE (wide: LAST SEEN TYPE REASON
// OBJECT SUBOBJECT SOURCE MESSAGE FIRST SEEN COUNT NAME).
std::vector<std::string> event_table_header(bool wide);
std::vector<std::string> event_table_row(const Event& event, core::Time now, bool wide);

// labels.FormatLabels (the `--show-labels` LABELS column): "a=b,c=d" by key, "<none>" if empty.
std::string format_labels(const Labels& labels);

// How deeply `value` nests (a scalar is 0, `[]` 1, `[[1]]` 2), computed without recursion, so
// callers can refuse documents too deep for the recursive printers below.
std::size_t json_depth(const core::Json& value);
// The printers below recurse once per level: callers check json_depth() against this first.
inline constexpr std::size_t kMaxPrintDepth = 200;

// `kubectl get -o json`: json.MarshalIndent(obj, "", "    ") of an unstructured object (keys
// sorted, Go's escaping) plus a newline.
std::string kubectl_json(const core::Json& value);
// `kubectl get -o yaml`: sigs.k8s.io/yaml (go-yaml v2's emitter: keys sorted, indentless
// sequences in mappings, quoting only what would not read back as the same string, long scalars
// folded past column 80, `|` blocks for multi-line strings).
std::string kubectl_yaml(const core::Json& value);

// One row of describe's Events table. kubectl: the From column is the event's source.component,
// else its reportingController; Age is the time since firstTimestamp, or for a repeated event
// "<since lastTimestamp> (x<count> over <since firstTimestamp>)".
struct DescribedEvent {
  std::string type, reason, message;
  core::Duration age{};  // since lastTimestamp
  int count = 1;
  std::string from = "horizontal-pod-autoscaler";
  std::optional<core::Duration> first_age;  // since firstTimestamp; unset: the same as `age`
};

// `kubectl describe hpa NAME`, with the events given.
std::string describe_hpa(const HorizontalPodAutoscaler& hpa,
                         const std::vector<DescribedEvent>& events, core::Time now);

}  // namespace llmscale::kube
