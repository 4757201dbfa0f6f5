// An in-memory ResponseWriter for unit-testing handlers without sockets (a fake, not a mock).
//
//   net::ServerRequest request;
//   request.method = "GET";
//   ASSERT_TRUE(request.set_target("/v1/models"));
//   net::RecordingResponseWriter writer;
//   loop.block_on(my_handler(request, writer), 1s);
//   EXPECT_EQ(writer.status(), 200);
//
// It records the status, headers, every streamed chunk and whether the response ended or was
// aborted. disconnect() simulates the client leaving: callbacks run and later writes fail.
// Single-threaded.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "net/server.h"

namespace llmscale::net {

class RecordingResponseWriter final : public ResponseWriter {
 public:
  Awaitable<core::Status> send(Response response) override;
  Awaitable<core::Status> begin_stream(int status, Headers headers) override;
  Awaitable<core::Status> write(std::string_view data) override;
  Awaitable<core::Status> end() override;
  void abort() override;
  bool head_sent() const override { return head_sent_; }
  bool client_connected() override { return connected_; }
  void on_disconnect(std::function<void()> callback) override;

  // Simulates the client going away.
  void disconnect();

  int status() const { return status_; }
  const Headers& headers() const { return headers_; }
  // The whole body: send()'s body, or every streamed chunk concatenated.
  const std::string& body() const { return body_; }
  // send()'s Response::shared_body (null for an owned body): tests check it is the very
  // buffer a cache holds, not a copy.
  const std::shared_ptr<const std::string>& shared_body() const { return shared_body_; }
  const std::vector<std::string>& chunks() const { return chunks_; }
  bool streamed() const { return streamed_; }
  bool ended() const { return ended_; }
  // abort() was called before the response was complete.
  bool aborted() const { return aborted_; }

 private:
  int status_ = 0;
  Headers headers_;
  std::string body_;
  std::shared_ptr<const std::string> shared_body_;
  std::vector<std::string> chunks_;
  bool head_sent_ = false;
  bool streamed_ = false;
  bool ended_ = false;
  bool aborted_ = false;
  bool connected_ = true;
  std::vector<std::function<void()>> disconnect_callbacks_;
};

}  // namespace llmscale::net
