// Listen addresses and backend specs as `llmscale route` reads them.
#include "router/spec.h"

#include <gtest/gtest.h>

namespace llmscale::router {
namespace {

TEST(SpecTest, ListenAddresses) {
  auto full = parse_listen_address("127.0.0.1:8080");
  ASSERT_TRUE(full.has_value());
  EXPECT_EQ(full->address, "127.0.0.1");
  EXPECT_EQ(full->port, 8080);
  EXPECT_EQ(parse_listen_address(":9000")->address, "0.0.0.0");
  EXPECT_EQ(parse_listen_address("8000")->address, "127.0.0.1");
  EXPECT_EQ(parse_listen_address("8000")->port, 8000);
  auto v6 = parse_listen_address("[::1]:0");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->address, "::1");
  EXPECT_EQ(v6->port, 0);
  for (const char* bad : {"", "host:", "host:65536", "host:x", "::1:80", "[::1]", "[::1]80"}) {
    auto r = parse_listen_address(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, core::ErrorCode::kInvalidArgument) << bad;
  }
  EXPECT_NE(parse_listen_address("::1:80").error().message.find("brackets"), std::string::npos);
}

TEST(SpecTest, BackendSpecs) {
  auto named = parse_backend_spec("pod-a=http://127.0.0.1:8001", 0);
  ASSERT_TRUE(named.has_value());
  EXPECT_EQ(named->id, "pod-a");
  EXPECT_EQ(named->url, "http://127.0.0.1:8001");
  auto unnamed = parse_backend_spec("http://127.0.0.1:8002", 3);
  EXPECT_EQ(unnamed->id, "backend-3");
  EXPECT_EQ(unnamed->url, "http://127.0.0.1:8002");
  // An '=' after the scheme belongs to the URL.
  EXPECT_EQ(parse_backend_spec("http://h:1/?a=b", 0)->id, "backend-0");
  EXPECT_FALSE(parse_backend_spec("=http://h:1", 0).has_value());
  EXPECT_FALSE(parse_backend_spec("a=", 0).has_value());
  EXPECT_FALSE(parse_backend_spec("", 0).has_value());
}

}  // namespace
}  // namespace llmscale::router
