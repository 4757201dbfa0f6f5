// client-go's token bucket (QPS 5, burst 10 by default) and the reflector's jittered
// exponential back-off, on a simulated clock.
#include <gtest/gtest.h>

#include "kubeclient/informer.h"
#include "kubeclient/rest_client.h"

namespace llmscale::kubeclient {
namespace {

using namespace std::chrono_literals;

TEST(TokenBucketTest, BurstThenQps) {
  core::SimulatedClock clock;
  TokenBucket bucket(clock, 5, 10);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(bucket.reserve(), core::Duration::zero()) << i;
  // The 11th waits one token (200 ms at 5 QPS), the 12th two.
  EXPECT_EQ(bucket.reserve(), 200ms);
  EXPECT_EQ(bucket.reserve(), 400ms);
  clock.advance(400ms);
  EXPECT_EQ(bucket.reserve(), 200ms);
  // A long idle period refills only up to the burst.
  clock.advance(1h);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(bucket.reserve(), core::Duration::zero());
  EXPECT_EQ(bucket.reserve(), 200ms);

  TokenBucket unlimited(clock, 0, 1);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(unlimited.reserve(), core::Duration::zero());
}

TEST(BackoffTest, DoublesWithJitterCapsAndResets) {
  core::SimulatedClock clock;
  Backoff backoff(clock, 800ms, 30s, 2min, 2.0, 1.0, 42);
  core::Duration base = 800ms;
  for (int i = 0; i < 8; ++i) {
    core::Duration wait = backoff.next();
    EXPECT_GE(wait, base) << i;
    EXPECT_LE(wait, 2 * base) << i;
    base = std::min<core::Duration>(base * 2, 30s);
    clock.advance(wait);
  }
  EXPECT_EQ(base, 30s);
  EXPECT_GE(backoff.next(), 30s);
  clock.advance(3min);  // quiet for longer than the reset period
  core::Duration reset = backoff.next();
  EXPECT_GE(reset, 800ms);
  EXPECT_LE(reset, 1600ms);
}

TEST(ResourceRefTest, Paths) {
  EXPECT_EQ(deployments_resource().path("default", "llm", "scale"),
            "/apis/apps/v1/namespaces/default/deployments/llm/scale");
  EXPECT_EQ(pods_resource().path(""), "/api/v1/pods");
  EXPECT_EQ(leases_resource().path("kube-system", "llmscale"),
            "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/llmscale");
}

TEST(ApiErrorTest, DecodesStatusBodies) {
  ApiError error = decode_api_error(
      409,
      R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"Operation cannot be fulfilled","reason":"Conflict","code":409})");
  EXPECT_TRUE(error.conflict());
  EXPECT_EQ(error.message, "Operation cannot be fulfilled");
  ApiError bare = decode_api_error(502, "<html>bad gateway</html>");
  EXPECT_EQ(bare.message,
            "the server responded with the status code 502 but did not return more information");
  EXPECT_EQ(bare.error().code, core::ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace llmscale::kubeclient
