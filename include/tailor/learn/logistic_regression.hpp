// tailor/learn/logistic_regression.hpp — L2-penalized binary logistic regression, fitted by
// Newton's method (IRLS) with a backtracking (Armijo) line search.
//
// Minimizes the convex objective
//     f(b, β) = Σᵢ wᵢ [ log(1 + exp(ηᵢ)) − yᵢ ηᵢ ] + (α/2) ‖β‖²,   ηᵢ = b + xᵢᵀβ,  yᵢ ∈ {0, 1},
// the intercept b unpenalized. α = 1/C relates it to scikit-learn's LogisticRegression(C), whose
// objective is C·Σ wᵢ ℓᵢ + ½‖β‖² (the same minimizer). With α > 0 the minimizer exists even on
// perfectly separable data (as long as both classes are present), so Newton converges there.
// α = 0 is the maximum-likelihood fit, which diverges on separable data (converged() false).
// Newton step (Nocedal & Wright, Numerical Optimization, 2nd ed., §3.1 and §3.5):
//     ∇f = X̃ᵀ w∘(p − y) + α [0; β],   ∇²f = X̃ᵀ diag(w p (1 − p)) X̃ + α diag(0, 1, …, 1),
// X̃ = [1 X], p = σ(η); the step d = −(∇²f)⁻¹∇f (Cholesky) is halved until the Armijo condition
// f(θ + t d) ≤ f(θ) + 10⁻⁴ t ∇fᵀd holds (up to a few ulps of f, so that the full step
// is taken once the decrease is below rounding). Convergence: ‖∇f‖_∞ ≤ tol · Σᵢ wᵢ (the gradient of
// the mean loss below tol). log(1 + eᶻ) and σ are evaluated in overflow-free forms. Cost per
// iteration: O(n·p²) for the Hessian plus O(p³) for its factorization; Newton needs ~5–20
// iterations. Prediction O(n·p).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <istream>
#include <limits>
#include <ostream>
#include <string_view>
#include <utility>

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/core/types.hpp"
#include "tailor/learn/detail/supervised_input.hpp"

namespace tailor::learn {

namespace detail {
/// log(1 + eᶻ) without overflow.
inline double softplus(double z) {
  return z > 0.0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z));
}
/// σ(z) = 1 / (1 + e⁻ᶻ). For z < −709.78, e⁻ᶻ overflows to +∞ and the quotient is exactly 0
/// (IEEE 754 arithmetic; the true value is below 10⁻³⁰⁸), so no case split on the sign is
/// needed: written without one, it runs in half the time of the split form, whose branch
/// mispredicts on half the rows of a fitted model's scores (measured 5.5 against 11.6 ns).
inline double sigmoid(double z) {
  return 1.0 / (1.0 + std::exp(-z));
}
}  // namespace detail

/// A fitted logistic regression: P(y = 1 | x) = σ(b + xᵀβ). Immutable; predictions are const
/// and thread-safe.
class LogisticRegressionModel {
 public:
  LogisticRegressionModel(Vector coefficients, double intercept, bool converged, Index iterations)
      : coefficients_(std::move(coefficients)),
        intercept_(intercept),
        converged_(converged),
        iterations_(iterations) {}

  /// β (length p).
  const Vector& coefficients() const { return coefficients_; }
  /// b (0 when fitted without intercept).
  double intercept() const { return intercept_; }
  /// Whether Newton reached ‖∇f‖_∞ ≤ tol·Σw within max_iter iterations.
  bool converged() const { return converged_; }
  /// Newton iterations taken.
  Index iterations() const { return iterations_; }
  Index num_features() const { return coefficients_.size(); }
  /// Always 2 (labels 0 and 1).
  Index num_classes() const { return 2; }

  /// The linear predictor η = b + Xβ (the log-odds of class 1).
  Vector decision_function(const MatrixRef& X) const {
    tailor::learn::detail::check_num_features("LogisticRegressionModel::predict", X,
                                              num_features());
    check_finite("LogisticRegressionModel::predict", "X", X);
    Vector eta = X * coefficients_;
    eta.array() += intercept_;
    return eta;
  }

  /// P(y = 1 | x) for each row (what predict returns for a binary classifier in tailor).
  Vector predict(const MatrixRef& X) const {
    Vector eta = decision_function(X);
    for (Index i = 0; i < eta.size(); ++i) eta[i] = detail::sigmoid(eta[i]);
    return eta;
  }

