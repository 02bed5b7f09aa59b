#pragma once
// A fresh directory under the system temp folder, removed when the test ends.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace amct::test {

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    root_ = std::filesystem::temp_directory_path() /
            ("amct_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Absolute path of `relative` inside the directory ("" for the directory itself).
  std::string path(std::string_view relative) const {
    if (relative.empty()) return root_.string();
    return (root_ / relative).lexically_normal().string();
  }

  // Writes `contents` to `relative`, creating folders; returns the absolute path.
  std::string write(std::string_view relative, std::string_view contents) const {
    const std::filesystem::path file = root_ / relative;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    return path(relative);
  }

 private:
  std::filesystem::path root_;
};

}  // namespace amct::test
