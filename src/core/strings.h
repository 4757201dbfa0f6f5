// Small string helpers shared by every module.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmscale::core {

// Splits on every occurrence of `separator`; "a,,b" gives {"a", "", "b"}; "" gives {""}.
std::vector<std::string_view> split(std::string_view text, char separator);

std::string_view trim(std::string_view text);

std::string join(const std::vector<std::string>& parts, std::string_view separator);

// Standard base64 (RFC 4648, with padding; whitespace ignored, as Go's decoder does for
// kubeconfig "-data" fields). nullopt for invalid input.
std::optional<std::string> base64_decode(std::string_view text);
std::string base64_encode(std::string_view data);

// ASCII lower-casing (Go's strings.ToLower on ASCII text).
std::string to_lower(std::string_view text);

// Offset of the first byte that does not start a valid UTF-8 sequence, or npos.
std::size_t find_invalid_utf8(std::string_view text);

// Double-quoted with Go's strconv.Quote escaping of \, ", control characters and invalid UTF-8.
std::string go_quote(std::string_view text);

}  // namespace llmscale::core
