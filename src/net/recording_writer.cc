// RecordingResponseWriter: records what a handler sends.
#include "net/recording_writer.h"

namespace llmscale::net {

namespace {

core::Status gone() {
  return core::make_error(core::ErrorCode::kCancelled, "client disconnected");
}
core::Status started() {
  return core::make_error(core::ErrorCode::kFailedPrecondition, "response already started");
}

}  // namespace

Awaitable<core::Status> RecordingResponseWriter::send(Response response) {
  if (head_sent_) co_return started();
  if (!connected_) co_return gone();
  head_sent_ = true;
  ended_ = true;
  status_ = response.status;
  headers_ = std::move(response.headers);
  if (response.shared_body) {
    body_ = *response.shared_body;
  } else {
    body_ = std::move(response.body);
  }
  shared_body_ = std::move(response.shared_body);
  co_return core::Status{};
}

Awaitable<core::Status> RecordingResponseWriter::begin_stream(int status, Headers headers) {
  if (head_sent_) co_return started();
  if (!connected_) co_return gone();
  head_sent_ = true;
  streamed_ = true;
  status_ = status;
  headers_ = std::move(headers);
  co_return core::Status{};
}

Awaitable<core::Status> RecordingResponseWriter::write(std::string_view data) {
  if (!streamed_ || ended_) {
    co_return core::make_error(core::ErrorCode::kFailedPrecondition, "no stream started");
  }
  if (!connected_) co_return gone();
  if (data.empty()) co_return core::Status{};
  chunks_.emplace_back(data);
  body_.append(data);
  co_return core::Status{};
}

Awaitable<core::Status> RecordingResponseWriter::end() {
  if (!streamed_) {
    co_return core::make_error(core::ErrorCode::kFailedPrecondition, "no stream started");
  }
  if (!connected_) co_return gone();
  ended_ = true;
  co_return core::Status{};
}

void RecordingResponseWriter::abort() {
  if (ended_ || aborted_) return;
  aborted_ = true;
  connected_ = false;  // later operations fail; the handler's own abort runs no callbacks
  disconnect_callbacks_.clear();
}

void RecordingResponseWriter::on_disconnect(std::function<void()> callback) {
  if (!connected_) {
    callback();
    return;
  }
  disconnect_callbacks_.push_back(std::move(callback));
}

void RecordingResponseWriter::disconnect() {
  if (!connected_) return;
  connected_ = false;
  auto callbacks = std::move(disconnect_callbacks_);
  disconnect_callbacks_.clear();
  for (auto& callback : callbacks) callback();
}

}  // namespace llmscale::net
