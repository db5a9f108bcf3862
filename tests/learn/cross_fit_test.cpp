// Tests for tailor/learn/cross_fit.hpp with small learners defined here (closed-form weighted
// least squares, weighted class frequencies, and a learner that records its training rows), so
// the tests depend on no other learner.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include <Eigen/Dense>

#include "tailor/core/random.hpp"
#include "tailor/learn/cross_fit.hpp"

using tailor::Folds;
using tailor::Index;
using tailor::MatrixRef;
using tailor::VectorRef;

namespace {

// Weighted least squares with intercept: β = argmin Σ wᵢ (yᵢ − β₀ − xᵢᵀβ₁)², solved by QR of
// √W·[1 X] (exact for noiseless linear data).
struct LinearModel {
  Eigen::VectorXd beta;
  Eigen::VectorXd predict(const MatrixRef& X) const {
    return (beta[0] + (X * beta.tail(X.cols())).array()).matrix();
  }
};
struct LeastSquares {
  LinearModel fit(const MatrixRef& X, const VectorRef& y, const VectorRef& weights) const {
    const Index n = X.rows();
    Eigen::MatrixXd A(n, X.cols() + 1);
    A.col(0).setOnes();
    A.rightCols(X.cols()) = X;
    Eigen::VectorXd root_w =
        weights.size() == 0 ? Eigen::VectorXd::Ones(n) : Eigen::VectorXd(weights.array().sqrt());
    const Eigen::MatrixXd WA = root_w.asDiagonal() * A;
    const Eigen::VectorXd Wy = root_w.asDiagonal() * y;
    return {WA.colPivHouseholderQr().solve(Wy)};
  }
};
static_assert(tailor::learn::Regressor<LeastSquares>);

// Weighted class frequencies, ignoring X: p_c = Σ_{y=c} w / Σ w over classes 0..max label.
struct FrequencyModel {
  Eigen::RowVectorXd frequency;
  Eigen::MatrixXd predict_proba(const MatrixRef& X) const {
    return frequency.replicate(X.rows(), 1);
  }
  Index num_classes() const { return frequency.size(); }
};
struct ClassFrequency {
  FrequencyModel fit(const MatrixRef&, const VectorRef& y, const VectorRef& weights) const {
    const auto num_classes = static_cast<Index>(y.maxCoeff()) + 1;
    Eigen::RowVectorXd frequency = Eigen::RowVectorXd::Zero(num_classes);
    for (Index i = 0; i < y.size(); ++i) {
      frequency[static_cast<Index>(y[i])] += weights.size() == 0 ? 1.0 : weights[i];
    }
    return {frequency / frequency.sum()};
  }
};
static_assert(tailor::learn::Classifier<ClassFrequency>);

// Remembers the row ids (column 0 of X) it was fitted on; predicts −1 for a row it has seen
// and otherwise the number of training rows, so out-of-fold-ness is checked exactly.
struct IdModel {
  std::vector<double> seen;
  Eigen::VectorXd predict(const MatrixRef& X) const {
    Eigen::VectorXd out(X.rows());
    for (Index i = 0; i < X.rows(); ++i) {
      const bool was_seen = std::binary_search(seen.begin(), seen.end(), X(i, 0));
      out[i] = was_seen ? -1.0 : static_cast<double>(seen.size());
    }
    return out;
  }
};
struct IdRecorder {
  IdModel fit(const MatrixRef& X, const VectorRef&, const VectorRef&) const {
    std::vector<double> seen(X.col(0).data(), X.col(0).data() + X.rows());
    std::sort(seen.begin(), seen.end());
    return {seen};
  }
};

// Returns the wrong number of predictions.
struct BrokenModel {
  Eigen::VectorXd predict(const MatrixRef& X) const { return Eigen::VectorXd::Zero(X.rows() + 1); }
};
struct Broken {
  BrokenModel fit(const MatrixRef&, const VectorRef&, const VectorRef&) const { return {}; }
};

// Throws when its training rows include row id 7 (i.e. in every fold but 7's own).
struct ThrowsOnRow7 {
  LinearModel fit(const MatrixRef& X, const VectorRef&, const VectorRef&) const {
    for (Index i = 0; i < X.rows(); ++i) {
      if (X(i, 0) == 7.0) throw std::runtime_error("saw row 7");
    }
    return {Eigen::VectorXd::Zero(X.cols() + 1)};
  }
};

struct Linear {
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  Eigen::VectorXd noisy;
  Eigen::VectorXd weights;
};
// y = 1 + 2·x₀ − 3·x₁ exactly; `noisy` adds N(0, 1) noise.
Linear make_linear(Index n, std::uint64_t seed) {
  tailor::Rng rng(seed);
  Linear d{Eigen::MatrixXd(n, 2), Eigen::VectorXd(n), Eigen::VectorXd(n), Eigen::VectorXd(n)};
  for (Index i = 0; i < n; ++i) {
    d.X(i, 0) = rng.normal();
    d.X(i, 1) = rng.uniform(-1.0, 1.0);
    d.y[i] = 1.0 + 2.0 * d.X(i, 0) - 3.0 * d.X(i, 1);
    d.noisy[i] = d.y[i] + rng.normal();
    d.weights[i] = rng.uniform(0.5, 2.0);
  }
  return d;
}

Eigen::MatrixXd with_id_column(Index n) {
  Eigen::MatrixXd X(n, 2);
  for (Index i = 0; i < n; ++i) {
    X(i, 0) = static_cast<double>(i);
    X(i, 1) = 0.0;
  }
  return X;
}

}  // namespace

