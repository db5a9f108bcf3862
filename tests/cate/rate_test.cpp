// Tests for cate/rate.hpp: hand-computed AUTOC/Qini/TOC on tiny data (with and without ties and
// weights), recovery of the analytic population RATE of an oracle priority, a random priority
// at ≈ 0, bootstrap SE against the Monte-Carlo SD, the bootstrap's definition, paired
// comparisons, determinism across threads, and input validation.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "tailor/cate/average_effect.hpp"
#include "tailor/cate/rate.hpp"
#include "tailor/core/random.hpp"

using namespace tailor;
using cate::RankAverageTreatmentEffect;
using cate::RateParams;
using cate::RateTarget;

namespace {

RateParams small_params(RateTarget target = RateTarget::autoc) {
  return RateParams{.target = target, .num_bootstrap = 50, .seed = 3, .num_threads = 1};
}

struct Sim {
  Vector tau, scores, random_priority;
};

// X₁, X₂ ~ U(0, 1), τ(x) = x₁, μ₀(x) = x₂, e = 1/2, Y = μ₀ + W τ + N(0, 1). Γ are the AIPW scores
// with the true nuisances, so E[Γ | X] = τ(X) exactly. For the oracle priority S = τ the top-q
// mean of τ is 1 − q/2, so TOC(q) = (1 − q)/2, AUTOC = ∫ (1 − q)/2 dq = 1/4 and
// Qini = ∫ q (1 − q)/2 dq = 1/12.
Sim simulate(Index n, std::uint64_t seed) {
  Rng rng(seed);
  Vector y(n), w(n);
  cate::NuisanceEstimates nu{Vector(n), Vector(n), Vector::Constant(n, 0.5)};
  Sim s{Vector(n), Vector(n), Vector(n)};
  for (Index i = 0; i < n; ++i) {
    const double x1 = rng.uniform(), x2 = rng.uniform();
    s.tau[i] = x1;
    nu.mu0[i] = x2;
    nu.mu1[i] = x2 + x1;
    w[i] = rng.bernoulli(0.5) ? 1.0 : 0.0;
    y[i] = x2 + w[i] * x1 + rng.normal();
    s.random_priority[i] = rng.uniform();
  }
  s.scores = cate::aipw_scores(y, w, nu);
  return s;
}

}  // namespace

TEST_CASE("RATE matches hand computation without ties", "[cate][rate]") {
  // Priorities order the rows 0, 2, 3, 1, so the sorted Γ are 4, 3, 0, 1 (mean 2).
  // Cumulative means 4, 3.5, 7/3, 2 → TOC = 2, 1.5, 1/3, 0.
  const Vector priority{{0.9, 0.1, 0.5, 0.3}};
  const Vector scores{{4.0, 1.0, 3.0, 0.0}};
  RateParams params = small_params();
  params.q_grid = {0.25, 0.5, 0.6, 1.0};
  const auto autoc = RankAverageTreatmentEffect(params).evaluate(priority, scores);
  // AUTOC = (2 + 1.5 + 1/3 + 0)/4 = 23/24; by the harmonic rank weights (H₄ − H_{i−1})/4 =
  // 25/48, 13/48, 7/48, 3/48: (4·25 + 3·13 + 0·7 + 1·3)/48 − 2 = 142/48 − 2 = 23/24 as well.
  CHECK(autoc.estimate.value == Approx(23.0 / 24.0));
  CHECK(autoc.target == RateTarget::autoc);
  // TOC at q = .25, .5, .6, 1 is read at the top ⌈4q⌉ = 1, 2, 3, 4 rows.
  REQUIRE(autoc.toc.size() == 4);
  CHECK(autoc.toc[0] == Approx(2.0));
  CHECK(autoc.toc[1] == Approx(1.5));
  CHECK(autoc.toc[2] == Approx(1.0 / 3.0));
  CHECK(autoc.toc[3] == Approx(0.0).margin(1e-12));
  CHECK(autoc.q == params.q_grid);
  // Qini = (1/4)(¼·2 + ½·1.5 + ¾·⅓ + 1·0) = 3/8.
  params.target = RateTarget::qini;
  const auto qini = RankAverageTreatmentEffect(params).evaluate(priority, scores);
  CHECK(qini.estimate.value == Approx(0.375));
  CHECK(qini.target == RateTarget::qini);
  // The reverse ranking is worse than the ranking by Γ itself, which is the best possible.
  const auto reversed = RankAverageTreatmentEffect(small_params()).evaluate(-priority, scores);
  const auto best = RankAverageTreatmentEffect(small_params()).evaluate(scores, scores);
  CHECK(reversed.estimate.value < autoc.estimate.value);
  CHECK(best.estimate.value >= autoc.estimate.value);
}

