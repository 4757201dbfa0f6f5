// Reading whole files: the one helper every module uses for manifests, configs, traces,
// kubeconfigs, certificates and state files. Bounded, so a mistaken or hostile path (/dev/zero,
// a multi-gigabyte log) cannot fill memory, and its errors name the path the way Go's os.ReadFile
// does ("open /x: no such file or directory").
#pragma once

#include <cstddef>
#include <string>

#include "core/result.h"

namespace llmscale::core {

inline constexpr std::size_t kDefaultMaxFileBytes = std::size_t{256} << 20;  // 256 MiB

// The bytes of `path`. Errors: kNotFound when it does not exist, kPermissionDenied when it may
// not be read, kResourceExhausted when it is larger than `max_bytes` ("PATH is larger than N
// bytes"), kInvalidArgument for a directory, kInternal for other read errors.
Result<std::string> read_file(const std::string& path,
                              std::size_t max_bytes = kDefaultMaxFileBytes);

}  // namespace llmscale::core
