// Tests for policy/scores.hpp: hand-computed doubly-robust scores (binary and K actions), their
// agreement with tailor::cate's AIPW scores and ATE, and the input checks with their messages.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "tailor/cate/average_effect.hpp"
#include "tailor/core/random.hpp"
#include "tailor/policy/scores.hpp"

using namespace tailor;
using policy::double_robust_scores;

namespace {
// y = [3, 1, 4, 3], w = [1, 0, 1, 0], μ̂₀ = [1, 1, 2, 2], μ̂₁ = [3, 2, 3, 3], ê = [.5, .5, .25, .75]
struct Binary {
  Vector y{{3.0, 1.0, 4.0, 3.0}};
  Vector w{{1.0, 0.0, 1.0, 0.0}};
  Vector mu0{{1.0, 1.0, 2.0, 2.0}};
  Vector mu1{{3.0, 2.0, 3.0, 3.0}};
  Vector e{{0.5, 0.5, 0.25, 0.75}};
};

// K = 3: y = [2, 5, 3], logged actions [0, 2, 1].
struct ThreeActions {
  Vector y{{2.0, 5.0, 3.0}};
  IndexVector actions{{0, 2, 1}};
  Matrix mu{{1.0, 2.0, 3.0}, {4.0, 4.0, 4.0}, {0.0, 1.0, 2.0}};
  Matrix e{{0.5, 0.25, 0.25}, {0.2, 0.3, 0.5}, {0.1, 0.8, 0.1}};
};
}  // namespace

TEST_CASE("binary doubly-robust scores match hand computation", "[policy]") {
  Binary b;
  const Matrix g = double_robust_scores(b.y, b.w, b.mu0, b.mu1, b.e);
  REQUIRE(g.rows() == 4);
  REQUIRE(g.cols() == 2);
  // Γ(·,0) = μ̂₀ + (1−W)(Y−μ̂₀)/(1−ê): [1, 1 + 0/.5, 2, 2 + (3−2)/.25] = [1, 1, 2, 6]
  // Γ(·,1) = μ̂₁ + W(Y−μ̂₁)/ê:         [3 + 0/.5, 2, 3 + (4−3)/.25, 3] = [3, 2, 7, 3]
  CHECK(g(0, 0) == Approx(1.0));
  CHECK(g(1, 0) == Approx(1.0));
  CHECK(g(2, 0) == Approx(2.0));
  CHECK(g(3, 0) == Approx(6.0));
  CHECK(g(0, 1) == Approx(3.0));
  CHECK(g(1, 1) == Approx(2.0));
  CHECK(g(2, 1) == Approx(7.0));
  CHECK(g(3, 1) == Approx(3.0));
}

TEST_CASE("multi-action doubly-robust scores match hand computation", "[policy]") {
  ThreeActions t;
  const Matrix g = double_robust_scores(t.y, t.actions, t.mu, t.e);
  REQUIRE(g.rows() == 3);
  REQUIRE(g.cols() == 3);
  // Only the logged entry is corrected: Γ(0,0) = 1 + (2−1)/.5 = 3; Γ(1,2) = 4 + (5−4)/.5 = 6;
  // Γ(2,1) = 1 + (3−1)/.8 = 3.5. The other entries are μ̂.
  const Matrix expected{{3.0, 2.0, 3.0}, {4.0, 4.0, 6.0}, {0.0, 3.5, 2.0}};
  for (Index i = 0; i < 3; ++i) {
    for (Index a = 0; a < 3; ++a) CHECK(g(i, a) == Approx(expected(i, a)));
  }
}

