// tailor/learn/cross_fit.hpp — out-of-fold (cross-fitted) predictions of a base learner.
//
// For folds I₁..I_K of the rows, the model for fold k is fitted on the rows outside I_k and
// predicts the rows in I_k, so every row's prediction comes from a model that never saw it.
// Cross-fitting is what makes nuisance estimates (outcome regressions m(x), propensities
// e(x)) usable in doubly robust / debiased estimators without Donsker conditions
// (Chernozhukov et al., "Double/debiased machine learning", Econometrics J. 2018; Newey &
// Robins 2018). The K fits run in parallel over folds; each fold's result depends only on the
// learner, the data and the folds, so the output is identical for every num_threads.
// Cost: K fits on (K−1)/K of the rows plus K predictions; extra memory one copy of X.
#pragma once

#include <algorithm>
#include <cmath>
#include <string_view>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/folds.hpp"
#include "tailor/core/parallel.hpp"
#include "tailor/core/types.hpp"
#include "tailor/learn/concepts.hpp"

namespace tailor::learn {

namespace detail {

/// Rows `rows` of X (as a new column-major matrix).
inline Eigen::MatrixXd take_rows(const MatrixRef& X, const std::vector<Index>& rows) {
  Eigen::MatrixXd out(static_cast<Index>(rows.size()), X.cols());
  for (Index j = 0; j < X.cols(); ++j) {
    for (std::size_t r = 0; r < rows.size(); ++r) out(static_cast<Index>(r), j) = X(rows[r], j);
  }
  return out;
}

/// Entries `rows` of v; an empty v (unit weights) stays empty.
inline Eigen::VectorXd take_entries(const VectorRef& v, const std::vector<Index>& rows) {
  if (v.size() == 0) return Eigen::VectorXd();
  Eigen::VectorXd out(static_cast<Index>(rows.size()));
  for (std::size_t r = 0; r < rows.size(); ++r) out[static_cast<Index>(r)] = v[rows[r]];
  return out;
}

/// Shape and value checks shared by the cross-fitting functions. Values are checked here, not
/// only by the learner, so that a message names the row of the full data, not of a fold.
inline void check_cross_fit_inputs(std::string_view context, const MatrixRef& X, const VectorRef& y,
                                   const VectorRef& weights, const Folds& folds) {
  check_nonempty(context, "X", X.rows());
  check_rows(context, "y", y.rows(), X.rows(), "the rows of X");
  if (weights.size() != 0) {
    check_rows(context, "weights", weights.rows(), X.rows(),
               "the rows of X; or 0 for unit weights");
  }
  folds.validate(context, X.rows());
  check_finite(context, "X", X);
  check_finite(context, "y", y);
  check_finite(context, "weights", weights);
}

/// Runs fit_and_predict(k) for every fold k in parallel (one task per fold, so the work done
/// for a fold never depends on the thread count); returns the results in fold order.
template <class Result, class F>
std::vector<Result> for_each_fold(const Folds& folds, Index num_threads, F&& fit_and_predict) {
  std::vector<Result> results(static_cast<std::size_t>(folds.num_folds));
  parallel_for(0, folds.num_folds, num_threads,
               [&](Index k) { results[static_cast<std::size_t>(k)] = fit_and_predict(k); });
  return results;
}

}  // namespace detail

/// Out-of-fold predictions of a Regressor: entry i is predicted by the model fitted on all rows
/// outside row i's fold. `weights` of length 0 means unit weights. Folds are fitted in
/// parallel on up to num_threads threads (0 = all cores); the result is identical for every
/// num_threads provided learner.fit is deterministic.
/// Throws ShapeMismatch when y, weights or folds do not match the rows of X, InvalidArgument
/// for invalid folds or num_threads < 0, DataError for non-finite values or no rows;
/// exceptions from the learner propagate unchanged.
template <Regressor L>
Eigen::VectorXd cross_fit_predict(const L& learner, MatrixRef X, VectorRef y, VectorRef weights,
                                  const Folds& folds, Index num_threads = 1) {
  constexpr std::string_view kContext = "cross_fit_predict";
  resolve_num_threads(num_threads);  // rejects negative counts before any work
  detail::check_cross_fit_inputs(kContext, X, y, weights, folds);
  const auto predictions = detail::for_each_fold<Eigen::VectorXd>(folds, num_threads, [&](Index k) {
    const std::vector<Index> train = folds.train_rows(k);
    const std::vector<Index> test = folds.test_rows(k);
    const Eigen::MatrixXd X_train = detail::take_rows(X, train);
    const Eigen::VectorXd y_train = detail::take_entries(y, train);
    const Eigen::VectorXd w_train = detail::take_entries(weights, train);
    const auto model = learner.fit(X_train, y_train, w_train);
    Eigen::VectorXd fold_prediction = model.predict(detail::take_rows(X, test));
    if (fold_prediction.size() != static_cast<Index>(test.size())) {
      tailor::detail::raise<ShapeMismatch>(
          "{}: the model fitted without fold {} returned {} predictions for {} rows", kContext, k,
          fold_prediction.size(), test.size());
    }
    return fold_prediction;
  });
  Eigen::VectorXd out(X.rows());
  for (Index k = 0; k < folds.num_folds; ++k) {
    const std::vector<Index> test = folds.test_rows(k);
    const Eigen::VectorXd& fold_prediction = predictions[static_cast<std::size_t>(k)];
    for (std::size_t r = 0; r < test.size(); ++r) {
      out[test[r]] = fold_prediction[static_cast<Index>(r)];
    }
  }
  return out;
}

/// Out-of-fold class probabilities of a Classifier: row i of the n × C result is
/// predict_proba of the model fitted without row i's fold. y holds class labels 0, 1, 2, …
/// (as doubles). C = max(largest label + 1, largest num_classes() of the fold models); a fold
/// model that knows fewer classes (a class absent from its training rows) gives probability 0
/// to the classes it never saw. Same threading, determinism and exceptions as
/// cross_fit_predict, plus DataError when a label is not a non-negative integer.
template <Classifier L>
Eigen::MatrixXd cross_fit_predict_proba(const L& learner, MatrixRef X, VectorRef y,
                                        VectorRef weights, const Folds& folds,
                                        Index num_threads = 1) {
  constexpr std::string_view kContext = "cross_fit_predict_proba";
  resolve_num_threads(num_threads);
  detail::check_cross_fit_inputs(kContext, X, y, weights, folds);
  Index num_classes = 0;
  for (Index i = 0; i < y.size(); ++i) {
    if (!(y[i] >= 0.0) || y[i] != std::floor(y[i])) {
      tailor::detail::raise<DataError>("{}: y[{}] = {}, expected a class label 0, 1, 2, ...",
                                       kContext, i, y[i]);
    }
    num_classes = std::max(num_classes, static_cast<Index>(y[i]) + 1);
  }
  const auto probabilities =
      detail::for_each_fold<Eigen::MatrixXd>(folds, num_threads, [&](Index k) {
        const std::vector<Index> train = folds.train_rows(k);
        const std::vector<Index> test = folds.test_rows(k);
        const Eigen::MatrixXd X_train = detail::take_rows(X, train);
        const Eigen::VectorXd y_train = detail::take_entries(y, train);
        const Eigen::VectorXd w_train = detail::take_entries(weights, train);
        const auto model = learner.fit(X_train, y_train, w_train);
        Eigen::MatrixXd fold_proba = model.predict_proba(detail::take_rows(X, test));
        if (fold_proba.rows() != static_cast<Index>(test.size())) {
          tailor::detail::raise<ShapeMismatch>(
              "{}: the model fitted without fold {} returned {} rows of probabilities for {} rows",
              kContext, k, fold_proba.rows(), test.size());
        }
        return fold_proba;
      });
  for (const auto& p : probabilities) num_classes = std::max(num_classes, p.cols());
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(X.rows(), num_classes);
  for (Index k = 0; k < folds.num_folds; ++k) {
    const std::vector<Index> test = folds.test_rows(k);
    const Eigen::MatrixXd& fold_proba = probabilities[static_cast<std::size_t>(k)];
    for (std::size_t r = 0; r < test.size(); ++r) {
      out.row(test[r]).head(fold_proba.cols()) = fold_proba.row(static_cast<Index>(r));
    }
  }
  return out;
}

}  // namespace tailor::learn
