// tailor/pipeline/targeting_pipeline.hpp — the targeting pipeline as one typed composition:
//   features → (segments) → effect model → policy rule (with budget) → off-policy evaluation.
//
// Stages (each one an existing module; nothing here estimates anything new):
//  1. Segments (optional): segment::Segmenter on chosen columns of X, or labels the caller
//     supplies (TargetingInputs::segments).
//  2. Effect model: any CATE estimator of tailor::cate (CausalForest, S/T/X/R/DR-learner) fitted
//     on all rows. Its cross-fitted nuisances μ̂₀, μ̂₁, ê give the overlap diagnostics, the AIPW
//     average effect and the AIPW effect of every segment with intervals (policy::effects_by_group
//     on the AIPW scores Γᵢ, Robins, Rotnitzky & Zhao 1994).
//  3. Policy: a rule on τ̂ — treat if τ̂ᵢ > cᵢ (policy::treat_if_above), the top share by τ̂
//     (policy::top_share) or a money budget with per-unit costs (policy::budget_policy: greedy
//     by τ̂ᵢ/cᵢ, the exact LP relaxation of the knapsack).
//  4. Honest evaluation (Athey & Wager, Econometrica 2021, §3): rows are split into K folds
//     stratified on W; for fold k the effect model is refitted on the other folds and the rule
//     is applied to its τ̂ on fold k (a money budget is split across folds in proportion to
//     their rows), so no row's decision comes from a model that saw its outcome
//     (ope::cross_fit_policy). The same τ̂ is the out-of-fold CATE of every row.
//  5. Off-policy evaluation: one n × 2 matrix of doubly-robust scores Γ (policy/scores.hpp;
//     Dudík, Langford & Li, ICML 2011; Athey & Wager 2021, eq. 3), built once from the effect
//     model's nuisances (clipped ê, μ̂₀, μ̂₁); the value of the cross-fitted policy, of
//     treat-all and of treat-none is mean Γ(i, πᵢ) with its standard error, and their paired
//     differences (policy::policy_value_estimate / policy_value_difference). evaluate() scores
//     any other decisions the same way.
//     With treatment costs cᵢ the reward is the net outcome yᵢ − cᵢ·wᵢ (so q̂(x, 1) = μ̂₁ − c):
//     values are per unit, net of what the treatment costs. With no costs they are E[Y(π)].
// Cost: (K + 1) fits of the effect estimator (the K fold fits run in parallel over num_threads;
// a parallel region inside a running one runs serially), one segmenter fit, O(n log n) for the
// rules and O(n) for the evaluation.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <Eigen/Core>

#include "tailor/cate/average_effect.hpp"
#include "tailor/cate/overlap.hpp"
#include "tailor/core/data.hpp"
#include "tailor/core/errors.hpp"
#include "tailor/core/estimate.hpp"
#include "tailor/core/folds.hpp"
#include "tailor/core/parallel.hpp"
#include "tailor/core/progress.hpp"
#include "tailor/core/types.hpp"
#include "tailor/learn/cross_fit.hpp"
#include "tailor/ope/policy.hpp"
#include "tailor/policy/budget.hpp"
#include "tailor/policy/report.hpp"
#include "tailor/policy/rules.hpp"
#include "tailor/policy/scores.hpp"
#include "tailor/segment/segmenter.hpp"

