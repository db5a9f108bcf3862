// generate_data — writes synthetic CSVs in the Dunnhumby "The Complete Journey" schema and the
// iPinYou RTB log schema, with planted structure (segments, a targeted TypeA campaign with
// segment-dependent effects, a known CTR function and market-price model) and the truth files
// to check methods against. The models are documented in include/tailor/io/synthetic.hpp and
// examples/data/README.md.
//
//   generate_data --out DIR [--which dunnhumby|ipinyou|all] [--households N] [--weeks W]
//                 [--products P] [--visit-scale S] [--impressions M] [--seed X]
//
// Output: DIR/dunnhumby/*.csv and DIR/ipinyou/{train,test}.log.txt + truth files.
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "tailor/io/synthetic.hpp"

namespace synthetic = tailor::io::synthetic;
using tailor::Index;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::uintmax_t directory_bytes(const std::filesystem::path& dir) {
  std::uintmax_t total = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file()) total += entry.file_size();
  }
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Write synthetic Dunnhumby- and iPinYou-schema data with planted, known structure"};
  std::string out_dir = "synthetic_data";
  std::string which = "all";
  synthetic::DunnhumbyParams dunnhumby;
  synthetic::IpinyouParams ipinyou;
  std::uint64_t seed = 42;
  long long threads = 0;
  app.add_option("--out", out_dir, "Output directory (dunnhumby/ and ipinyou/ go inside)")
      ->capture_default_str();
  app.add_option("--which", which, "Which data set to write")
      ->check(CLI::IsMember({"dunnhumby", "ipinyou", "all"}))
      ->capture_default_str();
  app.add_option("--households", dunnhumby.num_households, "Dunnhumby households")
      ->capture_default_str();
  app.add_option("--weeks", dunnhumby.num_weeks, "Dunnhumby weeks (DAY = 1..7*weeks)")
      ->capture_default_str();
  app.add_option("--products", dunnhumby.num_products, "Dunnhumby catalogue size")
      ->capture_default_str();
  app.add_option("--visit-scale", dunnhumby.visit_scale,
                 "Multiplies every household's visit rate (smaller files, same model)")
      ->capture_default_str();
  app.add_option("--impressions", ipinyou.num_impressions, "iPinYou logged impressions")
      ->capture_default_str();
  app.add_option("--days", ipinyou.num_days, "iPinYou days from 2013-10-19")->capture_default_str();
  app.add_option("--test-days", ipinyou.test_days, "iPinYou last days written to test.log.txt")
      ->capture_default_str();
  app.add_option("--seed", seed, "Random seed (same seed, same files)")->capture_default_str();
  app.add_option("--threads", threads, "Threads (0 = all cores; output does not depend on it)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  dunnhumby.seed = seed;
  ipinyou.seed = seed;
  dunnhumby.num_threads = static_cast<tailor::Index>(threads);
  ipinyou.num_threads = static_cast<tailor::Index>(threads);
  const std::filesystem::path root(out_dir);

  try {
    if (which == "dunnhumby" || which == "all") {
      auto start = std::chrono::steady_clock::now();
      const auto data = synthetic::generate_dunnhumby(dunnhumby);
      const double generate_s = seconds_since(start);
      start = std::chrono::steady_clock::now();
      synthetic::write_dunnhumby(data, root / "dunnhumby");
      const double write_s = seconds_since(start);
      Index treated = 0;
      for (const auto& h : data.households) treated += h.treated ? 1 : 0;
      fmt::print(
          "dunnhumby: {} households, {} weeks, {} transaction rows, {} products, {} "
          "redemptions; TypeA campaign {} (days {}-{}) treats {} households\n"
          "           generated in {:.2f} s, written in {:.2f} s, {:.1f} MB in {}\n",
          data.households.size(), dunnhumby.num_weeks, data.transactions.size(),
          data.products.size(), data.redemptions.size(), data.focal_campaign.campaign,
          data.focal_campaign.start_day, data.focal_campaign.end_day, treated, generate_s, write_s,
          static_cast<double>(directory_bytes(root / "dunnhumby")) / 1e6,
          (root / "dunnhumby").string());
    }
    if (which == "ipinyou" || which == "all") {
      auto start = std::chrono::steady_clock::now();
      const auto data = synthetic::generate_ipinyou(ipinyou);
      const double generate_s = seconds_since(start);
      start = std::chrono::steady_clock::now();
      synthetic::write_ipinyou(data, root / "ipinyou");
      const double write_s = seconds_since(start);
      Index clicks = 0;
      for (const auto& imp : data.impressions) clicks += imp.click;
      fmt::print(
          "ipinyou:   {} impressions ({} train, {} test), {} clicks\n"
          "           generated in {:.2f} s, written in {:.2f} s, {:.1f} MB in {}\n",
          data.impressions.size(), data.num_train,
          static_cast<Index>(data.impressions.size()) - data.num_train, clicks, generate_s, write_s,
          static_cast<double>(directory_bytes(root / "ipinyou")) / 1e6,
          (root / "ipinyou").string());
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "generate_data: {}\n", e.what());
    return 1;
  }
  return 0;
}
