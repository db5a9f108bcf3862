// Tests for pipeline/targeting_pipeline.hpp on simulated data with a known optimal policy:
// Y = x1 + W·τ(x) + N(0, 0.5²), τ(x) = x0, e(x) = σ(0.5·x1) (confounded through x1). With no
// cost the optimal policy treats x0 > 0; its value is E[Y(0)] + E[max(x0, 0)] = 1/√(2π) per unit.
// T-learners on ridge regressions are correctly specified here (fast and tight); one case runs
// a small causal forest.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "tailor/cate/causal_forest.hpp"
#include "tailor/cate/t_learner.hpp"
#include "tailor/core/random.hpp"
#include "tailor/learn/logistic_regression.hpp"
#include "tailor/learn/ridge.hpp"
#include "tailor/pipeline.hpp"

using namespace tailor;
using TRidge = cate::TLearner<learn::Ridge, learn::LogisticRegression>;
using Pipeline = pipeline::TargetingPipeline<TRidge>;

namespace {

struct Sim {
  Matrix X;
  Vector w, y, tau, mu0;
};

Sim simulate(Index n, std::uint64_t seed) {
  Rng rng(seed);
  Sim s;
  s.X.resize(n, 3);
  s.w.resize(n);
  s.y.resize(n);
  s.tau.resize(n);
  s.mu0.resize(n);
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < 3; ++j) s.X(i, j) = rng.normal();
    const double e = 1.0 / (1.0 + std::exp(-0.5 * s.X(i, 1)));
    s.w[i] = rng.bernoulli(e) ? 1.0 : 0.0;
    s.tau[i] = s.X(i, 0);
    s.mu0[i] = s.X(i, 1);
    s.y[i] = s.mu0[i] + s.w[i] * s.tau[i] + 0.5 * rng.normal();
  }
  return s;
}

Pipeline::Params base_params() {
  return {.effect = TRidge({.num_folds = 3, .seed = 3}, learn::Ridge({.alpha = 1e-3})),
          .num_folds = 3,
          .seed = 11,
          .num_threads = 1};
}

/// The true (sample) value of decisions `treat`: mean of μ₀ + τ·treat − c·treat.
double true_value(const Sim& s, const IndexVector& treat, const Vector& costs) {
  double total = 0.0;
  for (Index i = 0; i < treat.size(); ++i) {
    total += s.mu0[i] + (treat[i] == 1 ? s.tau[i] - costs[i] : 0.0);
  }
  return total / static_cast<double>(treat.size());
}

}  // namespace

