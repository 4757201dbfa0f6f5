// Registration of llmscale's subcommands on the CLI11 application (cli module only).
//
// Each add_*_command declares its options and a callback; the callback stores its exit code in
// `exit_code`. Exit codes: 0 success, 1 runtime failure, 2 invalid input or usage.
#pragma once

namespace CLI {  // NOLINT(readability-identifier-naming): CLI11's namespace
class App;
}

namespace llmscale::cli {

void add_hpa_command(CLI::App& app, int& exit_code);
void add_adapter_command(CLI::App& app, int& exit_code);
void add_route_command(CLI::App& app, int& exit_code);
void add_load_command(CLI::App& app, int& exit_code);
void add_serve_sim_command(CLI::App& app, int& exit_code);
void add_collect_command(CLI::App& app, int& exit_code);
void add_up_command(CLI::App& app, int& exit_code);
void add_get_command(CLI::App& app, int& exit_code);
void add_controller_command(CLI::App& app, int& exit_code);
void add_simulate_command(CLI::App& app, int& exit_code);
void add_recommend_command(CLI::App& app, int& exit_code);
void add_convert_command(CLI::App& app, int& exit_code);

}  // namespace llmscale::cli