TEST_CASE("K = 2 scores equal the binary scores, and their difference the AIPW scores",
          "[policy]") {
  const Index n = 300;
  Rng rng(7);
  Vector y(n), w(n), mu0(n), mu1(n), e(n);
  IndexVector actions(n);
  Matrix mu(n, 2), probs(n, 2);
  for (Index i = 0; i < n; ++i) {
    e[i] = rng.uniform(0.05, 0.95);
    w[i] = rng.bernoulli(e[i]) ? 1.0 : 0.0;
    mu0[i] = rng.normal();
    mu1[i] = rng.normal(1.0, 1.0);
    y[i] = rng.normal(w[i] * 0.7, 2.0);
    actions[i] = static_cast<Index>(w[i]);
    mu(i, 0) = mu0[i];
    mu(i, 1) = mu1[i];
    probs(i, 0) = 1.0 - e[i];
    probs(i, 1) = e[i];
  }
  const Matrix binary = double_robust_scores(y, w, mu0, mu1, e);
  const Matrix general = double_robust_scores(y, actions, mu, probs);
  CHECK((binary - general).cwiseAbs().maxCoeff() <= 1e-12);

  const cate::NuisanceEstimates nu{mu0, mu1, e};
  const Vector aipw = cate::aipw_scores(y, w, nu);
  const Vector difference = binary.col(1) - binary.col(0);
  CHECK((aipw - difference).cwiseAbs().maxCoeff() <= 1e-10);
  // Mean of Γ(i,1) − Γ(i,0) is the AIPW ATE.
  const Estimate ate = cate::aipw_average_effect(y, w, nu);
  CHECK(difference.mean() == Approx(ate.value).margin(1e-12));
}

TEST_CASE("doubly-robust scores are unbiased for the action means with true nuisances",
          "[policy]") {
  // Three actions with known means E[Y(a)] = [1, 2, 0.5], logging probabilities [.2, .5, .3];
  // with the true (constant) μ and ê, column means estimate the action values.
  const Index n = 20000;
  const double value[3] = {1.0, 2.0, 0.5};
  Rng rng(11);
  Vector y(n);
  IndexVector actions(n);
  Matrix mu(n, 3), probs(n, 3);
  const std::vector<double> logging{0.2, 0.5, 0.3};
  for (Index i = 0; i < n; ++i) {
    actions[i] = rng.categorical(logging);
    y[i] = rng.normal(value[actions[i]], 1.0);
    for (Index a = 0; a < 3; ++a) {
      mu(i, a) = 0.0;  // a wrong outcome model: the propensities alone make Γ unbiased
      probs(i, a) = logging[static_cast<std::size_t>(a)];
    }
  }
  const Matrix g = double_robust_scores(y, actions, mu, probs);
  for (Index a = 0; a < 3; ++a) {
    const double mean = g.col(a).mean();
    const double se = std::sqrt((g.col(a).array() - mean).square().sum() / (n - 1.0) / n);
    CHECK(std::abs(mean - value[a]) < 4.0 * se);
  }
}

TEST_CASE("binary double_robust_scores rejects bad input with clear messages", "[policy]") {
  Binary b;
  const Vector empty;
  CHECK_THROWS_WITH(double_robust_scores(empty, empty, empty, empty, empty),
                    Catch::Contains("double_robust_scores: y has 0 rows, expected at least 1"));
  CHECK_THROWS_AS(double_robust_scores(empty, empty, empty, empty, empty), DataError);

  const Vector short_w{{1.0, 0.0, 1.0}};
  CHECK_THROWS_AS(double_robust_scores(b.y, short_w, b.mu0, b.mu1, b.e), ShapeMismatch);
  CHECK_THROWS_WITH(double_robust_scores(b.y, short_w, b.mu0, b.mu1, b.e),
                    Catch::Contains("w has 3 rows, expected 4 (the length of y)"));

  Vector mu1 = b.mu1;
  mu1[2] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(double_robust_scores(b.y, b.w, b.mu0, mu1, b.e), DataError);
  CHECK_THROWS_WITH(double_robust_scores(b.y, b.w, b.mu0, mu1, b.e),
                    Catch::Contains("double_robust_scores: mu1[2] = nan, expected a finite value"));

  Vector w = b.w;
  w[3] = 0.5;
  CHECK_THROWS_WITH(double_robust_scores(b.y, w, b.mu0, b.mu1, b.e),
                    Catch::Contains("double_robust_scores: w[3] = 0.5, expected 0 or 1"));

  for (double bad : {0.0, 1.0, 1.5, -0.25}) {
    Vector e = b.e;
    e[1] = bad;
    CHECK_THROWS_AS(double_robust_scores(b.y, b.w, b.mu0, b.mu1, e), DataError);
    CHECK_THROWS_WITH(
        double_robust_scores(b.y, b.w, b.mu0, b.mu1, e),
        Catch::Contains(fmt::format(
            "double_robust_scores: propensity[1] = {}, expected a value in (0, 1)", bad)));
  }
}