namespace tailor::pipeline {

/// The fitted model type of effect estimator E.
template <class E>
using effect_model_t =
    std::remove_cvref_t<decltype(std::declval<const E&>().fit(std::declval<const CausalData&>()))>;

/// A CATE estimator the pipeline can use: fit(CausalData) gives a model with predict(X), overlap
/// diagnostics, cross-fitted nuisances and AIPW scores (every estimator in tailor::cate).
template <class E>
concept EffectEstimator = requires(const E& estimator, const CausalData& data) {
  estimator.fit(data);
}
&&requires(const effect_model_t<E>& model, const MatrixRef& X) {
  { model.predict(X) } -> std::convertible_to<Vector>;
  { model.diagnostics() } -> std::convertible_to<cate::OverlapDiagnostics>;
  { model.nuisances() } -> std::convertible_to<cate::NuisanceEstimates>;
  { model.doubly_robust_scores() } -> std::convertible_to<Vector>;
  { model.average_effect() } -> std::convertible_to<Estimate>;
};

/// Which rule turns estimated effects into treatment decisions.
enum class RuleKind {
  treat_if_above,  ///< treat where τ̂ᵢ > cᵢ (the unit's cost; `cost` when no per-unit costs)
  top_share,       ///< treat the ⌊share·n⌋ units of largest τ̂
  budget,          ///< greedy by τ̂ᵢ/cᵢ until the money `budget` is spent
};

/// The policy rule. Plain aggregate; the helpers build the common cases.
struct PolicyRule {
  RuleKind kind = RuleKind::treat_if_above;
  /// Cost of treating one unit when the caller gives no per-unit costs (default 0). Every rule
  /// evaluates the net outcome y − cost·w; treat_if_above treats where τ̂ > cost.
  double cost = 0.0;
  double share = 0.0;   ///< top_share: share of units to treat, in (0, 1]
  double budget = 0.0;  ///< budget: money to spend on the population the rule is applied to, > 0
  /// top_share / budget: never treat a unit with τ̂ ≤ 0, even when budget is left (default).
  bool only_positive = true;

  static PolicyRule treat_if_above(double unit_cost = 0.0) {
    return {.kind = RuleKind::treat_if_above, .cost = unit_cost};
  }
  static PolicyRule top(double share_treated) {
    return {.kind = RuleKind::top_share, .share = share_treated};
  }
  /// A money budget; per-unit costs come with the data (TargetingInputs::unit_costs), else every
  /// unit costs `unit_cost`.
  static PolicyRule money_budget(double money, double unit_cost = 1.0) {
    return {.kind = RuleKind::budget, .cost = unit_cost, .budget = money};
  }

