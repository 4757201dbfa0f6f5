// write_file_atomically and StateFile: the new content replaces the old one whole; every failure
// (no directory, ENOSPC at write or fsync, a failed rename) keeps the old file and leaves no
// temporary file; StateFile logs a repeated failure once and reports it until a write works.
#include "core/atomic_file.h"

#include <errno.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace llmscale::core {
namespace {

namespace fs = std::filesystem;

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("llmscale-atomic-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string read(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  // Files in the directory other than `keep` (a temporary file left behind would show here).
  std::vector<std::string> others(const std::string& keep) const {
    std::vector<std::string> out;
    for (const auto& entry : fs::directory_iterator(dir_))
      if (entry.path().filename() != keep) out.push_back(entry.path().filename().string());
    return out;
  }
  // A write() that fails with ENOSPC, as on a full disk.
  static FileSystemCalls full_disk() {
    FileSystemCalls calls;
    calls.write = [](int, const void*, std::size_t) -> ssize_t {
      errno = ENOSPC;
      return -1;
    };
    return calls;
  }

  fs::path dir_;
};

TEST_F(AtomicFileTest, WritesAndReplaces) {
  std::string path = (dir_ / "replicas.json").string();
  ASSERT_TRUE(write_file_atomically(path, "{\"a\":1}\n"));
  EXPECT_EQ(read(path), "{\"a\":1}\n");
  ASSERT_TRUE(write_file_atomically(path, "{\"a\":2}\n"));
  EXPECT_EQ(read(path), "{\"a\":2}\n");
  EXPECT_TRUE(others("replicas.json").empty());
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                fs::perms::others_read);
}

TEST_F(AtomicFileTest, EmptyContentIsAWrite) {
  std::string path = (dir_ / "f").string();
  ASSERT_TRUE(write_file_atomically(path, ""));
  EXPECT_TRUE(fs::exists(path));
  EXPECT_EQ(fs::file_size(path), 0u);
}

// The regression of issue 11 item 7: a full disk cut replicas.json to 0 bytes.
TEST_F(AtomicFileTest, FullDiskAtWriteKeepsTheOldFile) {
  std::string path = (dir_ / "replicas.json").string();
  ASSERT_TRUE(write_file_atomically(path, "{\"default/m\":2}\n"));
  auto failed = write_file_atomically(path, "{\"default/m\":3}\n", full_disk());
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::kResourceExhausted);
  EXPECT_EQ(failed.error().message, path + ": write: No space left on device");
  EXPECT_EQ(read(path), "{\"default/m\":2}\n");
  EXPECT_TRUE(others("replicas.json").empty()) << "temporary file left behind";
}

// With delayed allocation ENOSPC shows at fsync, after every write() succeeded.
TEST_F(AtomicFileTest, FullDiskAtFsyncKeepsTheOldFile) {
  std::string path = (dir_ / "state.json").string();
  ASSERT_TRUE(write_file_atomically(path, "old"));
  FileSystemCalls calls;
  calls.fsync = [](int) {
    errno = ENOSPC;
    return -1;
  };
  auto failed = write_file_atomically(path, "new", calls);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message, path + ": fsync: No space left on device");
  EXPECT_EQ(read(path), "old");
  EXPECT_TRUE(others("state.json").empty());
}

TEST_F(AtomicFileTest, ShortWritesAreContinued) {
  std::string path = (dir_ / "f").string();
  FileSystemCalls calls;
  calls.write = [](int fd, const void* data, std::size_t size) {
    return ::write(fd, data, std::min<std::size_t>(size, 3));
  };
  ASSERT_TRUE(write_file_atomically(path, "0123456789", calls));
  EXPECT_EQ(read(path), "0123456789");
}

TEST_F(AtomicFileTest, FailedRenameKeepsTheOldFile) {
  std::string path = (dir_ / "f").string();
  ASSERT_TRUE(write_file_atomically(path, "old"));
  FileSystemCalls calls;
  calls.rename = [](const char*, const char*) {
    errno = EIO;
    return -1;
  };
  auto failed = write_file_atomically(path, "new", calls);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(read(path), "old");
  EXPECT_TRUE(others("f").empty());
}

// We run as root in CI, so a read-only directory would not fail: a parent that is a file does.
TEST_F(AtomicFileTest, ParentIsAFile) {
  std::ofstream(dir_ / "file") << "x";
  std::string path = (dir_ / "file" / "state.json").string();
  auto failed = write_file_atomically(path, "new");
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message, path + ": create temporary file: Not a directory");
  EXPECT_EQ(read(dir_ / "file"), "x");
}

TEST_F(AtomicFileTest, StateFileLogsARepeatedFailureOnceAndRecovers) {
  std::string path = (dir_ / "replicas.json").string();
  StateFile file(path, "fleet sizes");
  ASSERT_TRUE(file.write("1"));
  EXPECT_FALSE(file.failing());
  file.set_calls(full_disk());
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(file.write("2"));
  EXPECT_TRUE(file.failing());
  EXPECT_EQ(file.failures(), 20u);
  EXPECT_EQ(file.warnings_logged(), 1u);
  EXPECT_EQ(file.last_error(), path + ": write: No space left on device");
  EXPECT_EQ(read(path), "1");
  // A different reason is worth a new line.
  FileSystemCalls rename_fails;
  rename_fails.rename = [](const char*, const char*) {
    errno = EIO;
    return -1;
  };
  file.set_calls(rename_fails);
  EXPECT_FALSE(file.write("2"));
  EXPECT_EQ(file.warnings_logged(), 2u);
  // Writes work again: the condition clears, the next failure is logged again.
  file.set_calls({});
  ASSERT_TRUE(file.write("3"));
  EXPECT_FALSE(file.failing());
  EXPECT_EQ(file.writes(), 2u);
  EXPECT_EQ(read(path), "3");
  file.set_calls(full_disk());
  EXPECT_FALSE(file.write("4"));
  EXPECT_EQ(file.warnings_logged(), 3u);
}

}  // namespace
}  // namespace llmscale::core
