// tailor/learn/concepts.hpp — what a base learner is (DESIGN §2).
//
// A Regressor is a const, copyable configuration whose fit(X, y, weights) returns a fitted model
// with predict(X) -> Eigen::VectorXd. A Classifier's fit takes labels 0..K-1 (stored as
// doubles) and returns a model with predict_proba(X) -> Eigen::MatrixXd (n × K, rows sum to 1)
// and num_classes(). A weights vector of length 0 means unit weights. Methods that need
// nuisance models (meta-learners, causal forests, cross-fitting) are templates constrained on
// these concepts, so any user type with the same shape plugs in.
#pragma once

#include <concepts>

#include <Eigen/Core>

#include "tailor/core/types.hpp"

namespace tailor::learn {

template <class M>
concept RegressionModel = requires(const M& model, const MatrixRef& X) {
  { model.predict(X) } -> std::convertible_to<Eigen::VectorXd>;
};

template <class M>
concept ProbabilityModel = requires(const M& model, const MatrixRef& X) {
  { model.predict_proba(X) } -> std::convertible_to<Eigen::MatrixXd>;
  { model.num_classes() } -> std::convertible_to<Index>;
};

template <class L>
concept Regressor = std::copy_constructible<L> &&
                    requires(const L& learner, const MatrixRef& X, const VectorRef& y,
                             const VectorRef& weights) {
                      { learner.fit(X, y, weights) } -> RegressionModel;
                    };

template <class L>
concept Classifier = std::copy_constructible<L> &&
                     requires(const L& learner, const MatrixRef& X, const VectorRef& y,
                              const VectorRef& weights) {
                       { learner.fit(X, y, weights) } -> ProbabilityModel;
                     };

/// A fitted regression model that also predicts its own training rows out of bag (the forests):
/// oob_predictions()[i] for training row i, from the trees that did not sample it (NaN when every
/// tree did; empty when the model was fitted without them).
template <class M>
concept OutOfBagRegressionModel = RegressionModel<M> && requires(const M& model) {
  { model.oob_predictions() } -> std::convertible_to<Eigen::VectorXd>;
};

/// A fitted probability model with out-of-bag class probabilities of its training rows
/// (n × K; same conventions as OutOfBagRegressionModel).
template <class M>
concept OutOfBagProbabilityModel = ProbabilityModel<M> && requires(const M& model) {
  { model.oob_proba() } -> std::convertible_to<Eigen::MatrixXd>;
};

/// The fitted model type a learner returns.
template <class L>
using model_t = decltype(std::declval<const L&>().fit(std::declval<const MatrixRef&>(),
                                                      std::declval<const VectorRef&>(),
                                                      std::declval<const VectorRef&>()));

}  // namespace tailor::learn
