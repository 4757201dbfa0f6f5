// Sample values as text: parsing the way Prometheus' scraper does and printing the way Go and
// Python Prometheus clients do.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace llmscale::prom {

// Prometheus textparse: strconv.ParseFloat without hex floats or '_' ("1", "-1.5e3", "NaN",
// "+Inf", "-inf", "Infinity"); nullopt for anything else, including out-of-range values.
std::optional<double> parse_prom_float(std::string_view text);

// Go strconv.FormatFloat(v, 'g', -1, 64), what client_golang and expfmt print: "1", "0.25",
// "1e+06", "1.5e-07", "+Inf", "-Inf", "NaN".
std::string format_go_float(double value);
void append_go_float(std::string& out, double value);

// Go strconv.FormatFloat(v, 'f', -1, 64), the form the Prometheus HTTP API uses for values:
// "1", "0.25", "1000000", "0.00000015", "+Inf", "-Inf", "NaN".
std::string format_go_float_fixed(double value);

// Python prometheus_client floatToGoString (vLLM, SGLang, JetStream): "1.0", "0.25",
// "8.128902e+06", "1e-05", "+Inf", "NaN".
void append_python_float(std::string& out, double value);

}  // namespace llmscale::prom
