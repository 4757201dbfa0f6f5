// `llmscale hpa reconcile|describe|validate`: the HPA decision engine on files.
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/io.h"
#include "core/json.h"
#include "core/strings.h"
#include "hpa/reconcile_io.h"
#include "kube/hpa_manifest.h"
#include "kube/printers.h"

namespace llmscale::cli {
namespace {

struct Decided {
  hpa::Decision decision;
  kube::HorizontalPodAutoscaler hpa;  // with the new status
  core::Time now;
};

core::Result<Decided> decide(const std::string& path) {
  auto text = read_input(path);
  if (!text) return tl::unexpected(text.error());
  auto document = core::parse_document(*text);
  if (!document) return tl::unexpected(document.error());
  auto request = hpa::decode_reconcile_request(*document);
  if (!request) return tl::unexpected(request.error());
  hpa::RecordedScaleWriter writer(request->scale_update_error);
  Decided out;
  out.decision = hpa::reconcile(request->input, request->metrics, writer);
  out.hpa = request->input.hpa;
  out.hpa.status = out.decision.status;
  out.now = request->input.now;
  return out;
}

int run_reconcile(const std::string& path, bool compact) {
  auto decided = decide(path);
  if (!decided) return fail(decided.error().message);
  core::Json out = hpa::encode_decision(decided->decision);
  std::cout << (compact ? core::to_compact_json(out) : core::to_pretty_json(out)) << "\n";
  return 0;
}

int run_describe(const std::string& path) {
  auto decided = decide(path);
  if (!decided) return fail(decided.error().message);
  std::vector<kube::DescribedEvent> events;
  for (const auto& e : decided->decision.events) {
    kube::DescribedEvent& described = events.emplace_back();
    described.type = e.type;
    described.reason = e.reason;
    described.message = e.message;
  }
  std::cout << kube::describe_hpa(decided->hpa, events, decided->now);
  const hpa::Decision& d = decided->decision;
  std::cout << "Decision:\n";
  for (std::size_t i = 0; i < d.metrics.size(); ++i) {
    const auto& m = d.metrics[i];
    std::cout << "  metric " << i << " (" << m.type << (m.name.empty() ? "" : " " + m.name)
              << "): ";
    if (m.error) {
      std::cout << "invalid (" << *m.reason << "): " << *m.error << "\n";
      continue;
    }
    std::cout << "proposes " << *m.proposed_replicas << "\n";
    if (m.ready_pods) {
      std::cout << "    pods: " << *m.ready_pods << " ready";
      if (m.unready_pods) std::cout << ", " << *m.unready_pods << " unready";
      if (m.missing_pods) std::cout << ", " << *m.missing_pods << " missing";
      if (m.ignored_pods) std::cout << ", " << *m.ignored_pods << " ignored";
      std::cout << "\n";
    }
    for (const auto& note : m.notes) std::cout << "    " << note << "\n";
  }
  for (const auto& line : d.explanation) {
    if (line.rfind("metric ", 0) == 0) continue;  // already shown per metric
    std::cout << "  " << line << "\n";
  }
  if (d.error) std::cout << "  error: " << *d.error << "\n";
  std::cout << "  => " << d.desired_replicas << " replicas\n";
  return 0;
}

int run_validate(const std::string& path, const std::string& gates_text, bool lenient) {
  auto text = read_input(path);
  if (!text) return fail(text.error().message);
  kube::HpaLoadOptions options;
  options.strict = !lenient;
  if (!gates_text.empty()) {
    for (auto item : core::split(gates_text, ',')) {
      auto kv = core::split(item, '=');
      if (kv.size() != 2 || (kv[1] != "true" && kv[1] != "false")) {
        return fail("--feature-gates: expected Gate=true|false, got \"" + std::string(item) + "\"");
      }
      bool on = kv[1] == "true";
      if (kv[0] == "HPAScaleToZero")
        options.gates.hpa_scale_to_zero = on;
      else if (kv[0] == "HPAConfigurableTolerance")
        options.gates.hpa_configurable_tolerance = on;
      else
        return fail("--feature-gates: unknown gate \"" + std::string(kv[0]) + "\"");
    }
  }
  auto hpas = kube::load_hpa_manifests(*text, options);
  if (!hpas) return fail(hpas.error().message);
  for (const auto& hpa : *hpas) {
    std::cout << "horizontalpodautoscaler.autoscaling/" << hpa.metadata.name << " valid\n";
  }
  return 0;
}

}  // namespace

void add_hpa_command(CLI::App& app, int& exit_code) {
  auto* hpa = app.add_subcommand(
      "hpa", "HorizontalPodAutoscaler decisions, exactly as Kubernetes makes them");
  hpa->require_subcommand(1);

  auto* reconcile = hpa->add_subcommand(
      "reconcile",
      "Run one HPA controller pass on a JSON/YAML state document; print the decision as JSON");
  static std::string reconcile_input;
  static bool compact = false;
  reconcile->add_option("--input,-i", reconcile_input, "state document (FILE, or - for stdin)")
      ->required();
  reconcile->add_flag("--compact", compact, "one-line JSON");
  reconcile->callback([&] { exit_code = run_reconcile(reconcile_input, compact); });

  auto* describe = hpa->add_subcommand(
      "describe", "The same decision as `kubectl describe hpa` shows it, and why");
  static std::string describe_input;
  describe->add_option("--input,-i", describe_input, "state document (FILE, or - for stdin)")
      ->required();
  describe->callback([&] { exit_code = run_describe(describe_input); });

  auto* validate = hpa->add_subcommand(
      "validate", "Check HPA manifests the way the API server does (decode, default, validate)");
  static std::string validate_input;
  static std::string gates;
  static bool lenient = false;
  validate->add_option("file", validate_input, "manifest (FILE, or - for stdin)")->required();
  validate->add_option("--feature-gates", gates,
                       "v1.37 defaults: HPAScaleToZero=true,HPAConfigurableTolerance=true; e.g. "
                       "HPAScaleToZero=false");
  validate->add_flag("--lenient", lenient, "ignore unknown fields instead of rejecting them");
  validate->callback([&] { exit_code = run_validate(validate_input, gates, lenient); });
}

}  // namespace llmscale::cli
