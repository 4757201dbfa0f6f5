// Notifier: a notification before the wait is kept, one after it resumes the waiter on its
// executor (not inside notify()), and repeated notifications collapse into one wake-up.
#include "net/notifier.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace llmscale::net {
namespace {

using namespace std::chrono_literals;

Awaitable<void> wait_twice(Notifier& notifier, int& woken) {
  co_await notifier.wait();
  ++woken;
  co_await notifier.wait();
  ++woken;
}

TEST(NotifierTest, NotifyBeforeWaitIsRemembered) {
  EventLoop loop;
  Notifier notifier;
  notifier.notify();
  notifier.notify();  // collapses with the first
  int woken = 0;
  spawn(loop, wait_twice(notifier, woken));
  ASSERT_TRUE(loop.run_until([&] { return woken == 1 && notifier.waiting(); }, 5s));
  notifier.notify();
  EXPECT_EQ(woken, 1);  // resumed later, on the loop, not inside notify()
  ASSERT_TRUE(loop.run_until([&] { return woken == 2; }, 5s));
  EXPECT_FALSE(notifier.waiting());
}

TEST(NotifierTest, NotifyFromAnotherThread) {
  EventLoop loop;
  Notifier notifier;
  int woken = 0;
  spawn(loop, wait_twice(notifier, woken));
  ASSERT_TRUE(loop.run_until([&] { return notifier.waiting(); }, 5s));
  std::thread([&] { notifier.notify(); }).join();
  ASSERT_TRUE(loop.run_until([&] { return woken == 1 && notifier.waiting(); }, 5s));
  std::thread([&] { notifier.notify(); }).join();
  EXPECT_TRUE(loop.run_until([&] { return woken == 2; }, 5s));
}

}  // namespace
}  // namespace llmscale::net
