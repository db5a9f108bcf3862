// Every base learner meets the learner concepts (learn/concepts.hpp) and works with the
// cross-fitting helper (learn/cross_fit.hpp): out-of-fold predictions of real learners.
#include <catch2/catch.hpp>

#include <cmath>

#include "tailor/core/folds.hpp"
#include "tailor/core/metrics.hpp"
#include "tailor/core/random.hpp"
#include "tailor/learn/classification_forest.hpp"
#include "tailor/learn/cross_fit.hpp"
#include "tailor/learn/gradient_boosting.hpp"
#include "tailor/learn/logistic_regression.hpp"
#include "tailor/learn/regression_forest.hpp"
#include "tailor/learn/ridge.hpp"

using namespace tailor;

static_assert(learn::Regressor<learn::Ridge>);
static_assert(learn::Regressor<learn::RegressionForest>);
static_assert(learn::Regressor<learn::GradientBoostingRegressor>);
static_assert(learn::Classifier<learn::LogisticRegression>);
static_assert(learn::Classifier<learn::ClassificationForest>);
static_assert(learn::Classifier<learn::GradientBoostingClassifier>);
static_assert(!learn::Classifier<learn::Ridge>);

namespace {
struct Data {
  Matrix X;
  Vector y, label;
};
// y = 2 x0 − x1 + N(0, 0.1²); label ~ Bernoulli(logistic(2 x0)).
Data make(Index n) {
  Rng rng(3);
  Data d{Matrix(n, 3), Vector(n), Vector(n)};
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < 3; ++j) d.X(i, j) = rng.normal();
    d.y[i] = 2 * d.X(i, 0) - d.X(i, 1) + 0.1 * rng.normal();
    d.label[i] = rng.bernoulli(1 / (1 + std::exp(-2 * d.X(i, 0)))) ? 1.0 : 0.0;
  }
  return d;
}
}  // namespace

TEST_CASE("cross-fitting works with every base learner", "[learn]") {
  const Data d = make(600);
  const Folds folds = kfold(600, 3, 5);
  const Vector none;
  const Vector ridge = learn::cross_fit_predict(learn::Ridge({.alpha = 1e-3}), d.X, d.y, none, folds, 2);
  CHECK(metrics::r2(d.y, ridge) > 0.99);
  const Vector forest = learn::cross_fit_predict(
      learn::RegressionForest({.num_trees = 50, .seed = 1}), d.X, d.y, none, folds, 2);
  CHECK(metrics::r2(d.y, forest) > 0.7);
  const Vector boost = learn::cross_fit_predict(
      learn::GradientBoostingRegressor({.max_iter = 50, .seed = 1}), d.X, d.y, none, folds, 2);
  CHECK(metrics::r2(d.y, boost) > 0.8);

  const Matrix p_logistic =
      learn::cross_fit_predict_proba(learn::LogisticRegression{}, d.X, d.label, none, folds, 2);
  const Matrix p_forest = learn::cross_fit_predict_proba(
      learn::ClassificationForest({.forest = {.num_trees = 50, .seed = 1}}), d.X, d.label, none, folds, 2);
  const Matrix p_boost = learn::cross_fit_predict_proba(
      learn::GradientBoostingClassifier({.max_iter = 30, .seed = 1}), d.X, d.label, none, folds, 2);
  for (const Matrix* p : {&p_logistic, &p_forest, &p_boost}) {
    REQUIRE(p->cols() == 2);
    CHECK((p->rowwise().sum().array() - 1.0).abs().maxCoeff() < 1e-9);
    CHECK(metrics::roc_auc(d.label, p->col(1)) > 0.75);
  }
  // Thread count does not change out-of-fold predictions.
  const Vector forest_1 = learn::cross_fit_predict(
      learn::RegressionForest({.num_trees = 50, .seed = 1}), d.X, d.y, none, folds, 1);
  CHECK(forest_1 == forest);
}
