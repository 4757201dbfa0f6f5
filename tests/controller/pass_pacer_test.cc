// PassPacer on a SimulatedClock: requests coalesce while a pass is pending, paced passes of one
// HPA start at least min_interval apart, HPAs are paced independently, 0 means right after the
// current event, and destruction cancels what is pending.
#include "controller/pass_pacer.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace llmscale::controller {
namespace {

using std::chrono::milliseconds;

struct Fixture {
  core::SimulatedClock clock;
  std::vector<std::pair<std::string, double>> passes;  // name, ms since start
  core::Time start = clock.now();
  PassPacer pacer;
  explicit Fixture(core::Duration interval)
      : pacer(clock, interval, [this](const std::string&, const std::string& name) {
          passes.emplace_back(
              name, std::chrono::duration<double, std::milli>(clock.now() - start).count());
        }) {}
};

TEST(PassPacerTest, ScrapesSpreadOverASecondGiveFourPassesNotTwenty) {
  Fixture f(milliseconds(250));
  for (int pod = 0; pod < 20; ++pod) {  // 20 pods scraped 50 ms apart
    f.clock.advance_to(f.start + milliseconds(50 * pod));
    f.pacer.request("default", "vllm");
  }
  f.clock.advance(milliseconds(1000));
  std::vector<double> at;
  for (const auto& [name, ms] : f.passes) at.push_back(ms);
  // The first request passes at once; later ones wait for the rest of 250 ms, and every request
  // made while a pass is pending joins it.
  EXPECT_EQ(at, (std::vector<double>{0, 250, 500, 750, 1000}));
}

TEST(PassPacerTest, ARequestAfterAQuietSpellPassesAtOnce) {
  Fixture f(milliseconds(250));
  f.pacer.request("default", "a");
  f.clock.advance(milliseconds(600));
  f.pacer.request("default", "a");
  f.clock.advance(milliseconds(1));
  ASSERT_EQ(f.passes.size(), 2u);
  EXPECT_EQ(f.passes[1].second, 600);
}

TEST(PassPacerTest, HpasArePacedIndependently) {
  Fixture f(milliseconds(250));
  f.pacer.request("default", "a");
  f.pacer.request("default", "b");
  f.pacer.request("other", "a");
  f.clock.advance(milliseconds(100));
  f.pacer.request("default", "a");
  f.clock.advance(milliseconds(1000));
  ASSERT_EQ(f.passes.size(), 4u);
  EXPECT_EQ(f.passes[3], (std::pair<std::string, double>("a", 250)));
}

TEST(PassPacerTest, ZeroIntervalCoalescesOnlyTheSameInstant) {
  Fixture f(core::Duration::zero());
  f.pacer.request("default", "a");
  f.pacer.request("default", "a");
  EXPECT_TRUE(f.passes.empty());  // after the current event, not inside the request
  f.clock.advance(milliseconds(1));
  f.pacer.request("default", "a");
  f.clock.advance(milliseconds(1));
  EXPECT_EQ(f.passes.size(), 2u);
}

TEST(PassPacerTest, DestructionCancelsThePendingPass) {
  core::SimulatedClock clock;
  int passes = 0;
  {
    PassPacer pacer(clock, milliseconds(250),
                    [&](const std::string&, const std::string&) { ++passes; });
    pacer.request("default", "a");
    clock.advance(milliseconds(1));
    pacer.request("default", "a");
  }
  EXPECT_EQ(clock.pending(), 0u);
  clock.advance(milliseconds(1000));
  EXPECT_EQ(passes, 1);
}

}  // namespace
}  // namespace llmscale::controller
