// Tests for tailor/learn/logistic_regression.hpp: exact MLE on a 2×2 table, an independent
// long-double Newton reference, stationarity of the penalized objective, separable data,
// weights, bad input, save/load.
#include "tailor/learn/logistic_regression.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>
#include <vector>

#include "tailor/core/random.hpp"
#include "tailor/learn/concepts.hpp"

using tailor::Index;
using tailor::Matrix;
using tailor::Vector;
using tailor::learn::LogisticRegression;
using tailor::learn::LogisticRegressionModel;

static_assert(tailor::learn::Classifier<LogisticRegression>);

namespace {

struct Problem {
  Matrix X;
  Vector y;
  Vector weights;
};

Problem make_problem(Index n, Index p, std::uint64_t seed) {
  tailor::Rng rng(seed);
  Problem pr{Matrix(n, p), Vector(n), Vector(n)};
  for (Index i = 0; i < n; ++i) {
    double eta = -0.4;
    for (Index j = 0; j < p; ++j) {
      pr.X(i, j) = rng.normal() * (1.0 + static_cast<double>(j));
      eta += (j % 2 == 0 ? 0.7 : -0.5) * pr.X(i, j);
    }
    pr.y[i] = rng.uniform() < 1.0 / (1.0 + std::exp(-eta)) ? 1.0 : 0.0;
    pr.weights[i] = 0.3 + 1.5 * rng.uniform();
  }
  return pr;
}

using LongVector = std::vector<long double>;

long double sigmoid_ld(long double z) {
  return 1.0L / (1.0L + std::exp(-z));
}

/// Gradient of the penalized objective at θ = (b, β) in long double.
LongVector penalized_gradient(const Problem& pr, double alpha, const LongVector& theta) {
  const Index n = pr.X.rows();
  const Index p = pr.X.cols();
  LongVector g(static_cast<std::size_t>(p + 1), 0.0L);
  for (Index i = 0; i < n; ++i) {
    long double eta = theta[0];
    for (Index j = 0; j < p; ++j) eta += theta[j + 1] * pr.X(i, j);
    const long double r = pr.weights[i] * (sigmoid_ld(eta) - pr.y[i]);
    g[0] += r;
    for (Index j = 0; j < p; ++j) g[j + 1] += r * pr.X(i, j);
  }
  for (Index j = 0; j < p; ++j) g[j + 1] += alpha * theta[j + 1];
  return g;
}

/// Independent reference: plain (undamped) Newton in long double from θ = 0, Hessian solved by
/// Gaussian elimination, 40 iterations (far more than needed on these well-posed problems).
LongVector reference_logistic(const Problem& pr, double alpha) {
  const Index n = pr.X.rows();
  const Index p = pr.X.cols();
  const Index q = p + 1;
  LongVector theta(static_cast<std::size_t>(q), 0.0L);
  auto column = [&](Index i, Index k) -> long double {
    return k == 0 ? 1.0L : static_cast<long double>(pr.X(i, k - 1));
  };
  for (int iter = 0; iter < 40; ++iter) {
    const LongVector g = penalized_gradient(pr, alpha, theta);
    std::vector<LongVector> a(static_cast<std::size_t>(q),
                              LongVector(static_cast<std::size_t>(q + 1), 0.0L));
    for (Index i = 0; i < n; ++i) {
      long double eta = 0;
      for (Index k = 0; k < q; ++k) eta += theta[k] * column(i, k);
      const long double s = sigmoid_ld(eta);
      const long double d = pr.weights[i] * s * (1.0L - s);
      for (Index r = 0; r < q; ++r) {
        for (Index c = 0; c < q; ++c) a[r][c] += d * column(i, r) * column(i, c);
      }
    }
    for (Index k = 1; k < q; ++k) a[k][k] += alpha;
    for (Index k = 0; k < q; ++k) a[k][q] = -g[k];
    for (Index k = 0; k < q; ++k) {
      Index pivot = k;
      for (Index r = k + 1; r < q; ++r) {
        if (std::fabs(a[r][k]) > std::fabs(a[pivot][k])) pivot = r;
      }
      std::swap(a[k], a[pivot]);
      for (Index r = k + 1; r < q; ++r) {
        const long double f = a[r][k] / a[k][k];
        for (Index c = k; c <= q; ++c) a[r][c] -= f * a[k][c];
      }
    }
    LongVector step(static_cast<std::size_t>(q));
    for (Index k = q - 1; k >= 0; --k) {
      long double s = a[k][q];
      for (Index c = k + 1; c < q; ++c) s -= a[k][c] * step[c];
      step[k] = s / a[k][k];
    }
    for (Index k = 0; k < q; ++k) theta[k] += step[k];
  }
  return theta;
}

LongVector as_theta(const LogisticRegressionModel& model) {
  LongVector theta{model.intercept()};
  for (Index j = 0; j < model.num_features(); ++j) theta.push_back(model.coefficients()[j]);
  return theta;
}

}  // namespace