TEST_CASE("targeting pipeline: treat-if-above finds the x0 > 0 half and values it", "[pipeline]") {
  const Sim s = simulate(2000, 1);
  const CausalData data(s.X, s.w, s.y);
  const auto result = Pipeline(base_params()).fit(data);
  const Index n = data.num_rows();

  // Out-of-fold CATE close to τ(x) = x0.
  CHECK(std::sqrt((result.cate - s.tau).squaredNorm() / static_cast<double>(n)) < 0.15);
  // The policy treats (almost exactly) the x0 > 0 half.
  Index agree = 0;
  for (Index i = 0; i < n; ++i) agree += (result.treat[i] == 1) == (s.X(i, 0) > 0.0) ? 1 : 0;
  CHECK(static_cast<double>(agree) / static_cast<double>(n) > 0.93);
  CHECK(result.share_treated == Approx(0.5).margin(0.05));
  CHECK(result.num_treated == result.treat.sum());

  // Its DR value is close to the true value of the same decisions, and to the oracle's
  // 1/√(2π) ≈ 0.399 (sampling error of a mean of n rows, se ≈ 0.03).
  const auto& ev = result.evaluation;
  const Vector zero = Vector::Zero(n);
  const double truth = true_value(s, result.treat, zero);
  CHECK(std::abs(ev.learned.estimate.value - truth) < 3.0 * ev.learned.estimate.std_error);
  CHECK(ev.learned.estimate.value == Approx(1.0 / std::sqrt(2.0 * std::numbers::pi)).margin(0.12));
  CHECK(ev.learned.interval.contains(ev.learned.estimate.value));
  // Treat-all and treat-none: true values mean(μ₀ + τ) and mean(μ₀); the learned policy beats
  // both by ≈ 0.4, significantly.
  CHECK(std::abs(ev.treat_none.estimate.value - s.mu0.mean()) <
        4.0 * ev.treat_none.estimate.std_error);
  CHECK(std::abs(ev.treat_all.estimate.value - (s.mu0 + s.tau).mean()) <
        4.0 * ev.treat_all.estimate.std_error);
  CHECK(ev.learned_minus_treat_none.interval.lower > 0.2);
  CHECK(ev.learned_minus_treat_all.interval.lower > 0.2);
  // Differences are exact differences of the values (paired, same rows).
  CHECK(ev.learned_minus_treat_all.estimate.value ==
        Approx(ev.learned.estimate.value - ev.treat_all.estimate.value).margin(1e-12));
  CHECK(ev.treat_all_minus_treat_none.estimate.value ==
        Approx(result.average_effect.value).margin(1e-9));
  // Mean Γ(i, πᵢ) is the DR value.
  double gamma = 0.0;
  for (Index i = 0; i < n; ++i) gamma += result.dr_scores(i, result.treat[i]);
  CHECK(gamma / static_cast<double>(n) == Approx(ev.learned.estimate.value).margin(1e-9));
  // evaluate() on the same decisions reproduces the OPE values and intervals.
  const auto again = result.evaluate(result.treat, 0.95);
  CHECK(again.learned.estimate.value == Approx(ev.learned.estimate.value).margin(1e-9));
  CHECK(again.learned.estimate.std_error == Approx(ev.learned.estimate.std_error).epsilon(1e-9));
  CHECK(again.treat_none.interval.lower == Approx(ev.treat_none.interval.lower).margin(1e-9));
  CHECK(again.learned_minus_treat_all.estimate.std_error ==
        Approx(ev.learned_minus_treat_all.estimate.std_error).epsilon(1e-9));
  IndexVector bad = result.treat;
  bad[4] = 2;
  CHECK_THROWS_WITH(result.evaluate(bad, 0.95),
                    Catch::Contains("decisions[4] = 2, expected 0 or 1"));
  CHECK_THROWS_AS(result.evaluate(IndexVector::Zero(3), 0.95), ShapeMismatch);

  // ATE ≈ E[x0] = 0; overlap is fine (AUC ≈ 0.6).
  CHECK(result.average_effect_interval.contains(s.tau.mean()));
  CHECK_FALSE(result.overlap.poor);
  // No segmentation asked for.
  CHECK(result.segments.empty());
  CHECK(result.segment_effects.empty());
  CHECK_FALSE(result.segmenter.has_value());

  // The deployable policy on new rows: treat if the full model's τ̂ > 0.
  const Sim fresh = simulate(500, 2);
  const IndexVector rec = result.recommend(fresh.X);
  Index fresh_agree = 0;
  for (Index i = 0; i < 500; ++i) fresh_agree += (rec[i] == 1) == (fresh.X(i, 0) > 0.0) ? 1 : 0;
  CHECK(fresh_agree > 470);
}