TEST_CASE("RATE averages Γ over tied priorities", "[cate][rate]") {
  // Rows 1 and 2 tie; their Γ (4 and 0) become their mean 2, so the sorted Γ are 1, 2, 2, 2, 3
  // (mean 2): cumulative means 1, 1.5, 5/3, 7/4, 2 and TOC = −1, −1/2, −1/3, −1/4, 0.
  const Vector priority{{3.0, 2.0, 2.0, 1.0, 0.0}};
  const Vector scores{{1.0, 4.0, 0.0, 2.0, 3.0}};
  const auto autoc = RankAverageTreatmentEffect(small_params()).evaluate(priority, scores);
  CHECK(autoc.estimate.value == Approx(-5.0 / 12.0));  // −(1 + ½ + ⅓ + ¼)/5
  const auto qini =
      RankAverageTreatmentEffect(small_params(RateTarget::qini)).evaluate(priority, scores);
  CHECK(qini.estimate.value == Approx(-0.16));  // (1/5)(−⅕ − ⅕ − ⅕ − ⅕)

  // The order of tied rows does not matter: swap rows 1 and 2.
  const Vector scores_swapped{{1.0, 0.0, 4.0, 2.0, 3.0}};
  CHECK(RankAverageTreatmentEffect(small_params())
            .evaluate(priority, scores_swapped)
            .estimate.value == Approx(-5.0 / 12.0));

  // A constant priority is one tie group: every TOC is 0, and so are the RATE and its SE.
  const Vector constant = Vector::Constant(5, 7.0);
  const auto flat = RankAverageTreatmentEffect(small_params()).evaluate(constant, scores);
  CHECK(flat.estimate.value == Approx(0.0).margin(1e-12));
  CHECK(flat.estimate.std_error == Approx(0.0).margin(1e-12));
  CHECK(flat.toc.cwiseAbs().maxCoeff() == Approx(0.0).margin(1e-12));
}

TEST_CASE("RATE with sample weights matches hand computation", "[cate][rate]") {
  // Sorted Γ 3, 0, 1 with weights 2, 1, 1 (V = 4, weighted mean 7/4): cumulative weights 2, 3, 4,
  // weighted cumulative means 3, 2, 7/4 → TOC = 5/4, 1/4, 0.
  // AUTOC = (2·5/4 + 1·1/4 + 1·0)/4 = 11/16; Qini = (2·(2/4)·5/4 + 1·(3/4)·1/4)/4 = 23/64.
  const Vector priority{{3.0, 2.0, 1.0}};
  const Vector scores{{3.0, 0.0, 1.0}};
  const Vector weights{{2.0, 1.0, 1.0}};
  CHECK(RankAverageTreatmentEffect(small_params())
            .evaluate(priority, scores, weights)
            .estimate.value == Approx(11.0 / 16.0));
  CHECK(RankAverageTreatmentEffect(small_params(RateTarget::qini))
            .evaluate(priority, scores, weights)
            .estimate.value == Approx(23.0 / 64.0));
  // Unit weights are the unweighted estimator; a zero weight drops its row.
  const Vector ones = Vector::Ones(3);
  CHECK(
      RankAverageTreatmentEffect(small_params()).evaluate(priority, scores, ones).estimate.value ==
      Approx(RankAverageTreatmentEffect(small_params()).evaluate(priority, scores).estimate.value));
  const Vector drop_middle{{1.0, 0.0, 1.0}};
  const Vector kept_priority{{3.0, 1.0}};
  const Vector kept_scores{{3.0, 1.0}};
  CHECK(RankAverageTreatmentEffect(small_params())
            .evaluate(priority, scores, drop_middle)
            .estimate.value == Approx(RankAverageTreatmentEffect(small_params())
                                          .evaluate(kept_priority, kept_scores)
                                          .estimate.value));
}

TEST_CASE("a bootstrap replicate is the estimator on a resample drawn with Rng(seed, b)",
          "[cate][rate]") {
  const Sim s = simulate(60, 11);
  const RateParams params = small_params();
  const auto result = RankAverageTreatmentEffect(params).evaluate(s.tau, s.scores);
  REQUIRE(result.bootstrap_estimates.size() == params.num_bootstrap);
  for (std::uint64_t b : {0u, 7u}) {
    Rng rng(params.seed, b);
    Vector priority(60), scores(60);
    for (Index t = 0; t < 60; ++t) {
      const auto i = static_cast<Index>(rng.uniform_index(60));
      priority[t] = s.tau[i];
      scores[t] = s.scores[i];
    }
    const double direct =
        RankAverageTreatmentEffect(params).evaluate(priority, scores).estimate.value;
    CHECK(result.bootstrap_estimates[static_cast<Index>(b)] == Approx(direct).epsilon(1e-10));
  }
  // The reported SE is the SD of the replicates.
  const Vector& reps = result.bootstrap_estimates;
  const double sd = std::sqrt((reps.array() - reps.mean()).square().sum() / (reps.size() - 1));
  CHECK(result.estimate.std_error == Approx(sd));
}

