// Tests for uplift/nuisance.hpp: cross-fitted propensities and outcome models recover a known
// confounded design, make the DR curve unbiased, are deterministic across threads, bad input.
#include "tailor/uplift/nuisance.hpp"

#include <catch2/catch.hpp>

#include <cmath>

#include "tailor/core/random.hpp"

using namespace tailor;
using namespace tailor::uplift;

namespace {
// x ~ U(−1, 1)²; e(x) = σ(1.5 x₁) (logistic, so LogisticRegression is well specified);
// y = 2x₁ + x₂ + w (1 + x₂) + N(0, 1) (linear per arm, so Ridge is well specified). ATE = 1.
struct Design {
  Matrix X;
  Vector w, y, e, tau;
};
Design simulate(Index n, std::uint64_t seed) {
  Rng rng(seed);
  Design d;
  d.X.resize(n, 2), d.w.resize(n), d.y.resize(n), d.e.resize(n), d.tau.resize(n);
  for (Index i = 0; i < n; ++i) {
    d.X(i, 0) = rng.uniform(-1.0, 1.0);
    d.X(i, 1) = rng.uniform(-1.0, 1.0);
    d.e[i] = 1.0 / (1.0 + std::exp(-1.5 * d.X(i, 0)));
    d.w[i] = rng.bernoulli(d.e[i]) ? 1.0 : 0.0;
    d.tau[i] = 1.0 + d.X(i, 1);
    d.y[i] = 2.0 * d.X(i, 0) + d.X(i, 1) + d.w[i] * d.tau[i] + rng.normal();
  }
  return d;
}
}  // namespace

TEST_CASE("cross_fit_nuisance: recovers e, mu0, mu1 and debiases the curves", "[uplift]") {
  const Design d = simulate(4000, 1);
  const Nuisance nu = cross_fit_nuisance(d.X, d.w, d.y, learn::LogisticRegression(), learn::Ridge(),
                                         {.num_folds = 4, .seed = 2, .num_threads = 1});
  REQUIRE(nu.propensity.size() == 4000);
  CHECK((nu.propensity - d.e).cwiseAbs().maxCoeff() < 0.1);
  const Vector mu0_true = 2.0 * d.X.col(0) + d.X.col(1);
  CHECK((nu.mu0 - mu0_true).cwiseAbs().mean() < 0.1);
  CHECK((nu.mu1 - mu0_true - d.tau).cwiseAbs().mean() < 0.1);
  // The whole-population lift with estimated nuisances ≈ ATE = 1; the naive one is biased.
  const double naive = lift_curve(d.y, d.w, d.tau).final_value();
  const double dr = lift_curve(d.y, d.w, d.tau, evaluation_options(nu)).final_value();
  const double ipw = lift_curve(d.y, d.w, d.tau, evaluation_options(nu, false)).final_value();
  CHECK(naive > 1.4);
  CHECK(dr == Approx(1.0).margin(0.08));
  CHECK(ipw == Approx(1.0).margin(0.15));
  // Deterministic: 1 thread == 3 threads bit for bit.
  const Nuisance threaded =
      cross_fit_nuisance(d.X, d.w, d.y, learn::LogisticRegression(), learn::Ridge(),
                         {.num_folds = 4, .seed = 2, .num_threads = 3});
  CHECK(threaded.propensity == nu.propensity);
  CHECK(threaded.mu0 == nu.mu0);
  CHECK(threaded.mu1 == nu.mu1);
  // Propensities are clipped.
  const Nuisance clipped = cross_fit_nuisance(d.X, d.w, d.y, learn::LogisticRegression(),
                                              learn::Ridge(), {.num_folds = 4, .clip = 0.3});
  CHECK(clipped.propensity.minCoeff() >= 0.3);
  CHECK(clipped.propensity.maxCoeff() <= 0.7);
}

TEST_CASE("cross_fit_nuisance: sample weights reach every nuisance model", "[uplift]") {
  // A third of the rows is contaminated (outcome +10, treatment flipped to 1) and carries weight
  // 0: the weighted nuisances recover the clean μ̂₀, μ̂₁ and ê; unweighted ones cannot.
  Design d = simulate(3000, 5);
  Vector weights = Vector::Ones(3000);
  Vector y = d.y;
  Vector w = d.w;
  for (Index i = 0; i < 3000; i += 3) {
    y[i] += 10.0;
    w[i] = 1.0;
    weights[i] = 0.0;
  }
  const NuisanceParams params{.num_folds = 3, .seed = 4, .num_threads = 2};
  const Nuisance weighted =
      cross_fit_nuisance(d.X, w, y, learn::LogisticRegression(), learn::Ridge(), params, weights);
  const Nuisance unweighted =
      cross_fit_nuisance(d.X, w, y, learn::LogisticRegression(), learn::Ridge(), params);
  const Vector mu0_true = 2.0 * d.X.col(0) + d.X.col(1);
  CHECK((weighted.mu0 - mu0_true).cwiseAbs().mean() < 0.1);
  CHECK((weighted.mu1 - mu0_true - d.tau).cwiseAbs().mean() < 0.15);
  CHECK((weighted.propensity - d.e).cwiseAbs().mean() < 0.05);
  CHECK((unweighted.mu1 - mu0_true - d.tau).cwiseAbs().mean() > 2.0);
  CHECK((unweighted.propensity - d.e).cwiseAbs().mean() > 0.1);
  CHECK_THROWS_WITH(
      cross_fit_nuisance(d.X, w, y, learn::LogisticRegression(), learn::Ridge(), params,
                         Vector::Constant(3000, -1.0)),
      Catch::Contains("cross_fit_nuisance: sample_weights[0] = -1, expected a value >= 0"));
}

TEST_CASE("cross_fit_nuisance: bad input", "[uplift]") {
  const Design d = simulate(50, 3);
  CHECK_THROWS_WITH(
      cross_fit_nuisance(d.X, d.w, d.y, learn::LogisticRegression(), learn::Ridge(), {.clip = 0.5}),
      Catch::Contains("cross_fit_nuisance: clip = 0.5, expected a value in (0, 0.5)"));
  CHECK_THROWS_WITH(cross_fit_nuisance(d.X, d.w, d.y, learn::LogisticRegression(), learn::Ridge(),
                                       {.num_folds = 1}),
                    Catch::Contains("num_folds = 1, expected a value in [2,"));
  CHECK_THROWS_AS(cross_fit_nuisance(d.X, d.w.head(49), d.y), ShapeMismatch);
  Vector w = d.w;
  w[7] = 3.0;
  CHECK_THROWS_WITH(cross_fit_nuisance(d.X, w, d.y),
                    Catch::Contains("cross_fit_nuisance: w[7] = 3, expected 0 or 1"));
  Vector y = d.y;
  y[4] = std::nan("");
  CHECK_THROWS_AS(cross_fit_nuisance(d.X, d.w, y), DataError);
}
