// Tests for tailor/learn/ridge.hpp: exact and high-precision reference solutions, weights,
// standardization, bad input, save/load.
#include "tailor/learn/ridge.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>
#include <vector>

#include "tailor/core/random.hpp"
#include "tailor/learn/concepts.hpp"

using tailor::Index;
using tailor::Matrix;
using tailor::Vector;
using tailor::learn::Ridge;

static_assert(tailor::learn::Regressor<Ridge>);

namespace {

struct Problem {
  Matrix X;
  Vector y;
  Vector weights;
};

Problem make_problem(Index n, Index p, std::uint64_t seed) {
  tailor::Rng rng(seed);
  Problem pr{Matrix(n, p), Vector(n), Vector(n)};
  for (Index j = 0; j < p; ++j) {
    const double scale = 1.0 + 3.0 * static_cast<double>(j);  // unequal scales
    for (Index i = 0; i < n; ++i) pr.X(i, j) = scale * rng.normal() + static_cast<double>(j);
  }
  for (Index i = 0; i < n; ++i) {
    double eta = 1.5;
    for (Index j = 0; j < p; ++j) eta += (j % 2 == 0 ? 0.8 : -0.3) * pr.X(i, j);
    pr.y[i] = eta + rng.normal();
    pr.weights[i] = 0.2 + 2.0 * rng.uniform();
  }
  return pr;
}

/// Independent reference: the (p+1)×(p+1) normal equations of the uncentered problem with an
/// intercept column, [1 X]ᵀW[1 X] + diag(0, α s²) solved by Gaussian elimination with partial
/// pivoting in long double. Returns (b, β).
std::vector<long double> reference_ridge(const Problem& pr, double alpha, bool fit_intercept,
                                         bool standardize) {
  const Index n = pr.X.rows();
  const Index p = pr.X.cols();
  const Index q = p + 1;
  std::vector<long double> scale(static_cast<std::size_t>(p), 1.0L);
  if (standardize) {
    long double total = 0;
    for (Index i = 0; i < n; ++i) total += pr.weights[i];
    for (Index j = 0; j < p; ++j) {
      long double mean = 0;
      for (Index i = 0; i < n; ++i) mean += pr.weights[i] * static_cast<long double>(pr.X(i, j));
      mean /= total;
      long double var = 0;
      for (Index i = 0; i < n; ++i) {
        const long double d = pr.X(i, j) - mean;
        var += pr.weights[i] * d * d;
      }
      scale[static_cast<std::size_t>(j)] = std::sqrt(var / total);
    }
  }
  std::vector<std::vector<long double>> a(
      static_cast<std::size_t>(q), std::vector<long double>(static_cast<std::size_t>(q + 1)));
  auto column = [&](Index i, Index k) -> long double {
    return k == 0 ? 1.0L : static_cast<long double>(pr.X(i, k - 1));
  };
  for (Index r = 0; r < q; ++r) {
    for (Index c = 0; c < q; ++c) {
      long double s = 0;
      for (Index i = 0; i < n; ++i) s += pr.weights[i] * column(i, r) * column(i, c);
      a[r][c] = s;
    }
    long double s = 0;
    for (Index i = 0; i < n; ++i) s += pr.weights[i] * column(i, r) * pr.y[i];
    a[r][q] = s;
  }
  for (Index j = 0; j < p; ++j) {
    const long double sj = scale[static_cast<std::size_t>(j)];
    a[j + 1][j + 1] += alpha * sj * sj;
  }
  if (!fit_intercept) {  // drop the intercept: b = 0 row/column
    for (Index c = 0; c <= q; ++c) a[0][c] = 0;
    for (Index r = 0; r < q; ++r) a[r][0] = 0;
    a[0][0] = 1;
  }
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
  std::vector<long double> x(static_cast<std::size_t>(q));
  for (Index k = q - 1; k >= 0; --k) {
    long double s = a[k][q];
    for (Index c = k + 1; c < q; ++c) s -= a[k][c] * x[c];
    x[k] = s / a[k][k];
  }
  return x;
}

void check_against_reference(const Problem& pr, const Ridge::Params& params) {
  const auto model = Ridge(params).fit(pr.X, pr.y, pr.weights);
  const auto ref = reference_ridge(pr, params.alpha, params.fit_intercept, params.standardize);
  CHECK(model.intercept() == Approx(static_cast<double>(ref[0])).margin(1e-9));
  for (Index j = 0; j < pr.X.cols(); ++j) {
    CHECK(std::abs(model.coefficients()[j] - static_cast<double>(ref[j + 1])) <
          1e-9 * (1.0 + std::abs(static_cast<double>(ref[j + 1]))));
  }
}

}  // namespace

