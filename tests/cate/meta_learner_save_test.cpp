// Tests for the meta-learners' save/load (cate/{s,t,x,r,dr}_learner.hpp and the shared
// SecondStageModel / EffectSummary in meta_learner_common.hpp): save → load gives bit-identical
// predictions, average effects, scores and diagnostics with forest, boosting and linear base
// learners; re-saving reproduces the bytes; truncated, foreign, trailing and corrupt data throw
// FormatError; models over learners without save/load still compile (and have no save).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <iosfwd>
#include <sstream>
#include <string>

#include "tailor/cate/dr_learner.hpp"
#include "tailor/cate/r_learner.hpp"
#include "tailor/cate/s_learner.hpp"
#include "tailor/cate/t_learner.hpp"
#include "tailor/cate/x_learner.hpp"
#include "tailor/core/random.hpp"
#include "tailor/learn/classification_forest.hpp"
#include "tailor/learn/gradient_boosting.hpp"
#include "tailor/learn/logistic_regression.hpp"
#include "tailor/learn/regression_forest.hpp"
#include "tailor/learn/ridge.hpp"

using namespace tailor;
using cate::TargetSample;
using Forest = learn::RegressionForest;
using ForestClassifier = learn::ClassificationForest;
using Boosting = learn::GradientBoostingRegressor;
using BoostingClassifier = learn::GradientBoostingClassifier;

namespace {

struct Sim {
  Matrix X;
  Vector w, y, weights;
};

// τ(x) = 1 + x₀, e(x) = logistic(0.5 x₀), Y = x₁ + W τ(x) + N(0, 1); weights in [0.5, 1.5].
Sim simulate(Index n, std::uint64_t seed) {
  Rng rng(seed);
  Sim s{Matrix(n, 3), Vector(n), Vector(n), Vector(n)};
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < 3; ++j) s.X(i, j) = rng.normal();
    s.w[i] = rng.bernoulli(1.0 / (1.0 + std::exp(-0.5 * s.X(i, 0)))) ? 1.0 : 0.0;
    s.y[i] = s.X(i, 1) + s.w[i] * (1.0 + s.X(i, 0)) + rng.normal();
    s.weights[i] = rng.uniform(0.5, 1.5);
  }
  return s;
}

const cate::MetaLearnerParams kParams{.num_folds = 2, .seed = 3, .num_threads = 2};
const Forest kForest({.num_trees = 8, .min_node_size = 10, .seed = 1, .num_threads = 2});
const ForestClassifier kForestClassifier(
    {.forest = {.num_trees = 8, .min_node_size = 10, .seed = 2, .num_threads = 2}});
const Boosting kBoosting({.max_iter = 8,
                          .max_leaf_nodes = 8,
                          .early_stopping = learn::EarlyStopping::disabled,
                          .num_threads = 2});
const BoostingClassifier kBoostingClassifier({.max_iter = 8,
                                              .max_leaf_nodes = 8,
                                              .early_stopping = learn::EarlyStopping::disabled,
                                              .num_threads = 2});

template <class Model>
std::string bytes_of(const Model& model) {
  std::ostringstream out(std::ios::binary);
  tailor::save(model, out);
  return out.str();
}

template <class Model>
Model load_bytes(const std::string& bytes) {
  std::istringstream in(bytes, std::ios::binary);
  return tailor::load<Model>(in);
}

/// save → load → everything the model reports is bit-identical, and re-saving gives the bytes.
template <class Model>
void check_round_trip(const Model& model, const Matrix& X_new) {
  const std::string bytes = bytes_of(model);
  const Model loaded = load_bytes<Model>(bytes);
  const Vector before = model.predict(X_new);
  const Vector after = loaded.predict(X_new);
  REQUIRE(after.size() == before.size());
  CHECK((after.array() == before.array()).all());
  for (TargetSample target : {TargetSample::all, TargetSample::treated, TargetSample::control}) {
    CHECK(loaded.average_effect(target).value == model.average_effect(target).value);
    CHECK(loaded.average_effect(target).std_error == model.average_effect(target).std_error);
  }
  CHECK((loaded.doubly_robust_scores().array() == model.doubly_robust_scores().array()).all());
  CHECK((loaded.nuisances().propensity.array() == model.nuisances().propensity.array()).all());
  const auto& d0 = model.diagnostics();
  const auto& d1 = loaded.diagnostics();
  CHECK(d1.propensity_auc == d0.propensity_auc);
  CHECK(d1.share_outside == d0.share_outside);
  CHECK(d1.ess_treated == d0.ess_treated);
  CHECK(d1.num_treated == d0.num_treated);
  CHECK(d1.num_clipped == d0.num_clipped);
  CHECK(d1.poor == d0.poor);
  CHECK(d1.verdict == d0.verdict);
  CHECK(bytes_of(loaded) == bytes);
}