  /// "treat if τ̂ > 0", "top 30% by τ̂", "budget 500 (greedy by τ̂/cost)".
  std::string describe() const {
    switch (kind) {
      case RuleKind::treat_if_above:
        return fmt::format("treat if τ̂ > {}", cost == 0.0 ? std::string("0") : "cost");
      case RuleKind::top_share:
        return fmt::format("top {:g}% by τ̂{}", 100.0 * share, only_positive ? " (τ̂ > 0 only)" : "");
      case RuleKind::budget:
        return fmt::format("budget {:g} (greedy by τ̂/cost{})", budget,
                           only_positive ? ", τ̂ > 0 only" : "");
    }
    return {};
  }
};

/// Applies `rule` to effects `tau` of units with costs `costs` (same length) and a money budget
/// `budget` (used by RuleKind::budget only): 1 = treat.
inline IndexVector apply_rule(const PolicyRule& rule, const VectorRef& tau, const VectorRef& costs,
                              double budget) {
  switch (rule.kind) {
    case RuleKind::treat_if_above:
      return policy::treat_if_above(tau, costs);
    case RuleKind::top_share:
      return policy::top_share(tau, rule.share, rule.only_positive).treat;
    case RuleKind::budget:
      return policy::budget_policy(tau, costs, budget, rule.only_positive).treat;
  }
  return IndexVector::Zero(tau.size());
}

/// The rule applied fold by fold to out-of-fold effects: the rows of fold k get
/// apply_rule(rule, tau[fold k], costs[fold k], budget·n_k/n), so a decision never depends on a
/// model that saw the row (when tau is out-of-fold). ShapeMismatch when tau or costs do not have
/// one entry per row of the folds.
inline IndexVector cross_fitted_decisions(const Folds& folds, const VectorRef& tau,
                                          const PolicyRule& rule, const VectorRef& costs) {
  constexpr std::string_view c = "cross_fitted_decisions";
  const Index n = folds.num_rows();
  check_rows(c, "tau", tau.size(), n, "the rows of the folds");
  check_rows(c, "costs", costs.size(), n, "the rows of the folds");
  const ope::TargetPolicy policy = ope::cross_fit_policy(
      folds, 2, [&](Index, const std::vector<Index>&, const std::vector<Index>& test) {
        const double budget =
            rule.budget * static_cast<double>(test.size()) / static_cast<double>(n);
        const Vector fold_tau = tau(test);
        const Vector fold_costs = costs(test);
        return ope::TargetPolicy::deterministic(apply_rule(rule, fold_tau, fold_costs, budget), 2);
      });
  return policy.actions();
}

/// Settings of TargetingPipeline<E>. Defaults: no segmentation, default-constructed estimator,
/// treat if τ̂ > 0, 5 folds, 95% intervals.
template <class E>
struct TargetingParams {
  /// Segment the units with this segmenter (fitted on `segment_columns` of X); nullopt = no
  /// segmentation unless the caller supplies labels.
  std::optional<segment::SegmenterParams> segmenter = std::nullopt;
  /// Columns of X the segmenter sees; empty = all.
  std::vector<Index> segment_columns = {};
  E effect = E{};                  ///< the CATE estimator (its own seed and threads apply inside)
  PolicyRule policy = {};          ///< how τ̂ becomes a decision
  Index num_folds = 5;             ///< folds of the honest (cross-fitted) policy evaluation, ≥ 2
  double level = 0.95;             ///< coverage of every interval, in (0, 1)
  std::uint64_t seed = 0;          ///< fold assignment
  Index num_threads = 0;           ///< fold fits in parallel (0 = all cores); results identical
  ProgressCallback progress = {};  ///< stage "targeting folds": fits done of K + 1
};

/// Per-unit inputs besides the CausalData. Vectors of length 0 are absent.
struct TargetingInputs {
  /// Segment label of every row (replaces the segmenter when given).
  std::vector<Index> segments = {};
  /// Cost of treating each row, ≥ 0 (budget rule: > 0). Absent: PolicyRule::cost for all.
  Vector unit_costs = Vector();
};

/// A policy value or a difference of values: estimate, influence-function se and interval.
struct ValueEstimate {
  std::string name;
  Estimate estimate;
  Interval interval;
};

/// Doubly-robust values of the learned policy and the two trivial ones, and their differences.
struct PolicyEvaluation {
  ValueEstimate learned;                  ///< the cross-fitted policy
  ValueEstimate treat_all;                ///< everyone treated
  ValueEstimate treat_none;               ///< nobody treated
  ValueEstimate learned_minus_treat_all;  ///< paired difference on the same rows
  ValueEstimate learned_minus_treat_none;
  ValueEstimate treat_all_minus_treat_none;  ///< the average net effect of treating everyone
};

/// What TargetingPipeline::fit returns (immutable; const methods are thread-safe).
template <class Model>
struct TargetingResult {
  Model effect_model;                                     ///< the estimator fitted on all rows
  std::optional<segment::SegmenterModel> segmenter = {};  ///< when the pipeline segmented
  PolicyRule rule = {};                                   ///< the rule the policy applies
  cate::OverlapDiagnostics overlap = {};                  ///< of the full-data fit's ê
  Estimate average_effect = {};                           ///< AIPW ATE (no costs subtracted)
  Interval average_effect_interval = {};
  Folds folds = {};                  ///< of the honest evaluation
  Vector cate = {};                  ///< out-of-fold τ̂ of every row
  Vector unit_costs = {};            ///< the costs used, one per row
  std::vector<Index> segments = {};  ///< label per row (empty without segments)
  std::vector<policy::GroupEffect> segment_effects =
      {};                  ///< AIPW effect per segment, with intervals
  IndexVector treat = {};  ///< the cross-fitted policy's decision per row
  Index num_treated = 0;
  double share_treated = 0.0;
  double total_cost = 0.0;  ///< Σ cᵢ over treated rows
  Matrix dr_scores = {};  ///< Γ (n × 2) of the net outcome: mean Γ(i, πᵢ) is the DR value of π
  PolicyEvaluation evaluation = {};

