// Tests for tailor/core/progress.hpp: a ProgressBar on a stream that is not a terminal prints
// one line per stage; forced bar style redraws in place.
#include "tailor/core/progress.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <string>

namespace {

/// Feeds `stages` stages of `steps` reports each to a bar writing into a temporary file, and
/// returns what it wrote.
std::string drive(tailor::ProgressStyle style, int stages, int steps) {
  std::FILE* file = std::tmpfile();
  REQUIRE(file != nullptr);
  {
    const tailor::ProgressCallback callback = tailor::ProgressBar(file, 20, 0, style);
    for (int s = 0; s < stages; ++s) {
      const std::string stage = s == 0 ? "trees" : "folds";
      for (int i = 1; i <= steps; ++i) tailor::report(callback, stage, i, steps);
    }
  }
  std::rewind(file);
  std::string text;
  for (int c = std::fgetc(file); c != EOF; c = std::fgetc(file))
    text.push_back(static_cast<char>(c));
  std::fclose(file);
  return text;
}

}  // namespace

TEST_CASE("ProgressBar: a stream that is not a terminal gets one line per stage", "[core]") {
  const std::string text = drive(tailor::ProgressStyle::automatic, 2, 500);
  CHECK(text.find('\r') == std::string::npos);
  CHECK(std::count(text.begin(), text.end(), '\n') == 2);
  CHECK(text.rfind("trees", 0) == 0);
  CHECK(text.find("500/500") != std::string::npos);
  CHECK(text.find("folds") != std::string::npos);
  // The forced line style prints the same lines on any stream.
  const std::string lines = drive(tailor::ProgressStyle::lines, 2, 500);
  CHECK(std::count(lines.begin(), lines.end(), '\n') == 2);
}

TEST_CASE("ProgressBar: bar style redraws in place and ends each stage's line", "[core]") {
  const std::string text = drive(tailor::ProgressStyle::bar, 1, 50);
  CHECK(text.find('\r') != std::string::npos);
  CHECK(text.find("[####################]") != std::string::npos);
  CHECK(text.back() == '\n');
  CHECK(std::count(text.begin(), text.end(), '\n') == 1);
}
