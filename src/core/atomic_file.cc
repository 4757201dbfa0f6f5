// write_file_atomically (temp file, fsync, rename, fsync the directory) and StateFile.
#include "core/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "core/log.h"

namespace llmscale::core {
namespace {

std::string directory_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// "<path>: <step>: <strerror>", with a code callers can act on (a full disk is a limit).
tl::unexpected<Error> step_error(const std::string& path, const char* step, int error) {
  ErrorCode code = (error == ENOSPC || error == EDQUOT) ? ErrorCode::kResourceExhausted
                                                        : ErrorCode::kFailedPrecondition;
  return make_error(code, path + ": " + step + ": " + ::strerror(error));
}

}  // namespace

Status write_file_atomically(const std::string& path, std::string_view bytes) {
  return write_file_atomically(path, bytes, FileSystemCalls{});
}

Status write_file_atomically(const std::string& path, std::string_view bytes,
                             const FileSystemCalls& calls) {
  auto do_write = [&](int fd, const void* data, std::size_t size) {
    return calls.write ? calls.write(fd, data, size) : ::write(fd, data, size);
  };
  auto do_fsync = [&](int fd) { return calls.fsync ? calls.fsync(fd) : ::fsync(fd); };
  auto do_rename = [&](const char* from, const char* to) {
    return calls.rename ? calls.rename(from, to) : ::rename(from, to);
  };

  // In the target's directory, so the rename stays on one filesystem and is atomic.
  std::string tmp = path + ".tmp-XXXXXX";
  std::vector<char> name(tmp.begin(), tmp.end());
  name.push_back('\0');
  int fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) return step_error(path, "create temporary file", errno);
  tmp.assign(name.data());
  auto fail = [&](const char* step, int error, bool close_fd) {
    if (close_fd) ::close(fd);
    ::unlink(tmp.c_str());
    return step_error(path, step, error);
  };
  // mkostemp creates 0600; state files are as readable as any other file we write.
  if (::fchmod(fd, 0644) != 0) return fail("chmod temporary file", errno, true);
  const char* data = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = do_write(fd, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("write", errno, true);
    if (n == 0) return fail("write", EIO, true);
    data += n;
    left -= static_cast<std::size_t>(n);
  }
  // Delayed allocation reports a full disk at fsync or close, not at write.
  if (do_fsync(fd) != 0) return fail("fsync", errno, true);
  if (::close(fd) != 0) return fail("close", errno, false);
  if (do_rename(tmp.c_str(), path.c_str()) != 0) return fail("rename", errno, false);
  // The rename itself is durable once the directory is.
  std::string dir = directory_of(path);
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return step_error(dir, "open directory", errno);
  int synced = do_fsync(dir_fd);
  int sync_errno = errno;
  ::close(dir_fd);
  if (synced != 0) return step_error(dir, "fsync directory", sync_errno);
  return {};
}

StateFile::StateFile(std::string path, std::string what)
    : path_(std::move(path)), what_(std::move(what)) {}

Status StateFile::write(std::string_view bytes) {
  auto written = write_file_atomically(path_, bytes, calls_);
  if (written) {
    ++writes_;
    if (failing_) log_info("writing the " + what_ + " works again (" + path_ + ")");
    failing_ = false;
    return written;
  }
  ++failures_;
  // Envoy's error policy: a degraded condition is logged once, then counted.
  if (!failing_ || written.error().message != last_error_) {
    ++warnings_logged_;
    log_warn("cannot save the " + what_ +
             ", keeping the previous file: " + written.error().message);
  }
  failing_ = true;
  last_error_ = written.error().message;
  return written;
}

}  // namespace llmscale::core
