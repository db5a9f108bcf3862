// tailor/core/data.hpp — validated, non-owning views of causal and logged-bandit data
// (DESIGN §3).
//
// CausalData  n units with features X (n × p), binary treatment w ∈ {0, 1}, outcome y, and
//             optionally sample weights and known propensities e(x) = P(w = 1 | x) (e.g. from
//             a randomized experiment).
// BanditData  n logged decisions: context X (n × p, p may be 0), the logged action
//             aᵢ ∈ {0, …, K−1}, its reward rᵢ and the logging policy's probability
//             π₀(aᵢ | xᵢ) ∈ (0, 1] — the inputs of off-policy evaluation (IPS/DR).
// Both are checked once on construction (shapes, finiteness, domains), so methods that take
// them do not re-check. Construction is O(n·p) (one pass over X for finiteness); copies are
// O(n) at most (optional weights/propensities are owned) and the views themselves O(1).
//
// Lifetime: X, w, y, action, reward and propensity are held as Eigen::Ref, i.e. as pointers to
// the caller's memory. The viewed matrices must outlive the view (and every copy of it), and
// must not be modified while it is in use. Arguments that cannot be viewed directly (Eigen
// expressions such as `w_int.cast<double>()` or `2 * y`, row-major matrices, strided vectors)
// are evaluated once into storage the view owns, so they are safe. A temporary plain matrix,
// e.g. `CausalData(make_X(), w, y)`, is NOT safe: the view would point into it after it dies.
// Likewise a MatrixRef/VectorRef you pass on (say a function parameter) is viewed as is: what
// it refers to must outlive the view. (The detection of evaluated arguments reads Eigen::Ref's
// protected `m_object` member, present in Eigen 3.3 and 3.4.)
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/types.hpp"

namespace tailor {

/// Smallest propensity CausalData and BanditData accept (and 1 − it the largest for
/// CausalData): below it an inverse-propensity weight exceeds 1e12, and a denormal such as
/// 1e-310 would turn every estimate into inf or NaN.
inline constexpr double kMinPropensity = 1e-12;
/// Most actions BanditData accepts (given or inferred as max(action) + 1).
inline constexpr Index kMaxActions = 1'000'000;

namespace detail {

/// Gives read access to the protected evaluated-copy member of an Eigen::Ref<const T>. Naming
/// a protected member through a derived class to form a pointer-to-member is standard C++.
template <class RefType>
struct RefStorageAccess : RefType {
  static constexpr auto object = &RefStorageAccess::m_object;
};

/// When `ref` could not bind to its argument directly and evaluated it into its own storage
/// (a copy of such a Ref would point at storage that dies with `ref`), returns an owned copy of
/// the values; otherwise nullptr (the Ref points at the caller's memory).
template <class Plain>
std::shared_ptr<const Plain> copy_if_owned(const Eigen::Ref<const Plain>& ref) {
  const Plain& own = ref.*RefStorageAccess<Eigen::Ref<const Plain>>::object;
  if (own.size() > 0 && own.data() == ref.data()) return std::make_shared<const Plain>(ref);
  return nullptr;
}

/// A Ref to `copy` when there is one, else `ref` itself (which then views the caller's memory).
template <class Plain>
Eigen::Ref<const Plain> view_of(const Eigen::Ref<const Plain>& ref,
                                const std::shared_ptr<const Plain>& copy) {
  if (copy) return Eigen::Ref<const Plain>(*copy);
  return ref;
}

/// Checks an optional per-row vector: length 0 (absent) or `n`, finite.
inline void check_optional_rows(std::string_view context, std::string_view name,
                                const Eigen::VectorXd& values, Index n) {
  if (values.size() != 0 && values.size() != n) {
    raise<ShapeMismatch>("{}: {} has {} rows, expected {} (the rows of X) or 0 (absent)", context,
                         name, values.size(), n);
  }
  check_finite(context, name, values);
}

}  // namespace detail

/// Per-row nuisance estimates of a binary-treatment problem, one entry per row: the one nuisance
/// type that the meta-learners and the causal forest (cate/), the uplift curves (uplift/) and the
/// doubly robust policy scores (policy/, pipeline/) exchange. Cross-fitted or out of bag where a
/// method estimates them (learn/cross_fit.hpp), so no row's value comes from a model that saw it.
struct NuisanceEstimates {
  Vector mu0;         ///< μ̂₀(xᵢ) = E[Y | X = xᵢ, W = 0]
  Vector mu1;         ///< μ̂₁(xᵢ) = E[Y | X = xᵢ, W = 1]
  Vector propensity;  ///< êᵢ = P(W = 1 | X = xᵢ), after clipping
};

/// Optional parts of a CausalData; a vector of length 0 means "absent".
struct CausalDataOptions {
  /// Non-negative sample (survey/importance) weights, not all zero. Default: unit weights.
  Eigen::VectorXd sample_weights = Eigen::VectorXd();
  /// Known propensities e(xᵢ) = P(wᵢ = 1 | xᵢ), each strictly inside (0, 1). Default: unknown
  /// (methods estimate them).
  Eigen::VectorXd propensity = Eigen::VectorXd();
};

/// Features X, binary treatment w and outcome y of n units, validated once.
///
/// Throws DataError when X has no rows or no columns, any value is NaN/±Inf, w is not 0/1,
/// treatment is constant, an arm has fewer than 2 rows (counting rows with positive sample
/// weight), sample weights are negative or all zero, or a propensity is outside (0, 1);
/// ShapeMismatch when a vector's length differs from the rows of X.
/// See the header comment for the lifetime of the viewed data.
class CausalData {
 public:
  /// One constructor with a defaulted options argument rather than a delegating pair: passing
  /// X on to another constructor would copy the Ref and lose track of an evaluated temporary.
  CausalData(MatrixRef X, VectorRef w, VectorRef y, CausalDataOptions options = {})
      : X_copy_(detail::copy_if_owned(X)),
        w_copy_(detail::copy_if_owned(w)),
        y_copy_(detail::copy_if_owned(y)),
        X_(detail::view_of(X, X_copy_)),
        w_(detail::view_of(w, w_copy_)),
        y_(detail::view_of(y, y_copy_)),
        sample_weights_(std::move(options.sample_weights)),
        propensity_(std::move(options.propensity)) {
    validate();
  }

