// tailor/ope/policy.hpp — a target (evaluation) policy π(a | xᵢ) over K actions on n logged rows,
// the object every off-policy estimator evaluates.
//
// A policy is stored as what the estimators need for each logged row i:
//   deterministic  one action dᵢ ∈ {0..K−1} per row: π(a | xᵢ) = 1{a = dᵢ};
//   stochastic     an n × K matrix P with P(i, a) = π(a | xᵢ) ∈ [0, 1] and Σₐ P(i, a) = 1
//                  (checked to within 1e-6 absolute; the rows are not renormalized).
// Helpers build the common binary policies: treat-all (action 1 for everyone), treat-none
// (action 0), a constant action, and the threshold rule dᵢ = 1{scoreᵢ > threshold} (e.g. treat
// if τ̂(xᵢ) > cost). The policy refers to the rows of one BanditData (same n, same K).
// cross_fit_policy assembles a policy learned fold by fold, so that the action (distribution)
// of row i comes from a policy that was learned without row i — an honest OPE of a learned
// policy on the same logged data (Athey & Wager, Econometrica 2021, §3 uses the same device).
// Construction is O(n·K) (validation); probability(i, a) is O(1).
#pragma once

#include <cmath>
#include <string_view>
#include <utility>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/folds.hpp"
#include "tailor/core/types.hpp"

namespace tailor::ope {

/// A target policy on n rows and K actions: deterministic (one action per row) or stochastic
/// (an n × K matrix of action probabilities per row). Immutable after construction.
class TargetPolicy {
 public:
  /// Tolerance on |Σₐ π(a | xᵢ) − 1| for stochastic policies.
  static constexpr double kRowSumTolerance = 1e-6;

  /// Deterministic policy: row i takes actions[i] ∈ {0..num_actions−1}.
  /// Throws InvalidArgument when num_actions < 1, DataError for an action out of range or no rows:
  /// "TargetPolicy: actions[3] = 5, expected an action in 0..2".
  static TargetPolicy deterministic(const Eigen::Ref<const IndexVector>& actions,
                                    Index num_actions) {
    constexpr std::string_view kContext = "TargetPolicy";
    check_param(num_actions >= 1, kContext, "num_actions", num_actions, "at least 1");
    check_nonempty(kContext, "actions", actions.size());
    for (Index i = 0; i < actions.size(); ++i) {
      if (actions[i] < 0 || actions[i] >= num_actions) {
        raise<DataError>("{}: actions[{}] = {}, expected an action in 0..{}", kContext, i,
                         actions[i], num_actions - 1);
      }
    }
    TargetPolicy policy;
    policy.num_rows_ = actions.size();
    policy.num_actions_ = num_actions;
    policy.actions_ = actions;
    return policy;
  }

  /// Stochastic policy: probabilities(i, a) = π(a | xᵢ), n × K, each row in [0, 1] and summing
  /// to 1 (within kRowSumTolerance). Throws DataError for no rows or columns, a non-finite or
  /// out-of-range entry ("TargetPolicy: probabilities(2, 1) = 1.5, expected a probability in
  /// [0, 1]") or a row that does not sum to 1 ("TargetPolicy: row 4 of probabilities sums to
  /// 0.9, expected 1").
  static TargetPolicy stochastic(const MatrixRef& probabilities) {
    constexpr std::string_view kContext = "TargetPolicy";
    check_nonempty(kContext, "probabilities", probabilities.rows());
    if (probabilities.cols() < 1) {
      raise<DataError>("{}: probabilities has 0 columns, expected one per action", kContext);
    }
    check_finite(kContext, "probabilities", probabilities);
    for (Index a = 0; a < probabilities.cols(); ++a) {
      for (Index i = 0; i < probabilities.rows(); ++i) {
        const double p = probabilities(i, a);
        if (!(p >= 0.0 && p <= 1.0)) {
          raise<DataError>("{}: probabilities({}, {}) = {}, expected a probability in [0, 1]",
                           kContext, i, a, p);
        }
      }
    }
    const Eigen::VectorXd sums = probabilities.rowwise().sum();
    for (Index i = 0; i < sums.size(); ++i) {
      if (std::abs(sums[i] - 1.0) > kRowSumTolerance) {
        raise<DataError>("{}: row {} of probabilities sums to {:.10g}, expected 1", kContext, i,
                         sums[i]);
      }
    }
    TargetPolicy policy;
    policy.num_rows_ = probabilities.rows();
    policy.num_actions_ = probabilities.cols();
    policy.probabilities_ = probabilities;
    return policy;
  }

  /// Every row takes `action` (of num_actions, default binary).
  static TargetPolicy constant(Index num_rows, Index action, Index num_actions = 2) {
    check_param(num_rows >= 1, "TargetPolicy::constant", "num_rows", num_rows, "at least 1");
    return deterministic(IndexVector::Constant(num_rows, action), num_actions);
  }

  /// Binary treat-all policy: action 1 on every row.
  static TargetPolicy treat_all(Index num_rows) { return constant(num_rows, 1, 2); }

  /// Binary treat-none policy: action 0 on every row.
  static TargetPolicy treat_none(Index num_rows) { return constant(num_rows, 0, 2); }