TEST_CASE("LogisticRegression: exact MLE on a weighted 2x2 table (alpha = 0)", "[logistic]") {
  // One binary feature; the MLE is b = logit(P̂(y=1 | x=0)), β = logit(P̂(y=1 | x=1)) − b.
  Matrix X(6, 1);
  X << 0, 0, 0, 1, 1, 1;
  const Vector y{{0, 1, 1, 0, 1, 0}};
  const Vector w{{1.0, 2.0, 0.5, 3.0, 1.0, 1.0}};
  const auto model = LogisticRegression({.alpha = 0.0}).fit(X, y, w);
  const double p0 = 2.5 / 3.5;  // weight of y=1 among x=0
  const double p1 = 1.0 / 5.0;
  const double b = std::log(p0 / (1 - p0));
  CHECK(model.converged());
  CHECK(model.intercept() == Approx(b).margin(1e-9));
  CHECK(model.coefficients()[0] == Approx(std::log(p1 / (1 - p1)) - b).margin(1e-9));
  const Matrix proba = model.predict_proba(X);
  CHECK(proba(0, 1) == Approx(p0).margin(1e-12));
  CHECK(proba(5, 1) == Approx(p1).margin(1e-12));
  CHECK((proba.rowwise().sum().array() - 1.0).abs().maxCoeff() < 1e-15);
  CHECK(model.num_classes() == 2);
}

TEST_CASE("LogisticRegression matches an independent long-double Newton solution", "[logistic]") {
  const auto pr = make_problem(120, 3, 21);
  for (const double alpha : {0.0, 0.5, 10.0}) {
    INFO("alpha = " << alpha);
    const auto model = LogisticRegression({.alpha = alpha}).fit(pr.X, pr.y, pr.weights);
    CHECK(model.converged());
    const LongVector ref = reference_logistic(pr, alpha);
    const LongVector theta = as_theta(model);
    for (std::size_t k = 0; k < ref.size(); ++k) {
      CHECK(std::fabs(theta[k] - ref[k]) < 1e-6L * (1.0L + std::fabs(ref[k])));
      CHECK(std::fabs(theta[k] - ref[k]) < 1e-9L);
    }
    // Stationarity of the penalized objective at the returned solution.
    for (const long double g : penalized_gradient(pr, alpha, theta)) CHECK(std::fabs(g) < 1e-8L);
  }
}

TEST_CASE("LogisticRegression without intercept solves the intercept-free problem", "[logistic]") {
  const auto pr = make_problem(80, 2, 4);
  const auto model =
      LogisticRegression({.alpha = 1.0, .fit_intercept = false}).fit(pr.X, pr.y, pr.weights);
  CHECK(model.intercept() == 0.0);
  INFO("converged " << model.converged() << " iterations " << model.iterations());
  CHECK(model.converged());
  // The gradient in the β directions vanishes (the intercept's component need not).
  const LongVector g = penalized_gradient(pr, 1.0, as_theta(model));
  CHECK(std::fabs(g[1]) < 1e-8L);
  CHECK(std::fabs(g[2]) < 1e-8L);
}

TEST_CASE("LogisticRegression converges on perfectly separable data", "[logistic]") {
  Matrix X(40, 2);
  Vector y(40);
  tailor::Rng rng(3);
  for (Index i = 0; i < 40; ++i) {
    X(i, 0) = rng.normal();
    X(i, 1) = rng.normal();
    y[i] = X(i, 0) + 0.5 * X(i, 1) > 0.0 ? 1.0 : 0.0;
    X(i, 0) += y[i] == 1.0 ? 0.5 : -0.5;  // a margin of width 1 along x₀
  }
  const Problem pr{X, y, Vector::Ones(40)};
  const auto model = LogisticRegression({.alpha = 0.01}).fit(X, y, Vector());
  CHECK(model.converged());
  CHECK(model.iterations() < 100);
  CHECK(model.coefficients().allFinite());
  for (const long double g : penalized_gradient(pr, 0.01, as_theta(model))) {
    CHECK(std::fabs(g) < 1e-7L);
  }
  const Vector p = model.predict(X);
  for (Index i = 0; i < 40; ++i) CHECK((p[i] > 0.5) == (y[i] == 1.0));
  // Without a penalty the MLE does not exist: the coefficients run off towards infinity until
  // the probabilities saturate; the fit must not throw and must separate the classes.
  const auto mle = LogisticRegression({.alpha = 0.0, .max_iter = 50}).fit(X, y, Vector());
  CHECK(mle.coefficients().norm() > 2.0 * model.coefficients().norm());
  CHECK((mle.predict(X) - y).cwiseAbs().maxCoeff() < 1e-3);
}

