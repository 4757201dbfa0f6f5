// `llmscale hpa ...` (placeholder until the engine lands)
#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace llmscale::cli {
void add_hpa_command(CLI::App& app, int& exit_code) {
  auto* hpa = app.add_subcommand("hpa", "HorizontalPodAutoscaler decisions");
  hpa->require_subcommand(1);
  (void)exit_code;
}
}  // namespace llmscale::cli
