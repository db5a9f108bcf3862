// tailor/uplift/class_transformation.hpp — uplift models by outcome transformation: one base
// learner fitted on a transformed target whose conditional mean is (a function of) τ(x).
//
//   ClassTransformation (Jaskowski & Jaroszewicz, ICML workshop 2012), binary y:
//       Z = W·Y + (1 − W)(1 − Y)  (1 for treated responders and control non-responders).
//     With P(W = 1) = 1/2, P(Z = 1 | x) = (1 + τ(x))/2, so τ̂(x) = 2·P̂(Z = 1 | x) − 1. For any
//     other constant treated share p the rows are weighted 1/(2p) (treated) and 1/(2(1 − p))
//     (control), which restores the balanced identity (sample weights multiply in).
//   TransformedOutcome (Athey & Imbens 2015, "Machine learning methods for estimating
//   heterogeneous causal effects"; the IPW pseudo-outcome), any y:
//       Z = Y·W/e − Y·(1 − W)/(1 − e),   E[Z | x] = τ(x) under unconfoundedness,
//     with e the supplied propensity (per row) or, when absent, the treated share (randomized
//     data). τ̂(x) = a Regressor's prediction of Z.
// Both are templates over the learn:: concepts (any Classifier / Regressor plugs in); fit is
// const and returns an immutable model whose predict(X) gives τ̂. Cost: one base-learner fit.
#pragma once

#include <string_view>
#include <utility>

#include "tailor/core/errors.hpp"
#include "tailor/core/types.hpp"
#include "tailor/learn/concepts.hpp"
#include "tailor/learn/logistic_regression.hpp"
#include "tailor/learn/ridge.hpp"
#include "tailor/uplift/curves.hpp"

namespace tailor::uplift {

namespace detail {
/// Checks X, w, y (and optional weights/propensity) and returns the (weighted) treated share.
inline double check_transformation_input(std::string_view context, const MatrixRef& X,
                                         const VectorRef& w, const VectorRef& y,
                                         const Vector& sample_weights, const Vector& propensity) {
  const Index n = X.rows();
  check_nonempty(context, "X", n);
  check_rows(context, "w", w.size(), n, "the rows of X");
  check_rows(context, "y", y.size(), n, "the rows of X");
  check_finite(context, "X", X);
  EvaluationOptions o{.propensity = propensity, .sample_weights = sample_weights};
  validate_inputs(context, y, w, y, o);  // w binary, both arms, weights, propensity domain
  double treated = 0.0;
  double total = 0.0;
  for (Index i = 0; i < n; ++i) {
    const double v = sample_weights.size() == 0 ? 1.0 : sample_weights[i];
    treated += v * w[i];
    total += v;
  }
  return treated / total;
}
}  // namespace detail

/// τ̂(x) = 2·P̂(Z = 1 | x) − 1 from a fitted class-transformation classifier.
template <learn::ProbabilityModel M>
class ClassTransformationModel {
 public:
  explicit ClassTransformationModel(M model) : model_(std::move(model)) {}
  /// Predicted uplift 2·P̂(Z = 1 | x) − 1 ∈ [−1, 1].
  Vector predict(const MatrixRef& X) const {
    const Matrix p = model_.predict_proba(X);
    return (2.0 * p.col(1).array() - 1.0).matrix();
  }
  const M& classifier() const { return model_; }

 private:
  M model_;
};

/// Class-transformation uplift model for binary outcomes (see the header comment).
template <learn::Classifier C = learn::LogisticRegression>
class ClassTransformation {
 public:
  ClassTransformation() : ClassTransformation(C()) {}
  explicit ClassTransformation(C classifier) : classifier_(std::move(classifier)) {}

  /// Fits on features X (n × p), treatment w ∈ {0, 1} and binary outcome y ∈ {0, 1}, with
  /// optional sample weights (length 0 = unit). Throws DataError when y is not 0/1, plus the
  /// input errors of uplift_curve (ShapeMismatch, DataError).
  auto fit(const MatrixRef& X, const VectorRef& w, const VectorRef& y,
           const Vector& sample_weights = Vector()) const {
    constexpr std::string_view kContext = "ClassTransformation::fit";
    const double share =
        detail::check_transformation_input(kContext, X, w, y, sample_weights, Vector());
    for (Index i = 0; i < y.size(); ++i) {
      if (y[i] != 0.0 && y[i] != 1.0) {
        raise<DataError>("{}: y[{}] = {}, expected 0 or 1", kContext, i, y[i]);
      }
    }
    const Index n = X.rows();
    Vector z(n);
    Vector weights(n);
    for (Index i = 0; i < n; ++i) {
      z[i] = w[i] * y[i] + (1.0 - w[i]) * (1.0 - y[i]);
      const double v = sample_weights.size() == 0 ? 1.0 : sample_weights[i];
      // Balance the arms so that P(W = 1) = 1/2 in the weighted sample.
      weights[i] = v * (w[i] == 1.0 ? 0.5 / share : 0.5 / (1.0 - share));
    }
    return ClassTransformationModel<learn::model_t<C>>(classifier_.fit(X, z, weights));
  }

 private:
  C classifier_;
};

/// τ̂(x) = the regression of the transformed outcome Z on x.
template <learn::RegressionModel M>
class TransformedOutcomeModel {
 public:
  explicit TransformedOutcomeModel(M model) : model_(std::move(model)) {}
  /// Predicted uplift τ̂(x).
  Vector predict(const MatrixRef& X) const { return model_.predict(X); }
  const M& regressor() const { return model_; }

 private:
  M model_;
};

/// Transformed-outcome uplift model for any outcome (see the header comment).
template <learn::Regressor R = learn::Ridge>
class TransformedOutcome {
 public:
  TransformedOutcome() : TransformedOutcome(R()) {}
  explicit TransformedOutcome(R regressor) : regressor_(std::move(regressor)) {}

  /// Fits on X, w ∈ {0, 1}, y and the propensities e(xᵢ) ∈ (0, 1) (length 0: randomized data,
  /// e = the treated share), with optional sample weights. Throws the input errors of
  /// uplift_curve.
  auto fit(const MatrixRef& X, const VectorRef& w, const VectorRef& y,
           const Vector& propensity = Vector(), const Vector& sample_weights = Vector()) const {
    constexpr std::string_view kContext = "TransformedOutcome::fit";
    const double share =
        detail::check_transformation_input(kContext, X, w, y, sample_weights, propensity);
    const Index n = X.rows();
    Vector z(n);
    for (Index i = 0; i < n; ++i) {
      const double e = propensity.size() == 0 ? share : propensity[i];
      z[i] = y[i] * w[i] / e - y[i] * (1.0 - w[i]) / (1.0 - e);
    }
    return TransformedOutcomeModel<learn::model_t<R>>(regressor_.fit(X, z, sample_weights));
  }

 private:
  R regressor_;
};

}  // namespace tailor::uplift
