// Out-of-line parts of the connection plumbing: the Watchdog's timer handling and buffer
// growth, compiled once instead of in every Asio translation unit.
#include "net/detail/transport.h"

namespace llmscale::net::detail {

Watchdog::Watchdog(const asio::any_io_executor& executor, Callback on_expire)
    : state_(std::make_shared<State>(executor, std::move(on_expire))) {}

Watchdog::~Watchdog() {
  state_->stopped = true;
  state_->on_expire = nullptr;
  state_->timer.cancel();
}

void Watchdog::start_wait(const std::shared_ptr<State>& state) {
  State& s = *state;
  s.waiting = true;
  s.wait_until = s.deadline;
  std::uint64_t generation = ++s.generation;
  s.timer.expires_at(s.deadline);
  s.timer.async_wait([state, generation](const error_code&) {
    State& st = *state;
    if (generation != st.generation) return;  // superseded by an earlier deadline
    st.waiting = false;
    if (st.stopped || st.deadline == SteadyTime::max()) return;
    if (SteadyClock::now() >= st.deadline) {
      st.expired = st.phase;
      st.deadline = SteadyTime::max();
      if (st.on_expire) st.on_expire(st.expired);
    } else {
      start_wait(state);  // the deadline moved later while we waited
    }
  });
}

void ByteBuffer::make_room(std::size_t n) {
  std::size_t live = end_ - begin_;
  if (capacity_ - live >= n && begin_ > 0) {
    std::memmove(data_.get(), data_.get() + begin_, live);
  } else {
    std::size_t capacity = std::max(capacity_ * 2, live + n);
    auto grown = std::make_unique_for_overwrite<char[]>(capacity);
    if (live > 0) std::memcpy(grown.get(), data_.get() + begin_, live);
    data_ = std::move(grown);
    capacity_ = capacity;
  }
  begin_ = 0;
  end_ = live;
}

}  // namespace llmscale::net::detail
