// Tests for uplift/uplift_at_k.hpp: hand-computed slices (with fractional rows and ties), the
// scikit-uplift formulas (benchmarks/peers/uplift_metrics_peer.py), DR/IPW slices, bad input.
#include "tailor/uplift/uplift_at_k.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>

#include <cmath>
#include <filesystem>
#include <map>
#include <string>

#include "tailor/core/random.hpp"
#include "tailor/io/csv.hpp"

using namespace tailor;
using namespace tailor::uplift;

namespace {
// Ranked rows (score decreasing in row order): w = 1 0 1 0 1 0, y = 1 0 1 1 0 0.
struct Tiny {
  Vector y{{1, 0, 1, 1, 0, 0}};
  Vector w{{1, 0, 1, 0, 1, 0}};
  Vector score{{0.9, 0.8, 0.7, 0.6, 0.5, 0.4}};
};
}  // namespace

TEST_CASE("uplift_at_k: hand-computed slices", "[uplift]") {
  Tiny d;
  // Top half = rows 0..2: treated {1, 1} -> 1, control {0} -> 0; uplift 1, zero variance.
  auto top = uplift_at_k(d.y, d.w, d.score, 0.5);
  CHECK(top.uplift == Approx(1.0));
  CHECK(top.population == Approx(3.0));
  CHECK(top.n_treated == Approx(2.0));
  CHECK(top.n_control == Approx(1.0));
  CHECK(top.std_error == Approx(0.0).margin(1e-12));
  // Top 4 rows: treated 2/2 = 1, control 1/2 -> 0.5; se² = 0/2 + (0.5·0.5)/2 = 0.125.
  auto four = uplift_at_k(d.y, d.w, d.score, 4.0 / 6.0);
  CHECK(four.uplift == Approx(0.5));
  CHECK(four.std_error == Approx(std::sqrt(0.125)));
  // k = 0.25 -> 1.5 rows: row 0 whole, half of row 1 (control, y = 0): uplift 1 − 0.
  auto frac = uplift_at_k(d.y, d.w, d.score, 0.25);
  CHECK(frac.population == Approx(1.5));
  CHECK(frac.n_control == Approx(0.5));
  CHECK(frac.uplift == Approx(1.0));
  // by_group, k = 0.5: treated ranked y = 1, 1, 0 -> top 1.5 rows mean (1 + 0.5)/1.5 = 1;
  // control ranked y = 0, 1, 0 -> (0 + 0.5·1)/1.5 = 1/3; uplift 2/3.
  auto by_group = uplift_at_k(d.y, d.w, d.score, 0.5, SliceStrategy::by_group);
  CHECK(by_group.mean_treated == Approx(1.0));
  CHECK(by_group.mean_control == Approx(1.0 / 3));
  CHECK(by_group.uplift == Approx(2.0 / 3));
  // k = 1 is the whole-sample difference in means: 2/3 − 1/3.
  CHECK(uplift_at_k(d.y, d.w, d.score, 1.0).uplift == Approx(1.0 / 3));
}

TEST_CASE("uplift_by_bin: hand-computed bins, ties split fractionally", "[uplift]") {
  Tiny d;
  // Three bins of two rows: (T1 y1, C y0) -> 1; (T y1, C y1) -> 0; (T y0, C y0) -> 0.
  const auto bins = uplift_by_bin(d.y, d.w, d.score, 3);
  REQUIRE(bins.size() == 3);
  CHECK(bins[0].uplift == Approx(1.0));
  CHECK(bins[1].uplift == Approx(0.0));
  CHECK(bins[2].uplift == Approx(0.0));
  CHECK(bins[2].upper_share == 1.0);
  // Rows 1 and 2 tied (control y0, treated y1) straddle the boundary between bins 0 and 1:
  // each enters each bin with weight 1/2. Bin 0 = row 0 + ½ row 1 + ½ row 2:
  //   treated (1 + ½)/(1.5) = 1, control 0 -> 1.  Bin 1 = ½ row 1 + ½ row 2 + row 3:
  //   treated 1, control (0·½ + 1)/1.5 = 2/3 -> 1/3.
  d.score[2] = 0.8;
  const auto tied = uplift_by_bin(d.y, d.w, d.score, 3);
  CHECK(tied[0].n_treated == Approx(1.5));
  CHECK(tied[0].uplift == Approx(1.0));
  CHECK(tied[1].uplift == Approx(1.0 / 3));
  // Rows are conserved across bins.
  double total = 0.0;
  for (const auto& b : tied) total += b.population;
  CHECK(total == Approx(6.0));
  // A bin without control rows has an undefined uplift (NaN), not a silent 0.
  const Vector y{{1, 1, 0, 0}};
  const Vector w{{1, 1, 0, 0}};
  const auto split = uplift_by_bin(y, w, Vector{{4, 3, 2, 1}}, 2);
  CHECK(std::isnan(split[0].uplift));
  CHECK(std::isnan(split[0].mean_control));
}

