// Profile lookup on the filesystem (server/profile_files.h): the flag wins over
// $LLMSCALE_PROFILES, either comes before the built-in profiles, and a directory is read from
// disk while the shipped profiles need none.
#include "server/profile_files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/process.h"

namespace llmscale::server {
namespace {

using ::testing::HasSubstr;

TEST(ProfileFilesTest, FlagThenEnvironmentThenBuiltin) {
  engine::ProfileSearch flag = profile_search("/a", "/b");
  ASSERT_EQ(flag.dirs.size(), 1u);
  EXPECT_EQ(flag.dirs[0].path, "/a");
  EXPECT_EQ(flag.dirs[0].from, "--profiles-dir");
  EXPECT_TRUE(flag.builtin);
  EXPECT_NE(flag.files, nullptr);
  EXPECT_EQ(flag.describe(), "--profiles-dir /a, then the profiles built into llmscale");
  engine::ProfileSearch env = profile_search("", "/b");
  ASSERT_EQ(env.dirs.size(), 1u);
  EXPECT_EQ(env.dirs[0].path, "/b");
  EXPECT_EQ(env.dirs[0].from, "$LLMSCALE_PROFILES");
  engine::ProfileSearch neither = profile_search("", "");
  EXPECT_TRUE(neither.dirs.empty());
  EXPECT_TRUE(neither.builtin);
}

TEST(ProfileFilesTest, ReadsAUsersDirectoryAndFallsBackToBuiltin) {
  llmscale::testing::TempDir dir;
  dir.write("mine.yaml", "description: mine\nmodel: llama-3.1-8b\naccelerator: nvidia-h100-80gb\n");
  auto mine = load_profile(dir.path(), "mine");
  ASSERT_TRUE(mine) << mine.error().message;
  EXPECT_EQ(mine->description, "mine");
  auto by_path = load_profile("", dir.path() + "/mine.yaml");
  ASSERT_TRUE(by_path) << by_path.error().message;
  EXPECT_TRUE(load_profile(dir.path(), "llama-3.1-8b-h100"));
  auto missing = load_profile("/no/such/dir", "nope");
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message, HasSubstr("/no/such/dir/nope.yaml (no such directory)"));
  EXPECT_THAT(missing.error().message, HasSubstr("built-in profiles/nope.yaml"));
}

}  // namespace
}  // namespace llmscale::server
