// Notifier: the waiting coroutine's completion handler is parked until notify() posts it.
#include "net/notifier.h"

#include <memory>

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace llmscale::net {

namespace asio = boost::asio;

Awaitable<void> Notifier::wait() {
  {
    std::lock_guard lock(mu_);
    if (notified_) {
      notified_ = false;
      co_return;
    }
  }
  co_await asio::async_initiate<const asio::use_awaitable_t<>&, void()>(
      [this](auto handler) {
        // std::function needs a copyable callable; the handler is move-only.
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        std::function<void()> resume = [shared]() mutable { asio::post(std::move(*shared)); };
        std::unique_lock lock(mu_);
        if (notified_) {
          // notify() ran between the check above and this suspension.
          notified_ = false;
          lock.unlock();
          resume();
          return;
        }
        resume_ = std::move(resume);
      },
      asio::use_awaitable);
}

void Notifier::notify() {
  std::function<void()> resume;
  {
    std::lock_guard lock(mu_);
    if (!resume_) {
      notified_ = true;
      return;
    }
    resume = std::move(resume_);
    resume_ = nullptr;
  }
  resume();
}

bool Notifier::waiting() const {
  std::lock_guard lock(mu_);
  return static_cast<bool>(resume_);
}

}  // namespace llmscale::net