TEST_CASE("the oracle priority recovers the population RATE; a random one gives 0",
          "[cate][rate]") {
  const Sim s = simulate(4000, 21);
  RateParams params{.num_bootstrap = 200, .seed = 5, .num_threads = 2};
  const auto autoc = RankAverageTreatmentEffect(params).evaluate(s.tau, s.scores);
  CHECK(autoc.estimate.std_error > 0.0);
  CHECK(autoc.estimate.std_error < 0.06);
  CHECK(std::abs(autoc.estimate.value - 0.25) < 3.0 * autoc.estimate.std_error);
  // TOC(q) = (1 − q)/2 on the grid, within 4 bootstrap SE.
  for (Index k = 0; k < autoc.toc.size(); ++k) {
    const double q = autoc.q[static_cast<std::size_t>(k)];
    CHECK(std::abs(autoc.toc[k] - (1.0 - q) / 2.0) <= 4.0 * autoc.toc_std_error[k] + 1e-12);
  }
  params.target = RateTarget::qini;
  const auto qini = RankAverageTreatmentEffect(params).evaluate(s.tau, s.scores);
  CHECK(std::abs(qini.estimate.value - 1.0 / 12.0) < 3.0 * qini.estimate.std_error);
  CHECK(qini.estimate.value > 3.0 * qini.estimate.std_error);  // significant

  params.target = RateTarget::autoc;
  const auto random = RankAverageTreatmentEffect(params).evaluate(s.random_priority, s.scores);
  CHECK(std::abs(random.estimate.value) < 3.0 * random.estimate.std_error);

  // Paired comparison: oracle − random ≈ 1/4; identical rules differ by exactly 0 with SE 0.
  const auto cmp = RankAverageTreatmentEffect(params).compare(s.tau, s.random_priority, s.scores);
  CHECK(cmp.difference.value == cmp.first.estimate.value - cmp.second.estimate.value);
  CHECK(cmp.first.estimate.value == autoc.estimate.value);
  CHECK(std::abs(cmp.difference.value - 0.25) < 3.0 * cmp.difference.std_error);
  CHECK(cmp.difference.value > 3.0 * cmp.difference.std_error);
  const auto same = RankAverageTreatmentEffect(params).compare(s.tau, s.tau, s.scores);
  CHECK(same.difference.value == 0.0);
  CHECK(same.difference.std_error == 0.0);
  // Pairing: two nearly identical rules have a far smaller SE for their difference than the
  // unpaired √(se₁² + se₂²).
  Vector perturbed = s.tau;
  Rng rng(99);
  for (Index i = 0; i < perturbed.size(); ++i) perturbed[i] += 0.02 * rng.normal();
  const auto close = RankAverageTreatmentEffect(params).compare(s.tau, perturbed, s.scores);
  const double unpaired =
      std::hypot(close.first.estimate.std_error, close.second.estimate.std_error);
  CHECK(close.difference.std_error < 0.25 * unpaired);
}

TEST_CASE("the bootstrap SE is close to the Monte-Carlo SD over repeated draws", "[cate][rate]") {
  constexpr int kDraws = 200;
  const RateParams params{.num_bootstrap = 100, .seed = 8, .num_threads = 2};
  const RankAverageTreatmentEffect rate(params);
  std::vector<double> estimates, std_errors;
  for (int r = 0; r < kDraws; ++r) {
    const Sim s = simulate(400, 1000 + static_cast<std::uint64_t>(r));
    const auto result = rate.evaluate(s.tau, s.scores);
    estimates.push_back(result.estimate.value);
    std_errors.push_back(result.estimate.std_error);
  }
  const Eigen::Map<const Vector> e(estimates.data(), kDraws);
  const double mc_sd = std::sqrt((e.array() - e.mean()).square().sum() / (kDraws - 1));
  const double mean_se = Eigen::Map<const Vector>(std_errors.data(), kDraws).mean();
  CHECK(mean_se / mc_sd > 0.8);
  CHECK(mean_se / mc_sd < 1.25);
  // The estimator is nearly unbiased for the population AUTOC 1/4 at n = 400.
  CHECK(std::abs(e.mean() - 0.25) < 3.0 * mc_sd / std::sqrt(double{kDraws}) + 0.01);
}

