// Kubernetes name rules (apimachinery/pkg/util/validation and api/validation/path), returning
// upstream's messages; an empty list means the value is valid.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace llmscale::kube {

// Label keys, annotation keys: [prefix/]name with a DNS-subdomain prefix.
std::vector<std::string> is_qualified_name(std::string_view value);
std::vector<std::string> is_valid_label_value(std::string_view value);
std::vector<std::string> is_dns1123_subdomain(std::string_view value);
std::vector<std::string> is_dns1123_label(std::string_view value);
// Names that become a URL path segment: not "." or "..", no "/" or "%".
std::vector<std::string> is_valid_path_segment_name(std::string_view value);

}  // namespace llmscale::kube
