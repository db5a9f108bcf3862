// examples/common/example_support.hpp — small helpers the example programs share (not part of
// the library): wall-clock timing, a self-removing scratch directory, decompressing the
// R-package flavour's .csv.gz tables with the gzip command (tailor has no zlib dependency), the
// Dunnhumby features entered as log(1 + x), and HTML escaping for the reports.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include <fmt/format.h>

#include "tailor/core/errors.hpp"

namespace tailor_examples {

namespace fs = std::filesystem;

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// A directory removed when the program ends.
class ScratchDir {
 public:
  ScratchDir() = default;
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    if (path_.empty()) return;
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  /// Creates <temp>/<prefix>_<pid> (emptied first) and returns it.
  const fs::path& create(std::string_view prefix) {
    path_ = fs::temp_directory_path() / fmt::format("{}_{}", prefix, ::getpid());
    fs::remove_all(path_);
    fs::create_directories(path_);
    return path_;
  }

 private:
  fs::path path_;
};

/// When `dir` holds completejourney tables only as .csv.gz, decompresses them (gzip -dc) into a
/// scratch directory next to copies of the plain CSVs and returns it; else returns `dir`.
inline fs::path decompress_if_needed(const fs::path& dir, ScratchDir& scratch,
                                     std::string_view scratch_prefix, bool quiet = false) {
  bool needs = false;
  for (const char* name : {"transactions.csv", "transactions_sample.csv", "products.csv"}) {
    if (fs::exists(dir / (std::string(name) + ".gz")) && !fs::exists(dir / name)) needs = true;
  }
  if (!needs) return dir;
  if (std::system("gzip --version > /dev/null 2>&1") != 0) {
    throw tailor::Error(fmt::format(
        "'{}' holds gzipped tables and the gzip command is not available: decompress them first "
        "(gzip -dk FILE.csv.gz)",
        dir.string()));
  }
  const fs::path& out = scratch.create(scratch_prefix);
  if (!quiet) {
    fmt::print("decompressing the gzipped tables of {} into {}\n", dir.string(), out.string());
  }
  for (const auto& entry : fs::directory_iterator(dir)) {
    const fs::path name = entry.path().filename();
    if (name.extension() == ".gz") {
      if (name.stem().string().rfind("promotions", 0) == 0) continue;  // not used
      const std::string command =
          fmt::format("gzip -dc '{}' > '{}'", entry.path().string(), (out / name.stem()).string());
      if (std::system(command.c_str()) != 0) {
        throw tailor::Error(fmt::format("'{}' failed", command));
      }
    } else if (name.extension() == ".csv") {
      fs::copy_file(entry.path(), out / name);
    }
  }
  return out;
}

/// Household features entered as log(1 + x): heavy-tailed counts, money and days.
inline bool is_log_feature(const std::string& name) {
  for (const char* log_name :
       {"recency_days", "frequency_baskets", "monetary_spend", "basket_spend_mean",
        "basket_lines_mean", "weeks_active", "coupons_redeemed", "campaigns_received"}) {
    if (name == log_name) return true;
  }
  return false;
}

inline std::string html_escape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace tailor_examples
