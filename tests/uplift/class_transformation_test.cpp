// Tests for uplift/class_transformation.hpp: the transformed targets recover a planted τ(x)
// (linear, so Ridge / LogisticRegression are well specified), arm balancing, IPW propensities,
// bad input.
#include "tailor/uplift/class_transformation.hpp"

#include <catch2/catch.hpp>

#include <cmath>

#include "tailor/core/random.hpp"

using namespace tailor;
using namespace tailor::uplift;

TEST_CASE("TransformedOutcome: recovers a linear effect, randomized and confounded", "[uplift]") {
  const Index n = 40000;
  Rng rng(1);
  Matrix X(n, 2);
  Vector w(n), y(n), e(n), w_obs(n), y_obs(n);
  for (Index i = 0; i < n; ++i) {
    X(i, 0) = rng.uniform(-1.0, 1.0);
    X(i, 1) = rng.uniform(-1.0, 1.0);
    const double tau = 1.0 + 2.0 * X(i, 0);  // τ(x) = 1 + 2x₁
    w[i] = rng.bernoulli(0.3) ? 1.0 : 0.0;   // unbalanced randomized arm
    y[i] = X(i, 1) + w[i] * tau + rng.normal();
    e[i] = 1.0 / (1.0 + std::exp(-X(i, 1)));  // confounded by x₂
    w_obs[i] = rng.bernoulli(e[i]) ? 1.0 : 0.0;
    y_obs[i] = 2.0 * X(i, 1) + w_obs[i] * tau + rng.normal();
  }
  // E[Z | x] = τ(x) is linear in x: ridge's coefficients ≈ (2, 0), intercept ≈ 1.
  const auto model = TransformedOutcome<learn::Ridge>().fit(X, w, y);
  CHECK(model.regressor().coefficients()[0] == Approx(2.0).margin(0.15));
  CHECK(model.regressor().coefficients()[1] == Approx(0.0).margin(0.15));
  CHECK(model.regressor().intercept() == Approx(1.0).margin(0.1));
  const auto obs = TransformedOutcome<learn::Ridge>().fit(X, w_obs, y_obs, e);
  CHECK(obs.regressor().coefficients()[0] == Approx(2.0).margin(0.15));
  CHECK(obs.regressor().intercept() == Approx(1.0).margin(0.1));
  // Without the propensity the confounder leaks into τ̂ (coefficient on x₂ far from 0).
  const auto naive = TransformedOutcome<learn::Ridge>().fit(X, w_obs, y_obs);
  CHECK(std::abs(naive.regressor().coefficients()[1]) > 0.3);  // measured 0.47
  const Vector tau_hat = model.predict(X.topRows(5));
  for (Index i = 0; i < 5; ++i) CHECK(tau_hat[i] == Approx(1.0 + 2.0 * X(i, 0)).margin(0.3));
}

TEST_CASE("ClassTransformation: 2·P(Z = 1 | x) − 1 tracks τ(x), any treated share", "[uplift]") {
  const Index n = 40000;
  Rng rng(2);
  Matrix X(n, 1);
  Vector w(n), y(n), tau(n);
  for (Index i = 0; i < n; ++i) {
    X(i, 0) = rng.uniform(-1.0, 1.0);
    tau[i] = 0.3 * X(i, 0);
    w[i] = rng.bernoulli(0.25) ? 1.0 : 0.0;
    y[i] = rng.bernoulli(0.4 + w[i] * tau[i]) ? 1.0 : 0.0;
  }
  const auto model = ClassTransformation<learn::LogisticRegression>().fit(X, w, y);
  const Vector grid = Vector::LinSpaced(5, -0.8, 0.8);
  const Vector tau_hat = model.predict(Matrix(grid));
  for (Index k = 0; k < 5; ++k) {
    INFO("x = " << grid[k]);
    CHECK(tau_hat[k] == Approx(0.3 * grid[k]).margin(0.05));
  }
  // Its ranking has a clearly positive Qini coefficient (true τ is monotone in x).
  CHECK(qini_auc_score(y, w, model.predict(X)) > 0.1);
}

TEST_CASE("class transformation: bad input", "[uplift]") {
  Matrix X = Matrix::Random(6, 2);
  const Vector w{{1, 0, 1, 0, 1, 0}};
  const Vector y{{1, 0, 2, 1, 0, 0}};
  CHECK_THROWS_WITH(ClassTransformation<>().fit(X, w, y),
                    Catch::Contains("ClassTransformation::fit: y[2] = 2, expected 0 or 1"));
  CHECK_THROWS_WITH(TransformedOutcome<>().fit(X, w.head(5), y),
                    Catch::Contains("TransformedOutcome::fit: w has 5 rows, expected 6"));
  CHECK_THROWS_WITH(TransformedOutcome<>().fit(X, Vector::Zero(6), y),
                    Catch::Contains("expected both arms present"));
  CHECK_THROWS_WITH(
      TransformedOutcome<>().fit(X, w, y, Vector::Constant(6, 0.0)),
      Catch::Contains("propensity[0] = 0, expected a value strictly between 0 and 1"));
  X(3, 1) = std::nan("");
  CHECK_THROWS_AS(TransformedOutcome<>().fit(X, w, y), DataError);
}
