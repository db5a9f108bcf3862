// tailor/learn/cross_fit.hpp — out-of-fold (cross-fitted) predictions of a base learner.
//
// For folds I₁..I_K of the rows, the model for fold k is fitted on the rows outside I_k and
// predicts the rows in I_k, so every row's prediction comes from a model that never saw it.
// Cross-fitting is what makes nuisance estimates (outcome regressions m(x), propensities
// e(x)) usable in doubly robust / debiased estimators without Donsker conditions
// (Chernozhukov et al., "Double/debiased machine learning", Econometrics J. 2018; Newey &
// Robins 2018). The K fits run in parallel over folds; each fold's result depends only on the
// learner, the data and the folds, so the output is identical for every num_threads.
// cross_fit() below is the one cross-fitting loop of the library: the meta-learners' arm
// outcome models and propensities (cate/), the uplift curves' nuisances (uplift/) and the
// off-policy reward models (ope/) all call it, with a "part" per model fitted in each fold.
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

/// The rows of `among` (in order) whose label equals `value`: one treatment arm's or one logged
/// action's training rows of a fold.
template <class Labels, class T>
std::vector<Index> rows_where(const Labels& labels, T value, const std::vector<Index>& among) {
  std::vector<Index> out;
  for (Index i : among) {
    if (labels[i] == value) out.push_back(i);
  }
  return out;
}

/// Shape and value checks shared by the cross-fitting functions. Values are checked here, not
/// only by the learner, so that a message names the row of the full data, not of a fold.
inline void check_cross_fit_inputs(std::string_view context, const MatrixRef& X, const VectorRef& y,
                                   const VectorRef& weights, const Folds& folds) {
  check_nonempty(context, "X", X.rows());
  check_rows(context, "y", y.rows(), X.rows(), "the rows of X");
  check_weights(context, "weights", weights, X.rows());
  folds.validate(context, X.rows());
  check_finite(context, "X", X);
  check_finite(context, "y", y);
}

}  // namespace detail

/// The one cross-fitting loop. For every fold k and every part q in 0..num_parts−1 (one model
/// per part: an arm's outcome model, a propensity model, ...) it calls
///   fit_predict(k, q, train, test) -> Eigen::MatrixXd with test.size() rows,
/// where train / test are the rows outside / inside fold k, and writes the result into rows
/// `test` of part q's block of columns. A part's width is the widest result any fold returned for
/// it; narrower results (a classifier that saw fewer classes in one fold) are zero-padded on the
/// right. The output is n × (sum of the part widths), part 0's columns first.
/// The K·num_parts tasks run in parallel (num_threads, 0 = all cores); each task depends only on
/// (k, q) and the callable, so the result is identical for every num_threads when the fits are
/// deterministic. Throws ShapeMismatch, naming `context`, when a task returns the wrong number of
/// rows; exceptions of fit_predict propagate.
template <class FitPredict>
Eigen::MatrixXd cross_fit(std::string_view context, const Folds& folds, Index num_parts,
                          Index num_threads, FitPredict&& fit_predict) {
  check_count(context, "num_parts", num_parts, 1, limits::kMaxFolds);
  resolve_num_threads(num_threads);
  const Index K = folds.num_folds;
  std::vector<std::vector<Index>> test_rows(static_cast<std::size_t>(K));
  for (Index k = 0; k < K; ++k) test_rows[static_cast<std::size_t>(k)] = folds.test_rows(k);
  std::vector<Eigen::MatrixXd> results(static_cast<std::size_t>(K * num_parts));
  parallel_for(0, K * num_parts, num_threads, [&](Index task) {
    const Index k = task / num_parts;
    const Index q = task % num_parts;
    const std::vector<Index>& test = test_rows[static_cast<std::size_t>(k)];
    Eigen::MatrixXd result = fit_predict(k, q, folds.train_rows(k), test);
    if (result.rows() != static_cast<Index>(test.size())) {
      raise<ShapeMismatch>(
          "{}: the model fitted without fold {} returned {} rows of predictions for {} rows",
          context, k, result.rows(), test.size());
    }
    results[static_cast<std::size_t>(task)] = std::move(result);
  });
  std::vector<Index> offset(static_cast<std::size_t>(num_parts) + 1, 0);
  for (Index q = 0; q < num_parts; ++q) {
    Index width = 0;
    for (Index k = 0; k < K; ++k) {
      width = std::max(width, results[static_cast<std::size_t>(k * num_parts + q)].cols());
    }
    offset[static_cast<std::size_t>(q) + 1] = offset[static_cast<std::size_t>(q)] + width;
  }
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(folds.num_rows(), offset.back());
  for (Index k = 0; k < K; ++k) {
    const std::vector<Index>& test = test_rows[static_cast<std::size_t>(k)];
    for (Index q = 0; q < num_parts; ++q) {
      const Eigen::MatrixXd& result = results[static_cast<std::size_t>(k * num_parts + q)];
      const Index first = offset[static_cast<std::size_t>(q)];
      for (std::size_t r = 0; r < test.size(); ++r) {
        out.row(test[r]).segment(first, result.cols()) = result.row(static_cast<Index>(r));
      }
    }
  }
  return out;
}

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
  return cross_fit(kContext, folds, 1, num_threads,
                   [&](Index, Index, const std::vector<Index>& train,
                       const std::vector<Index>& test) -> Eigen::MatrixXd {
                     const auto model =
                         learner.fit(detail::take_rows(X, train), detail::take_entries(y, train),
                                     detail::take_entries(weights, train));
                     return model.predict(detail::take_rows(X, test));
                   })
      .col(0);
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
      raise<DataError>("{}: y[{}] = {}, expected a class label 0, 1, 2, ...", kContext, i, y[i]);
    }
    num_classes = std::max(num_classes, static_cast<Index>(y[i]) + 1);
  }
  Eigen::MatrixXd proba = cross_fit(
      kContext, folds, 1, num_threads,
      [&](Index, Index, const std::vector<Index>& train, const std::vector<Index>& test) {
        const auto model = learner.fit(detail::take_rows(X, train), detail::take_entries(y, train),
                                       detail::take_entries(weights, train));
        return Eigen::MatrixXd(model.predict_proba(detail::take_rows(X, test)));
      });
  if (const Index seen = proba.cols(); seen < num_classes) {
    proba.conservativeResize(Eigen::NoChange, num_classes);  // classes no fold model knows
    proba.rightCols(num_classes - seen).setZero();
  }
  return proba;
}

}  // namespace tailor::learn