  /// τ̂(x) of new rows from the full-data model.
  Vector predict(const MatrixRef& X) const { return effect_model.predict(X); }

  /// The rule applied to new rows' τ̂ (the deployable policy); costs per row (length 0 = the
  /// rule's constant cost); a money budget applies to these rows as a whole.
  IndexVector recommend(const MatrixRef& X, const VectorRef& costs = Vector()) const {
    const Vector tau = predict(X);
    Vector c = costs.size() ? Vector(costs) : Vector::Constant(X.rows(), rule.cost);
    if (c.size() != X.rows()) {
      raise<ShapeMismatch>(
          "TargetingResult::recommend: costs has {} rows, expected {} (the rows of X)", c.size(),
          X.rows());
    }
    return apply_rule(rule, tau, c, rule.budget);
  }

  /// Another rule applied fold by fold to the out-of-fold τ̂ (cross_fitted_decisions), e.g. a
  /// top share next to the fitted threshold rule; evaluate the result with evaluate(). costs:
  /// one per row, length 0 = `other.cost` for every row.
  IndexVector decide(const PolicyRule& other, const VectorRef& costs = Vector()) const {
    const Vector c = costs.size() ? Vector(costs) : Vector::Constant(cate.size(), other.cost);
    return cross_fitted_decisions(folds, cate, other, c);
  }

  /// Doubly-robust values of any other decisions on these rows (e.g. a policy tree learned
  /// fold by fold), from the same scores: V̂(π) = mean Γ(i, πᵢ), with paired differences to
  /// treat-all and treat-none. For `treat` itself it reproduces `evaluation`. ShapeMismatch
  /// when treat does not have one entry per row; DataError for an entry other than 0 or 1.
  PolicyEvaluation evaluate(const Eigen::Ref<const IndexVector>& decisions, double level) const {
    const Index n = dr_scores.rows();
    check_rows("TargetingResult::evaluate", "decisions", decisions.size(), n, "the training rows");
    for (Index i = 0; i < n; ++i) {
      if (decisions[i] != 0 && decisions[i] != 1) {
        raise<DataError>("TargetingResult::evaluate: decisions[{}] = {}, expected 0 or 1", i,
                         decisions[i]);
      }
    }
    const auto value = [&](std::string name, const Estimate& e) {
      return ValueEstimate{std::move(name), e, e.confidence_interval(level)};
    };
    const IndexVector all = IndexVector::Ones(n), none = IndexVector::Zero(n);
    const auto difference = [&](const auto& a, const auto& b) {
      return policy::policy_value_difference(dr_scores, a, b);
    };
    return {value("learned", policy::policy_value_estimate(dr_scores, decisions)),
            value("treat-all", policy::policy_value_estimate(dr_scores, all)),
            value("treat-none", policy::policy_value_estimate(dr_scores, none)),
            value("learned - treat-all", difference(decisions, all)),
            value("learned - treat-none", difference(decisions, none)),
            value("treat-all - treat-none", difference(all, none))};
  }

  /// Segments whose AIPW effect is significantly negative ("sleeping dogs"), most negative
  /// first.
  std::vector<policy::GroupEffect> sleeping_dogs() const {
    std::vector<policy::GroupEffect> out;
    for (const auto& g : segment_effects) {
      if (g.significantly_negative) out.push_back(g);
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.effect.value < b.effect.value; });
    return out;
  }
};

/// The pipeline estimator: configure once, fit(data) returns a TargetingResult.
template <EffectEstimator E>
class TargetingPipeline {
 public:
  using Params = TargetingParams<E>;
  using Model = effect_model_t<E>;
  using Result = TargetingResult<Model>;

