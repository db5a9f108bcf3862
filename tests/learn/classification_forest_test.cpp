#include "tailor/learn/classification_forest.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <sstream>

#include "tailor/core/random.hpp"
#include "tailor/learn/concepts.hpp"

using tailor::Index;
using tailor::Matrix;
using tailor::Vector;
using tailor::learn::ClassificationForest;
using tailor::learn::ClassificationForestModel;

static_assert(tailor::learn::Classifier<ClassificationForest>);

namespace {

/// K-class softmax model with known probabilities: logit_k = x · B_k, x ~ U[-1, 1]^p.
struct Labeled {
  Matrix X;
  Vector y;
  Matrix proba;
};
Labeled softmax_data(Index n, Index p, const Matrix& B, std::uint64_t seed) {
  tailor::Rng rng(seed);
  const Index K = B.cols();
  Labeled d{Matrix(n, p), Vector(n), Matrix(n, K)};
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < p; ++j) d.X(i, j) = rng.uniform(-1.0, 1.0);
    Eigen::RowVectorXd logits = d.X.row(i).head(B.rows()) * B;
    logits.array() -= logits.maxCoeff();
    Eigen::RowVectorXd e = logits.array().exp();
    d.proba.row(i) = e / e.sum();
    double u = rng.uniform();
    Index label = K - 1;
    for (Index k = 0; k < K; ++k) {
      u -= d.proba(i, k);
      if (u < 0) {
        label = k;
        break;
      }
    }
    d.y[i] = static_cast<double>(label);
  }
  return d;
}

/// Mean over rows of Σ_k (p_k − 1{y = k})².
double brier(const Matrix& proba, const Vector& y) {
  double total = 0.0;
  for (Index i = 0; i < proba.rows(); ++i) {
    for (Index k = 0; k < proba.cols(); ++k) {
      const double target = y[i] == static_cast<double>(k) ? 1.0 : 0.0;
      total += (proba(i, k) - target) * (proba(i, k) - target);
    }
  }
  return total / static_cast<double>(proba.rows());
}

bool bit_identical(const Matrix& a, const Matrix& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(double) * static_cast<std::size_t>(a.size())) == 0;
}

Matrix logistic_coefficients() {
  // Binary: logit P(y = 1) = 2.5 x1 − 2 x2 (class 0 has logit 0); x3, x4 are noise.
  Matrix B = Matrix::Zero(2, 2);
  B(0, 1) = 2.5;
  B(1, 1) = -2.0;
  return B;
}

}  // namespace

TEST_CASE("ClassificationForest: composes the shared ForestParams", "[classification_forest]") {
  const auto classes = ClassificationForest({.forest = {.num_trees = 30}}).forest_params();
  CHECK(classes.num_trees == 30);
  CHECK(classes.max_bins == 256);
  CHECK(classes.honesty);
  CHECK(classes.min_node_size == 5);
  CHECK_THROWS_WITH(ClassificationForest({.forest = {.max_depth = -1}}),
                    Catch::Contains("ClassificationForest: forest.max_depth = -1"));
}

TEST_CASE("ClassificationForest is calibrated on a known logistic model", "[classification]") {
  const Matrix B = logistic_coefficients();
  const auto train = softmax_data(3000, 4, B, 1);
  const auto test = softmax_data(2000, 4, B, 2);
  const ClassificationForest forest({.forest = {.num_trees = 100, .seed = 3, .num_threads = 2}});
  const auto model = forest.fit(train.X, train.y);
  REQUIRE(model.num_classes() == 2);
  const Matrix proba = model.predict_proba(test.X);
  REQUIRE(proba.rows() == 2000);
  REQUIRE(proba.cols() == 2);
  CHECK((proba.rowwise().sum().array() - 1.0).abs().maxCoeff() < 1e-12);
  // The Bayes-optimal Brier score is that of the true probabilities (0.321 here); a
  // well-calibrated forest on 3000 rows stays within 0.02 of it (seed 3: 0.327).
  const double bayes = brier(test.proba, test.y);
  const double forest_brier = brier(proba, test.y);
  CHECK(forest_brier < bayes + 0.02);
  // And the probabilities themselves are close: mean squared error against the truth
  // (seed 3: 0.0057).
  CHECK((proba - test.proba).squaredNorm() / 2000.0 < 0.012);
  // Calibration in the large: the mean predicted probability matches the label frequency.
  CHECK(proba.col(1).mean() == Approx(test.y.mean()).margin(0.03));
  // OOB probabilities exist for the training rows and are about as good.
  REQUIRE(model.oob_proba().rows() == 3000);
  CHECK(brier(model.oob_proba(), train.y) < brier(train.proba, train.y) + 0.04);
  // Labels: argmax of the probabilities.
  const Vector labels = model.predict(test.X.topRows(50));
  for (Index i = 0; i < 50; ++i) CHECK(labels[i] == (proba(i, 1) > proba(i, 0) ? 1.0 : 0.0));
}

