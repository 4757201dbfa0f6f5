// Bounded whole-file reads (file.h).
#include "core/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

namespace llmscale::core {
namespace {

Error os_error(const std::string& op, const std::string& path, int err) {
  ErrorCode code = err == ENOENT || err == ENOTDIR ? ErrorCode::kNotFound
                   : err == EACCES || err == EPERM ? ErrorCode::kPermissionDenied
                                                   : ErrorCode::kInternal;
  std::string reason = std::strerror(err);  // Go's syscall errors are lower case
  if (!reason.empty())
    reason[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(reason[0])));
  return Error{code, op + " " + path + ": " + reason};
}

}  // namespace

Result<std::string> read_file(const std::string& path, std::size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return tl::unexpected(os_error("open", path, errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    return make_error(ErrorCode::kInvalidArgument, "read " + path + ": is a directory");
  }
  std::string out;
  if (st.st_size > 0) out.reserve(std::min<std::size_t>(std::size_t(st.st_size), max_bytes + 1));
  char buf[64 * 1024];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return tl::unexpected(os_error("read", path, errno));
    }
    if (n == 0) break;
    if (out.size() + std::size_t(n) > max_bytes) {
      return make_error(ErrorCode::kResourceExhausted,
                        path + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
    out.append(buf, std::size_t(n));
  }
  return out;
}

}  // namespace llmscale::core