template <class M>
concept CanSave = requires(const M& model, std::ostream& out) {
  tailor::save(model, out);
};
template <class M>
concept CanLoad = requires(std::istream& in) {
  tailor::load<M>(in);
};

/// A base learner without save/load: predicts the weighted mean.
struct MeanRegressor {
  struct Model {
    double mean = 0.0;
    Vector predict(const MatrixRef& X) const { return Vector::Constant(X.rows(), mean); }
  };
  Model fit(const MatrixRef&, const VectorRef& y, const VectorRef&) const { return {y.mean()}; }
};

}  // namespace

TEST_CASE("S/T/X/R/DR models with forests: save -> load -> identical", "[cate][save]") {
  const Sim train = simulate(300, 1);
  const Sim test = simulate(50, 2);
  const CausalData data(train.X, train.w, train.y);
  SECTION("S") {
    check_round_trip(
        cate::SLearner<Forest, ForestClassifier>(kParams, kForest, kForestClassifier).fit(data),
        test.X);
  }
  SECTION("T") {
    check_round_trip(
        cate::TLearner<Forest, ForestClassifier>(kParams, kForest, kForestClassifier).fit(data),
        test.X);
  }
  SECTION("X") {
    check_round_trip(
        cate::XLearner<Forest, ForestClassifier>(kParams, kForest, kForestClassifier).fit(data),
        test.X);
  }
  SECTION("R") {
    check_round_trip(
        cate::RLearner<Forest, ForestClassifier>(kParams, kForest, kForestClassifier).fit(data),
        test.X);
  }
  SECTION("DR") {
    check_round_trip(
        cate::DRLearner<Forest, ForestClassifier>(kParams, kForest, kForestClassifier).fit(data),
        test.X);
  }
}

TEST_CASE("S/T/X/R/DR models with boosting: save -> load -> identical", "[cate][save]") {
  const Sim train = simulate(300, 3);
  const Sim test = simulate(50, 4);
  const CausalData data(train.X, train.w, train.y);
  using S = cate::SLearner<Boosting, BoostingClassifier>;
  using T = cate::TLearner<Boosting, BoostingClassifier>;
  using X = cate::XLearner<Boosting, BoostingClassifier>;
  using R = cate::RLearner<Boosting, BoostingClassifier>;
  using DR = cate::DRLearner<Boosting, BoostingClassifier>;
  check_round_trip(S(kParams, kBoosting, kBoostingClassifier).fit(data), test.X);
  check_round_trip(T(kParams, kBoosting, kBoostingClassifier).fit(data), test.X);
  check_round_trip(X(kParams, kBoosting, kBoostingClassifier).fit(data), test.X);
  check_round_trip(R(kParams, kBoosting, kBoostingClassifier).fit(data), test.X);
  check_round_trip(DR(kParams, kBoosting, kBoostingClassifier).fit(data), test.X);
}

TEST_CASE("linear learners, mixed effect learners, weights and known propensities round-trip",
          "[cate][save]") {
  const Sim train = simulate(300, 5);
  const Sim test = simulate(50, 6);
  // Sample weights are part of the saved summary (weighted average effects).
  const CausalData weighted(train.X, train.w, train.y, {.sample_weights = train.weights});
  check_round_trip(cate::XLearner<learn::Ridge, learn::LogisticRegression>(kParams).fit(weighted),
                   test.X);
  check_round_trip(cate::RLearner<Forest, learn::LogisticRegression, learn::Ridge>(
                       kParams, kForest, learn::LogisticRegression{}, learn::Ridge{})
                       .fit(weighted),
                   test.X);
  // Known propensities: the X-learner stores no propensity model, only their mean.
  const CausalData known(train.X, train.w, train.y, {.propensity = Vector::Constant(300, 0.4)});
  const auto x_known =
      cate::XLearner<Forest, ForestClassifier>(kParams, kForest, kForestClassifier).fit(known);
  check_round_trip(x_known, test.X);
  const auto x_estimated =
      cate::XLearner<Forest, ForestClassifier>(kParams, kForest, kForestClassifier)
          .fit(CausalData(train.X, train.w, train.y));
  CHECK(bytes_of(x_known).size() < bytes_of(x_estimated).size());
}