TEST_CASE("targeting pipeline: a cost shifts the threshold and the values are net", "[pipeline]") {
  const Sim s = simulate(2000, 3);
  const CausalData data(s.X, s.w, s.y);
  auto params = base_params();
  params.policy = pipeline::PolicyRule::treat_if_above(0.5);
  const auto result = Pipeline(params).fit(data);
  const Index n = data.num_rows();
  Index agree = 0;
  for (Index i = 0; i < n; ++i) agree += (result.treat[i] == 1) == (s.X(i, 0) > 0.5) ? 1 : 0;
  CHECK(static_cast<double>(agree) / static_cast<double>(n) > 0.93);
  CHECK(result.share_treated == Approx(0.31).margin(0.05));  // P(x0 > 0.5) = 0.309
  CHECK(result.total_cost == Approx(0.5 * static_cast<double>(result.num_treated)));
  const Vector costs = Vector::Constant(n, 0.5);
  const double truth = true_value(s, result.treat, costs);
  CHECK(std::abs(result.evaluation.learned.estimate.value - truth) <
        3.0 * result.evaluation.learned.estimate.std_error);
  // Treat-all pays 0.5 per unit: its net value is mean(μ₀ + τ) − 0.5.
  CHECK(std::abs(result.evaluation.treat_all.estimate.value - ((s.mu0 + s.tau).mean() - 0.5)) <
        4.0 * result.evaluation.treat_all.estimate.std_error);
}

TEST_CASE("targeting pipeline: top share and money budget are respected", "[pipeline]") {
  const Sim s = simulate(1500, 4);
  const CausalData data(s.X, s.w, s.y);
  const Index n = data.num_rows();

  auto top = base_params();
  top.policy = pipeline::PolicyRule::top(0.2);
  const auto by_share = Pipeline(top).fit(data);
  CHECK(by_share.share_treated <= 0.2);
  CHECK(by_share.share_treated >= 0.19);  // ⌊0.2·n_k⌋ per fold
  // The top fifth by τ̂ is the top fifth by x0 (x0 > 0.84), give or take estimation error.
  Index high = 0;
  for (Index i = 0; i < n; ++i) high += by_share.treat[i] == 1 && s.X(i, 0) > 0.6 ? 1 : 0;
  CHECK(static_cast<double>(high) / static_cast<double>(by_share.num_treated) > 0.9);
  // The out-of-fold τ̂ does not depend on the rule: another rule applied afterwards with
  // decide() gives the same decisions as a pipeline fitted with that rule.
  const auto by_threshold = Pipeline(base_params()).fit(data);
  CHECK(by_threshold.cate == by_share.cate);
  CHECK(by_threshold.decide(pipeline::PolicyRule::top(0.2)) == by_share.treat);
  CHECK(by_threshold.decide(pipeline::PolicyRule::treat_if_above()) == by_threshold.treat);
  CHECK_THROWS_AS(by_threshold.decide(pipeline::PolicyRule::top(0.2), Vector::Ones(2)),
                  ShapeMismatch);

  // Money budget with per-unit costs in [0.5, 1.5]: spend at most the budget.
  Rng rng(99);
  Vector costs(n);
  for (Index i = 0; i < n; ++i) costs[i] = 0.5 + rng.uniform();
  auto money = base_params();
  money.policy = pipeline::PolicyRule::money_budget(150.0);
  const auto by_budget = Pipeline(money).fit(data, {.unit_costs = costs});
  CHECK(by_budget.total_cost <= 150.0);
  CHECK(by_budget.total_cost > 140.0);
  double spent = 0.0;
  for (Index i = 0; i < n; ++i) spent += by_budget.treat[i] == 1 ? costs[i] : 0.0;
  CHECK(spent == Approx(by_budget.total_cost));
  CHECK(by_budget.unit_costs == costs);
  // Greedy by τ̂/c prefers cheap units with a large effect: treated units have higher x0/c.
  double ratio_treated = 0.0, ratio_other = 0.0;
  for (Index i = 0; i < n; ++i) {
    (by_budget.treat[i] == 1 ? ratio_treated : ratio_other) += s.X(i, 0) / costs[i];
  }
  CHECK(ratio_treated / static_cast<double>(by_budget.num_treated) >
        ratio_other / static_cast<double>(n - by_budget.num_treated));
  // The deployable policy honours the budget on new rows too.
  const Sim fresh = simulate(300, 5);
  const Vector fresh_costs = Vector::Ones(300);
  const IndexVector rec = by_budget.recommend(fresh.X, fresh_costs);
  const Vector fresh_tau = by_budget.predict(fresh.X);
  const Index positive = (fresh_tau.array() > 0.0).count();  // only τ̂ > 0 are ever treated
  CHECK(rec.sum() == std::min<Index>(150, positive));
  for (Index i = 0; i < 300; ++i) {
    if (rec[i] == 1) CHECK(fresh_tau[i] > 0.0);
  }
}

