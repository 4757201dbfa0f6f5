// Atomic replacement of small state files (HPA history, fleet sizes): the bytes go to a temporary
// file in the same directory, which is fsynced, renamed over the target, and the directory is
// fsynced. A failure at any step (a full disk, a missing directory) leaves the old file as it was
// and removes the temporary file, so a reader sees either the old or the new content, never a
// truncated one. This is the write-temp-fsync-rename protocol of LevelDB's SetCurrentFile and of
// Go's renameio.
//
// StateFile wraps one such file with its write health for status and metrics, and logs a failure
// once per distinct reason (and the recovery once), not at every retry.
//
// The system calls are reachable through FileSystemCalls so tests can inject ENOSPC or EIO
// without a full disk. Thread-safety: write_file_atomically is safe from any thread (for distinct
// paths); a StateFile is used from one thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace llmscale::core {

// The calls write_file_atomically makes that can fail for reasons of the disk. Defaults: the
// real ones (::write, ::fsync, ::rename).
struct FileSystemCalls {
  std::function<ssize_t(int fd, const void* data, std::size_t size)> write;
  std::function<int(int fd)> fsync;
  std::function<int(const char* from, const char* to)> rename;
};

// Replaces `path` with `bytes` atomically (see above). Errors name the step and the file:
// "write /d/replicas.json.tmp-Ab12Cd: No space left on device" (kResourceExhausted for ENOSPC
// and EDQUOT, kFailedPrecondition otherwise). On error the previous content of `path` is intact.
Status write_file_atomically(const std::string& path, std::string_view bytes);
Status write_file_atomically(const std::string& path, std::string_view bytes,
                             const FileSystemCalls& calls);

// One state file and how its writes went.
class StateFile {
 public:
  // `what` names the file in log lines ("fleet sizes", "controller state").
  StateFile(std::string path, std::string what);

  // Writes `bytes` atomically. Logs at warn on the first failure and whenever the reason
  // changes, at info when writes work again; repeated identical failures are only counted.
  Status write(std::string_view bytes);

  const std::string& path() const { return path_; }
  const std::string& what() const { return what_; }
  // True from a failed write until the next successful one.
  bool failing() const { return failing_; }
  // The message of the latest failure (kept after a recovery; empty if none ever).
  const std::string& last_error() const { return last_error_; }
  std::uint64_t writes() const { return writes_; }
  std::uint64_t failures() const { return failures_; }
  // How many warnings write() logged (one per distinct failure reason in a row).
  std::uint64_t warnings_logged() const { return warnings_logged_; }

  // Tests: the system calls to use instead of the real ones.
  void set_calls(FileSystemCalls calls) { calls_ = std::move(calls); }

 private:
  std::string path_;
  std::string what_;
  FileSystemCalls calls_;
  bool failing_ = false;
  std::string last_error_;
  std::uint64_t writes_ = 0;
  std::uint64_t failures_ = 0;
  std::uint64_t warnings_logged_ = 0;
};

}  // namespace llmscale::core