TEST_CASE("RATE is deterministic and identical for every num_threads", "[cate][rate]") {
  const Sim s = simulate(500, 31);
  auto run = [&](Index threads, std::uint64_t seed) {
    return RankAverageTreatmentEffect({.num_bootstrap = 64, .seed = seed, .num_threads = threads})
        .compare(s.tau, s.random_priority, s.scores);
  };
  const auto one = run(1, 4);
  for (Index threads : {2, 4}) {
    const auto many = run(threads, 4);
    CHECK(many.difference.std_error == one.difference.std_error);
    CHECK(many.first.estimate.std_error == one.first.estimate.std_error);
    CHECK((many.first.bootstrap_estimates.array() == one.first.bootstrap_estimates.array()).all());
    CHECK((many.second.toc_std_error.array() == one.second.toc_std_error.array()).all());
  }
  const auto again = run(1, 4);
  CHECK((again.second.bootstrap_estimates.array() == one.second.bootstrap_estimates.array()).all());
  const auto other_seed = run(1, 5);
  CHECK(other_seed.first.estimate.value == one.first.estimate.value);
  CHECK(other_seed.first.estimate.std_error != one.first.estimate.std_error);
}

TEST_CASE("RATE rejects bad input with messages naming argument, index and expectation",
          "[cate][rate]") {
  const Vector priority{{0.9, 0.1, 0.5, 0.3}};
  const Vector scores{{4.0, 1.0, 3.0, 0.0}};
  const RankAverageTreatmentEffect rate(small_params());

  CHECK_THROWS_WITH(rate.evaluate(Vector{{1.0, 2.0, 3.0}}, scores),
                    Catch::Contains("RankAverageTreatmentEffect: priority has 3 rows, expected 4 "
                                    "(the length of dr_scores)"));
  CHECK_THROWS_AS(rate.evaluate(Vector{{1.0, 2.0, 3.0}}, scores), ShapeMismatch);
  CHECK_THROWS_AS(rate.evaluate(Vector(), Vector()), DataError);
  CHECK_THROWS_WITH(rate.evaluate(Vector(), Vector()),
                    Catch::Contains("dr_scores has 0 rows, expected at least 1"));
  Vector bad_scores = scores;
  bad_scores[2] = std::nan("");
  CHECK_THROWS_WITH(rate.evaluate(priority, bad_scores),
                    Catch::Contains("dr_scores[2] = nan, expected a finite value"));
  Vector bad_priority = priority;
  bad_priority[1] = INFINITY;
  CHECK_THROWS_AS(rate.evaluate(bad_priority, scores), DataError);
  CHECK_THROWS_WITH(rate.evaluate(bad_priority, scores),
                    Catch::Contains("priority[1] = inf, expected a finite value"));
  CHECK_THROWS_WITH(rate.evaluate(priority, scores, Vector{{1.0, -1.0, 1.0, 1.0}}),
                    Catch::Contains("sample_weights[1] = -1, expected a value >= 0"));
  CHECK_THROWS_WITH(rate.evaluate(priority, scores, Vector{{1.0, 1.0}}),
                    Catch::Contains("sample_weights has 2 rows, expected 4"));
  CHECK_THROWS_WITH(rate.evaluate(priority, scores, Vector::Zero(4)),
                    Catch::Contains("sample_weights sum to 0, expected a positive total"));
  CHECK_THROWS_WITH(rate.compare(priority, Vector{{1.0}}, scores),
                    Catch::Contains("priority_b has 1 rows, expected 4"));

  CHECK_THROWS_AS(RankAverageTreatmentEffect({.num_bootstrap = 1}), InvalidArgument);
  CHECK_THROWS_WITH(RankAverageTreatmentEffect({.num_bootstrap = 1}),
                    Catch::Contains("RankAverageTreatmentEffect: num_bootstrap = 1, expected 2 "
                                    "to 1000000"));
  // An absurd count is refused up front, not allocated (10^12 resamples).
  CHECK_THROWS_AS(RankAverageTreatmentEffect({.num_bootstrap = 1'000'000'000'000}),
                  InvalidArgument);
  CHECK_THROWS_WITH(RankAverageTreatmentEffect({.q_grid = {0.5, 0.0}}),
                    Catch::Contains("q_grid[1] = 0, expected a value in (0, 1]"));
  CHECK_THROWS_WITH(RankAverageTreatmentEffect({.q_grid = {0.5, 1.5}}),
                    Catch::Contains("q_grid[1] = 1.5, expected a value in (0, 1]"));
  CHECK_THROWS_WITH(RankAverageTreatmentEffect({.q_grid = {0.5, 0.2}}),
                    Catch::Contains("q_grid[1] = 0.2, expected a value greater than q_grid[0] = "
                                    "0.5"));
  CHECK_THROWS_WITH(RankAverageTreatmentEffect({.q_grid = {}}), Catch::Contains("q_grid is empty"));
  CHECK_THROWS_WITH(RankAverageTreatmentEffect({.num_threads = -1}),
                    Catch::Contains("num_threads = -1, expected 0 (all cores)"));
  CHECK_THROWS_WITH(RankAverageTreatmentEffect({.target = static_cast<RateTarget>(7)}),
                    Catch::Contains("target = 7, expected autoc or qini"));
}
