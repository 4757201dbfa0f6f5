// The dashboard page in headless Chromium (Debian's `chromium`, scripts/install-deps.sh):
//  - in-process: a Dashboard over a fake source on a real server; the page loads with no console
//    output, and the replica chart steps up within 2 s of a decision (measured);
//  - against `llmscale up examples/nim-gpu` under the seed's load: the chart steps up within 2 s
//    of the HPA's status saying so, and a screenshot is kept as an artifact under the build dir.
// The page's title carries each HPA's drawn desired/current replicas (web/src/main.js, report());
// the test reads it from DevTools' /json/list over curl, so no WebSocket client is needed.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <regex>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/json.h"
#include "dashboard/dashboard.h"
#include "net/event_loop.h"
#include "net/router.h"
#include "net/server.h"
#include "support/process.h"

namespace llmscale::dashboard {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;
using llmscale::testing::Process;
using llmscale::testing::TempDir;

#ifndef LLMSCALE_DASHBOARD_ARTIFACTS
#define LLMSCALE_DASHBOARD_ARTIFACTS "/tmp"
#endif

bool have(const char* tool) {
  return llmscale::testing::program_on_path(tool);
}

// A headless Chromium on `url` with its DevTools port; killed by PID when destroyed.
class Browser {
 public:
  Browser(const TempDir& dir, const std::string& url) : profile_(dir.path() + "/chromium") {
    process_ = Process::start({"chromium", "--headless", "--no-sandbox", "--disable-gpu",
                               "--no-first-run", "--disable-dev-shm-usage",
                               "--disable-background-networking", "--user-data-dir=" + profile_,
                               "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
                               "--enable-logging=stderr", "--v=0", "--window-size=1400,1000", url},
                              dir);
  }
  // SIGTERM lets Chromium stop its own renderer and zygote processes (a SIGKILL would orphan
  // them); SIGKILL after 10 s.
  ~Browser() {
    if (process_) process_->stop(SIGTERM, std::chrono::seconds(10));
  }
  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;
  bool started() const { return process_.has_value(); }
  // The page's title, or "" while DevTools is not up yet.
  std::string title() {
    if (port_.empty()) {
      std::string active = llmscale::testing::read_file(profile_ + "/DevToolsActivePort");
      port_ = active.substr(0, active.find('\n'));
      if (port_.empty()) return "";
    }
    auto result = llmscale::testing::run_process(
        {"curl", "-s", "--max-time", "2", "http://127.0.0.1:" + port_ + "/json/list"}, "", 5s);
    auto list = core::parse_json(result.output);
    if (!list || !list->is_array()) return "";
    for (const auto& target : *list) {
      if (target.value("type", "") == "page") return target.value("title", "");
    }
    return "";
  }
  // Console output of the page (Chromium logs each console call as "CONSOLE").
  std::vector<std::string> console_lines() const {
    std::vector<std::string> out;
    std::string err = process_->errors();
    std::size_t at = 0;
    while ((at = err.find(":CONSOLE", at)) != std::string::npos) {
      std::size_t begin = err.rfind('\n', at);
      std::size_t end = err.find('\n', at);
      out.push_back(err.substr(begin == std::string::npos ? 0 : begin + 1,
                               end == std::string::npos ? std::string::npos : end - begin - 1));
      at = end == std::string::npos ? err.size() : end;
    }
    return out;
  }