  /// Binary threshold rule: action 1 where scores[i] > threshold, else 0 (e.g. treat if the
  /// estimated effect exceeds the cost). Throws DataError for non-finite scores or no rows.
  static TargetPolicy from_score_threshold(const VectorRef& scores, double threshold = 0.0) {
    constexpr std::string_view kContext = "TargetPolicy::from_score_threshold";
    check_nonempty(kContext, "scores", scores.size());
    check_finite(kContext, "scores", scores);
    check_param(!std::isnan(threshold), kContext, "threshold", threshold, "a number");
    IndexVector actions(scores.size());
    for (Index i = 0; i < scores.size(); ++i) actions[i] = scores[i] > threshold ? 1 : 0;
    return deterministic(actions, 2);
  }

  Index num_rows() const { return num_rows_; }
  Index num_actions() const { return num_actions_; }
  bool is_deterministic() const { return probabilities_.size() == 0; }

  /// π(a | xᵢ).
  double probability(Index i, Index a) const {
    if (is_deterministic()) return actions_[i] == a ? 1.0 : 0.0;
    return probabilities_(i, a);
  }

  /// The chosen actions (deterministic policies only; empty for stochastic ones).
  const IndexVector& actions() const { return actions_; }
  /// The n × K probability matrix (stochastic policies only; empty for deterministic ones).
  const Eigen::MatrixXd& probabilities() const { return probabilities_; }

  /// The n × K probability matrix for either representation.
  Eigen::MatrixXd to_probabilities() const {
    if (!is_deterministic()) return probabilities_;
    Eigen::MatrixXd out = Eigen::MatrixXd::Zero(num_rows_, num_actions_);
    for (Index i = 0; i < num_rows_; ++i) out(i, actions_[i]) = 1.0;
    return out;
  }

  /// Σₐ π(a | xᵢ) q(i, a) for each row: the direct-method value of row i under reward table q
  /// (n × K). O(n) for deterministic, O(n·K) for stochastic policies.
  Eigen::VectorXd expected_under(const MatrixRef& q) const {
    Eigen::VectorXd out(num_rows_);
    if (is_deterministic()) {
      for (Index i = 0; i < num_rows_; ++i) out[i] = q(i, actions_[i]);
    } else {
      out = probabilities_.cwiseProduct(q).rowwise().sum();
    }
    return out;
  }

  /// Share of rows (or probability mass) on each action: (1/n) Σᵢ π(a | xᵢ), length K.
  Eigen::VectorXd action_shares() const {
    Eigen::VectorXd shares = Eigen::VectorXd::Zero(num_actions_);
    if (is_deterministic()) {
      for (Index i = 0; i < num_rows_; ++i) shares[actions_[i]] += 1.0;
    } else {
      shares = probabilities_.colwise().sum().transpose();
    }
    return shares / static_cast<double>(num_rows_);
  }

 private:
  TargetPolicy() = default;

  Index num_rows_ = 0;
  Index num_actions_ = 0;
  IndexVector actions_;
  Eigen::MatrixXd probabilities_;
};

/// A cross-fitted policy over folds.num_rows() rows: for each fold k, learn(k, train_rows,
/// test_rows) fits a policy on train_rows only and returns it as a TargetPolicy over the rows of
/// test_rows (in that order); the pieces are assembled in row order. The result is deterministic
/// when every piece is, else stochastic. Throws InvalidArgument for invalid folds, ShapeMismatch
/// when a piece has the wrong number of rows or actions.
template <class Learn>
TargetPolicy cross_fit_policy(const Folds& folds, Index num_actions, Learn&& learn) {
  constexpr std::string_view kContext = "cross_fit_policy";
  check_param(num_actions >= 1, kContext, "num_actions", num_actions, "at least 1");
  const Index n = folds.num_rows();
  folds.validate(kContext, n);
  bool deterministic = true;
  IndexVector actions(n);
  Eigen::MatrixXd probabilities = Eigen::MatrixXd::Zero(n, num_actions);
  for (Index k = 0; k < folds.num_folds; ++k) {
    const std::vector<Index> train = folds.train_rows(k);
    const std::vector<Index> test = folds.test_rows(k);
    const TargetPolicy piece = learn(k, train, test);
    if (piece.num_rows() != static_cast<Index>(test.size())) {
      raise<ShapeMismatch>(
          "{}: the policy of fold {} has {} rows, expected {} (the rows of the fold)", kContext, k,
          piece.num_rows(), test.size());
    }
    if (piece.num_actions() != num_actions) {
      raise<ShapeMismatch>("{}: the policy of fold {} has {} actions, expected {}", kContext, k,
                           piece.num_actions(), num_actions);
    }
    deterministic = deterministic && piece.is_deterministic();
    for (std::size_t r = 0; r < test.size(); ++r) {
      const auto row = static_cast<Index>(r);
      if (piece.is_deterministic()) {
        actions[test[r]] = piece.actions()[row];
        probabilities(test[r], piece.actions()[row]) = 1.0;
      } else {
        probabilities.row(test[r]) = piece.probabilities().row(row);
      }
    }
  }
  return deterministic ? TargetPolicy::deterministic(actions, num_actions)
                       : TargetPolicy::stochastic(probabilities);
}

}  // namespace tailor::ope
