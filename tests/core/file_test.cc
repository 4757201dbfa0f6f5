// core::read_file: whole files, bounded, errors that name the path.
#include "core/file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace llmscale::core {
namespace {

namespace fs = std::filesystem;

class ReadFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() /
        ("llmscale-file-test-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& bytes) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  fs::path dir_;
};

TEST_F(ReadFileTest, ReadsEveryByte) {
  std::string bytes(200'000, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7);
  auto text = read_file(write("a.bin", bytes));
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_EQ(*text, bytes);
  auto empty = read_file(write("empty", ""));
  ASSERT_TRUE(empty);
  EXPECT_EQ(*empty, "");
}

TEST_F(ReadFileTest, MissingFileIsNotFoundNamingThePath) {
  std::string path = (dir_ / "nope.yaml").string();
  auto text = read_file(path);
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(text.error().message, "open " + path + ": no such file or directory");
}

TEST_F(ReadFileTest, RefusesMoreThanTheLimit) {
  std::string path = write("big", std::string(1001, 'x'));
  EXPECT_TRUE(read_file(path, 1001));
  auto text = read_file(path, 1000);
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().code, ErrorCode::kResourceExhausted);
  EXPECT_EQ(text.error().message, path + " is larger than 1000 bytes");
}

TEST_F(ReadFileTest, EndlessDeviceStopsAtTheLimit) {
  auto text = read_file("/dev/zero", 1 << 20);
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().code, ErrorCode::kResourceExhausted);
}

TEST_F(ReadFileTest, DirectoryIsAClearError) {
  auto text = read_file(dir_.string());
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(text.error().message, "read " + dir_.string() + ": is a directory");
}

}  // namespace
}  // namespace llmscale::core
