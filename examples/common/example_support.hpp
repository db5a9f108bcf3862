// examples/common/example_support.hpp — small helpers the example programs share (not part of
// the library): wall-clock timing, a self-removing scratch directory, decompressing the
// R-package flavour's .csv.gz tables with the gzip command (tailor has no zlib dependency), the
// Dunnhumby features entered as log(1 + x), HTML escaping and SVG line charts for the reports.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

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

/// A line chart as inline SVG: one path per (name, points) series, axes from 0 to x_max/y_max
/// (points beyond are clipped), an optional dashed diagonal; legend on the right.
inline constexpr const char* kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c",
                                          "#d62728", "#9467bd", "#8c564b"};

inline std::string svg_chart(
    const std::string& title, const std::string& x_label, const std::string& y_label,
    const std::vector<std::pair<std::string, std::vector<std::pair<double, double>>>>& series,
    double x_max, double y_max, bool diagonal) {
  const double w = 420, h = 320, left = 50, bottom = 40, top = 25, right = 10;
  const double pw = w - left - right, ph = h - top - bottom;
  auto sx = [&](double x) { return left + pw * x / x_max; };
  auto sy = [&](double y) { return top + ph * (1.0 - y / y_max); };
  std::string svg = fmt::format(
      "<svg width='{}' height='{}' xmlns='http://www.w3.org/2000/svg' "
      "style='font:11px sans-serif'>\n",
      w + 130, h);
  svg += fmt::format("<text x='{}' y='15'>{}</text>\n", left, html_escape(title));
  svg += fmt::format("<rect x='{}' y='{}' width='{}' height='{}' fill='none' stroke='#999'/>\n",
                     left, top, pw, ph);
  for (int t = 0; t <= 4; ++t) {
    svg += fmt::format("<text x='{}' y='{}' text-anchor='middle'>{:.3g}</text>\n",
                       sx(x_max * t / 4), h - bottom + 14, x_max * t / 4);
    svg += fmt::format("<text x='{}' y='{}' text-anchor='end'>{:.3g}</text>\n", left - 4,
                       sy(y_max * t / 4) + 4, y_max * t / 4);
  }
  svg += fmt::format("<text x='{}' y='{}' text-anchor='middle'>{}</text>\n", left + pw / 2, h - 6,
                     html_escape(x_label));
  svg += fmt::format(
      "<text x='12' y='{}' transform='rotate(-90 12 {})' text-anchor='middle'>{}</text>\n",
      top + ph / 2, top + ph / 2, html_escape(y_label));
  if (diagonal) {
    svg +=
        fmt::format("<line x1='{}' y1='{}' x2='{}' y2='{}' stroke='#bbb' stroke-dasharray='4'/>\n",
                    sx(0), sy(0), sx(std::min(x_max, y_max)), sy(std::min(x_max, y_max)));
  }
  for (std::size_t s = 0; s < series.size(); ++s) {
    std::string path;
    for (const auto& [x, y] : series[s].second) {
      path += fmt::format("{}{:.1f},{:.1f}", path.empty() ? "M" : " L", sx(std::min(x, x_max)),
                          sy(std::min(y, y_max)));
    }
    const char* color = kColors[s % 6];
    svg += fmt::format("<path d='{}' fill='none' stroke='{}' stroke-width='1.5'/>\n", path, color);
    svg += fmt::format("<text x='{}' y='{}' fill='{}'>{}</text>\n", w - right + 8,
                       top + 14 * (s + 1), color, html_escape(series[s].first));
  }
  return svg + "</svg>\n";
}

}  // namespace tailor_examples