  /// Validates the parameters (InvalidArgument naming the field).
  explicit TargetingPipeline(Params params) : params_(std::move(params)) {
    constexpr std::string_view c = "TargetingPipeline";
    const PolicyRule& rule = params_.policy;
    check_count(c, "num_folds", params_.num_folds, 2, limits::kMaxFolds);
    check_param(params_.level > 0.0 && params_.level < 1.0, c, "level", params_.level,
                "a value in (0, 1)");
    check_param(params_.num_threads >= 0, c, "num_threads", params_.num_threads,
                "0 (all cores) or a positive count");
    check_param(std::isfinite(rule.cost) && rule.cost >= 0.0, c, "policy.cost", rule.cost,
                "a finite value >= 0");
    if (rule.kind == RuleKind::top_share) {
      check_param(rule.share > 0.0 && rule.share <= 1.0, c, "policy.share", rule.share,
                  "a value in (0, 1]");
    }
    if (rule.kind == RuleKind::budget) {
      check_param(std::isfinite(rule.budget) && rule.budget > 0.0, c, "policy.budget", rule.budget,
                  "a finite value > 0");
    }
    for (std::size_t j = 0; j < params_.segment_columns.size(); ++j) {
      check_param(params_.segment_columns[j] >= 0, c, fmt::format("segment_columns[{}]", j),
                  params_.segment_columns[j], "a column index >= 0");
    }
    if (params_.segmenter) (void)segment::Segmenter(*params_.segmenter);
  }

  const Params& params() const { return params_; }

