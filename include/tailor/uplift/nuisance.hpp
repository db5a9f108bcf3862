// tailor/uplift/nuisance.hpp — cross-fitted propensities and arm outcome models for the IPW and
// doubly-robust uplift curves of observational data.
//
// For folds I₁..I_K stratified on w, the models for fold k are fitted on the rows outside I_k:
//   ê(x)  = P̂(W = 1 | x)    a Classifier on (X, w), clipped to [clip, 1 − clip]
//   μ̂₁(x) = Ê[Y | x, W = 1]  a Regressor on the treated training rows
//   μ̂₀(x) = Ê[Y | x, W = 0]  a Regressor on the control training rows
// and predict the rows in I_k, so no row's nuisance value comes from a model that saw it
// (Chernozhukov et al. 2018). Feed the result to the curves with to_options().
// Folds run in parallel; each fold's result depends only on the learners, the data and the
// folds, so the output is identical for every num_threads.
// Cost: 3K fits on about (K−1)/K of the rows (the outcome fits on one arm each).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "tailor/core/errors.hpp"
#include "tailor/core/folds.hpp"
#include "tailor/core/parallel.hpp"
#include "tailor/core/types.hpp"
#include "tailor/learn/concepts.hpp"
#include "tailor/learn/cross_fit.hpp"
#include "tailor/learn/logistic_regression.hpp"
#include "tailor/learn/ridge.hpp"
#include "tailor/uplift/curves.hpp"

namespace tailor::uplift {

/// Settings of cross_fit_nuisance, validated there (InvalidArgument).
struct NuisanceParams {
  Index num_folds = 5;  ///< K ≥ 2 (and at most the rows of the smaller arm)
  double clip = 0.01;   ///< propensities are clipped to [clip, 1 − clip], clip in (0, 0.5)
  std::uint64_t seed = 0;
  Index num_threads = 0;  ///< 0 = all cores; results identical for every value
};

/// Cross-fitted nuisances, one value per row.
struct Nuisance {
  Vector propensity;  ///< ê(xᵢ), clipped
  Vector mu0;         ///< μ̂₀(xᵢ)
  Vector mu1;         ///< μ̂₁(xᵢ)

  /// EvaluationOptions for the doubly-robust curves (or IPW when with_outcomes = false).
  EvaluationOptions to_options(bool with_outcomes = true) const {
    EvaluationOptions o;
    o.propensity = propensity;
    if (with_outcomes) {
      o.mu0 = mu0;
      o.mu1 = mu1;
    }
    return o;
  }
};

/// Cross-fitted ê, μ̂₀, μ̂₁ from features X (n × p), treatment w ∈ {0, 1} and outcome y.
/// Throws ShapeMismatch on unequal lengths, DataError on non-finite values or w not 0/1,
/// InvalidArgument on bad params (e.g. an arm with fewer rows than folds); learner exceptions
/// propagate.
template <learn::Classifier PropensityLearner = learn::LogisticRegression,
          learn::Regressor OutcomeLearner = learn::Ridge>
Nuisance cross_fit_nuisance(const MatrixRef& X, const VectorRef& w, const VectorRef& y,
                            const PropensityLearner& propensity_learner = PropensityLearner(),
                            const OutcomeLearner& outcome_learner = OutcomeLearner(),
                            const NuisanceParams& params = {}) {
  constexpr std::string_view kContext = "cross_fit_nuisance";
  check_param(params.clip > 0.0 && params.clip < 0.5, kContext, "clip", params.clip,
              "a value in (0, 0.5)");
  check_param(params.num_threads >= 0, kContext, "num_threads", params.num_threads,
              "0 (all cores) or a positive count");
  const Index n = X.rows();
  check_nonempty(kContext, "X", n);
  check_rows(kContext, "w", w.size(), n, "the rows of X");
  check_rows(kContext, "y", y.size(), n, "the rows of X");
  check_finite(kContext, "X", X);
  check_finite(kContext, "w", w);
  check_finite(kContext, "y", y);
  detail::check_treatment(kContext, w);
  Index treated = 0;
  for (Index i = 0; i < n; ++i) treated += w[i] == 1.0 ? 1 : 0;
  const Index smaller = std::min(treated, n - treated);
  if (params.num_folds < 2 || params.num_folds > smaller) {
    tailor::detail::raise<InvalidArgument>(
        "{}: num_folds = {}, expected a value in [2, {}] (the rows of the smaller arm)", kContext,
        params.num_folds, smaller);
  }
  const Folds folds = stratified_kfold(w, params.num_folds, params.seed);

  Nuisance out;
  const Eigen::MatrixXd proba =
      learn::cross_fit_predict_proba(propensity_learner, X, w, Vector(), folds, params.num_threads);
  out.propensity = proba.col(1).cwiseMax(params.clip).cwiseMin(1.0 - params.clip);
  out.mu0.resize(n);
  out.mu1.resize(n);
  struct FoldOutcomes {
    Vector mu0, mu1;
  };
  std::vector<FoldOutcomes> per_fold(static_cast<std::size_t>(folds.num_folds));
  parallel_for(0, folds.num_folds, params.num_threads, [&](Index k) {
    const std::vector<Index> train = folds.train_rows(k);
    const Eigen::MatrixXd X_test = learn::detail::take_rows(X, folds.test_rows(k));
    FoldOutcomes& result = per_fold[static_cast<std::size_t>(k)];
    for (int arm = 0; arm <= 1; ++arm) {
      std::vector<Index> rows;
      for (Index i : train) {
        if (w[i] == static_cast<double>(arm)) rows.push_back(i);
      }
      const auto model = outcome_learner.fit(learn::detail::take_rows(X, rows),
                                             learn::detail::take_entries(y, rows), Vector());
      (arm == 1 ? result.mu1 : result.mu0) = model.predict(X_test);
    }
  });
  for (Index k = 0; k < folds.num_folds; ++k) {
    const std::vector<Index> test = folds.test_rows(k);
    const FoldOutcomes& result = per_fold[static_cast<std::size_t>(k)];
    for (std::size_t r = 0; r < test.size(); ++r) {
      out.mu0[test[r]] = result.mu0[static_cast<Index>(r)];
      out.mu1[test[r]] = result.mu1[static_cast<Index>(r)];
    }
  }
  return out;
}

}  // namespace tailor::uplift