  /// Features, n × p (column-major).
  const MatrixRef& X() const { return X_; }
  /// Treatment indicator, 1 = treated, 0 = control.
  const VectorRef& w() const { return w_; }
  /// Outcome.
  const VectorRef& y() const { return y_; }

  bool has_sample_weights() const { return sample_weights_.size() > 0; }
  /// The sample weights, or an empty vector (= unit weights, the convention learners accept).
  const Eigen::VectorXd& sample_weights() const { return sample_weights_; }

  bool has_propensity() const { return propensity_.size() > 0; }
  /// The known propensities e(xᵢ), or an empty vector when unknown.
  const Eigen::VectorXd& propensity() const { return propensity_; }

  Index num_rows() const { return X_.rows(); }
  Index num_features() const { return X_.cols(); }
  /// Rows with w = 1 (regardless of weights).
  Index num_treated() const { return num_treated_; }
  /// Rows with w = 0 (regardless of weights).
  Index num_control() const { return num_rows() - num_treated_; }

 private:
  void validate() {
    constexpr std::string_view kContext = "CausalData";
    const Index n = X_.rows();
    check_nonempty(kContext, "X", n);
    if (X_.cols() == 0) {
      raise<DataError>("{}: X has 0 columns, expected at least 1 feature", kContext);
    }
    check_rows(kContext, "w", w_.rows(), n, "the rows of X");
    check_rows(kContext, "y", y_.rows(), n, "the rows of X");
    detail::check_optional_rows(kContext, "sample_weights", sample_weights_, n);
    detail::check_optional_rows(kContext, "propensity", propensity_, n);
    check_finite(kContext, "X", X_);
    check_finite(kContext, "w", w_);
    check_finite(kContext, "y", y_);
    check_weights(kContext, "sample_weights", sample_weights_, n);

    Index treated = 0;
    Index weighted_treated = 0;  // rows with positive weight in each arm
    Index weighted_control = 0;
    for (Index i = 0; i < n; ++i) {
      if (w_[i] != 0.0 && w_[i] != 1.0) {
        raise<DataError>("{}: w[{}] = {}, expected 0 or 1", kContext, i, w_[i]);
      }
      const bool is_treated = w_[i] == 1.0;
      treated += is_treated ? 1 : 0;
      if (!has_sample_weights() || sample_weights_[i] > 0.0) {
        (is_treated ? weighted_treated : weighted_control) += 1;
      }
    }
    num_treated_ = treated;
    if (treated == 0 || treated == n) {
      raise<DataError>(
          "{}: w is constant (all {} rows have w = {}), expected both treated (w = 1) and "
          "control (w = 0) rows",
          kContext, n, treated == n ? 1 : 0);
    }
    if (weighted_treated < 2 || weighted_control < 2) {
      raise<DataError>("{}: {} treated and {} control rows{}, expected at least 2 in each arm",
                       kContext, weighted_treated, weighted_control,
                       has_sample_weights() ? " with positive sample weight" : "");
    }
    for (Index i = 0; i < propensity_.size(); ++i) {
      const double e = propensity_[i];
      if (!(e >= kMinPropensity && e <= 1.0 - kMinPropensity)) {
        raise<DataError>(
            "{}: propensity[{}] = {}, expected a value strictly between 0 and 1 (at least {} "
            "from either end: inverse-propensity weights above 1e12 are numerically meaningless)",
            kContext, i, e, kMinPropensity);
      }
    }
  }

