// Fleet sizes (each fleet's spec.replicas) kept across restarts of `llmscale up`, as a
// Deployment's spec.replicas survives in the API server: <state-dir>/replicas.json, a JSON object
// {"<namespace>/<name>": replicas}. Saved after HPA passes that changed a size, through
// core::StateFile (temp file, fsync, rename): a full disk keeps the previous file, logs once,
// and failing()/last_error() say so for the control API's /status and /metrics.
//
// Not thread-safe (the event loop's thread).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/atomic_file.h"
#include "core/result.h"

namespace llmscale::up {

// "<namespace>/<name>" -> spec.replicas.
using FleetSizes = std::map<std::string, std::int32_t>;

class FleetSizesFile {
 public:
  explicit FleetSizesFile(std::string path);

  // The sizes saved by the previous run: empty when there is no file; an error naming the file
  // when it cannot be parsed (the caller then uses the configured sizes).
  core::Result<FleetSizes> load() const;
  // Writes `sizes` unless they are what was last written successfully; a failed write is
  // retried at the next call.
  core::Status save(const FleetSizes& sizes);

  const core::StateFile& file() const { return file_; }
  core::StateFile& file() { return file_; }

 private:
  core::StateFile file_;
  std::string saved_;  // the text last written successfully
};

}  // namespace llmscale::up