TEST_CASE("targeting pipeline: segments and sleeping dogs", "[pipeline]") {
  const Sim s = simulate(2000, 6);
  const CausalData data(s.X, s.w, s.y);
  const Index n = data.num_rows();

  // Supplied labels: the sign of x0 (τ < 0 below zero, a sleeping-dog segment).
  std::vector<Index> sign(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) sign[static_cast<std::size_t>(i)] = s.X(i, 0) > 0.0 ? 1 : 0;
  const auto given = Pipeline(base_params()).fit(data, {.segments = sign});
  REQUIRE(given.segment_effects.size() == 2);
  const auto& negative =
      given.segment_effects[0].group == 0 ? given.segment_effects[0] : given.segment_effects[1];
  const auto& positive =
      given.segment_effects[0].group == 0 ? given.segment_effects[1] : given.segment_effects[0];
  const double half_normal_mean = std::sqrt(2.0 / std::numbers::pi);  // E[x0 | x0 > 0] ≈ 0.80
  CHECK(negative.interval.contains(-half_normal_mean));
  CHECK(positive.interval.contains(half_normal_mean));
  CHECK(negative.significantly_negative);
  CHECK(positive.significantly_positive);
  CHECK(negative.size + positive.size == n);
  const auto dogs = given.sleeping_dogs();
  REQUIRE(dogs.size() == 1);
  CHECK(dogs[0].group == 0);

  // The segmenter: K-Means (k = 2) on standardized x0 alone separates the same halves.
  auto params = base_params();
  params.segmenter = segment::SegmenterParams{
      .scaling = segment::Scaling::standard,
      .use_nmf = false,
      .kmeans = {.num_clusters = 2, .n_init = 3, .seed = 5, .num_threads = 1}};
  params.segment_columns = {0};
  const auto fitted = Pipeline(params).fit(data);
  REQUIRE(fitted.segmenter.has_value());
  REQUIRE(fitted.segments.size() == static_cast<std::size_t>(n));
  REQUIRE(fitted.segment_effects.size() == 2);
  const auto fitted_dogs = fitted.sleeping_dogs();
  REQUIRE(fitted_dogs.size() == 1);
  CHECK(fitted_dogs[0].effect.value < -0.5);
}

TEST_CASE("targeting pipeline: a causal forest as the effect model", "[pipeline]") {
  const Sim s = simulate(800, 7);
  const CausalData data(s.X, s.w, s.y);
  using Forest = pipeline::TargetingPipeline<cate::CausalForest>;
  const auto result =
      Forest(
          {.effect = cate::CausalForest({.forest = {.num_trees = 100, .seed = 2, .num_threads = 2},
                                         .nuisance_num_trees = 50}),
           .num_folds = 2,
           .seed = 1})
          .fit(data);
  Index agree = 0;
  for (Index i = 0; i < 800; ++i) agree += (result.treat[i] == 1) == (s.X(i, 0) > 0.0) ? 1 : 0;
  CHECK(agree > 640);
  CHECK(result.evaluation.learned_minus_treat_none.estimate.value > 0.2);
  const double truth = true_value(s, result.treat, Vector::Zero(800));
  CHECK(std::abs(result.evaluation.learned.estimate.value - truth) <
        3.0 * result.evaluation.learned.estimate.std_error);
}

