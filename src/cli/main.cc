// llmscale: the one binary. Parses the command line and dispatches to a subcommand.
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "core/log.h"

int main(int argc, char** argv) {
  CLI::App app{"llmscale: an autoscaler for LLM inference fleets", "llmscale"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "llmscale 0.1.0 (Kubernetes v1.37 HPA semantics)");
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "debug, info, warn, error or off")
      ->check([](const std::string& text) {
        llmscale::core::LogLevel level;
        return llmscale::core::parse_log_level(text, level) ? std::string() : "unknown level";
      });
  app.parse_complete_callback([&] {
    llmscale::core::LogLevel level;
    llmscale::core::parse_log_level(log_level, level);
    llmscale::core::set_log_level(level);
  });

  int exit_code = 0;
  llmscale::cli::add_hpa_command(app, exit_code);
  llmscale::cli::add_adapter_command(app, exit_code);
  llmscale::cli::add_route_command(app, exit_code);
  llmscale::cli::add_load_command(app, exit_code);
  llmscale::cli::add_serve_sim_command(app, exit_code);
  llmscale::cli::add_collect_command(app, exit_code);
  llmscale::cli::add_up_command(app, exit_code);
  llmscale::cli::add_get_command(app, exit_code);
  llmscale::cli::add_controller_command(app, exit_code);
  llmscale::cli::add_simulate_command(app, exit_code);
  llmscale::cli::add_recommend_command(app, exit_code);
  llmscale::cli::add_convert_command(app, exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    // Usage errors exit 2 like the other input errors; --help and --version exit 0.
    return code == 0 ? 0 : 2;
  }
  return exit_code;
}