 private:
  std::string profile_;
  std::string port_;
  std::optional<Process> process_;
};

// The desired replicas the page's chart draws for `hpa` ("llmscale NAME=D/C"), or -1.
int drawn_desired(const std::string& title, const std::string& hpa) {
  std::smatch m;
  std::regex re(hpa + "=([0-9]+)/");
  if (!std::regex_search(title, m, re)) return -1;
  return std::stoi(m[1].str());
}

// Polls `title()` every 50 ms until `pred(title)` or `timeout`; returns when, or nullopt.
template <class Pred>
std::optional<Steady::time_point> wait_title(Browser& browser, Pred pred,
                                             std::chrono::milliseconds timeout,
                                             std::string* last = nullptr) {
  auto deadline = Steady::now() + timeout;
  while (Steady::now() < deadline) {
    std::string t = browser.title();
    if (last != nullptr) *last = t;
    if (pred(t)) return Steady::now();
    std::this_thread::sleep_for(50ms);
  }
  return std::nullopt;
}

// Accessed on the loop thread only (the test posts its changes there).
class FakeSource final : public DashboardSource {
 public:
  core::Json state() override {
    return {
        {"hpas", core::Json::array({{{"key", "default/web"},
                                     {"namespace", "default"},
                                     {"name", "web"},
                                     {"target", "Deployment/web"},
                                     {"fleet", "web"},
                                     {"minReplicas", 1},
                                     {"maxReplicas", 10},
                                     {"tolerance", 0.1},
                                     {"currentReplicas", replicas},
                                     {"desiredReplicas", replicas},
                                     {"metrics", core::Json::array({{{"name", "kv"},
                                                                     {"type", "Pods"},
                                                                     {"targetType", "AverageValue"},
                                                                     {"target", 0.1}}})},
                                     {"conditions", core::Json::array()},
                                     {"events", core::Json::array({{{"type", "Normal"},
                                                                    {"reason", "ScaledFromZero"},
                                                                    {"count", 1},
                                                                    {"last", 0},
                                                                    {"source", "test-activator"},
                                                                    {"message", "woke up"}}})}}})},
        {"fleets", core::Json::array({{{"name", "web"},
                                       {"namespace", "default"},
                                       {"replicas", replicas},
                                       {"pods", core::Json::array()}}})}};
  }
  core::Json sample() override {
    return {{"hpas",
             {{"default/web",
               {{"current", replicas},
                {"desired", replicas},
                {"metrics", core::Json::array({0.05 * replicas})}}}}},
            {"fleets", {{"web", {{"ready", replicas}, {"starting", 0}, {"rps", 10}}}}}};
  }
  int replicas = 1;
};

TEST(Browser, ReplicaChartStepsWithinTwoSecondsOfADecision) {
  if (!have("chromium")) GTEST_SKIP() << "chromium not installed (scripts/install-deps.sh)";
#if !LLMSCALE_DASHBOARD_BUILT
  GTEST_FAIL() << "the dashboard page was built without npm";
#endif
  net::EventLoop loop;
  FakeSource source;
  // Samples every 10 s: the step must come from the decision's push, not from a periodic sample.
  DashboardOptions options;
  options.sample_interval = 10s;
  Dashboard dashboard(loop.clock(), source, options);
  net::Router router;
  dashboard.add_routes(router);
  net::HttpServer server(loop, {});
  ASSERT_TRUE(server.start(router.handler()));
  dashboard.start();
  loop.start();

  TempDir dir;
  Browser browser(dir, server.url("/"));
  ASSERT_TRUE(browser.started());
  std::string last;
  ASSERT_TRUE(wait_title(
      browser, [](const std::string& t) { return drawn_desired(t, "web") == 1; }, 30s, &last))
      << "title: " << last;

  auto decided = Steady::now();
  loop.post([&] {
    source.replicas = 3;
    dashboard.add_decision({{"hpa", "default/web"}, {"from", 1}, {"to", 3}, {"reason", "test"}});
  });
  auto stepped = wait_title(
      browser, [](const std::string& t) { return drawn_desired(t, "web") == 3; }, 5s, &last);
  ASSERT_TRUE(stepped) << "title: " << last;
  auto latency = std::chrono::duration_cast<std::chrono::milliseconds>(*stepped - decided);
  std::cout << "dashboard update latency (decision -> title, 50 ms polling): " << latency.count()
            << " ms\n";
  EXPECT_LT(latency, 2s);
  EXPECT_EQ(last.find("⚠"), std::string::npos) << last;  // the page caught no error
  EXPECT_TRUE(browser.console_lines().empty())
      << "console: " << ::testing::PrintToString(browser.console_lines());

  std::promise<void> stopped;
  loop.post([&] {
    dashboard.stop();
    server.close();
    stopped.set_value();
  });
  stopped.get_future().wait();
  loop.stop();
  loop.join();
}

TEST(Browser, ReportFileShowsItsCharts) {
  if (!have("chromium")) GTEST_SKIP() << "chromium not installed (scripts/install-deps.sh)";
  core::SimulatedClock clock;
  FakeSource source;
  Dashboard dashboard(clock, source);
  dashboard.start();
  for (int i = 0; i < 30; ++i) clock.advance(1s);
  source.replicas = 3;
  dashboard.add_decision({{"hpa", "default/web"}, {"from", 1}, {"to", 3}, {"reason", "test"}});
  for (int i = 0; i < 30; ++i) clock.advance(1s);
  std::filesystem::create_directories(LLMSCALE_DASHBOARD_ARTIFACTS);
  std::string html = std::string(LLMSCALE_DASHBOARD_ARTIFACTS) + "/report.html";
  std::ofstream(html) << dashboard.report_html();

  TempDir dir;
  auto dom = Process::start({"chromium", "--headless", "--no-sandbox", "--disable-gpu",
                             "--no-first-run", "--user-data-dir=" + dir.path() + "/profile",
                             "--window-size=1400,1000", "--virtual-time-budget=2000",
                             "--enable-logging=stderr", "--v=0", "--dump-dom", "file://" + html},
                            dir);
  ASSERT_TRUE(dom);
  ASSERT_TRUE(dom->wait_exit(60s));
  std::string out = dom->output();
  EXPECT_NE(out.find("<title>llmscale web=3/3</title>"), std::string::npos) << out.substr(0, 2000);
  std::size_t canvases = 0;
  for (std::size_t at = 0; (at = out.find("<canvas", at)) != std::string::npos; ++at) ++canvases;
  EXPECT_GE(canvases, 4u);  // metric, replicas, requests, latency
  // The events table names each event's source, as `kubectl describe`'s "From" column does.
  EXPECT_NE(out.find("<td>test-activator</td>"), std::string::npos) << out.substr(0, 4000);
  EXPECT_EQ(dom->errors().find(":CONSOLE"), std::string::npos) << dom->errors();
  auto shot =
      Process::start({"chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                      "--user-data-dir=" + dir.path() + "/shot", "--hide-scrollbars",
                      "--window-size=1400,1000", "--virtual-time-budget=2000",
                      "--screenshot=" + std::string(LLMSCALE_DASHBOARD_ARTIFACTS) + "/report.png",
                      "file://" + html},
                     dir);
  ASSERT_TRUE(shot);
  EXPECT_TRUE(shot->wait_exit(60s));
}

std::string field(const std::string& text, const std::string& prefix) {
  std::size_t at = text.find(prefix);
  if (at == std::string::npos) return "";
  at += prefix.size();
  return text.substr(at, text.find_first_of(" \n", at) - at);
}

// The HPA's desired replicas as up's control API reports them, or -1.
int api_desired(const std::string& control) {
  auto result = llmscale::testing::run_process(
      {"curl", "-s", "--max-time", "2",
       control + "apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/gpu-hpa-cache"},
      "", 5s);
  auto hpa = core::parse_json(result.output);
  if (!hpa || !hpa->is_object() || !hpa->contains("status")) return -1;
  return (*hpa)["status"].value("desiredReplicas", -1);
}

TEST(Browser, FollowsUpUnderLoadAndKeepsAScreenshot) {
  if (!have("chromium")) GTEST_SKIP() << "chromium not installed (scripts/install-deps.sh)";
  TempDir dir;
  // The NIM seed, shortened as the e2e tests do: 2 s cold start, 1 s scrapes, the seed's
  // heaviest load level (200 streams) for 40 s, which lifts gpu_cache_usage_perc over 100m.
  auto up = Process::start(
      {LLMSCALE_BINARY, "up", LLMSCALE_SOURCE_DIR "/examples/nim-gpu", "--serve-sim-startup", "2s",
       "--scrape-interval", "1s", "--router-listen", "127.0.0.1:0", "--control-listen",
       "127.0.0.1:0", "--state-dir", dir.path() + "/state", "--stop-after", "90s", "--load",
       "--url {router} --api openai-chat --streaming -m meta/llama-3.1-8b-instruct "
       "--synthetic-input-tokens-mean 200 --synthetic-input-tokens-stddev 10 "
       "--output-tokens-mean 200 --extra-inputs max_tokens:200 --extra-inputs min_tokens:200 "
       "--extra-inputs ignore_eos:true --concurrency 200 --duration 40s"},
      dir);
  ASSERT_TRUE(up);
  ASSERT_TRUE(up->wait_for_output(
      [](const std::string& out) { return out.find("dashboard on ") != std::string::npos; }, 30s))
      << up->output() << up->errors();
  std::string url = field(up->output(), "dashboard on ");
  Browser browser(dir, url);
  ASSERT_TRUE(browser.started());
  std::string last;
  ASSERT_TRUE(wait_title(
      browser, [](const std::string& t) { return drawn_desired(t, "gpu-hpa-cache") == 1; }, 30s,
      &last))
      << "title: " << last;

  // Poll the API and the page together; the page must follow the API within 2 s.
  std::optional<Steady::time_point> api_at, page_at;
  auto deadline = Steady::now() + 60s;
  while (Steady::now() < deadline && !page_at) {
    if (!api_at && api_desired(url) > 1) api_at = Steady::now();
    last = browser.title();
    if (drawn_desired(last, "gpu-hpa-cache") > 1) page_at = Steady::now();
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(page_at) << "title: " << last << "\n" << up->output();
  if (!api_at) api_at = page_at;  // both seen in the same round
  auto lag = std::chrono::duration_cast<std::chrono::milliseconds>(*page_at - *api_at);
  std::cout << "page behind the control API by at most " << lag.count() << " ms\n";
  EXPECT_LT(lag, 2s);
  EXPECT_EQ(last.find("⚠"), std::string::npos) << last;
  EXPECT_TRUE(browser.console_lines().empty())
      << "console: " << ::testing::PrintToString(browser.console_lines());

  // The artifact: a screenshot of the page with the step in it (history from the snapshot;
  // `?live=0` opens no stream, which would keep headless Chromium's virtual time from running).
  std::filesystem::create_directories(LLMSCALE_DASHBOARD_ARTIFACTS);
  std::string png = std::string(LLMSCALE_DASHBOARD_ARTIFACTS) + "/dashboard-up.png";
  std::filesystem::remove(png);
  auto shot = Process::start(
      {"chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
       "--user-data-dir=" + dir.path() + "/shot", "--hide-scrollbars", "--window-size=1400,1000",
       "--virtual-time-budget=3000", "--screenshot=" + png, url + "?live=0"},
      dir);
  ASSERT_TRUE(shot);
  EXPECT_TRUE(shot->wait_exit(60s));
  shot->kill();
  ASSERT_TRUE(std::filesystem::exists(png));
  EXPECT_GT(std::filesystem::file_size(png), 20000u);
  std::cout << "screenshot: " << png << "\n";
  up->stop(SIGTERM, 30s);
}

}  // namespace
}  // namespace llmscale::dashboard
