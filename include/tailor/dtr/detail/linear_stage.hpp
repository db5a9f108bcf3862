// tailor/dtr/detail/linear_stage.hpp — the linear working models of one stage, shared by
// Q-learning, A-learning and the value estimators: column selections of H_k, the
// action-interaction design, least squares (learn::Ridge's estimator, from the normal equations),
// and sandwich covariances.
//
// Design of a linear Q-function at a stage with m actions (Murphy 2005):
//   Q(h, a) = [1, h_main]ᵀβ + Σ_{a'=1}^{m−1} 1{a = a'}·[1, h_contrast]ᵀψ_{a'}
// so action 0 is the reference and ψ_{a'} is the contrast of action a' against it. The
// coefficients are ordered (β, ψ_1, …, ψ_{m−1}). Covariances are sandwiches J⁻¹ M J⁻ᵀ of the
// estimating equations (White 1980; Stefanski & Boos 2002), valid under heteroscedasticity and
// misspecification.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <Eigen/LU>

#include "tailor/core/errors.hpp"
#include "tailor/core/types.hpp"

namespace tailor::dtr {

/// Which columns of a stage's history enter each part of its working models; nullopt = all.
struct StageDesign {
  std::optional<std::vector<Index>> main_columns = std::nullopt;        ///< main effect (β)
  std::optional<std::vector<Index>> contrast_columns = std::nullopt;    ///< contrasts (ψ)
  std::optional<std::vector<Index>> propensity_columns = std::nullopt;  ///< propensity model
};

namespace detail {

/// The resolved columns of one stage.
struct StageColumns {
  std::vector<Index> main, contrast, propensity;
};

inline std::vector<Index> resolve_columns(const std::optional<std::vector<Index>>& selection,
                                          Index p, std::string_view context, std::string_view what,
                                          Index stage) {
  std::vector<Index> out;
  if (!selection) {
    for (Index j = 0; j < p; ++j) out.push_back(j);
    return out;
  }
  for (const Index j : *selection) {
    if (j < 0 || j >= p) {
      raise<InvalidArgument>("{}: stage {} {} column {} is out of range, expected 0..{}", context,
                             stage + 1, what, j, p - 1);
    }
    out.push_back(j);
  }
  return out;
}

inline StageColumns resolve_design(const std::vector<StageDesign>& designs, Index num_stages,
                                   Index k, Index p, std::string_view context) {
  const auto given = static_cast<Index>(designs.size());
  if (given != 0 && given != num_stages) {
    raise<InvalidArgument>("{}: {} stage designs given, expected none or {} (one per stage)",
                           context, given, num_stages);
  }
  const StageDesign d = given == 0 ? StageDesign{} : designs[static_cast<std::size_t>(k)];
  return {resolve_columns(d.main_columns, p, context, "main", k),
          resolve_columns(d.contrast_columns, p, context, "contrast", k),
          resolve_columns(d.propensity_columns, p, context, "propensity", k)};
}

/// [1, H[:, columns]] as an n × (1 + |columns|) matrix.
inline Matrix with_intercept(const Matrix& history, const std::vector<Index>& columns) {
  Matrix out(history.rows(), static_cast<Index>(columns.size()) + 1);
  out.col(0).setOnes();
  for (std::size_t j = 0; j < columns.size(); ++j) {
    out.col(static_cast<Index>(j) + 1) = history.col(columns[j]);
  }
  return out;
}

/// The action-interaction design of a linear Q-function, evaluated at actions `action`
/// (built column by column: each action's block is [1, h_contrast] masked to its rows).
inline Matrix q_design(const Matrix& history, const Eigen::VectorXi& action, Index num_actions,
                       const StageColumns& cols) {
  const Index n = history.rows();
  const Index pm = static_cast<Index>(cols.main.size()) + 1;
  const Index pc = static_cast<Index>(cols.contrast.size()) + 1;
  Matrix d(n, pm + (num_actions - 1) * pc);
  d.col(0).setOnes();
  for (Index j = 1; j < pm; ++j) d.col(j) = history.col(cols.main[static_cast<std::size_t>(j - 1)]);
  for (Index a = 1; a < num_actions; ++a) {
    const Index o = pm + (a - 1) * pc;
    d.col(o) = (action.array() == static_cast<int>(a)).cast<double>().matrix();
    for (Index j = 1; j < pc; ++j) {
      d.col(o + j) =
          d.col(o).cwiseProduct(history.col(cols.contrast[static_cast<std::size_t>(j - 1)]));
    }
  }
  return d;
}

/// [1, H[:, columns]] · c without forming the matrix.
inline Vector linear_predictor(const Matrix& history, const std::vector<Index>& columns,
                               const Eigen::Ref<const Vector>& c) {
  Vector out = Vector::Constant(history.rows(), c[0]);
  for (std::size_t j = 0; j < columns.size(); ++j) {
    out.noalias() += c[static_cast<Index>(j) + 1] * history.col(columns[j]);
  }
  return out;
}

/// Least squares of y on the columns of D (D carries the intercept column first) with ridge α on
/// every coefficient but the first: the same estimator as learn::Ridge with fit_intercept (tested
/// equal), solved from the normal equations (DᵀD + αI′)θ = Dᵀy because the sandwich needs DᵀD
/// anyway (one pass over D instead of Ridge's centred copy). Returns θ; `gram` receives
/// DᵀD + αI′.
inline Vector least_squares(const Matrix& design, const Vector& y, double ridge, Matrix& gram) {
  const Index p = design.cols();
  gram.setZero(p, p);
  gram.selfadjointView<Eigen::Lower>().rankUpdate(design.transpose());
  for (Index j = 0; j < p; ++j) {
    for (Index i = j + 1; i < p; ++i) gram(j, i) = gram(i, j);  // mirror the lower triangle
  }
  for (Index j = 1; j < p; ++j) gram(j, j) += ridge;
  const Vector rhs = design.transpose() * y;
  const Eigen::LDLT<Matrix> ldlt(gram);
  const Vector dvec = ldlt.vectorD();
  const double largest = dvec.cwiseAbs().maxCoeff();
  if (ldlt.info() != Eigen::Success || !(dvec.minCoeff() > 1e-12 * largest)) {
    raise<NumericalError>(
        "least squares: the design's Gram matrix is singular (collinear or "
        "constant columns, or an action never taken)");
  }
  Vector theta = ldlt.solve(rhs);
  if (!theta.allFinite()) raise<NumericalError>("least squares: the solution is not finite");
  return theta;
}

/// J⁻¹ M J⁻ᵀ for a square, invertible J (the sandwich of an M-estimator whose summed
/// derivative is J and summed outer product of estimating functions is M).
inline Matrix sandwich(const Matrix& jacobian, const Matrix& meat, std::string_view context) {
  const Eigen::FullPivLU<Matrix> lu(jacobian);
  if (!lu.isInvertible()) {
    raise<NumericalError>(
        "{}: the estimating equations are singular (collinear or constant "
        "columns, or an action never taken)",
        context);
  }
  const Matrix left = lu.solve(meat);
  const Matrix cov = lu.solve(left.transpose());
  return 0.5 * (cov + cov.transpose());
}

}  // namespace detail
}  // namespace tailor::dtr
