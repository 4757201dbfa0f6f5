// Who may use the control address: open on loopback, a refused start off loopback without a way
// to authenticate, the bearer token (exact, constant-time) or a verified client certificate,
// health paths always, and kube-apiserver's 401 Status otherwise.
#include "up/control_auth.h"

#include <gtest/gtest.h>

#include "net/server.h"
#include "net/tls.h"
#include "support/process.h"

namespace llmscale::up {
namespace {

net::ServerRequest request(const std::string& target, const std::string& authorization = "") {
  net::ServerRequest r;
  r.method = "GET";
  EXPECT_TRUE(r.set_target(target));
  if (!authorization.empty()) r.headers.set("Authorization", authorization);
  return r;
}

TEST(ControlAuthTest, LoopbackIsOpenAndOtherAddressesNeedAWayToAuthenticate) {
  EXPECT_TRUE(check_control_auth({"127.0.0.1", "", false}));
  EXPECT_TRUE(check_control_auth({"::1", "", false}));
  auto refused = check_control_auth({"0.0.0.0", "", false});
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("--control-token-file"), std::string::npos);
  EXPECT_TRUE(check_control_auth({"0.0.0.0", "secret", false}));
  EXPECT_TRUE(check_control_auth({"0.0.0.0", "", true}));
  EXPECT_FALSE(control_auth_denial({"127.0.0.1", "", false}, request("/api/v1/pods")));
}

TEST(ControlAuthTest, BearerTokenOrVerifiedCertificate) {
  ControlAuthOptions options{"0.0.0.0", "s3cret", true};
  auto denied = control_auth_denial(options, request("/api/v1/pods"));
  ASSERT_TRUE(denied);
  EXPECT_EQ(*denied, R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
                     R"("message":"Unauthorized","reason":"Unauthorized","code":401})"
                     "\n");
  EXPECT_FALSE(control_auth_denial(options, request("/api/v1/pods", "Bearer s3cret")));
  EXPECT_FALSE(control_auth_denial(options, request("/api/v1/pods", "bearer s3cret")));
  EXPECT_TRUE(control_auth_denial(options, request("/api/v1/pods", "Bearer s3cre")));
  EXPECT_TRUE(control_auth_denial(options, request("/api/v1/pods", "Bearer s3cretX")));
  EXPECT_TRUE(control_auth_denial(options, request("/api/v1/pods", "Basic s3cret")));
  EXPECT_FALSE(control_auth_denial(options, request("/healthz")));
  EXPECT_FALSE(control_auth_denial(options, request("/readyz")));

  net::ServerRequest with_cert = request("/api/v1/pods");
  auto cert = std::make_shared<net::PeerCertificate>();
  cert->verified = false;
  with_cert.peer_certificate = cert;
  EXPECT_TRUE(control_auth_denial(options, with_cert));
  cert->verified = true;
  EXPECT_FALSE(control_auth_denial(options, with_cert));
  // A token on loopback is required too (the user asked for one).
  EXPECT_TRUE(control_auth_denial({"127.0.0.1", "s3cret", false}, request("/api/v1/pods")));
}

TEST(ControlAuthTest, TokenFile) {
  llmscale::testing::TempDir dir;
  EXPECT_EQ(*read_token_file(dir.write("t", "  abc \nrest\n")), "abc");
  EXPECT_FALSE(read_token_file(dir.write("e", "\n")));
  auto huge = read_token_file(dir.write("big", std::string(100 * 1024, 'x')));
  ASSERT_FALSE(huge);
  EXPECT_NE(huge.error().message.find("is larger than 65536 bytes"), std::string::npos);
  auto missing = read_token_file(dir.path() + "/nope");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("/nope"), std::string::npos);
}

}  // namespace
}  // namespace llmscale::up
