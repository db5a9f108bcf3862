// Contract suite for the base learners (tests/contract/contract.hpp): Ridge, LogisticRegression,
// RegressionForest, ClassificationForest, GradientBoostingRegressor and -Classifier.
#include "contract.hpp"

#include "tailor/learn/classification_forest.hpp"
#include "tailor/learn/gradient_boosting.hpp"
#include "tailor/learn/logistic_regression.hpp"
#include "tailor/learn/regression_forest.hpp"
#include "tailor/learn/ridge.hpp"

namespace {

using namespace tailor::learn;
using contract::CountParameter;
using contract::Matrix;
using contract::Vector;

const auto predict = [](const auto& model, const Matrix& X) { return Matrix(model.predict(X)); };
const auto proba = [](const auto& model, const Matrix& X) { return model.predict_proba(X); };

const contract::Supervised& data(bool labels) {
  static const auto regression = contract::make_supervised(60, 4, false);
  static const auto classification = contract::make_supervised(60, 4, true);
  return labels ? classification : regression;
}

ForestParams forest(tailor::Index threads) {
  ForestParams p;
  p.num_trees = 8;
  p.seed = 3;
  p.num_threads = threads;
  return p;
}

std::vector<CountParameter> forest_counts(bool labels, auto build) {
  const auto& d = data(labels);
  const auto with = [=](auto set) {
    return [=](std::int64_t v) {
      ForestParams p = forest(1);
      set(p, v);
      (void)build(p).fit(d.X, d.y, d.weights);
    };
  };
  return {
      {"num_trees", with([](ForestParams& p, std::int64_t v) { p.num_trees = v; })},
      {"num_threads", with([](ForestParams& p, std::int64_t v) { p.num_threads = v; }), false},
      {"min_node_size", with([](ForestParams& p, std::int64_t v) { p.min_node_size = v; })},
      {"max_bins", with([](ForestParams& p, std::int64_t v) { p.max_bins = v; })},
      {"mtry", with([](ForestParams& p, std::int64_t v) { p.mtry = v; }), false},
  };
}

GradientBoostingParams boosting(tailor::Index threads) {
  GradientBoostingParams p;
  p.max_iter = 10;
  p.min_samples_leaf = 5;
  p.num_threads = threads;
  return p;
}

template <class Learner>
std::vector<CountParameter> boosting_counts(bool labels) {
  const auto& d = data(labels);
  const auto with = [=](auto set) {
    return [=](std::int64_t v) {
      GradientBoostingParams p = boosting(1);
      set(p, v);
      (void)Learner(p).fit(d.X, d.y, d.weights);
    };
  };
  return {
      {"max_iter", with([](GradientBoostingParams& p, std::int64_t v) { p.max_iter = v; })},
      {"max_leaf_nodes",
       with([](GradientBoostingParams& p, std::int64_t v) { p.max_leaf_nodes = v; }), false},
      {"min_samples_leaf",
       with([](GradientBoostingParams& p, std::int64_t v) { p.min_samples_leaf = v; })},
      {"max_bins", with([](GradientBoostingParams& p, std::int64_t v) { p.max_bins = v; })},
      {"max_depth", with([](GradientBoostingParams& p, std::int64_t v) { p.max_depth = v; }),
       false},
      {"n_iter_no_change",
       with([](GradientBoostingParams& p, std::int64_t v) { p.n_iter_no_change = v; })},
      {"num_threads", with([](GradientBoostingParams& p, std::int64_t v) { p.num_threads = v; }),
       false},
  };
}

}  // namespace

TEST_CASE("contract: Ridge", "[contract]") {
  contract::check_supervised("Ridge", [](tailor::Index) { return Ridge(); }, predict, false, {});
}

TEST_CASE("contract: LogisticRegression", "[contract]") {
  const auto& d = data(true);
  contract::check_supervised("LogisticRegression",
                             [](tailor::Index) { return LogisticRegression(); }, proba, true,
                             {{"max_iter", [=](std::int64_t v) {
                                 LogisticRegression::Params p;
                                 p.max_iter = v;
                                 (void)LogisticRegression(p).fit(d.X, d.y, d.weights);
                               }}});
}

TEST_CASE("contract: RegressionForest", "[contract]") {
  contract::check_supervised(
      "RegressionForest", [](tailor::Index t) { return RegressionForest(forest(t)); }, predict,
      false, forest_counts(false, [](const ForestParams& p) { return RegressionForest(p); }));
}

TEST_CASE("contract: ClassificationForest", "[contract]") {
  const auto build = [](const ForestParams& p) {
    ClassificationForestParams c;
    c.forest = p;
    return ClassificationForest(c);
  };
  auto counts = forest_counts(true, build);
  const auto& d = data(true);
  counts.push_back({"num_classes",
                    [=](std::int64_t v) {
                      ClassificationForestParams c;
                      c.forest = forest(1);
                      c.num_classes = v;
                      (void)ClassificationForest(c).fit(d.X, d.y, d.weights);
                    },
                    false});
  contract::check_supervised(
      "ClassificationForest", [=](tailor::Index t) { return build(forest(t)); }, proba, true,
      counts);
}

TEST_CASE("contract: GradientBoostingRegressor", "[contract]") {
  contract::check_supervised(
      "GradientBoostingRegressor",
      [](tailor::Index t) { return GradientBoostingRegressor(boosting(t)); }, predict, false,
      boosting_counts<GradientBoostingRegressor>(false));
}

TEST_CASE("contract: GradientBoostingClassifier", "[contract]") {
  contract::check_supervised(
      "GradientBoostingClassifier",
      [](tailor::Index t) { return GradientBoostingClassifier(boosting(t)); }, proba, true,
      boosting_counts<GradientBoostingClassifier>(true));
}
