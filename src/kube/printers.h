// kubectl's human-readable output for HPAs: the TARGETS column, `get hpa` rows (with Go
// tabwriter alignment and `--watch`'s remembered column widths), HumanDuration ages, and the
// `describe hpa` layout. Pure formatting; byte-for-byte what kubectl v1.30+ prints.
#pragma once

#include <string>
#include <vector>

#include "core/time.h"
#include "kube/objects.h"

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

struct DescribedEvent {
  std::string type, reason, message;
  core::Duration age{};
  int count = 1;
  std::string from = "horizontal-pod-autoscaler";
};

// `kubectl describe hpa NAME`, with the events given.
std::string describe_hpa(const HorizontalPodAutoscaler& hpa,
                         const std::vector<DescribedEvent>& events, core::Time now);

}  // namespace llmscale::kube
