// tailor/learn/ridge.hpp — weighted ridge regression in closed form.
//
// Minimizes the penalized weighted least-squares objective (Hoerl & Kennard, Technometrics 1970)
//     Σᵢ wᵢ (yᵢ − b − xᵢᵀβ)² + α ‖s ⊙ β‖²
// over β (and the intercept b, which is never penalized). s = 1 by default; with
// `standardize = true`, sⱼ is the weighted standard deviation of feature j, i.e. the penalty
// applies to the coefficients of the standardized features zⱼ = (xⱼ − x̄ⱼ)/sⱼ, and the returned
// coefficients are on the original scale (βⱼ = γⱼ / sⱼ). The scaling of α follows
// scikit-learn's Ridge (a sum of squared errors, not a mean).
// With an intercept, b is profiled out by centering X and y at their weighted means
// x̄ = Σ wᵢxᵢ / Σ wᵢ, ȳ likewise, so that β solves the normal equations
//     (Zᵀ W Z + α I) γ = Zᵀ W (y − ȳ),   Z = (X − x̄)/s,   β = γ / s,   b = ȳ − x̄ᵀβ,
// solved by a Cholesky factorization (LLT) when α > 0 and by LDLT when α = 0; a singular
// system (α = 0 with collinear or constant features) raises NumericalError.
// Cost: O(n·p²) to form ZᵀWZ plus O(p³) to factor it; prediction O(n·p).
#pragma once

#include <cmath>
#include <cstdint>
#include <istream>
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

/// A fitted ridge regression: ŷ = b + xᵀβ. Immutable; predict is const and thread-safe.
class RidgeModel {
 public:
  RidgeModel(Vector coefficients, double intercept)
      : coefficients_(std::move(coefficients)), intercept_(intercept) {}

  /// β on the original feature scale (length p).
  const Vector& coefficients() const { return coefficients_; }
  /// b (0 when fitted without intercept).
  double intercept() const { return intercept_; }
  Index num_features() const { return coefficients_.size(); }

  /// ŷ = b + Xβ. Throws ShapeMismatch on a wrong number of columns, DataError on non-finite X.
  Vector predict(const MatrixRef& X) const {
    detail::check_num_features("RidgeModel::predict", X, num_features());
    check_finite("RidgeModel::predict", "X", X);
    Vector out = X * coefficients_;
    out.array() += intercept_;
    return out;
  }

  /// Binary save (core/serialization.hpp): header "learn::Ridge" v1, then β and b. The
  /// BinaryWriter overload lets an enclosing model embed this one in its own file.
  void save(BinaryWriter& out) const {
    out.write_header(kTypeTag, kVersion);
    out.write(coefficients_);
    out.write(intercept_);
  }
  /// Loads what save wrote; a corrupt or foreign file throws FormatError.
  static RidgeModel load(BinaryReader& in) {
    in.read_header(kTypeTag, kVersion);
    auto coefficients = in.read<Vector>("coefficients");
    const auto intercept = in.read<double>("intercept");
    if (coefficients.size() < 1 || !coefficients.allFinite() || !std::isfinite(intercept)) {
      raise<FormatError>(
          "{}: learn::Ridge has {} non-finite or missing coefficients, expected finite values",
          in.context(), coefficients.size());
    }
    return RidgeModel(std::move(coefficients), intercept);
  }

 private:
  static constexpr std::string_view kTypeTag = "learn::Ridge";
  static constexpr std::uint32_t kVersion = 1;
  Vector coefficients_;
  double intercept_ = 0.0;
};

/// Ridge regression learner (meets tailor::learn::Regressor).
class Ridge {
 public:
  struct Params {
    /// L2 penalty α ≥ 0 on the coefficients (not on the intercept). Default 1.0.
    double alpha = 1.0;
    /// Fit an unpenalized intercept b (default true).
    bool fit_intercept = true;
    /// Penalize the coefficients of the standardized features (weighted sd); coefficients are
    /// still reported on the original scale. A constant feature keeps scale 1. Default false.
    bool standardize = false;
  };

  Ridge() : Ridge(Params{}) {}
  explicit Ridge(const Params& params) : params_(params) {
    check_param(params.alpha >= 0.0 && std::isfinite(params.alpha), "Ridge", "alpha", params.alpha,
                "a finite value >= 0");
  }

  const Params& params() const { return params_; }

  /// Fits on X (n × p), y (n), weights (n, or empty for unit weights).
  /// Throws DataError/ShapeMismatch on bad input, NumericalError when the system is singular.
  RidgeModel fit(const MatrixRef& X, const VectorRef& y,
                 const VectorRef& weights = Vector()) const {
    constexpr std::string_view kContext = "Ridge::fit";
    detail::check_supervised_input(kContext, X, y, weights);
    const Index n = X.rows();
    const Index p = X.cols();
    const Vector w = weights.size() == 0 ? Vector::Ones(n) : Vector(weights);
    const double total_weight = w.sum();

    Eigen::RowVectorXd center = Eigen::RowVectorXd::Zero(p);
    double y_center = 0.0;
    if (params_.fit_intercept) {
      center = (w.transpose() * X) / total_weight;
      y_center = w.dot(y) / total_weight;
    }
    Vector scale = Vector::Ones(p);
    if (params_.standardize) {
      const Eigen::RowVectorXd mean = (w.transpose() * X) / total_weight;
      for (Index j = 0; j < p; ++j) {
        const double var = (w.array() * (X.col(j).array() - mean[j]).square()).sum() / total_weight;
        const double sd = std::sqrt(var);
        // A constant column carries no information; scale 1 avoids dividing by zero.
        scale[j] = sd > 0.0 ? sd : 1.0;
      }
    }
    // Z = (X − x̄)/s and its weighted copy √w·Z, so that ZᵀWZ = (√w Z)ᵀ(√w Z).
    Matrix z = (X.rowwise() - center).array().rowwise() / scale.transpose().array();
    const Vector sqrt_w = w.array().sqrt();
    z.array().colwise() *= sqrt_w.array();
    const Vector z_target = sqrt_w.array() * (y.array() - y_center);

    Matrix gram = Matrix::Zero(p, p);
    gram.selfadjointView<Eigen::Lower>().rankUpdate(z.transpose());
    gram.diagonal().array() += params_.alpha;
    const Vector rhs = z.transpose() * z_target;

    Vector gamma;
    if (params_.alpha > 0.0) {
      Eigen::LLT<Matrix, Eigen::Lower> llt(gram);
      if (llt.info() != Eigen::Success) {
        raise<NumericalError>(
            "Ridge::fit: Cholesky factorization of X'WX + alpha I failed (alpha = {})",
            params_.alpha);
      }
      gamma = llt.solve(rhs);
    } else {
      Eigen::LDLT<Matrix, Eigen::Lower> ldlt(gram);
      const Vector d = ldlt.vectorD();
      const double largest = d.cwiseAbs().maxCoeff();
      if (ldlt.info() != Eigen::Success || !(d.minCoeff() > 1e-12 * largest)) {
        raise<NumericalError>(
            "Ridge::fit: X'WX is singular (alpha = 0 with collinear or constant features), "
            "expected alpha > 0");
      }
      gamma = ldlt.solve(rhs);
    }
    Vector beta = gamma.array() / scale.array();
    if (!beta.allFinite()) {
      raise<NumericalError>("Ridge::fit: the solution is not finite");
    }
    const double intercept = params_.fit_intercept ? y_center - center.dot(beta) : 0.0;
    return RidgeModel(std::move(beta), intercept);
  }

 private:
  Params params_;
};

}  // namespace tailor::learn
