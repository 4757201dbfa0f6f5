// Reading a response body: chunked/length/close-delimited framing, gzip, the idle and total
// deadlines, handing the connection back to the pool when the body is complete.
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>

#include "net/detail/client_internal.h"

namespace llmscale::net::detail {

Awaitable<core::Result<BodyChunk>> Exchange::read_chunk() {
  while (true) {
    if (failure) co_return tl::unexpected(*failure);
    if (cancelled) {
      fail(error("cancelled", core::ErrorCode::kCancelled, ""));
      continue;
    }
    if (!pending.empty()) {
      BodyChunk chunk{std::move(pending), pending_at};
      pending.clear();
      co_return chunk;
    }
    if (done) co_return BodyChunk{{}, SteadyClock::now()};

    auto& conn = *connection;
    if (!conn.buffer.empty()) {
      std::size_t consumed = 0;
      ParseState state = conn.parser.put(conn.buffer.data(), consumed);
      conn.buffer.consume(consumed);
      if (state == ParseState::kError) {
        if (conn.parser.error() == ParseError::kBodyTooLarge) {
          fail(error("response too large", core::ErrorCode::kResourceExhausted,
                     "body exceeds " + std::to_string(max_body) + " bytes"));
        } else {
          fail(error("malformed response", core::ErrorCode::kUnavailable,
                     conn.parser.error_message()));
        }
        continue;
      }
      if (auto s = take_body(last_read_at); !s) {
        fail(s.error());
        continue;
      }
      if (state == ParseState::kDone) {
        if (gzip) {
          if (auto s = gzip->finish(); !s) {
            fail(error("malformed response", core::ErrorCode::kUnavailable, s.error().message));
            continue;
          }
        }
        finish_body();
        continue;
      }
      if (!pending.empty()) continue;
    }

    arm(kIdle, idle_timeout);
    auto [ec, n] =
        co_await conn.transport.async_read_some(conn.buffer.prepare(kClientReadChunk), kNoThrow);
    last_read_at = SteadyClock::now();
    conn.buffer.commit(n);
    if (ec) {
      if ((ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) &&
          conn.parser.need_eof() && !cancelled && watchdog.expired() == 0) {
        // The body was delimited by the close (no length, not chunked).
        conn.parser.put_eof();
        finish_body();
        continue;
      }
      fail(io_error(ec));
      continue;
    }
  }
}

}  // namespace llmscale::net::detail