  /// Runs every stage on `data` (see the header comment). Throws InvalidArgument /
  /// ShapeMismatch for inputs that do not fit the data (segment labels, costs, segment columns),
  /// DataError for negative costs or too few rows of an arm for num_folds, and whatever the
  /// stages throw.
  Result fit(const CausalData& data, const TargetingInputs& inputs = {}) const {
    constexpr std::string_view c = "TargetingPipeline::fit";
    const Index n = data.num_rows();
    const PolicyRule& rule = params_.policy;

    // Costs: per unit, or the rule's constant.
    Vector costs = Vector::Constant(n, rule.cost);
    if (inputs.unit_costs.size() != 0) {
      check_rows(c, "unit_costs", inputs.unit_costs.size(), n, "the rows of X");
      check_finite(c, "unit_costs", inputs.unit_costs);
      for (Index i = 0; i < n; ++i) {
        const double ci = inputs.unit_costs[i];
        if (ci < 0.0 || (rule.kind == RuleKind::budget && ci <= 0.0)) {
          raise<DataError>("{}: unit_costs[{}] = {}, expected a value {}", c, i, ci,
                           rule.kind == RuleKind::budget ? "> 0" : ">= 0");
        }
      }
      costs = inputs.unit_costs;
    } else if (rule.kind == RuleKind::budget && !(rule.cost > 0.0)) {
      raise<InvalidArgument>(
          "{}: the budget rule needs unit costs > 0: give TargetingInputs::unit_costs or "
          "policy.cost > 0 (policy.cost = {})",
          c, rule.cost);
    }

    // Segment labels and columns are checked before anything is fitted.
    if (!inputs.segments.empty()) {
      check_rows(c, "segments", static_cast<Index>(inputs.segments.size()), n, "the rows of X");
      for (std::size_t i = 0; i < inputs.segments.size(); ++i) {
        if (inputs.segments[i] < 0) {
          raise<InvalidArgument>("{}: segments[{}] = {}, expected a label >= 0", c, i,
                                 inputs.segments[i]);
        }
      }
    }

    const Matrix segment_input =
        inputs.segments.empty() && params_.segmenter ? segment_features(data.X()) : Matrix();

    Result result{.effect_model = fit_effect_with_progress(data)};
    result.rule = rule;
    result.unit_costs = costs;

    // 1. Segments.
    if (!inputs.segments.empty()) {
      result.segments = inputs.segments;
    } else if (params_.segmenter) {
      result.segmenter = segment::Segmenter(*params_.segmenter).fit(segment_input);
      result.segments = result.segmenter->labels();
    }

    // 2. Effect model on all rows: overlap, ATE, effects by segment.
    const Model& model = result.effect_model;
    result.overlap = model.diagnostics();
    result.average_effect = model.average_effect();
    result.average_effect_interval = result.average_effect.confidence_interval(params_.level);
    if (!result.segments.empty()) {
      IndexVector groups(n);
      for (Index i = 0; i < n; ++i) groups[i] = result.segments[static_cast<std::size_t>(i)];
      result.segment_effects =
          policy::effects_by_group(model.doubly_robust_scores(), groups, params_.level);
    }

    // 3-4. Cross-fitted effects and policy: fold k's rows get τ̂ from a model fitted without
    // them, and the rule is applied fold by fold.
    result.folds = stratified_kfold(data.w(), params_.num_folds, params_.seed);
    SerializedProgress progress(params_.progress);
    std::atomic<Index> done{1};
    const Index total = params_.num_folds + 1;
    result.cate = learn::cross_fit("TargetingPipeline", result.folds, 1, params_.num_threads,
                                   [&](Index, Index, const std::vector<Index>& train,
                                       const std::vector<Index>& test) {
                                     Matrix tau = fit_fold(data, train, test);
                                     progress("targeting folds", done.fetch_add(1) + 1, total);
                                     return tau;
                                   })
                      .col(0);
    result.treat = cross_fitted_decisions(result.folds, result.cate, rule, costs);
    result.num_treated = result.treat.sum();
    result.share_treated = static_cast<double>(result.num_treated) / static_cast<double>(n);
    for (Index i = 0; i < n; ++i) {
      if (result.treat[i] == 1) result.total_cost += costs[i];
    }

    // 5. Doubly-robust values of the net outcome y − c·w.
    const cate::NuisanceEstimates& nu = model.nuisances();
    const Vector net_y = data.y() - costs.cwiseProduct(data.w());
    const Vector net_mu1 = nu.mu1 - costs;
    result.dr_scores =
        policy::double_robust_scores(net_y, data.w(), nu.mu0, net_mu1, nu.propensity);
    result.evaluation = result.evaluate(result.treat, params_.level);
    return result;
  }

 private:
  Model fit_effect_with_progress(const CausalData& data) const {
    Model model = params_.effect.fit(data);
    report(params_.progress, "targeting folds", 1, params_.num_folds + 1);
    return model;
  }

  Matrix segment_features(const MatrixRef& X) const {
    if (params_.segment_columns.empty()) return X;
    for (std::size_t j = 0; j < params_.segment_columns.size(); ++j) {
      if (params_.segment_columns[j] >= X.cols()) {
        raise<InvalidArgument>(
            "TargetingPipeline::fit: segment_columns[{}] = {}, expected a column of X in 0..{}", j,
            params_.segment_columns[j], X.cols() - 1);
      }
    }
    return X(Eigen::all, params_.segment_columns);
  }

  /// τ̂ on `test` rows from the estimator fitted on `train` rows.
  Vector fit_fold(const CausalData& data, const std::vector<Index>& train,
                  const std::vector<Index>& test) const {
    const Matrix X = data.X()(train, Eigen::all);
    const Vector w = data.w()(train);
    const Vector y = data.y()(train);
    CausalDataOptions options;
    if (data.has_sample_weights()) options.sample_weights = data.sample_weights()(train);
    if (data.has_propensity()) options.propensity = data.propensity()(train);
    const CausalData fold_data(X, w, y, std::move(options));
    const Model model = params_.effect.fit(fold_data);
    const Matrix X_test = data.X()(test, Eigen::all);
    return model.predict(X_test);
  }

  Params params_;
};

}  // namespace tailor::pipeline
