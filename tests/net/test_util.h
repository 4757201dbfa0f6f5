// Helpers for net tests: assertions usable inside coroutines, and a loop runner with a deadline.
//
// gtest's ASSERT_* macros `return`, which a coroutine cannot; CO_ASSERT_* `co_return` instead.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "core/clock.h"
#include "net/event_loop.h"
#include "net/tcp.h"

#define CO_ASSERT_TRUE(condition)                      \
  do {                                                 \
    bool co_assert_ok_ = static_cast<bool>(condition); \
    EXPECT_TRUE(co_assert_ok_) << #condition;          \
    if (!co_assert_ok_) co_return;                     \
  } while (0)

// For Result<T>/Status: fails with the error text.
#define CO_ASSERT_OK(result)                                         \
  do {                                                               \
    const auto& co_assert_result_ = (result);                        \
    EXPECT_TRUE(co_assert_result_.has_value())                       \
        << #result << ": " << co_assert_result_.error().to_string(); \
    if (!co_assert_result_.has_value()) co_return;                   \
  } while (0)

#define ASSERT_OK(result)                                         \
  do {                                                            \
    const auto& assert_result_ = (result);                        \
    ASSERT_TRUE(assert_result_.has_value())                       \
        << #result << ": " << assert_result_.error().to_string(); \
  } while (0)

namespace llmscale::net::testing {

using namespace std::chrono_literals;

// Runs `task` to completion on `loop`, failing the test if it takes longer than `timeout`.
inline void run(EventLoop& loop, Awaitable<void> task,
                core::Duration timeout = std::chrono::seconds(20)) {
  auto status = loop.block_on(std::move(task), timeout);
  EXPECT_TRUE(status.has_value()) << status.error().to_string();
}

// Waits until `clock` reads `time` (at once if it already does). Handlers gated this way cannot
// miss an advance() that happened before they started waiting.
inline Awaitable<void> wait_until(core::Clock& clock, core::Time time) {
  if (clock.now() < time) co_await sleep_for(clock, time - clock.now());
}

// Sends `bytes` to 127.0.0.1:`port` on a new connection (then half-closes when `half_close`)
// and returns everything the server sends until it closes.
inline std::string raw_exchange(EventLoop& loop, std::uint16_t port, std::string bytes,
                                bool half_close) {
  std::string answer;
  run(loop, [&]() -> Awaitable<void> {
    auto raw = co_await TcpStream::connect("127.0.0.1", port, std::chrono::seconds(5));
    CO_ASSERT_OK(raw);
    CO_ASSERT_OK(co_await raw->write(bytes));
    if (half_close) raw->shutdown_write();
    auto all = co_await raw->read_until_eof(std::chrono::seconds(10));
    CO_ASSERT_OK(all);
    answer = std::move(*all);
  }());
  return answer;
}

inline double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace llmscale::net::testing
