// tailor/ope/nuisance.hpp — the nuisance estimates of off-policy evaluation, cross-fitted:
// a reward model q̂(x, a) ≈ E[r | x, a] for every row and action, and estimated logging
// propensities π̂₀(aᵢ | xᵢ) with clipping.
//
// Cross-fitting (Chernozhukov et al., "Double/debiased machine learning", Econometrics J. 2018;
// for OPE: Narita, Yasui & Yata, "Debiased off-policy evaluation for recommendation systems",
// RecSys 2021): the rows are split into K folds; the model that predicts the rows of fold k is
// fitted on the other K − 1 folds, so q̂(xᵢ, ·) and π̂₀(· | xᵢ) never come from a model that
// saw row i. That keeps the DR-type estimators' influence-function variance honest even with
// flexible learners (forests, boosting).
//
// Reward model encodings:
//   pooled      one model on the features [x, e_a] (x followed by the one-hot of the action);
//               q̂(x, a) = model([x, e_a]). Shares strength across actions (good when K is
//               large and rewards are rare, as in the Open Bandit Dataset); a linear learner
//               then gives additive action effects only.
//   per_action  one model per action a, fitted on the training rows that logged a;
//               q̂(x, a) = model_a(x). Needs rows of every action in every training part.
// Learners: any learn::Classifier (rewards must then be 0/1 and q̂ = predict_proba(·)(:, 1))
// or learn::Regressor (q̂ = predict). A type that is both is used as a Classifier.
// Propensities: a learn::Classifier fitted on (X, logged action) — multi-class (e.g.
// learn::ClassificationForest) for K > 2 or a binary one (learn::LogisticRegression) for K = 2 —
// cross-fitted with folds stratified by action; π̂₀(aᵢ | xᵢ) is clipped to
// [min_propensity, 1], default min_propensity = 0.01 (importance weights ≤ 100). Logged
// propensities need no estimate; BanditData::propensity() is used as is unless clipped by
// clip_propensity.
// Cost: K fits of the learner on (K−1)/K of the rows (per_action: K·num_actions smaller fits)
// plus n·num_actions predictions; folds run in parallel and the result does not depend on
// num_threads when the learner's fit is deterministic.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include <Eigen/Core>

#include "tailor/core/data.hpp"
#include "tailor/core/errors.hpp"
#include "tailor/core/folds.hpp"
#include "tailor/core/parallel.hpp"
#include "tailor/core/types.hpp"
#include "tailor/learn/concepts.hpp"
#include "tailor/learn/cross_fit.hpp"