TEST_CASE("targeting pipeline: deterministic and independent of num_threads", "[pipeline]") {
  const Sim s = simulate(600, 8);
  const CausalData data(s.X, s.w, s.y);
  auto params = base_params();
  params.policy = pipeline::PolicyRule::top(0.3);
  const auto one = Pipeline(params).fit(data);
  const auto again = Pipeline(params).fit(data);
  params.num_threads = 3;
  const auto three = Pipeline(params).fit(data);
  for (const auto* other : {&again, &three}) {
    CHECK(other->cate == one.cate);
    CHECK(other->treat == one.treat);
    CHECK(other->folds.fold == one.folds.fold);
    CHECK(other->evaluation.learned.estimate.value == one.evaluation.learned.estimate.value);
    CHECK(other->evaluation.learned.estimate.std_error ==
          one.evaluation.learned.estimate.std_error);
  }
  // Another fold seed gives other folds.
  params.seed = 12;
  CHECK(Pipeline(params).fit(data).folds.fold != one.folds.fold);
}

TEST_CASE("targeting pipeline: bad parameters and inputs", "[pipeline]") {
  using Catch::Contains;
  auto params = base_params();
  params.num_folds = 1;
  CHECK_THROWS_WITH(Pipeline(params), Contains("num_folds = 1, expected 2 to 10000"));
  params = base_params();
  params.level = 1.0;
  CHECK_THROWS_AS(Pipeline(params), InvalidArgument);
  params = base_params();
  params.policy = pipeline::PolicyRule::top(0.0);
  CHECK_THROWS_WITH(Pipeline(params), Contains("policy.share = 0"));
  params = base_params();
  params.policy = pipeline::PolicyRule::money_budget(-1.0);
  CHECK_THROWS_WITH(Pipeline(params), Contains("policy.budget = -1"));
  params = base_params();
  params.policy = pipeline::PolicyRule::treat_if_above(-0.5);
  CHECK_THROWS_WITH(Pipeline(params), Contains("policy.cost = -0.5"));
  params = base_params();
  params.segment_columns = {-1};
  CHECK_THROWS_WITH(Pipeline(params), Contains("segment_columns[0] = -1"));
  params = base_params();
  params.segmenter = segment::SegmenterParams{.scaling = segment::Scaling::standard};
  CHECK_THROWS_AS(Pipeline(params), InvalidArgument);  // standard scaling before NMF

  const Sim s = simulate(200, 9);
  const CausalData data(s.X, s.w, s.y);
  const Pipeline pipe(base_params());
  CHECK_THROWS_AS(pipe.fit(data, {.segments = std::vector<Index>(10, 0)}), ShapeMismatch);
  std::vector<Index> labels(200, 0);
  labels[7] = -2;
  CHECK_THROWS_WITH(pipe.fit(data, {.segments = labels}), Contains("segments[7] = -2"));
  Vector costs = Vector::Ones(200);
  costs[3] = -1.0;
  CHECK_THROWS_WITH(pipe.fit(data, {.unit_costs = costs}),
                    Contains("unit_costs[3] = -1, expected a value >= 0"));
  CHECK_THROWS_AS(pipe.fit(data, {.unit_costs = Vector::Ones(5)}), ShapeMismatch);
  auto money = base_params();
  money.policy = pipeline::PolicyRule::money_budget(10.0, 0.0);
  CHECK_THROWS_WITH(Pipeline(money).fit(data), Contains("budget rule needs unit costs > 0"));
  costs[3] = 0.0;
  CHECK_THROWS_WITH(Pipeline(money).fit(data, {.unit_costs = costs}),
                    Contains("unit_costs[3] = 0, expected a value > 0"));
  auto wide = base_params();
  wide.segmenter = segment::SegmenterParams{
      .scaling = segment::Scaling::standard, .use_nmf = false, .kmeans = {.num_clusters = 2}};
  wide.segment_columns = {5};
  CHECK_THROWS_WITH(Pipeline(wide).fit(data), Contains("segment_columns[0] = 5"));
  const auto fitted = pipe.fit(data);
  CHECK_THROWS_AS(fitted.recommend(s.X, Vector::Ones(3)), ShapeMismatch);
}
