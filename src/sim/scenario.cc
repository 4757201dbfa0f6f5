// Reading a simulation scenario: `up`'s documents (up/config.h) plus the Workload and
// Simulation documents only the simulator reads.
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/duration.h"
#include "core/file.h"
#include "sim/simulator.h"

namespace llmscale::sim {
namespace {

core::Result<core::Duration> duration_field(const core::Json& spec, const char* key,
                                            const std::string& where) {
  const core::Json& v = spec[key];
  if (v.is_number()) return core::from_seconds(v.get<double>());
  if (!v.is_string())
    return core::invalid_argument(where + ".spec." + key + ": expected a duration such as \"15s\"");
  auto d = core::parse_go_duration(v.get<std::string>());
  if (!d) return core::invalid_argument(where + ".spec." + key + ": " + d.error().message);
  return *d;
}

core::Status apply_simulation(const core::Json& spec, const std::string& where, SimOptions& o) {
  if (!spec.is_object()) return core::invalid_argument(where + ".spec: expected an object");
  for (auto it = spec.begin(); it != spec.end(); ++it) {
    const std::string& key = it.key();
    auto dur = [&](core::Duration& out) -> core::Status {
      auto d = duration_field(spec, key.c_str(), where);
      if (!d) return tl::unexpected(d.error());
      out = *d;
      return {};
    };
    core::Status st;
    core::Duration d{};
    if (key == "policy" && it->is_string()) {
      o.policy = it->get<std::string>();
    } else if (key == "scaler" && it->is_string()) {
      o.scaler = it->get<std::string>();
    } else if (key == "scaleDown" && it->is_string()) {
      o.scale_down = it->get<std::string>();
    } else if (key == "seed" && it->is_number_integer() && it->get<std::int64_t>() >= 0) {
      o.seed = static_cast<std::uint64_t>(it->get<std::int64_t>());
    } else if (key == "scrapeInterval") {
      st = dur(d);
      o.pipeline.scrape_interval = d;
    } else if (key == "scrapeOffset") {
      st = dur(d);
      o.pipeline.scrape_offset = d;
    } else if (key == "ingestionDelay") {
      st = dur(o.pipeline.ingestion_delay);
    } else if (key == "adapterRelist") {
      st = dur(o.pipeline.adapter_relist);
    } else if (key == "syncPeriod") {
      st = dur(o.pipeline.sync_period);
    } else if (key == "minPassInterval") {
      st = dur(o.pipeline.min_pass_interval);
    } else if (key == "reconcileAfterScrape" && it->is_boolean()) {
      o.pipeline.reconcile_after_scrape = it->get<bool>();
    } else if (key == "downscaleStabilization") {
      st = dur(o.downscale_stabilization);
    } else if (key == "tolerance" && it->is_number()) {
      o.tolerance = it->get<double>();
    } else if (key == "coldStart") {
      st = dur(d);
      o.cold_start = d;
    } else if (key == "startWarm" && it->is_boolean()) {
      o.start_warm = it->get<bool>();
    } else if (key == "coldStartJitter" && it->is_number()) {
      o.cold_start_jitter = it->get<double>();
    } else if (key == "stepTimeJitter" && it->is_number()) {
      o.step_time_jitter = it->get<double>();
    } else if (key == "routerQueueTimeout") {
      st = dur(o.router_queue_timeout);
    } else if (key == "tail") {
      st = dur(o.tail);
    } else if (key == "maxDuration") {
      st = dur(d);
      o.max_duration = d;
    } else {
      return core::invalid_argument(where + ".spec." + key + ": unknown field or wrong type");
    }
    if (!st) return st;
  }
  return {};
}

}  // namespace

core::Result<Scenario> load_scenario(const std::vector<std::string>& paths, SimOptions& options) {
  auto loaded = up::load_up_config(paths);
  if (!loaded) return tl::unexpected(loaded.error());
  Scenario scenario;
  scenario.config = std::move(*loaded);
  bool have_workload = false;
  for (const std::string& file : scenario.config.files) {
    auto text = core::read_file(file);
    if (!text) return tl::unexpected(text.error());
    auto docs = core::parse_documents(*text);
    if (!docs) continue;  // load_up_config already read it; its error would have come first
    for (std::size_t i = 0; i < docs->size(); ++i) {
      const core::Json& doc = (*docs)[i];
      if (!doc.is_object() || !doc.contains("kind") || !doc["kind"].is_string()) continue;
      std::string kind = doc["kind"].get<std::string>();
      std::string where = file + ": document " + std::to_string(i + 1) + " (" + kind + ")";
      core::Json spec = doc.contains("spec") ? doc["spec"] : core::Json::object();
      if (kind == "Workload") {
        std::string base = std::filesystem::path(file).parent_path().string();
        auto w = decode_workload(spec, base);
        if (!w) return core::invalid_argument(where + ": " + w.error().message);
        scenario.workload = std::move(*w);
        have_workload = true;
      } else if (kind == "Simulation") {
        if (auto st = apply_simulation(spec, where, options); !st)
          return tl::unexpected(st.error());
      }
    }
  }
  if (!have_workload) scenario.workload.kind = WorkloadKind::kPoisson;
  return scenario;
}

}  // namespace llmscale::sim
