// Errors as values: every fallible call across a module boundary returns Result<T>.
//
// Error carries a code (what kind of failure, so callers can map it to an HTTP status or an
// exit code) and a human message that already names the culprit (a field path, a line, a URL).
// No exceptions cross module boundaries; invariants are asserted, everything caused by input,
// configuration or a peer comes back as an Error.
#pragma once

#include <string>
#include <utility>

#include <tl/expected.hpp>

namespace llmscale::core {

enum class ErrorCode {
  kInvalidArgument,  // malformed input: a manifest, a query, a flag
  kNotFound,         // a named thing does not exist
  kAlreadyExists,
  kFailedPrecondition,
  kOutOfRange,
  kResourceExhausted,  // a limit was hit: body size, sample limit, queue full
  kUnavailable,        // a peer could not be reached or answered with an error
  kDeadlineExceeded,
  kCancelled,
  kUnauthenticated,
  kPermissionDenied,
  kUnimplemented,
  kInternal,
};

// Short lower-case name of a code, e.g. "invalid argument".
const char* error_code_name(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  // "<code name>: <message>"
  std::string to_string() const;
};

template <class T>
using Result = tl::expected<T, Error>;

// Result<void> is spelled Status where nothing is returned on success.
using Status = Result<void>;

inline tl::unexpected<Error> make_error(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message)});
}

inline tl::unexpected<Error> invalid_argument(std::string message) {
  return make_error(ErrorCode::kInvalidArgument, std::move(message));
}

// Prefixes the message of an error with context ("spec.metrics[0]: ...") and passes it on.
inline tl::unexpected<Error> with_context(const Error& error, const std::string& context) {
  return make_error(error.code, context + ": " + error.message);
}

}  // namespace llmscale::core