  /// n × 2 matrix [P(y = 0), P(y = 1)]; rows sum to 1.
  Matrix predict_proba(const MatrixRef& X) const {
    const Vector p1 = predict(X);
    Matrix out(p1.size(), 2);
    out.col(0) = (1.0 - p1.array()).matrix();
    out.col(1) = p1;
    return out;
  }

  /// Binary save (core/serialization.hpp), header "learn::LogisticRegression" v1.
  void save(BinaryWriter& out) const {
    out.write_header(kTypeTag, kVersion);
    out.write(coefficients_);
    out.write(intercept_);
    out.write(converged_);
    out.write(static_cast<std::int64_t>(iterations_));
  }
  /// Loads what save wrote; a corrupt or foreign file throws FormatError.
  static LogisticRegressionModel load(BinaryReader& in) {
    in.read_header(kTypeTag, kVersion);
    auto coefficients = in.read<Vector>("coefficients");
    const auto intercept = in.read<double>("intercept");
    const auto converged = in.read<bool>("converged");
    const auto iterations = in.read<std::int64_t>("iterations");
    if (coefficients.size() < 1 || !coefficients.allFinite() || !std::isfinite(intercept) ||
        iterations < 0) {
      raise<FormatError>("{}: corrupt learn::LogisticRegression ({} coefficients, iterations {})",
                         in.context(), coefficients.size(), iterations);
    }
    return LogisticRegressionModel(std::move(coefficients), intercept, converged, iterations);
  }

 private:
  static constexpr std::string_view kTypeTag = "learn::LogisticRegression";
  static constexpr std::uint32_t kVersion = 1;
  Vector coefficients_;
  double intercept_ = 0.0;
  bool converged_ = false;
  Index iterations_ = 0;
};

/// L2-penalized logistic regression learner (meets tailor::learn::Classifier).
class LogisticRegression {
 public:
  struct Params {
    /// L2 penalty α ≥ 0 in Σ wᵢℓᵢ + (α/2)‖β‖² (intercept unpenalized); α = 1/C of
    /// scikit-learn. Default 1.0 (scikit-learn's default C = 1).
    double alpha = 1.0;
    /// Fit an unpenalized intercept (default true).
    bool fit_intercept = true;
    /// Most Newton iterations (default 100); hitting it is not an error: see converged().
    Index max_iter = 100;
    /// Stop when ‖∇f‖_∞ ≤ tol · Σwᵢ (default 1e-10; Newton converges quadratically, so a tight
    /// tolerance costs one or two extra iterations).
    double tol = 1e-10;
  };

  LogisticRegression() : LogisticRegression(Params{}) {}
  explicit LogisticRegression(const Params& params) : params_(params) {
    constexpr std::string_view kContext = "LogisticRegression";
    check_param(params.alpha >= 0.0 && std::isfinite(params.alpha), kContext, "alpha", params.alpha,
                "a finite value >= 0");
    check_count(kContext, "max_iter", params.max_iter, 1, limits::kMaxIterations);
    check_param(params.tol > 0.0 && std::isfinite(params.tol), kContext, "tol", params.tol,
                "a finite value > 0");
  }

  const Params& params() const { return params_; }

