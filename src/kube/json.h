// The JSON value type of llmscale's Kubernetes layer, and manifest text -> JSON documents.
//
// Manifests are read the way kubectl reads them: YAML is converted to JSON first (YAML 1.1
// scalar resolution as in go-yaml v2, so `on`, `yes`, `0x1F`, `1_000` mean what they mean to
// kubectl), then decoded as JSON. Keys keep their order (ordered_json) so what we write back
// follows Go's struct field order.
//
// Include nlohmann/json.hpp only in .cc files; this header uses the forward declaration.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/result.h"

namespace llmscale::kube {

using Json = nlohmann::ordered_json;

// Parses JSON text, or YAML text with one or more `---`-separated documents. Empty YAML
// documents are skipped. Errors name the line ("yaml: line 3, column 7: ...").
core::Result<std::vector<Json>> parse_documents(std::string_view text);

// Exactly one document.
core::Result<Json> parse_document(std::string_view text);

// Serializes with two-space indentation (what `kubectl get -o json` looks like).
std::string to_pretty_json(const Json& value);

// Go's encoding/json rendering of a float64 ("0.5", "1000", "1e+21").
std::string go_format_float(double value);

}  // namespace llmscale::kube