TEST_CASE("multi-action double_robust_scores rejects bad input with clear messages", "[policy]") {
  ThreeActions t;
  IndexVector actions = t.actions;
  actions[1] = 3;
  CHECK_THROWS_AS(double_robust_scores(t.y, actions, t.mu, t.e), DataError);
  CHECK_THROWS_WITH(double_robust_scores(t.y, actions, t.mu, t.e),
                    Catch::Contains("double_robust_scores: actions[1] = 3, expected an action in "
                                    "0..2"));
  actions[1] = -1;
  CHECK_THROWS_WITH(double_robust_scores(t.y, actions, t.mu, t.e),
                    Catch::Contains("actions[1] = -1, expected an action in 0..2"));

  Matrix e = t.e;
  e(1, 0) = 1.5;  // not the logged action, still not a probability
  CHECK_THROWS_WITH(double_robust_scores(t.y, t.actions, t.mu, e),
                    Catch::Contains("propensities(1, 0) = 1.5, expected a value in [0, 1]"));
  e = t.e;
  e(2, 0) = 0.0;  // a zero propensity for an action not logged in row 2 is fine
  CHECK_NOTHROW(double_robust_scores(t.y, t.actions, t.mu, e));
  e(2, 1) = 0.0;  // the logged action of row 2
  CHECK_THROWS_AS(double_robust_scores(t.y, t.actions, t.mu, e), DataError);
  CHECK_THROWS_WITH(double_robust_scores(t.y, t.actions, t.mu, e),
                    Catch::Contains("double_robust_scores: propensities(2, 1) = 0, expected a "
                                    "value in (0, 1] (the propensity of the logged action "
                                    "actions[2] = 1)"));
  e = t.e;
  e(0, 2) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(double_robust_scores(t.y, t.actions, t.mu, e),
                    Catch::Contains("propensities(0, 2) = inf, expected a finite value"));

  const Matrix two_columns = t.e.leftCols(2);
  CHECK_THROWS_AS(double_robust_scores(t.y, t.actions, t.mu, two_columns), ShapeMismatch);
  CHECK_THROWS_WITH(double_robust_scores(t.y, t.actions, t.mu, two_columns),
                    Catch::Contains("propensities has 2 columns, expected 3"));
  const Matrix two_rows = t.mu.topRows(2);
  CHECK_THROWS_WITH(double_robust_scores(t.y, t.actions, two_rows, t.e),
                    Catch::Contains("mu has 2 rows, expected 3 (the length of y)"));
  const Matrix no_columns(3, 0);
  CHECK_THROWS_AS(double_robust_scores(t.y, t.actions, no_columns, no_columns), InvalidArgument);
  CHECK_THROWS_WITH(double_robust_scores(t.y, t.actions, no_columns, no_columns),
                    Catch::Contains("mu has 0 columns, expected at least 1 action"));
  const Vector empty;
  const IndexVector no_actions;
  const Matrix no_rows(0, 3);
  CHECK_THROWS_WITH(double_robust_scores(empty, no_actions, no_rows, no_rows),
                    Catch::Contains("y has 0 rows, expected at least 1"));
}
