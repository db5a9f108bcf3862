// tailor/policy/scores.hpp — doubly-robust (AIPW) action scores Γ, the input every policy
// learner and policy evaluator in tailor::policy works on.
//
// For K actions with outcome models μ̂ₐ(x) = E[Y | X = x, W = a] and propensities
// êₐ(x) = P(W = a | X = x) (cross-fitted in practice), the score of row i and action a is
// (Athey & Wager, "Policy learning with observational data", Econometrica 2021, eq. 3;
// Robins, Rotnitzky & Zhao 1994)
//     Γ(i, a) = μ̂ₐ(xᵢ) + 1{Wᵢ = a}·(Yᵢ − μ̂ₐ(xᵢ)) / êₐ(xᵢ).
// E[Γ(i, a) | xᵢ] = E[Y(a) | xᵢ] when either nuisance is right, so the mean of Γ(i, π(xᵢ)) is a
// doubly-robust estimate of the value of policy π. For binary W the columns are
// Γ(i, 0) = μ̂₀ + (1 − Wᵢ)(Yᵢ − μ̂₀)/(1 − êᵢ) and Γ(i, 1) = μ̂₁ + Wᵢ(Yᵢ − μ̂₁)/êᵢ, and
// Γ(i, 1) − Γ(i, 0) is exactly the AIPW score of tailor::cate::aipw_scores.
// Only the propensity of the logged action enters the formula, and it must be positive.
// Cost O(n·K) time, one n × K output.
#pragma once

#include <string_view>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/types.hpp"

namespace tailor::policy {

/// Doubly-robust scores for a binary treatment: an n × 2 matrix, column 0 = control, column 1 =
/// treated (see the header comment). `propensity` is êᵢ = P(W = 1 | xᵢ); both arms enter the
/// formula of some row, so every êᵢ must lie strictly inside (0, 1) (clip it beforehand).
/// Throws
///   DataError     no rows ("double_robust_scores: y has 0 rows, expected at least 1"), a
///                 non-finite value ("...: mu1[2] = nan, expected a finite value"), a
///                 non-binary w ("...: w[3] = 0.5, expected 0 or 1"), a propensity outside
///                 (0, 1) ("...: propensity[4] = 0, expected a value in (0, 1)");
///   ShapeMismatch inputs of different lengths ("...: w has 9 rows, expected 10 (the length
///                 of y)").
inline Matrix double_robust_scores(const VectorRef& y, const VectorRef& w, const VectorRef& mu0,
                                   const VectorRef& mu1, const VectorRef& propensity) {
  constexpr std::string_view kContext = "double_robust_scores";
  const Index n = y.size();
  check_nonempty(kContext, "y", n);
  check_rows(kContext, "w", w.size(), n, "the length of y");
  check_rows(kContext, "mu0", mu0.size(), n, "the length of y");
  check_rows(kContext, "mu1", mu1.size(), n, "the length of y");
  check_rows(kContext, "propensity", propensity.size(), n, "the length of y");
  check_finite(kContext, "y", y);
  check_finite(kContext, "w", w);
  check_finite(kContext, "mu0", mu0);
  check_finite(kContext, "mu1", mu1);
  check_finite(kContext, "propensity", propensity);
  for (Index i = 0; i < n; ++i) {
    if (w[i] != 0.0 && w[i] != 1.0) {
      raise<DataError>("{}: w[{}] = {}, expected 0 or 1", kContext, i, w[i]);
    }
    const double e = propensity[i];
    if (!(e > 0.0 && e < 1.0)) {
      raise<DataError>("{}: propensity[{}] = {}, expected a value in (0, 1)", kContext, i, e);
    }
  }
  Matrix scores(n, 2);
  for (Index i = 0; i < n; ++i) {
    const double e = propensity[i];
    scores(i, 0) = mu0[i] + (1.0 - w[i]) * (y[i] - mu0[i]) / (1.0 - e);
    scores(i, 1) = mu1[i] + w[i] * (y[i] - mu1[i]) / e;
  }
  return scores;
}

/// Doubly-robust scores for K ≥ 1 actions: an n × K matrix. actions[i] ∈ {0..K−1} is the logged
/// action Wᵢ, mu(i, a) = μ̂ₐ(xᵢ) and propensities(i, a) = êₐ(xᵢ), both n × K. Every propensity
/// must be a probability in [0, 1]; the one of the logged action, propensities(i, actions[i]),
/// must be positive, i.e. in (0, 1]. Rows of `propensities` need not sum to 1 (only the logged
/// entry is used), so a caller may fill the other entries with anything in [0, 1].
/// Throws
///   InvalidArgument mu with 0 columns ("double_robust_scores: mu has 0 columns, expected at
///                   least 1 action");
///   DataError       no rows, a non-finite value, an action out of range ("...: actions[3] = 5,
///                   expected an action in 0..2"), a propensity outside [0, 1] ("...:
///                   propensities(1, 0) = 1.5, expected a value in [0, 1]"), a zero logged
///                   propensity ("...: propensities(4, 2) = 0, expected a value in (0, 1] (the
///                   propensity of the logged action actions[4] = 2)");
///   ShapeMismatch   lengths or column counts that disagree.
inline Matrix double_robust_scores(const VectorRef& y, const Eigen::Ref<const IndexVector>& actions,
                                   const MatrixRef& mu, const MatrixRef& propensities) {
  constexpr std::string_view kContext = "double_robust_scores";
  const Index n = y.size();
  const Index num_actions = mu.cols();
  check_nonempty(kContext, "y", n);
  check_rows(kContext, "actions", actions.size(), n, "the length of y");
  check_rows(kContext, "mu", mu.rows(), n, "the length of y");
  check_rows(kContext, "propensities", propensities.rows(), n, "the length of y");
  if (num_actions < 1) {
    raise<InvalidArgument>("{}: mu has 0 columns, expected at least 1 action", kContext);
  }
  if (propensities.cols() != num_actions) {
    raise<ShapeMismatch>(
        "{}: propensities has {} columns, expected {} (the columns of mu, one per action)",
        kContext, propensities.cols(), num_actions);
  }
  check_finite(kContext, "y", y);
  check_finite(kContext, "mu", mu);
  check_finite(kContext, "propensities", propensities);
  for (Index i = 0; i < n; ++i) {
    if (actions[i] < 0 || actions[i] >= num_actions) {
      raise<DataError>("{}: actions[{}] = {}, expected an action in 0..{}", kContext, i, actions[i],
                       num_actions - 1);
    }
  }
  for (Index a = 0; a < num_actions; ++a) {
    for (Index i = 0; i < n; ++i) {
      const double e = propensities(i, a);
      if (!(e >= 0.0 && e <= 1.0)) {
        raise<DataError>("{}: propensities({}, {}) = {}, expected a value in [0, 1]", kContext, i,
                         a, e);
      }
    }
  }
  for (Index i = 0; i < n; ++i) {
    const double e = propensities(i, actions[i]);
    if (!(e > 0.0)) {
      raise<DataError>(
          "{}: propensities({}, {}) = {}, expected a value in (0, 1] (the propensity of the "
          "logged action actions[{}] = {})",
          kContext, i, actions[i], e, i, actions[i]);
    }
  }
  Matrix scores = mu;
  for (Index i = 0; i < n; ++i) {
    const Index a = actions[i];
    scores(i, a) += (y[i] - mu(i, a)) / propensities(i, a);
  }
  return scores;
}

}  // namespace tailor::policy