TEST_CASE("cross_fit_predict predicts every row with a model that never saw it", "[cross_fit]") {
  const Index n = 53;
  const Eigen::MatrixXd X = with_id_column(n);
  const Folds folds = tailor::kfold(n, 5, 9);
  for (Index threads : {1, 3}) {
    const Eigen::VectorXd out = tailor::learn::cross_fit_predict(
        IdRecorder{}, X, Eigen::VectorXd::Zero(n), Eigen::VectorXd(), folds, threads);
    for (Index i = 0; i < n; ++i) {
      // Not −1 (row i unseen) and exactly n − |fold(i)| training rows: trained on the rest.
      CHECK(out[i] == static_cast<double>(n - folds.fold_size(folds.fold[i])));
    }
  }
}

TEST_CASE("cross_fit_predict recovers a noiseless linear function", "[cross_fit]") {
  const Linear d = make_linear(60, 1);
  const Eigen::VectorXd out = tailor::learn::cross_fit_predict(
      LeastSquares{}, d.X, d.y, Eigen::VectorXd(), tailor::kfold(60, 4, 2));
  CHECK((out - d.y).cwiseAbs().maxCoeff() < 1e-10);
}

TEST_CASE("cross_fit_predict equals per-fold fits by hand, weighted, any thread count",
          "[cross_fit]") {
  const Index n = 80;
  const Linear d = make_linear(n, 3);
  const Folds folds = tailor::kfold(n, 5, 4);
  const Eigen::VectorXd out =
      tailor::learn::cross_fit_predict(LeastSquares{}, d.X, d.noisy, d.weights, folds, 1);
  for (Index k = 0; k < folds.num_folds; ++k) {
    const auto train = folds.train_rows(k);
    const auto test = folds.test_rows(k);
    Eigen::MatrixXd X_train(static_cast<Index>(train.size()), 2);
    Eigen::VectorXd y_train(X_train.rows()), w_train(X_train.rows());
    for (std::size_t r = 0; r < train.size(); ++r) {
      X_train.row(static_cast<Index>(r)) = d.X.row(train[r]);
      y_train[static_cast<Index>(r)] = d.noisy[train[r]];
      w_train[static_cast<Index>(r)] = d.weights[train[r]];
    }
    const LinearModel model = LeastSquares{}.fit(X_train, y_train, w_train);
    for (Index i : test) {
      const Eigen::MatrixXd row = d.X.row(i);
      CHECK(out[i] == model.predict(row)[0]);  // same arithmetic → same bits
    }
  }
  // The weights matter (a fit without them differs) ...
  const Eigen::VectorXd unweighted =
      tailor::learn::cross_fit_predict(LeastSquares{}, d.X, d.noisy, Eigen::VectorXd(), folds, 1);
  CHECK((unweighted - out).cwiseAbs().maxCoeff() > 1e-6);
  // ... and threads do not.
  for (Index threads : {2, 4, 0}) {
    const Eigen::VectorXd again =
        tailor::learn::cross_fit_predict(LeastSquares{}, d.X, d.noisy, d.weights, folds, threads);
    CHECK(again == out);
  }
}

TEST_CASE("cross_fit_predict_proba by hand with class frequencies", "[cross_fit]") {
  const Eigen::VectorXd labels{{0, 1, 1, 2, 0, 1}};
  const Eigen::MatrixXd X = Eigen::MatrixXd::Zero(6, 1);
  const Folds folds{.num_folds = 3, .fold = {0, 0, 1, 1, 2, 2}};
  const Eigen::MatrixXd p =
      tailor::learn::cross_fit_predict_proba(ClassFrequency{}, X, labels, Eigen::VectorXd(), folds);
  REQUIRE(p.rows() == 6);
  REQUIRE(p.cols() == 3);
  // Fold 0 (rows 0, 1) is fitted on rows 2..5, labels [1, 2, 0, 1] → (1/4, 2/4, 1/4).
  // Fold 1 (rows 2, 3) on rows 0, 1, 4, 5, labels [0, 1, 0, 1] → (1/2, 1/2); class 2 unseen → 0.
  // Fold 2 (rows 4, 5) on rows 0..3, labels [0, 1, 1, 2] → (1/4, 2/4, 1/4).
  const Eigen::MatrixXd expected{{0.25, 0.5, 0.25}, {0.25, 0.5, 0.25}, {0.5, 0.5, 0.0},
                                 {0.5, 0.5, 0.0},   {0.25, 0.5, 0.25}, {0.25, 0.5, 0.25}};
  CHECK(p == expected);

  // Weights [1,1,1,1,2,2]: fold 0 trains on labels [1, 2, 0, 1] with weights [1, 1, 2, 2]
  // → class 0: 2, class 1: 1 + 2 = 3, class 2: 1 (total 6) → (1/3, 1/2, 1/6).
  const Eigen::VectorXd weights{{1, 1, 1, 1, 2, 2}};
  const Eigen::MatrixXd pw =
      tailor::learn::cross_fit_predict_proba(ClassFrequency{}, X, labels, weights, folds, 2);
  CHECK(pw(0, 0) == Approx(1.0 / 3.0));
  CHECK(pw(1, 1) == Approx(0.5));
  CHECK(pw(1, 2) == Approx(1.0 / 6.0));
  // Fold 1 trains on labels [0, 1, 0, 1] with weights [1, 1, 2, 2] → (1/2, 1/2, 0).
  CHECK(pw(2, 0) == Approx(0.5));
  CHECK(pw(3, 2) == 0.0);
}

