// Shared response bodies (net::SharedBody, Response::shared_body): the same bytes on the wire as
// an owned body (GET, HEAD, HTTP/1.0, pipelined after a chunked stream on one keep-alive
// connection), a body whose only owner is the response in flight, the gzip form made once and
// decoding to the plain bytes, and Kubernetes' rule for when to send it.
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "net/client.h"
#include "net/gzip.h"
#include "net/http.h"
#include "net/server.h"
#include "net/tcp.h"
#include "test_util.h"

namespace llmscale::net {
namespace {

using namespace std::chrono_literals;
using testing::run;

// JSON-ish text of about `bytes` bytes that compresses well, like a MetricValueList.
std::string answer_text(std::size_t bytes) {
  std::string text = R"({"kind":"MetricValueList","items":[)";
  for (int i = 0; text.size() < bytes; ++i) {
    text += R"({"describedObject":{"kind":"Pod","name":"vllm-)" + std::to_string(i) +
            R"("},"value":")" + std::to_string(i % 17) + R"("},)";
  }
  text += "]}\n";
  return text;
}

TEST(SharedBodyTest, TheGzipFormIsMadeOnceAndDecodesToThePlainBytes) {
  auto body = std::make_shared<const SharedBody>(answer_text(200'000));
  auto first = body->gzipped();
  EXPECT_EQ(body->gzipped().get(), first.get());  // the same buffer, not a new compression
  EXPECT_LT(first->size(), body->bytes().size() / 4);
  EXPECT_EQ(*gzip_decompress(*first, 1 << 20), body->bytes());
  EXPECT_EQ(body->plain().get(), &body->bytes());

  // Many threads asking at once all get the one form.
  auto fresh = std::make_shared<const SharedBody>(answer_text(50'000));
  std::vector<const std::string*> seen(8);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < seen.size(); ++i) {
    threads.emplace_back([&, i] { seen[i] = fresh->gzipped().get(); });
  }
  for (auto& t : threads) t.join();
  for (const auto* p : seen) EXPECT_EQ(p, seen[0]);
}

TEST(SharedBodyTest, ItsFormsKeepItAlive) {
  auto body = std::make_shared<const SharedBody>("payload");
  auto plain = body->plain();
  auto gzipped = body->gzipped();
  body.reset();
  EXPECT_EQ(*plain, "payload");
  EXPECT_EQ(*gzip_decompress(*gzipped, 100), "payload");
}

TEST(SharedBodyTest, AcceptEncodingIsReadAsKubernetesReadsIt) {
  auto accepts = [](std::initializer_list<Headers::Field> fields) {
    return accepts_gzip(Headers(fields));
  };
  EXPECT_TRUE(accepts({{"Accept-Encoding", "gzip"}}));  // Go's Transport sends exactly this
  EXPECT_TRUE(accepts({{"accept-encoding", "deflate,  gzip , br"}}));
  EXPECT_FALSE(accepts({}));
  EXPECT_FALSE(accepts({{"Accept-Encoding", "br"}}));
  EXPECT_FALSE(accepts({{"Accept-Encoding", "x-gzip"}}));
  // An element with parameters, or in capitals, is not "gzip" to Kubernetes either.
  EXPECT_FALSE(accepts({{"Accept-Encoding", "gzip;q=0.5"}}));
  EXPECT_FALSE(accepts({{"Accept-Encoding", "GZIP"}}));
  // Only the first field counts (http.Header.Get).
  EXPECT_FALSE(accepts({{"Accept-Encoding", "br"}, {"Accept-Encoding", "gzip"}}));
}

TEST(SharedBodyTest, OnlyBodiesOverTheThresholdAreSentGzipped) {
  auto big = std::make_shared<const SharedBody>(answer_text(kApiServerGzipThresholdBytes + 1));
  auto small = std::make_shared<const SharedBody>(answer_text(1000));
  const Headers gzip{{"Accept-Encoding", "gzip"}};

  Response response = Response::json(200, "");
  set_shared_body(response, big, gzip);
  EXPECT_EQ(response.shared_body.get(), big->gzipped().get());
  EXPECT_EQ(response.headers.value("Content-Encoding"), "gzip");
  EXPECT_EQ(response.headers.value("Vary"), "Accept-Encoding");
  EXPECT_EQ(response.headers.value("Content-Type"), "application/json");

  Response plain = Response::json(200, "");
  set_shared_body(plain, big, Headers{});
  EXPECT_EQ(plain.shared_body.get(), &big->bytes());
  EXPECT_EQ(plain.payload(), big->bytes());
  EXPECT_FALSE(plain.headers.contains("Content-Encoding"));
  EXPECT_FALSE(plain.headers.contains("Vary"));

  Response under = Response::json(200, "");
  set_shared_body(under, small, gzip);
  EXPECT_EQ(under.shared_body.get(), &small->bytes());
  EXPECT_FALSE(under.headers.contains("Content-Encoding"));
  set_shared_body(under, small, gzip, /*gzip_threshold=*/100);
  EXPECT_EQ(under.headers.value("Content-Encoding"), "gzip");
}

class SharedBodyServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    body_ = std::make_shared<const SharedBody>(answer_text(kApiServerGzipThresholdBytes + 5000));
    server_ = std::make_unique<HttpServer>(loop_, ServerOptions{});
    ASSERT_OK(server_->start([this](ServerRequest& request, ResponseWriter& writer) {
      return handle(request, writer);
    }));
  }

  Awaitable<void> handle(ServerRequest& request, ResponseWriter& writer) {
    if (request.path == "/owned") {
      co_await writer.send(Response::json(200, body_->bytes()));
    } else if (request.path == "/shared") {
      Response response = Response::json(200, "");
      set_shared_body(response, body_, request.headers);
      co_await writer.send(std::move(response));
    } else if (request.path == "/stream") {
      Headers headers{{"Content-Type", "text/plain"}};
      co_await writer.begin_stream(200, headers);
      co_await writer.write("one");
      co_await writer.write("two");
    } else {
      // A body whose only owner is the response being written (a cache dropped its entry).
      co_await writer.send(sole_owner_response());
    }
  }

  Response sole_owner_response() const {
    auto sole = std::make_shared<const SharedBody>(std::string(8 << 20, 'z'));
    Response response = Response::text(200, "");
    set_shared_body(response, sole, Headers{});
    return response;
  }

  // Sends `bytes` on a new connection; everything the server sends until it closes, without
  // the Date fields (which may change between responses).
  std::string exchange(std::string bytes) {
    std::string answer =
        testing::raw_exchange(loop_, server_->port(), std::move(bytes), /*half_close=*/false);
    return std::regex_replace(answer, std::regex("Date: [^\r]*\r\n"), "");
  }

  std::string expected(std::string_view extra_fields, std::string_view body,
                       std::size_t length) const {
    return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + std::string(extra_fields) +
           "Content-Length: " + std::to_string(length) + "\r\n\r\n" + std::string(body);
  }

  EventLoop loop_;
  std::shared_ptr<const SharedBody> body_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(SharedBodyServerTest, SharedAndOwnedBodiesAreTheSameBytesOnTheWire) {
  // One keep-alive connection, pipelined: owned, shared, HEAD of the shared one, a chunked
  // stream, the shared one again after it, then HTTP/1.0 (which closes).
  std::string answer = exchange(
      "GET /owned HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /shared HTTP/1.1\r\nHost: x\r\n\r\n"
      "HEAD /shared HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /shared HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /shared HTTP/1.0\r\n\r\n");
  const std::string& text = body_->bytes();
  const std::string full = expected("", text, text.size());
  const std::string stream =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\none\r\n3\r\ntwo\r\n0\r\n\r\n";
  const std::string http10 =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
      std::to_string(text.size()) + "\r\nConnection: close\r\n\r\n" + text;
  const std::string want = full + full + expected("", "", text.size()) + stream + full + http10;
  ASSERT_EQ(answer.size(), want.size());
  EXPECT_TRUE(answer == want) << answer.substr(0, 400);
}

TEST_F(SharedBodyServerTest, TheGzipFormOnTheWireDecodesToThePlainBody) {
  std::string answer = exchange(
      "GET /shared HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n"
      "HEAD /shared HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n"
      "GET /shared HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n");
  const std::string& gz = *body_->gzipped();
  const std::string fields = "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n";
  const std::string last = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + fields +
                           "Content-Length: " + std::to_string(gz.size()) +
                           "\r\nConnection: close\r\n\r\n" + gz;
  const std::string want = expected(fields, gz, gz.size()) + expected(fields, "", gz.size()) + last;
  EXPECT_TRUE(answer == want) << answer.substr(0, 400);

  // Through the client: decoded, the body is the plain one; asked without gzip, the plain one.
  HttpClient client(loop_);
  run(loop_, [&]() -> Awaitable<void> {
    Request gzipped = Request::get(server_->url("/shared"));
    gzipped.headers.add("Accept-Encoding", "gzip");
    auto decoded = co_await client.request(gzipped);
    CO_ASSERT_OK(decoded);
    EXPECT_TRUE(decoded->body == body_->bytes());
    auto plain = co_await client.request(Request::get(server_->url("/shared")));
    CO_ASSERT_OK(plain);
    EXPECT_TRUE(plain->body == body_->bytes());
    EXPECT_FALSE(plain->headers.contains("Content-Encoding"));
  }());
}

TEST_F(SharedBodyServerTest, ABodyOwnedOnlyByTheResponseInFlightStaysValid) {
  // 8 MiB does not fit the socket buffers: the write completes asynchronously, after the
  // handler's locals are gone; ASan would see a freed buffer being sent.
  HttpClient client(loop_);
  run(loop_, [&]() -> Awaitable<void> {
    auto r = co_await client.request(Request::get(server_->url("/sole")));
    CO_ASSERT_OK(r);
    EXPECT_EQ(r->body.size(), std::size_t{8} << 20);
    EXPECT_EQ(r->body.find_first_not_of('z'), std::string::npos);
  }());
}

}  // namespace
}  // namespace llmscale::net
