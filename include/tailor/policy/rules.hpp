// tailor/policy/rules.hpp — simple decision rules from estimated effects or action scores, and
// the value of a policy under doubly-robust scores.
//
//   treat_if_above   πᵢ = 1{τ̂ᵢ > cᵢ}: treat when the estimated effect exceeds the cost of
//                    treating (a scalar cost or one per unit). Strict inequality: a unit whose
//                    effect only breaks even is left untreated.
//   argmax_policy    πᵢ = argmaxₐ Γ(i, a) for K actions (scores, e.g. μ̂ₐ(xᵢ) or the doubly-
//                    robust Γ of policy/scores.hpp); ties go to the lowest action index.
//   policy_value     V̂(π) = (1/n) Σᵢ Γ(i, πᵢ), the doubly-robust value estimate of π (Athey &
//                    Wager 2021, eq. 3 and Thm. 1); policy_value_estimate adds its standard
//                    error sd(Γ(i, πᵢ))/√n (sample sd, n − 1), valid for a policy fixed in
//                    advance (not one learned on the same rows);
//                    policy_value_difference the paired difference of two policies' values.
// These evaluate every policy from one n × K score matrix Γ (policy/scores.hpp), built once: the
// targeting pipeline's learned, treat-all and treat-none values all come from here.
// Costs O(n) (O(n·K) for argmax_policy).
#pragma once

#include <cmath>
#include <limits>
#include <string_view>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/estimate.hpp"
#include "tailor/core/sample_mean.hpp"
#include "tailor/core/types.hpp"

namespace tailor::policy {

namespace detail {

/// Checks an n × K score matrix: n ≥ 1, K ≥ 1, all finite.
inline void check_scores(std::string_view context, const MatrixRef& scores) {
  check_nonempty(context, "scores", scores.rows());
  if (scores.cols() < 1) {
    raise<InvalidArgument>("{}: scores has 0 columns, expected at least 1 action", context);
  }
  check_finite(context, "scores", scores);
}

/// Checks that actions has one entry in 0..K−1 per row of scores.
inline void check_actions(std::string_view context, const Eigen::Ref<const IndexVector>& actions,
                          Index rows, Index num_actions) {
  check_rows(context, "actions", actions.size(), rows, "the rows of scores");
  for (Index i = 0; i < rows; ++i) {
    if (actions[i] < 0 || actions[i] >= num_actions) {
      raise<DataError>("{}: actions[{}] = {}, expected an action in 0..{}", context, i, actions[i],
                       num_actions - 1);
    }
  }
}

}  // namespace detail

/// πᵢ = 1{τ̂ᵢ > cost} for every unit. `cost` may be any finite value (negative = a subsidy).
/// Throws DataError for no rows or a non-finite τ̂ ("treat_if_above: tau[2] = nan, expected a
/// finite value"), InvalidArgument for a non-finite cost ("treat_if_above: cost = inf, expected
/// a finite value").
inline IndexVector treat_if_above(const VectorRef& tau, double cost = 0.0) {
  constexpr std::string_view kContext = "treat_if_above";
  check_nonempty(kContext, "tau", tau.size());
  check_finite(kContext, "tau", tau);
  check_param(std::isfinite(cost), kContext, "cost", cost, "a finite value");
  IndexVector treat(tau.size());
  for (Index i = 0; i < tau.size(); ++i) treat[i] = tau[i] > cost ? 1 : 0;
  return treat;
}

/// πᵢ = 1{τ̂ᵢ > costsᵢ} with a cost per unit (any finite values).
/// Throws DataError (no rows, non-finite τ̂ or cost) and ShapeMismatch ("treat_if_above: costs
/// has 3 rows, expected 4 (the length of tau)").
inline IndexVector treat_if_above(const VectorRef& tau, const VectorRef& costs) {
  constexpr std::string_view kContext = "treat_if_above";
  check_nonempty(kContext, "tau", tau.size());
  check_rows(kContext, "costs", costs.size(), tau.size(), "the length of tau");
  check_finite(kContext, "tau", tau);
  check_finite(kContext, "costs", costs);
  IndexVector treat(tau.size());
  for (Index i = 0; i < tau.size(); ++i) treat[i] = tau[i] > costs[i] ? 1 : 0;
  return treat;
}

/// πᵢ = argmaxₐ scores(i, a) over the K columns; ties go to the lowest action index.
/// Throws DataError (no rows, non-finite score) and InvalidArgument (no columns).
inline IndexVector argmax_policy(const MatrixRef& scores) {
  constexpr std::string_view kContext = "argmax_policy";
  detail::check_scores(kContext, scores);
  IndexVector best(scores.rows());
  for (Index i = 0; i < scores.rows(); ++i) {
    Index best_action = 0;
    for (Index a = 1; a < scores.cols(); ++a) {
      if (scores(i, a) > scores(i, best_action)) best_action = a;  // strict: ties keep lowest
    }
    best[i] = best_action;
  }
  return best;
}

/// V̂(π) = (1/n) Σᵢ scores(i, actions[i]): the mean score of the chosen actions.
/// Throws DataError (no rows, non-finite score, action out of range: "policy_value:
/// actions[3] = 5, expected an action in 0..2"), InvalidArgument (no columns) and
/// ShapeMismatch (actions and scores of different lengths).
inline double policy_value(const MatrixRef& scores, const Eigen::Ref<const IndexVector>& actions) {
  constexpr std::string_view kContext = "policy_value";
  detail::check_scores(kContext, scores);
  detail::check_actions(kContext, actions, scores.rows(), scores.cols());
  double sum = 0.0;
  for (Index i = 0; i < scores.rows(); ++i) sum += scores(i, actions[i]);
  return sum / static_cast<double>(scores.rows());
}

/// V̂(π) with its standard error sd/√n (sample sd with n − 1; +inf for a single row, where the
/// variance cannot be estimated). Same checks and messages as policy_value (context
/// "policy_value_estimate").
inline Estimate policy_value_estimate(const MatrixRef& scores,
                                      const Eigen::Ref<const IndexVector>& actions) {
  constexpr std::string_view kContext = "policy_value_estimate";
  detail::check_scores(kContext, scores);
  detail::check_actions(kContext, actions, scores.rows(), scores.cols());
  return mean_estimate(scores.rows(), [&](Index i) { return scores(i, actions[i]); });
}

/// V̂(π_a) − V̂(π_b) from the same scores, with the paired standard error of the per-row
/// differences Γ(i, aᵢ) − Γ(i, bᵢ) (sd/√n; +inf for a single row): the comparison of two
/// policies on one sample (e.g. learned vs treat-all). Same checks as policy_value (context
/// "policy_value_difference").
inline Estimate policy_value_difference(const MatrixRef& scores,
                                        const Eigen::Ref<const IndexVector>& actions_a,
                                        const Eigen::Ref<const IndexVector>& actions_b) {
  constexpr std::string_view kContext = "policy_value_difference";
  detail::check_scores(kContext, scores);
  detail::check_actions(kContext, actions_a, scores.rows(), scores.cols());
  detail::check_actions(kContext, actions_b, scores.rows(), scores.cols());
  return mean_estimate(scores.rows(),
                       [&](Index i) { return scores(i, actions_a[i]) - scores(i, actions_b[i]); });
}

}  // namespace tailor::policy
