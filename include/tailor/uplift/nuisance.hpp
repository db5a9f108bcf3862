// tailor/uplift/nuisance.hpp — cross-fitted propensities and arm outcome models for the IPW and
// doubly-robust uplift curves of observational data.
//
// For folds I₁..I_K stratified on w, the models for fold k are fitted on the rows outside I_k:
//   ê(x)  = P̂(W = 1 | x)    a Classifier on (X, w), clipped to [clip, 1 − clip]
//   μ̂₁(x) = Ê[Y | x, W = 1]  a Regressor on the treated training rows
//   μ̂₀(x) = Ê[Y | x, W = 0]  a Regressor on the control training rows
// (each fit with the sample weights of its rows, when given) and predict the rows in I_k, so no
// row's nuisance value comes from a model that saw it (Chernozhukov et al. 2018). The result is the
// library's one nuisance type, NuisanceEstimates (core/data.hpp); feed it to the curves with
// evaluation_options(). The folds run through the one cross-fitting loop, learn::cross_fit. Folds
// run in parallel; each fold's result depends only on the learners, the data and the folds, so the
// output is identical for every num_threads. Cost: 3K fits on about (K−1)/K of the rows (the
// outcome fits on one arm each).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "tailor/core/data.hpp"
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

/// Cross-fitted nuisances of the uplift curves: the library's one nuisance type.
using Nuisance = NuisanceEstimates;

/// EvaluationOptions for the doubly-robust curves (or IPW when with_outcomes = false), with the
/// sample weights the nuisances were fitted with (length 0 = unit weights).
inline EvaluationOptions evaluation_options(const NuisanceEstimates& nuisance,
                                            bool with_outcomes = true,
                                            const VectorRef& sample_weights = Vector()) {
  EvaluationOptions o;
  o.propensity = nuisance.propensity;
  if (with_outcomes) {
    o.mu0 = nuisance.mu0;
    o.mu1 = nuisance.mu1;
  }
  o.sample_weights = sample_weights;
  return o;
}

/// Cross-fitted ê, μ̂₀, μ̂₁ from features X (n × p), treatment w ∈ {0, 1}, outcome y and optional
/// sample weights (length 0 = unit weights; every model is fitted with its rows' weights).
/// Throws ShapeMismatch on unequal lengths, DataError on non-finite values, w not 0/1 or bad
/// weights, InvalidArgument on bad params (e.g. an arm with fewer rows than folds); learner
/// exceptions propagate.
template <learn::Classifier PropensityLearner = learn::LogisticRegression,
          learn::Regressor OutcomeLearner = learn::Ridge>
NuisanceEstimates cross_fit_nuisance(
    const MatrixRef& X, const VectorRef& w, const VectorRef& y,
    const PropensityLearner& propensity_learner = PropensityLearner(),
    const OutcomeLearner& outcome_learner = OutcomeLearner(), const NuisanceParams& params = {},
    const VectorRef& sample_weights = Vector()) {
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
  check_weights(kContext, "sample_weights", sample_weights, n);
  detail::check_treatment(kContext, w);
  Index treated = 0;
  for (Index i = 0; i < n; ++i) treated += w[i] == 1.0 ? 1 : 0;
  const Index smaller = std::min(treated, n - treated);
  if (params.num_folds < 2 || params.num_folds > smaller) {
    raise<InvalidArgument>(
        "{}: num_folds = {}, expected a value in [2, {}] (the rows of the smaller arm)", kContext,
        params.num_folds, smaller);
  }
  const Folds folds = stratified_kfold(w, params.num_folds, params.seed);

  // Part 0: the propensity model on all training rows; parts 1 and 2: μ̂₀ and μ̂₁ on the
  // training rows of their arm. Probabilities are P(W = 1 | x), the classifier's column 1.
  using learn::detail::take_entries;
  using learn::detail::take_rows;
  const Matrix fitted = learn::cross_fit(
      kContext, folds, 3, params.num_threads,
      [&](Index, Index part, const std::vector<Index>& train, const std::vector<Index>& test) {
        const Matrix X_test = take_rows(X, test);
        if (part == 0) {
          const auto model = propensity_learner.fit(take_rows(X, train), take_entries(w, train),
                                                    take_entries(sample_weights, train));
          const Matrix proba = model.predict_proba(X_test);
          return Matrix(proba.col(proba.cols() - 1));
        }
        const std::vector<Index> rows =
            learn::detail::rows_where(w, static_cast<double>(part - 1), train);
        const auto model = outcome_learner.fit(take_rows(X, rows), take_entries(y, rows),
                                               take_entries(sample_weights, rows));
        return Matrix(model.predict(X_test));
      });
  return {.mu0 = fitted.col(1),
          .mu1 = fitted.col(2),
          .propensity = fitted.col(0).cwiseMax(params.clip).cwiseMin(1.0 - params.clip)};
}

}  // namespace tailor::uplift