TEST_CASE("ClassificationForest: three classes, gini and entropy", "[classification]") {
  Matrix B(2, 3);
  B << 0.0, 3.0, -3.0,  //
      0.0, -1.0, -2.0;
  const auto train = softmax_data(2000, 3, B, 5);
  const auto test = softmax_data(1000, 3, B, 6);
  for (const auto criterion :
       {ClassificationForest::Criterion::gini, ClassificationForest::Criterion::entropy}) {
    const auto model =
        ClassificationForest(
            {.forest = {.num_trees = 60, .seed = 7, .num_threads = 2}, .criterion = criterion})
            .fit(train.X, train.y);
    REQUIRE(model.num_classes() == 3);
    const Matrix proba = model.predict_proba(test.X);
    CHECK((proba.rowwise().sum().array() - 1.0).abs().maxCoeff() < 1e-12);
    CHECK(brier(proba, test.y) < brier(test.proba, test.y) + 0.04);
    // Accuracy close to the Bayes classifier's.
    const Vector bayes_labels = ClassificationForestModel::argmax(test.proba);
    const Vector labels = model.predict(test.X);
    const double bayes_accuracy = (bayes_labels.array() == test.y.array()).cast<double>().mean();
    const double accuracy = (labels.array() == test.y.array()).cast<double>().mean();
    CHECK(accuracy > bayes_accuracy - 0.05);
  }
}

TEST_CASE("ClassificationForest: determinism, save/load", "[classification]") {
  const auto train = softmax_data(400, 4, logistic_coefficients(), 11);
  auto fit = [&](Index threads) {
    return ClassificationForest({.forest = {.num_trees = 16, .seed = 2, .num_threads = threads}})
        .fit(train.X, train.y);
  };
  const auto one = fit(1);
  const auto two = fit(2);
  const auto four = fit(4);
  CHECK(bit_identical(one.predict_proba(train.X), two.predict_proba(train.X)));
  CHECK(bit_identical(one.predict_proba(train.X), four.predict_proba(train.X)));
  CHECK(bit_identical(one.oob_proba(), four.oob_proba()));

  std::stringstream stream;
  tailor::save(one, stream);
  const auto loaded = tailor::load<ClassificationForestModel>(stream);
  CHECK(loaded.num_classes() == 2);
  CHECK(bit_identical(one.predict_proba(train.X), loaded.predict_proba(train.X)));
  CHECK(bit_identical(one.oob_proba(), loaded.oob_proba()));
  const std::string bytes = stream.str();
  std::stringstream truncated(bytes.substr(0, bytes.size() - 100));
  CHECK_THROWS_AS(tailor::load<ClassificationForestModel>(truncated), tailor::FormatError);
}

TEST_CASE("ClassificationForest: bad input", "[classification]") {
  const auto d = softmax_data(40, 2, logistic_coefficients(), 3);
  const ClassificationForest forest({.forest = {.num_trees = 2, .num_threads = 1}});
  Vector y = d.y;
  y[5] = 0.5;
  CHECK_THROWS_WITH(forest.fit(d.X, y),
                    Catch::Contains("ClassificationForest: y[5] = 0.5, expected an integer label"));
  y[5] = -1.0;
  CHECK_THROWS_AS(forest.fit(d.X, y), tailor::DataError);
  y[5] = 2.0;
  CHECK_THROWS_WITH(ClassificationForest({.num_classes = 2}).fit(d.X, y),
                    Catch::Contains("y[5] = 2, expected an integer label 0..1"));
  CHECK_THROWS_WITH(
      ClassificationForest({.num_classes = 1}),
      Catch::Contains("num_classes = 1, expected 0 (from the labels) or 2 to 1000001"));
  CHECK_THROWS_WITH(
      ClassificationForest({.forest = {.num_trees = 0}}),
      Catch::Contains(
          "ClassificationForest: forest.num_trees = 0, expected between 1 and 1000000"));
  CHECK_THROWS_AS(forest.fit(d.X, d.y.head(10)), tailor::ShapeMismatch);
  // All labels 0: still a two-class model, probability 1 for class 0.
  const auto model = forest.fit(d.X, Vector::Zero(40));
  CHECK(model.num_classes() == 2);
  CHECK(model.predict_proba(d.X).col(0).minCoeff() == 1.0);
}