  // Owned copies of arguments that could not be viewed in place (see the header comment);
  // shared so copies of the view stay cheap and valid. Declared before the Refs that use them.
  std::shared_ptr<const Eigen::MatrixXd> X_copy_;
  std::shared_ptr<const Eigen::VectorXd> w_copy_;
  std::shared_ptr<const Eigen::VectorXd> y_copy_;
  MatrixRef X_;
  VectorRef w_;
  VectorRef y_;
  Eigen::VectorXd sample_weights_;
  Eigen::VectorXd propensity_;
  Index num_treated_ = 0;
};

/// Read-only view of an integer vector (logged actions).
using IndexVectorRef = Eigen::Ref<const IndexVector>;

/// Logged bandit feedback: context X, logged action, reward and the logging propensity
/// π₀(aᵢ | xᵢ) of the action that was taken, validated once.
///
/// num_actions K is given explicitly (≥ 1, larger than every logged action) or, when 0,
/// inferred as max(action) + 1 — pass it explicitly when some action was never logged.
/// Throws DataError when there are no rows, a value is NaN/±Inf, an action is outside
/// 0..K−1, or a propensity is outside (0, 1]; ShapeMismatch when a vector's length differs
/// from the rows of X; InvalidArgument when num_actions < 0.
/// X may have 0 columns (context-free bandits); it still fixes n through its rows, e.g.
/// Eigen::MatrixXd(n, 0). See the header comment for the lifetime of the viewed data.
class BanditData {
 public:
  BanditData(MatrixRef X, IndexVectorRef action, VectorRef reward, VectorRef propensity,
             Index num_actions = 0)
      : X_copy_(detail::copy_if_owned(X)),
        action_copy_(detail::copy_if_owned(action)),
        reward_copy_(detail::copy_if_owned(reward)),
        propensity_copy_(detail::copy_if_owned(propensity)),
        X_(detail::view_of(X, X_copy_)),
        action_(detail::view_of(action, action_copy_)),
        reward_(detail::view_of(reward, reward_copy_)),
        propensity_(detail::view_of(propensity, propensity_copy_)),
        num_actions_(num_actions) {
    validate();
  }

  /// Context features, n × p (p may be 0).
  const MatrixRef& X() const { return X_; }
  /// Logged action of each row, in 0..num_actions()−1.
  const IndexVectorRef& action() const { return action_; }
  /// Observed reward of the logged action.
  const VectorRef& reward() const { return reward_; }
  /// Logging probability π₀(aᵢ | xᵢ) of the logged action, in (0, 1].
  const VectorRef& propensity() const { return propensity_; }

  Index num_rows() const { return X_.rows(); }
  Index num_features() const { return X_.cols(); }
  /// Number of actions K.
  Index num_actions() const { return num_actions_; }

 private:
  void validate() {
    constexpr std::string_view kContext = "BanditData";
    check_param(num_actions_ >= 0, kContext, "num_actions", num_actions_,
                "0 (infer from the actions) or a positive count");
    const Index n = X_.rows();
    check_nonempty(kContext, "X", n);
    check_rows(kContext, "action", action_.rows(), n, "the rows of X");
    check_rows(kContext, "reward", reward_.rows(), n, "the rows of X");
    check_rows(kContext, "propensity", propensity_.rows(), n, "the rows of X");
    check_finite(kContext, "X", X_);
    check_finite(kContext, "reward", reward_);
    check_finite(kContext, "propensity", propensity_);
    check_param(num_actions_ <= kMaxActions, kContext, "num_actions", num_actions_,
                "at most 1000000");
    // Inferred or given, K sizes n x K matrices downstream: one corrupt action of 2^40 must be
    // an error here, not a 2^40-column allocation later.
    const Index limit = num_actions_ > 0 ? num_actions_ : kMaxActions;
    Index max_action = -1;
    for (Index i = 0; i < n; ++i) {
      const Index a = action_[i];
      if (a < 0 || a >= limit) {
        if (num_actions_ > 0) {
          raise<DataError>("{}: action[{}] = {}, expected an action in 0..{}", kContext, i, a,
                           num_actions_ - 1);
        }
        raise<DataError>("{}: action[{}] = {}, expected an action in 0..{} (at most {} actions)",
                         kContext, i, a, kMaxActions - 1, kMaxActions);
      }
      max_action = std::max(max_action, a);
    }
    if (num_actions_ == 0) num_actions_ = max_action + 1;
    for (Index i = 0; i < n; ++i) {
      if (!(propensity_[i] >= kMinPropensity && propensity_[i] <= 1.0)) {
        raise<DataError>(
            "{}: propensity[{}] = {}, expected a probability in (0, 1], at least {} "
            "(inverse-propensity weights above 1e12 are numerically meaningless)",
            kContext, i, propensity_[i], kMinPropensity);
      }
    }
  }

  std::shared_ptr<const Eigen::MatrixXd> X_copy_;
  std::shared_ptr<const IndexVector> action_copy_;
  std::shared_ptr<const Eigen::VectorXd> reward_copy_;
  std::shared_ptr<const Eigen::VectorXd> propensity_copy_;
  MatrixRef X_;
  IndexVectorRef action_;
  VectorRef reward_;
  VectorRef propensity_;
  Index num_actions_;
};

}  // namespace tailor