TEST_CASE("corrupt meta-learner files throw FormatError", "[cate][save]") {
  const Sim train = simulate(200, 7);
  const CausalData data(train.X, train.w, train.y);
  using TForest = cate::TLearnerModel<Forest>;
  const TForest model =
      cate::TLearner<Forest, ForestClassifier>(kParams, kForest, kForestClassifier).fit(data);
  const std::string bytes = bytes_of(model);

  SECTION("truncated streams") {
    for (std::size_t keep : {std::size_t{0}, std::size_t{5}, std::size_t{40}, bytes.size() / 3,
                             bytes.size() / 2, bytes.size() - 1}) {
      CAPTURE(keep);
      CHECK_THROWS_AS(load_bytes<TForest>(bytes.substr(0, keep)), FormatError);
    }
    CHECK_THROWS_WITH(load_bytes<TForest>(bytes.substr(0, bytes.size() - 1)),
                      Catch::Contains("truncated while reading"));
  }
  SECTION("wrong type tags: another method, another base learner") {
    CHECK_THROWS_AS(load_bytes<cate::SLearnerModel<Forest>>(bytes), FormatError);
    CHECK_THROWS_WITH(
        load_bytes<cate::SLearnerModel<Forest>>(bytes),
        Catch::Contains("expected type tag 'cate::SLearner', found 'cate::TLearner'"));
    CHECK_THROWS_WITH(load_bytes<cate::RLearnerModel<Forest>>(bytes),
                      Catch::Contains("expected type tag 'cate::SecondStageModel', found "
                                      "'cate::TLearner'"));
    CHECK_THROWS_WITH(load_bytes<cate::TLearnerModel<Boosting>>(bytes),
                      Catch::Contains("expected type tag 'learn::GradientBoostingRegressor', "
                                      "found 'learn::RegressionForest'"));
  }
  SECTION("trailing bytes") {
    CHECK_THROWS_WITH(load_bytes<TForest>(bytes + "x"), Catch::Contains("trailing bytes"));
  }
  SECTION("a corrupt training summary") {
    // Layout: magic 8, format 4, tag length 8 + "cate::TLearner" 14, version 4, then y as
    // rows 8, cols 8, 200 doubles, then w as rows 8, cols 8 and w[0].
    const std::size_t w0 = 8 + 4 + 8 + 14 + 4 + 16 + 200 * 8 + 16;
    std::string corrupt = bytes;
    const double half = 0.5;
    std::memcpy(corrupt.data() + w0, &half, sizeof half);  // little-endian hosts
    CHECK_THROWS_WITH(load_bytes<TForest>(corrupt),
                      Catch::Contains("training summary row 0 is corrupt"));
    // A different length for w than for y.
    std::string short_w = bytes;
    const std::uint64_t rows = 199;
    std::memcpy(short_w.data() + w0 - 16, &rows, sizeof rows);
    CHECK_THROWS_AS(load_bytes<TForest>(short_w), FormatError);
  }
}

TEST_CASE("models over learners without save/load compile and have no save", "[cate][save]") {
  static_assert(CanSave<cate::TLearnerModel<Forest>>);
  static_assert(CanLoad<cate::TLearnerModel<Forest>>);
  static_assert(CanSave<cate::XLearnerModel<Forest, ForestClassifier, Forest>>);
  static_assert(!CanSave<cate::TLearnerModel<MeanRegressor>>);
  static_assert(!CanLoad<cate::TLearnerModel<MeanRegressor>>);
  static_assert(!CanSave<cate::SLearnerModel<MeanRegressor>>);
  static_assert(!CanSave<cate::RLearnerModel<MeanRegressor>>);
  static_assert(!CanSave<cate::XLearnerModel<MeanRegressor, ForestClassifier, MeanRegressor>>);
  const Sim train = simulate(200, 9);
  const CausalData data(train.X, train.w, train.y);
  const auto model = cate::TLearner<MeanRegressor, learn::LogisticRegression>(kParams).fit(data);
  // Each arm's model predicts its arm mean, so τ̂ is the difference in means everywhere.
  double treated_sum = 0.0, control_sum = 0.0, treated = 0.0;
  for (Index i = 0; i < 200; ++i) {
    (train.w[i] == 1.0 ? treated_sum : control_sum) += train.y[i];
    treated += train.w[i];
  }
  const double difference = treated_sum / treated - control_sum / (200.0 - treated);
  CHECK(model.predict(train.X.topRows(3))[0] == Approx(difference));
}