namespace tailor::ope {

/// How the reward model sees the action (see the header comment).
enum class RewardModelEncoding {
  pooled,      ///< one model on [x, one-hot(a)]
  per_action,  ///< one model per action on the rows that logged it
};

/// Options of cross_fit_reward_model.
struct RewardModelOptions {
  /// Number of cross-fitting folds, ≥ 2 (default 5).
  Index num_folds = 5;
  /// Seed of the random fold assignment (default 0).
  std::uint64_t seed = 0;
  /// Threads over folds, 0 = all cores (default 0); results identical for every value.
  Index num_threads = 0;
  /// Default pooled.
  RewardModelEncoding encoding = RewardModelEncoding::pooled;
};

/// Options of estimate_logging_propensity.
struct PropensityOptions {
  /// Number of cross-fitting folds, ≥ 2 (default 5); folds are stratified by logged action.
  Index num_folds = 5;
  /// Seed of the fold assignment (default 0).
  std::uint64_t seed = 0;
  /// Threads over folds, 0 = all cores (default 0).
  Index num_threads = 0;
  /// Estimated propensities are clipped to [min_propensity, 1]; in (0, 1], default 0.01.
  double min_propensity = 0.01;
};

namespace detail {

template <class L>
concept RewardLearner = learn::Regressor<L> || learn::Classifier<L>;

/// Predictions of a fitted reward model: P(r = 1 | ·) for classifiers, predict for regressors.
template <class L, class Model>
Eigen::VectorXd predict_reward(const Model& model, const Eigen::MatrixXd& X,
                               std::string_view context) {
  if constexpr (learn::Classifier<L>) {
    const Eigen::MatrixXd proba = model.predict_proba(X);
    if (proba.cols() < 2) {
      raise<DataError>("{}: the reward classifier knows {} class(es), expected 2 (rewards 0 and 1)",
                       context, proba.cols());
    }
    return proba.col(1);
  } else {
    return model.predict(X);
  }
}

/// [X, e_a] for the given rows of X (all of them when rows is empty).
inline Eigen::MatrixXd pooled_features(const MatrixRef& X, const std::vector<Index>& rows,
                                       const std::vector<Index>& actions, Index num_actions) {
  const auto m = static_cast<Index>(rows.size());
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(m, X.cols() + num_actions);
  for (Index j = 0; j < X.cols(); ++j) {
    for (Index r = 0; r < m; ++r) out(r, j) = X(rows[static_cast<std::size_t>(r)], j);
  }
  for (Index r = 0; r < m; ++r) out(r, X.cols() + actions[static_cast<std::size_t>(r)]) = 1.0;
  return out;
}

}  // namespace detail

/// Clips propensities to [min_propensity, 1] (min_propensity in (0, 1]). O(n).
inline Eigen::VectorXd clip_propensity(const VectorRef& propensity, double min_propensity) {
  check_param(min_propensity > 0.0 && min_propensity <= 1.0, "clip_propensity", "min_propensity",
              min_propensity, "a value in (0, 1]");
  check_finite("clip_propensity", "propensity", propensity);
  return propensity.cwiseMax(min_propensity).cwiseMin(1.0);
}

/// Cross-fitted reward model: an n × K matrix with entry (i, a) = q̂(xᵢ, a), predicted by a
/// model fitted without row i's fold. Throws InvalidArgument for bad options (num_folds < 2 or
/// > n, num_threads < 0), DataError when a classifier is given non-binary rewards (from the
/// learner) or, with per_action, an action has no rows in some training part ("...: action 2
/// has no logged rows outside fold 3, expected at least 1"). Learner exceptions propagate.
template <detail::RewardLearner L>
Eigen::MatrixXd cross_fit_reward_model(const L& learner, const BanditData& data,
                                       const RewardModelOptions& options = {}) {
  constexpr std::string_view kContext = "cross_fit_reward_model";
  resolve_num_threads(options.num_threads);
  const Index n = data.num_rows();
  const Index num_actions = data.num_actions();
  const Folds folds = kfold(n, options.num_folds, options.seed);
  const MatrixRef& X = data.X();
  // One cross-fitting part per model: the pooled model, or one per action.
  const bool pooled = options.encoding == RewardModelEncoding::pooled;
  const Eigen::MatrixXd out = learn::cross_fit(
      kContext, folds, pooled ? 1 : num_actions, options.num_threads,
      [&](Index k, Index part, const std::vector<Index>& train, const std::vector<Index>& test) {
        const auto num_test = static_cast<Index>(test.size());
        if (pooled) {
          std::vector<Index> train_actions(train.size());
          for (std::size_t r = 0; r < train.size(); ++r) train_actions[r] = data.action()[train[r]];
          const Eigen::MatrixXd features =
              detail::pooled_features(X, train, train_actions, num_actions);
          const Eigen::VectorXd reward = learn::detail::take_entries(data.reward(), train);
          const auto model = learner.fit(features, reward, Eigen::VectorXd());
          Eigen::MatrixXd q(num_test, num_actions);
          for (Index a = 0; a < num_actions; ++a) {
            const std::vector<Index> same(test.size(), a);
            q.col(a) = detail::predict_reward<L>(
                model, detail::pooled_features(X, test, same, num_actions), kContext);
          }
          return q;
        }
        const Index a = part;
        const std::vector<Index> rows = learn::detail::rows_where(data.action(), a, train);
        if (rows.empty()) {
          raise<DataError>(
              "{}: action {} has no logged rows outside fold {}, expected at least 1 (use the "
              "pooled encoding)",
              kContext, a, k);
        }
        const auto model =
            learner.fit(learn::detail::take_rows(X, rows),
                        learn::detail::take_entries(data.reward(), rows), Eigen::VectorXd());
        return Eigen::MatrixXd(
            detail::predict_reward<L>(model, learn::detail::take_rows(X, test), kContext));
      });
  check_finite(kContext, "predictions", out);
  return out;
}

/// Cross-fitted estimated logging propensities π̂₀(aᵢ | xᵢ) of the logged actions, clipped to
/// [min_propensity, 1]. Throws InvalidArgument for bad options, DataError when an action was
/// logged on fewer rows than num_folds (from stratified_kfold); learner exceptions propagate.
template <learn::Classifier L>
Eigen::VectorXd estimate_logging_propensity(const L& learner, const BanditData& data,
                                            const PropensityOptions& options = {}) {
  constexpr std::string_view kContext = "estimate_logging_propensity";
  check_param(options.min_propensity > 0.0 && options.min_propensity <= 1.0, kContext,
              "min_propensity", options.min_propensity, "a value in (0, 1]");
  const Eigen::VectorXd labels = data.action().cast<double>();
  const Folds folds = stratified_kfold(labels, options.num_folds, options.seed);
  const Eigen::MatrixXd proba = learn::cross_fit_predict_proba(
      learner, data.X(), labels, Eigen::VectorXd(), folds, options.num_threads);
  Eigen::VectorXd out(data.num_rows());
  for (Index i = 0; i < data.num_rows(); ++i) {
    const Index a = data.action()[i];
    out[i] = a < proba.cols() ? proba(i, a) : 0.0;
  }
  return clip_propensity(out, options.min_propensity);
}

}  // namespace tailor::ope
