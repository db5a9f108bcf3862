// A fresh temporary directory for the io/ tests' hand-written files, removed at scope exit.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include <fmt/format.h>

namespace tailor::test {

class TempDir {
 public:
  /// <temp>/tailor_<tag>_<pid>_<counter>, emptied first.
  explicit TempDir(const std::string& tag) {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            fmt::format("tailor_{}_{}_{}", tag, ::getpid(), counter++);
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

  /// Writes `text` to a file in the directory and returns its path.
  std::filesystem::path write(const std::string& name, const std::string& text) const {
    const std::filesystem::path path = path_ / name;
    std::ofstream out(path, std::ios::binary);
    out << text;
    return path;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace tailor::test