TEST_CASE("Ridge recovers an exact linear function with alpha = 0", "[ridge]") {
  auto pr = make_problem(40, 3, 1);
  const Vector beta{{2.0, -1.0, 0.5}};
  pr.y = (pr.X * beta).array() + 3.0;
  const auto model = Ridge({.alpha = 0.0}).fit(pr.X, pr.y, pr.weights);
  CHECK(model.intercept() == Approx(3.0).margin(1e-10));
  for (Index j = 0; j < 3; ++j) CHECK(model.coefficients()[j] == Approx(beta[j]).margin(1e-10));
  CHECK((model.predict(pr.X) - pr.y).cwiseAbs().maxCoeff() < 1e-9);
}

TEST_CASE("Ridge matches a long-double reference of the normal equations", "[ridge]") {
  const auto pr = make_problem(60, 4, 7);
  SECTION("default") {
    check_against_reference(pr, {});
  }
  SECTION("strong penalty") {
    check_against_reference(pr, {.alpha = 250.0});
  }
  SECTION("no intercept") {
    check_against_reference(pr, {.alpha = 2.0, .fit_intercept = false});
  }
  SECTION("standardized") {
    check_against_reference(pr, {.alpha = 30.0, .standardize = true});
  }
  SECTION("alpha = 0") {
    check_against_reference(pr, {.alpha = 0.0});
  }
}

TEST_CASE("Ridge: standardization penalizes the standardized coefficients", "[ridge]") {
  // Rescaling a feature by c must rescale its coefficient by 1/c when standardize = true.
  const auto pr = make_problem(50, 3, 11);
  Problem scaled = pr;
  scaled.X.col(1) *= 1000.0;
  const Ridge ridge({.alpha = 5.0, .standardize = true});
  const auto a = ridge.fit(pr.X, pr.y, pr.weights);
  const auto b = ridge.fit(scaled.X, scaled.y, scaled.weights);
  CHECK(b.coefficients()[1] * 1000.0 == Approx(a.coefficients()[1]).epsilon(1e-9));
  CHECK(b.coefficients()[0] == Approx(a.coefficients()[0]).epsilon(1e-9));
  CHECK(b.intercept() == Approx(a.intercept()).epsilon(1e-9));
}

TEST_CASE("Ridge: integer weights equal duplicated rows, zero weights drop rows", "[ridge]") {
  const auto pr = make_problem(30, 3, 3);
  Vector counts(30);
  for (Index i = 0; i < 30; ++i) counts[i] = static_cast<double>(i % 4);  // 0,1,2,3
  Index total = static_cast<Index>(counts.sum());
  Matrix X_dup(total, 3);
  Vector y_dup(total);
  Index r = 0;
  for (Index i = 0; i < 30; ++i) {
    for (int c = 0; c < static_cast<int>(counts[i]); ++c, ++r) {
      X_dup.row(r) = pr.X.row(i);
      y_dup[r] = pr.y[i];
    }
  }
  const Ridge ridge({.alpha = 3.0, .standardize = true});
  const auto weighted = ridge.fit(pr.X, pr.y, counts);
  const auto duplicated = ridge.fit(X_dup, y_dup, Vector());
  CHECK(weighted.intercept() == Approx(duplicated.intercept()).epsilon(1e-10));
  for (Index j = 0; j < 3; ++j) {
    CHECK(weighted.coefficients()[j] == Approx(duplicated.coefficients()[j]).epsilon(1e-10));
  }
}

