// Tests for datasets/causal_designs.hpp: the truths follow the published formulas, draws are
// pinned per row (features, then W, then ε), the same seed gives the same data, bad arguments.
#include "tailor/datasets/causal_designs.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>

using namespace tailor;
using datasets::NieWagerSetup;

TEST_CASE("nie_wager: setup A reproduces its formulas and draw order", "[datasets]") {
  const auto s = datasets::nie_wager(NieWagerSetup::A, 50, 6, 0.5, 3);
  Rng rng(3);
  for (Index i = 0; i < 50; ++i) {
    double x[6];
    for (double& v : x) v = rng.uniform();
    for (Index j = 0; j < 6; ++j) CHECK(s.X(i, j) == x[j]);
    const double e = std::clamp(std::sin(std::numbers::pi * x[0] * x[1]), 0.1, 0.9);
    CHECK(s.propensity[i] == e);
    CHECK(s.tau[i] == 0.5 * (x[0] + x[1]));
    CHECK(s.w[i] == (rng.bernoulli(e) ? 1.0 : 0.0));
    const double b = std::sin(std::numbers::pi * x[0] * x[1]) + 2.0 * (x[2] - 0.5) * (x[2] - 0.5) +
                     x[3] + 0.5 * x[4];
    CHECK(s.y[i] == b + (s.w[i] - 0.5) * s.tau[i] + 0.5 * rng.normal());
  }
}

TEST_CASE("nie_wager and wager_athey: truths and determinism", "[datasets]") {
  const auto b = datasets::nie_wager(NieWagerSetup::B, 2000, 6, 1.0, 1);
  CHECK((b.propensity.array() == 0.5).all());
  const auto c = datasets::nie_wager(NieWagerSetup::C, 2000, 6, 1.0, 1);
  CHECK((c.tau.array() == 1.0).all());
  CHECK(c.propensity.minCoeff() > 0.0);
  CHECK(c.propensity.maxCoeff() < 1.0);
  const auto d = datasets::nie_wager(NieWagerSetup::D, 2000, 6, 1.0, 1);
  CHECK(d.tau.minCoeff() < 0.0);
  CHECK(d.tau.maxCoeff() > 0.0);
  const auto wa = datasets::wager_athey(2000, 10, 1.0, 4);
  CHECK(wa.X.cols() == 10);
  CHECK(wa.tau.minCoeff() >= 1.0);
  CHECK(wa.tau.maxCoeff() <= 4.0);
  CHECK(std::abs(wa.w.mean() - 0.5) < 0.05);
  const auto again = datasets::wager_athey(2000, 10, 1.0, 4);
  CHECK(again.y == wa.y);
  CHECK(datasets::wager_athey(2000, 10, 1.0, 5).y != wa.y);
}

TEST_CASE("datasets: bad arguments", "[datasets]") {
  CHECK_THROWS_WITH(datasets::nie_wager(NieWagerSetup::A, 10, 4),
                    Catch::Contains("nie_wager: p = 4, expected at least 5"));
  CHECK_THROWS_WITH(datasets::nie_wager(NieWagerSetup::A, 0, 6),
                    Catch::Contains("nie_wager: n = 0, expected at least 1"));
  CHECK_THROWS_WITH(datasets::nie_wager(static_cast<NieWagerSetup>('E'), 10, 6),
                    Catch::Contains("setup"));
  CHECK_THROWS_WITH(datasets::wager_athey(10, 1),
                    Catch::Contains("wager_athey: p = 1, expected at least 2"));
  CHECK_THROWS_AS(datasets::wager_athey(10, 2, -1.0), InvalidArgument);
}
