// replicas.json: sizes survive a restart, and a failed save (a full disk) keeps the previous
// file instead of cutting it to 0 bytes (issue 11 item 7: the restart came back with 1 replica
// instead of 2).
#include "up/fleet_sizes.h"

#include <errno.h>

#include <gtest/gtest.h>

#include <fstream>

#include "support/process.h"

namespace llmscale::up {
namespace {

TEST(FleetSizesTest, SavedSizesAreLoadedBack) {
  llmscale::testing::TempDir dir;
  std::string path = dir.path() + "/replicas.json";
  FleetSizesFile file(path);
  auto none = file.load();
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  ASSERT_TRUE(file.save({{"default/vllm", 2}, {"ml/tgi", 3}}));
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "{\"default/vllm\":2,\"ml/tgi\":3}\n");
  auto loaded = FleetSizesFile(path).load();
  ASSERT_TRUE(loaded);
  EXPECT_EQ(*loaded, (FleetSizes{{"default/vllm", 2}, {"ml/tgi", 3}}));
}

TEST(FleetSizesTest, AFullDiskKeepsThePreviousSizes) {
  llmscale::testing::TempDir dir;
  std::string path = dir.path() + "/replicas.json";
  FleetSizesFile file(path);
  ASSERT_TRUE(file.save({{"default/vllm", 2}}));
  core::FileSystemCalls full;
  full.write = [](int, const void*, std::size_t) -> ssize_t {
    errno = ENOSPC;
    return -1;
  };
  file.file().set_calls(full);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(file.save({{"default/vllm", 3}}));
  EXPECT_TRUE(file.file().failing());
  EXPECT_EQ(file.file().failures(), 10u);
  EXPECT_EQ(file.file().warnings_logged(), 1u);
  // The restart sees 2, not an empty file.
  auto loaded = FleetSizesFile(path).load();
  ASSERT_TRUE(loaded);
  EXPECT_EQ(*loaded, (FleetSizes{{"default/vllm", 2}}));
  // Once the disk has room, the pending size is written (not skipped as "already saved").
  file.file().set_calls({});
  ASSERT_TRUE(file.save({{"default/vllm", 3}}));
  EXPECT_FALSE(file.file().failing());
  EXPECT_EQ(FleetSizesFile(path).load()->at("default/vllm"), 3);
}

TEST(FleetSizesTest, AnUnreadableFileIsAnErrorNamingIt) {
  llmscale::testing::TempDir dir;
  std::string path = dir.path() + "/replicas.json";
  std::ofstream(path) << "";
  auto loaded = FleetSizesFile(path).load();
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().message, path + ": not a JSON object of fleet sizes");
}

}  // namespace
}  // namespace llmscale::up