TEST_CASE("uplift_at_k: agrees with scikit-uplift's formulas", "[uplift]") {
  const char* tests_dir = std::getenv("TAILOR_TEST_SOURCE_DIR");  // set by CTest
  const auto dir = (tests_dir ? std::filesystem::path(tests_dir) / "uplift"
                              : std::filesystem::path(__FILE__).parent_path()) /
                   "data";
  const auto data = io::read_csv(dir / "peer_data.csv");
  const auto table = io::read_csv(dir / "peer_expected.csv");
  std::map<std::string, double> expected;
  for (std::size_t r = 0; r < table.num_rows(); ++r) {
    expected[table.strings("name")[r]] = table.numeric("value")[static_cast<Index>(r)];
  }
  const Vector& y = data.numeric("y");
  const Vector& w = data.numeric("w");
  const Vector& s = data.numeric("score");
  CHECK(uplift_at_k(y, w, s, 0.3).uplift ==
        Approx(expected.at("sklift_uplift_at_k_overall_0.3")).margin(1e-12));
  CHECK(uplift_at_k(y, w, s, 0.3, SliceStrategy::by_group).uplift ==
        Approx(expected.at("sklift_uplift_at_k_by_group_0.3")).margin(1e-12));
  for (const auto& [strategy, name] : {std::pair{SliceStrategy::overall, "overall"},
                                       std::pair{SliceStrategy::by_group, "by_group"}}) {
    const auto bins = uplift_by_bin(y, w, s, 10, strategy);
    for (int b = 0; b < 10; ++b) {
      INFO(name << " bin " << b);
      CHECK(bins[static_cast<std::size_t>(b)].uplift ==
            Approx(expected.at(fmt::format("sklift_uplift_by_percentile_{}_{}", name, b)))
                .margin(1e-12));
      CHECK(bins[static_cast<std::size_t>(b)].std_error ==
            Approx(expected.at(fmt::format("sklift_std_uplift_{}_{}", name, b))).margin(1e-12));
    }
  }
}

TEST_CASE("uplift_by_bin: DR deciles recover a planted effect on confounded data", "[uplift]") {
  const Index n = 20000;
  Rng rng(21);
  Vector y(n), w(n), e(n), mu0(n), mu1(n), tau(n);
  for (Index i = 0; i < n; ++i) {
    const double x = rng.uniform(-1.0, 1.0);
    e[i] = 1.0 / (1.0 + std::exp(-2.0 * x));
    w[i] = rng.bernoulli(e[i]) ? 1.0 : 0.0;
    tau[i] = 2.0 * x;
    mu0[i] = 3.0 * x;
    mu1[i] = mu0[i] + tau[i];
    y[i] = mu0[i] + w[i] * tau[i] + rng.normal();
  }
  // Decile b (best first) holds x ∈ [1 − 0.2(b+1), 1 − 0.2b): true mean effect 2·(0.9 − 0.2b).
  const auto dr = uplift_by_bin(y, w, tau, 10, SliceStrategy::overall,
                                {.propensity = e, .mu0 = mu0, .mu1 = mu1});
  const auto ipw = uplift_by_bin(y, w, tau, 10, SliceStrategy::overall, {.propensity = e});
  for (int b = 0; b < 10; ++b) {
    const double truth = 2.0 * (0.9 - 0.2 * b);
    const auto& bin = dr[static_cast<std::size_t>(b)];
    INFO("bin " << b << " dr " << bin.uplift << " se " << bin.std_error);
    CHECK(std::abs(bin.uplift - truth) < 4.0 * bin.std_error + 0.02);
    CHECK(bin.std_error > 0.0);
    CHECK(bin.std_error < 0.2);
    CHECK(std::abs(ipw[static_cast<std::size_t>(b)].uplift - truth) <
          4.0 * ipw[static_cast<std::size_t>(b)].std_error + 0.05);
  }
}

TEST_CASE("uplift_at_k: bad input", "[uplift]") {
  Tiny d;
  CHECK_THROWS_WITH(uplift_at_k(d.y, d.w, d.score, 0.0),
                    Catch::Contains("uplift_at_k: k = 0, expected a share in (0, 1]"));
  CHECK_THROWS_AS(uplift_at_k(d.y, d.w, d.score, 1.5), InvalidArgument);
  CHECK_THROWS_WITH(uplift_by_bin(d.y, d.w, d.score, 0),
                    Catch::Contains("uplift_by_bin: num_bins = 0, expected 1 to 10000000"));
  Vector w = d.w;
  w[3] = 2.0;
  CHECK_THROWS_WITH(uplift_by_bin(d.y, w, d.score),
                    Catch::Contains("uplift_by_bin: w[3] = 2, expected 0 or 1"));
  Vector s = d.score;
  s[0] = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(uplift_at_k(d.y, d.w, s, 0.5),
                    Catch::Contains("uplift_at_k: score[0] = inf, expected a finite value"));
  CHECK_THROWS_AS(uplift_at_k(d.y, Vector::Zero(6), d.score, 0.5), DataError);
}