TEST_CASE("Ridge rejects bad input with precise messages", "[ridge]") {
  auto pr = make_problem(20, 3, 5);
  const Ridge ridge;
  CHECK_THROWS_WITH(Ridge({.alpha = -1.0}),
                    Catch::Contains("Ridge: alpha = -1, expected a finite value >= 0"));
  CHECK_THROWS_AS(Ridge({.alpha = -1.0}), tailor::InvalidArgument);

  Matrix X_nan = pr.X;
  X_nan(4, 2) = std::nan("");
  CHECK_THROWS_AS(ridge.fit(X_nan, pr.y, pr.weights), tailor::DataError);
  CHECK_THROWS_WITH(ridge.fit(X_nan, pr.y, pr.weights),
                    Catch::Contains("Ridge::fit: X(4, 2) = nan, expected a finite value"));

  const Vector y_short = pr.y.head(19);
  CHECK_THROWS_AS(ridge.fit(pr.X, y_short, pr.weights), tailor::ShapeMismatch);
  CHECK_THROWS_WITH(ridge.fit(pr.X, y_short, pr.weights),
                    Catch::Contains("Ridge::fit: y has 19 rows, expected 20 (the rows of X)"));

  Vector w_bad = pr.weights;
  w_bad[6] = -0.5;
  CHECK_THROWS_WITH(ridge.fit(pr.X, pr.y, w_bad),
                    Catch::Contains("Ridge::fit: weights[6] = -0.5, expected a value >= 0"));
  const Vector w_short = pr.weights.head(5);
  CHECK_THROWS_AS(ridge.fit(pr.X, pr.y, w_short), tailor::ShapeMismatch);
  CHECK_THROWS_WITH(ridge.fit(pr.X, pr.y, Vector::Zero(20)),
                    Catch::Contains("weights sum to 0, expected a positive total"));

  Matrix X_collinear = pr.X;
  X_collinear.col(2) = 2.0 * X_collinear.col(0);
  CHECK_THROWS_AS(Ridge({.alpha = 0.0}).fit(X_collinear, pr.y, pr.weights), tailor::NumericalError);
  CHECK_NOTHROW(Ridge({.alpha = 0.1}).fit(X_collinear, pr.y, pr.weights));

  const auto model = ridge.fit(pr.X, pr.y, pr.weights);
  const Matrix X_wide = Matrix::Zero(3, 4);
  CHECK_THROWS_WITH(model.predict(X_wide),
                    Catch::Contains("RidgeModel::predict: X has 4 columns, expected 3"));
}

TEST_CASE("Ridge: save -> load gives identical predictions; corrupt files throw", "[ridge]") {
  const auto pr = make_problem(25, 3, 9);
  const auto model = Ridge({.alpha = 0.5, .standardize = true}).fit(pr.X, pr.y, pr.weights);
  std::stringstream buffer;
  tailor::save(model, buffer);
  const std::string bytes = buffer.str();
  std::istringstream in(bytes);
  const auto loaded = tailor::load<tailor::learn::RidgeModel>(in);
  CHECK(loaded.intercept() == model.intercept());
  CHECK(loaded.coefficients() == model.coefficients());
  CHECK(loaded.predict(pr.X) == model.predict(pr.X));

  std::istringstream truncated(bytes.substr(0, bytes.size() - 5));
  CHECK_THROWS_AS(tailor::load<tailor::learn::RidgeModel>(truncated), tailor::FormatError);
  std::istringstream garbage(std::string(64, 'x'));
  CHECK_THROWS_WITH(tailor::load<tailor::learn::RidgeModel>(garbage), Catch::Contains("bad magic"));
}