  /// Fits on X (n × p), labels y ∈ {0, 1} (n), weights (n, or empty for unit weights).
  /// Throws DataError (non-finite values, labels not 0/1, a class with no weight),
  /// ShapeMismatch (lengths), NumericalError (a Hessian that cannot be factored).
  LogisticRegressionModel fit(const MatrixRef& X, const VectorRef& y,
                              const VectorRef& weights = Vector()) const {
    constexpr std::string_view kContext = "LogisticRegression::fit";
    tailor::learn::detail::check_supervised_input(kContext, X, y, weights);
    tailor::learn::detail::check_binary_labels(kContext, y, weights);
    const Index n = X.rows();
    const Index p = X.cols();
    const Index offset = params_.fit_intercept ? 1 : 0;
    const Index q = p + offset;
    const Vector w = weights.size() == 0 ? Vector::Ones(n) : Vector(weights);
    const double total_weight = w.sum();

    // Design X̃ = [1 X] (or X) and the penalty diagonal (0 for the intercept).
    Matrix design(n, q);
    if (offset == 1) design.col(0).setOnes();
    design.rightCols(p) = X;
    Vector penalty = Vector::Constant(q, params_.alpha);
    if (offset == 1) penalty[0] = 0.0;

    Vector theta = Vector::Zero(q);
    if (offset == 1) {  // start at the weighted log-odds of class 1
      const double prevalence = w.dot(y) / total_weight;
      theta[0] = std::log(prevalence / (1.0 - prevalence));
    }
    auto objective = [&](const Vector& eta, const Vector& th) {
      double loss = 0.0;
      for (Index i = 0; i < n; ++i) loss += w[i] * (detail::softplus(eta[i]) - y[i] * eta[i]);
      return loss + 0.5 * (penalty.array() * th.array().square()).sum();
    };

    Vector eta = design * theta;
    double value = objective(eta, theta);
    Vector prob(n), residual(n), curvature(n), gradient(q), step(q), trial_theta(q), trial_eta(n);
    Matrix hessian(q, q);
    bool converged = false;
    Index iteration = 0;
    for (; iteration < params_.max_iter; ++iteration) {
      for (Index i = 0; i < n; ++i) {
        prob[i] = detail::sigmoid(eta[i]);
        residual[i] = w[i] * (prob[i] - y[i]);
        curvature[i] = std::sqrt(w[i] * prob[i] * (1.0 - prob[i]));
      }
      gradient.noalias() = design.transpose() * residual;
      gradient.array() += penalty.array() * theta.array();
      if (gradient.cwiseAbs().maxCoeff() <= params_.tol * total_weight) {
        converged = true;
        break;
      }
      // ∇²f = (√D X̃)ᵀ(√D X̃) + diag(penalty).
      const Matrix weighted_design = curvature.asDiagonal() * design;
      hessian.setZero();
      hessian.selfadjointView<Eigen::Lower>().rankUpdate(weighted_design.transpose());
      hessian.diagonal() += penalty;
      Eigen::LLT<Matrix, Eigen::Lower> llt(hessian);
      if (llt.info() != Eigen::Success) {
        // Saturated probabilities can make the (unpenalized) Hessian numerically singular;
        // a Levenberg-style shift keeps the step a descent direction.
        const double shift = 1e-10 * std::max(1.0, hessian.diagonal().maxCoeff());
        hessian.diagonal().array() += shift;
        llt.compute(hessian);
        if (llt.info() != Eigen::Success) {
          raise<NumericalError>(
              "LogisticRegression::fit: the Hessian could not be factored at iteration {}",
              iteration);
        }
      }
      step = -llt.solve(gradient);
      const double slope = gradient.dot(step);
      if (!(slope < 0.0)) break;  // no descent direction left: at the optimum to precision
      constexpr double kEpsilon = std::numeric_limits<double>::epsilon();
      double t = 1.0;
      bool accepted = false;
      const double gradient_norm = gradient.cwiseAbs().maxCoeff();
      for (int halving = 0; halving < 60; ++halving, t *= 0.5) {
        trial_theta = theta + t * step;
        trial_eta.noalias() = design * trial_theta;
        const double trial_value = objective(trial_eta, trial_theta);
        // Near the optimum the predicted decrease falls below the rounding error of f; the
        // slack of a few ulps of f lets the (then quadratically convergent) full step through.
        bool accept = trial_value <= value + 1e-4 * t * slope + 8.0 * kEpsilon * std::abs(value);
        if (!accept && halving == 0) {
          // f sums n terms, so its rounding noise grows with n and can exceed the decrease a
          // Newton step predicts long before the gradient test is met (then each iteration
          // halved the step dozens of times: 77 iterations instead of 5 at n = 10^5). Accept the
          // full step when it shrinks the gradient, which near the optimum it does
          // quadratically.
          Vector trial_gradient = penalty.cwiseProduct(trial_theta);
          for (Index i = 0; i < n; ++i) {
            residual[i] = w[i] * (detail::sigmoid(trial_eta[i]) - y[i]);
          }
          trial_gradient.noalias() += design.transpose() * residual;
          accept = trial_gradient.cwiseAbs().maxCoeff() < 0.5 * gradient_norm;
        }
        if (accept) {
          theta.swap(trial_theta);
          eta.swap(trial_eta);
          value = trial_value;
          accepted = true;
          break;
        }
      }
      if (!accepted) break;  // the objective cannot decrease further in floating point
    }
    if (!theta.allFinite()) {
      raise<NumericalError>("LogisticRegression::fit: the solution is not finite");
    }
    const double intercept = offset == 1 ? theta[0] : 0.0;
    return LogisticRegressionModel(theta.tail(p), intercept, converged, iteration);
  }

 private:
  Params params_;
};

}  // namespace tailor::learn
