// gzip content coding (RFC 9110 §8.4.1.3) on zlib: whole-buffer helpers and an incremental
// decoder with an output limit, so a small compressed body cannot expand without bound.
//
// Pure code; a GzipDecoder is a single-threaded value.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace llmscale::net {

// Compresses `data` as one gzip member (level 1..9, default zlib's 6).
std::string gzip_compress(std::string_view data, int level = 6);

// Decompresses gzip (or zlib-wrapped deflate) data. Output beyond `max_output` bytes is an
// error with code kResourceExhausted; corrupt or truncated input is kInvalidArgument.
core::Result<std::string> gzip_decompress(std::string_view data, std::size_t max_output);

class GzipDecoder {
 public:
  explicit GzipDecoder(std::size_t max_output);
  ~GzipDecoder();
  GzipDecoder(GzipDecoder&&) noexcept;
  GzipDecoder& operator=(GzipDecoder&&) noexcept;

  // Decodes `input`, appending to `out`. Errors as gzip_decompress.
  core::Status feed(std::string_view input, std::string& out);
  // OK when the compressed stream ended cleanly; kInvalidArgument if it was truncated.
  core::Status finish() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace llmscale::net