TEST_CASE("LogisticRegression: integer weights equal duplicated rows", "[logistic]") {
  const auto pr = make_problem(50, 2, 8);
  Vector counts(50);
  for (Index i = 0; i < 50; ++i) counts[i] = static_cast<double>((i * 7) % 4);
  const Index total = static_cast<Index>(counts.sum());
  Matrix X_dup(total, 2);
  Vector y_dup(total);
  Index r = 0;
  for (Index i = 0; i < 50; ++i) {
    for (int c = 0; c < static_cast<int>(counts[i]); ++c, ++r) {
      X_dup.row(r) = pr.X.row(i);
      y_dup[r] = pr.y[i];
    }
  }
  const LogisticRegression learner({.alpha = 2.0});
  const auto weighted = learner.fit(pr.X, pr.y, counts);
  const auto duplicated = learner.fit(X_dup, y_dup, Vector());
  CHECK(weighted.intercept() == Approx(duplicated.intercept()).margin(1e-10));
  for (Index j = 0; j < 2; ++j) {
    CHECK(weighted.coefficients()[j] == Approx(duplicated.coefficients()[j]).margin(1e-10));
  }
}

TEST_CASE("LogisticRegression rejects bad input with precise messages", "[logistic]") {
  const auto pr = make_problem(30, 2, 5);
  const LogisticRegression learner;
  CHECK_THROWS_WITH(
      LogisticRegression({.alpha = -0.5}),
      Catch::Contains("LogisticRegression: alpha = -0.5, expected a finite value >= 0"));
  CHECK_THROWS_AS(LogisticRegression({.max_iter = 0}), tailor::InvalidArgument);
  CHECK_THROWS_WITH(LogisticRegression({.tol = 0.0}),
                    Catch::Contains("LogisticRegression: tol = 0, expected a finite value > 0"));

  Vector y_bad = pr.y;
  y_bad[3] = 2.0;
  CHECK_THROWS_AS(learner.fit(pr.X, y_bad, pr.weights), tailor::DataError);
  CHECK_THROWS_WITH(learner.fit(pr.X, y_bad, pr.weights),
                    Catch::Contains("LogisticRegression::fit: y[3] = 2, expected 0 or 1"));
  CHECK_THROWS_WITH(learner.fit(pr.X, Vector::Zero(30), Vector()),
                    Catch::Contains("class 1 has total weight 0"));

  Matrix X_nan = pr.X;
  X_nan(7, 1) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(
      learner.fit(X_nan, pr.y, pr.weights),
      Catch::Contains("LogisticRegression::fit: X(7, 1) = inf, expected a finite value"));
  CHECK_THROWS_AS(learner.fit(pr.X, pr.y.head(10), pr.weights), tailor::ShapeMismatch);
  CHECK_THROWS_WITH(learner.fit(pr.X, pr.y, pr.weights.head(3)),
                    Catch::Contains("weights has 3 rows, expected 30"));

  const auto model = learner.fit(pr.X, pr.y, pr.weights);
  CHECK_THROWS_AS(model.predict_proba(Matrix::Zero(2, 5)), tailor::ShapeMismatch);
}

TEST_CASE("LogisticRegression: save -> load gives identical predictions", "[logistic]") {
  const auto pr = make_problem(40, 3, 13);
  const auto model = LogisticRegression({.alpha = 0.3}).fit(pr.X, pr.y, pr.weights);
  std::stringstream buffer;
  tailor::save(model, buffer);
  const auto loaded = tailor::load<LogisticRegressionModel>(buffer);
  CHECK(loaded.coefficients() == model.coefficients());
  CHECK(loaded.intercept() == model.intercept());
  CHECK(loaded.converged() == model.converged());
  CHECK(loaded.iterations() == model.iterations());
  CHECK(loaded.predict_proba(pr.X) == model.predict_proba(pr.X));
  std::stringstream ridge_like;
  tailor::BinaryWriter writer(ridge_like);
  writer.write_header("learn::Ridge", 1);
  CHECK_THROWS_WITH(tailor::load<LogisticRegressionModel>(ridge_like),
                    Catch::Contains("expected type tag 'learn::LogisticRegression'"));
}