TEST_CASE("cross_fit_predict_proba is identical for any thread count", "[cross_fit]") {
  const Index n = 90;
  tailor::Rng rng(8);
  Eigen::VectorXd labels(n);
  for (Index i = 0; i < n; ++i) labels[i] = static_cast<double>(rng.uniform_index(3));
  const Folds folds = tailor::stratified_kfold(labels, 6, 1);
  const Eigen::MatrixXd X = Eigen::MatrixXd::Zero(n, 1);
  const Eigen::MatrixXd one =
      tailor::learn::cross_fit_predict_proba(ClassFrequency{}, X, labels, Eigen::VectorXd(), folds);
  for (Index threads : {2, 5, 8}) {
    CHECK(tailor::learn::cross_fit_predict_proba(ClassFrequency{}, X, labels, Eigen::VectorXd(),
                                                 folds, threads) == one);
  }
  CHECK((one.rowwise().sum().array() - 1.0).abs().maxCoeff() < 1e-12);
}

TEST_CASE("cross_fit rejects bad input and propagates learner errors", "[cross_fit]") {
  using tailor::learn::cross_fit_predict;
  using tailor::learn::cross_fit_predict_proba;
  const Linear d = make_linear(20, 5);
  const Folds folds = tailor::kfold(20, 4, 0);
  const Eigen::VectorXd none;
  CHECK_THROWS_WITH(cross_fit_predict(LeastSquares{}, d.X, d.y.head(19), none, folds),
                    Catch::Contains("cross_fit_predict: y has 19 rows, expected 20"));
  CHECK_THROWS_AS(cross_fit_predict(LeastSquares{}, d.X, d.y.head(19), none, folds),
                  tailor::ShapeMismatch);
  CHECK_THROWS_WITH(cross_fit_predict(LeastSquares{}, d.X, d.y, d.weights.head(3), folds),
                    Catch::Contains("cross_fit_predict: weights has 3 rows, expected 20"));
  CHECK_THROWS_WITH(cross_fit_predict(LeastSquares{}, d.X, d.y, none, tailor::kfold(21, 4, 0)),
                    Catch::Contains("cross_fit_predict: folds cover 21 rows, expected 20"));
  CHECK_THROWS_WITH(cross_fit_predict(LeastSquares{}, d.X, d.y, none, folds, -1),
                    Catch::Contains("num_threads = -1"));
  CHECK_THROWS_AS(cross_fit_predict(LeastSquares{}, d.X, d.y, none, folds, -1),
                  tailor::InvalidArgument);
  Eigen::MatrixXd X_nan = d.X;
  X_nan(13, 1) = NAN;
  CHECK_THROWS_WITH(cross_fit_predict(LeastSquares{}, X_nan, d.y, none, folds),
                    Catch::Contains("cross_fit_predict: X(13, 1) = nan, expected a finite value"));
  CHECK_THROWS_WITH(cross_fit_predict(Broken{}, d.X, d.y, none, folds),
                    Catch::Contains("cross_fit_predict: the model fitted without fold 0 returned 6 "
                                    "rows of predictions for 5 rows"));

  const Eigen::VectorXd half{{0, 1, 0.5, 1}};
  const Folds two{.num_folds = 2, .fold = {0, 1, 0, 1}};
  CHECK_THROWS_WITH(
      cross_fit_predict_proba(ClassFrequency{}, Eigen::MatrixXd::Zero(4, 1), half, none, two),
      Catch::Contains("cross_fit_predict_proba: y[2] = 0.5, expected a class label"));
  const Eigen::VectorXd negative{{0, 1, -1, 1}};
  CHECK_THROWS_AS(
      cross_fit_predict_proba(ClassFrequency{}, Eigen::MatrixXd::Zero(4, 1), negative, none, two),
      tailor::DataError);

  // A learner's exception reaches the caller, from any thread, and the pool keeps working.
  const Eigen::MatrixXd X_id = with_id_column(20);
  for (Index threads : {1, 4}) {
    CHECK_THROWS_WITH(cross_fit_predict(ThrowsOnRow7{}, X_id, d.y, none, folds, threads),
                      "saw row 7");
  }
  CHECK(cross_fit_predict(LeastSquares{}, d.X, d.y, none, folds, 4).size() == 20);
}
