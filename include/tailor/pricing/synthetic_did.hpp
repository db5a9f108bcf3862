// tailor/pricing/synthetic_did.hpp — synthetic difference in differences (Arkhangelsky, Athey,
// Hirshberg, Imbens & Wager, AER 2021) with synthetic control and DID as special cases in the
// same frame, reproducing the reference implementation's (synthdid) weights.
//
// Collapse the panel to N0 control rows and the treated mean, T0 pre-period columns and the post
// mean. Unit weights ω (simplex, with an intercept) minimise
//   ‖ω₀ + Y_co,preᵀ ω − ȳ_tr,pre‖² + ζ_ω² T0 ‖ω‖²,
// time weights λ (simplex, with an intercept) minimise
//   ‖λ₀ + Y_co,pre λ − ȳ_co,post‖² + ζ_λ² N0 ‖λ‖²,
// and τ = (ȳ_tr,post − Σ_t λ_t ȳ_tr,t) − Σ_i ω_i (ȳ_i,post − Σ_t λ_t y_i,t).
// Regularisation as in the paper: σ = sd of the controls' pre-period first differences,
// ζ_ω = (N_tr·T_post)^{1/4}·σ, ζ_λ = 1e−6·σ. The weights are found as synthdid does: Frank–Wolfe
// with exact line search, stopped when the objective decreases by less than (1e−5·σ)², first for
// at most 100 steps, then sparsified (weights <= max/4 set to 0, renormalised) and refined for at
// most 10,000 steps. Modes: sdid; synthetic_control (λ = 0, no unit intercept, ζ_ω = 1e−6·σ:
// synthdid's sc_estimate, early-stopped and sparsified, so not the exact QP of
// synthetic_control.hpp); did (uniform ω and λ).
// Complexity O(iterations · N0 · T0).
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/types.hpp"
#include "tailor/pricing/panel.hpp"

namespace tailor::pricing {

enum class SyntheticDidMode { sdid, synthetic_control, did };

struct SyntheticDidResult {
  double tau = 0.0;
  Vector unit_weights;  ///< ω over the control units (panel.control_units() order)
  Vector time_weights;  ///< λ over the pre-periods
  double noise_level = 0.0;
};

namespace detail {

/// Frank–Wolfe on the simplex for min ‖A x − b‖²/rows + ζ²‖x‖² (synthdid's sc.weight.fw on
/// Y = [A b], columns centred when `intercept`), from `x`, stopping when the objective falls by
/// less than min_decrease² or after max_iter steps.
inline Vector frank_wolfe_weights(Matrix y, double zeta, bool intercept, Vector x,
                                  double min_decrease, Index max_iter) {
  const Index rows = y.rows();
  const Index k = y.cols() - 1;
  if (intercept) y.rowwise() -= y.colwise().mean();
  const Matrix A = y.leftCols(k);
  const Vector b = y.col(k);
  const double eta = static_cast<double>(rows) * zeta * zeta;
  double previous = std::numeric_limits<double>::infinity(), current = 0.0;
  for (Index t = 0; t < max_iter; ++t) {
    const Vector ax = A * x;
    const Vector half_grad = A.transpose() * (ax - b) + eta * x;
    Index i = 0;
    half_grad.minCoeff(&i);
    Vector dx = -x;
    dx[i] = 1.0 - x[i];
    if (!dx.isZero(0.0)) {
      const Vector derr = A.col(i) - ax;
      const double step = -half_grad.dot(dx) / (derr.squaredNorm() + eta * dx.squaredNorm());
      x += std::clamp(step, 0.0, 1.0) * dx;
    }
    const Vector err = A * x - b;
    current = zeta * zeta * x.squaredNorm() + err.squaredNorm() / static_cast<double>(rows);
    if (t >= 1 && !(previous - current > min_decrease * min_decrease)) break;
    previous = current;
  }
  return x;
}

inline Vector sparsify(Vector v) {
  const double cut = v.maxCoeff() / 4.0;
  for (Index i = 0; i < v.size(); ++i) {
    if (v[i] <= cut) v[i] = 0.0;
  }
  return v / v.sum();
}

}  // namespace detail

/// τ of the panel's treated units (one cohort) by SDID, synthdid's SC, or DID.
inline SyntheticDidResult synthetic_did(const Panel& panel,
                                        SyntheticDidMode mode = SyntheticDidMode::sdid) {
  constexpr std::string_view kContext = "synthetic_did";
  const Index T0 = panel.cohort_start(kContext);
  const auto treated = panel.treated_units();
  const auto controls = panel.control_units();
  const Index T = panel.num_periods();
  const Index T1 = T - T0;
  const auto N0 = static_cast<Index>(controls.size());
  const auto N1 = static_cast<Index>(treated.size());
  const Matrix& y = panel.outcome();
  Matrix co(N0, T);
  for (Index i = 0; i < N0; ++i) co.row(i) = y.row(controls[static_cast<std::size_t>(i)]);
  Vector tr = Vector::Zero(T);
  for (const Index u : treated) tr += y.row(u).transpose() / static_cast<double>(N1);

  SyntheticDidResult r;
  // σ: sd of all first differences of the controls over the pre-periods.
  if (T0 >= 3) {
    const Matrix diffs = co.middleCols(1, T0 - 1) - co.leftCols(T0 - 1);
    const double mean = diffs.mean();
    r.noise_level =
        std::sqrt((diffs.array() - mean).square().sum() / static_cast<double>(diffs.size() - 1));
  }
  const double sigma = r.noise_level;
  const double min_decrease = 1e-5 * sigma;
  // Collapsed form: controls × [pre periods, post mean]; pre periods × [controls, treated mean].
  Matrix time_problem(N0, T0 + 1);
  time_problem.leftCols(T0) = co.leftCols(T0);
  time_problem.col(T0) = co.rightCols(T1).rowwise().mean();
  Matrix unit_problem(T0, N0 + 1);
  unit_problem.leftCols(N0) = co.leftCols(T0).transpose();
  unit_problem.col(N0) = tr.head(T0);

  Vector lambda = Vector::Constant(T0, 1.0 / static_cast<double>(T0));
  Vector omega = Vector::Constant(N0, 1.0 / static_cast<double>(N0));
  if (mode == SyntheticDidMode::sdid) {
    const double zeta_lambda = 1e-6 * sigma;
    lambda =
        detail::frank_wolfe_weights(time_problem, zeta_lambda, true, lambda, min_decrease, 100);
    lambda = detail::frank_wolfe_weights(time_problem, zeta_lambda, true, detail::sparsify(lambda),
                                         min_decrease, 10'000);
  }
  if (mode != SyntheticDidMode::did) {
    const bool sc = mode == SyntheticDidMode::synthetic_control;
    const double zeta_omega = (sc ? 1e-6 : std::pow(static_cast<double>(N1 * T1), 0.25)) * sigma;
    omega = detail::frank_wolfe_weights(unit_problem, zeta_omega, !sc, omega, min_decrease, 100);
    omega = detail::frank_wolfe_weights(unit_problem, zeta_omega, !sc, detail::sparsify(omega),
                                        min_decrease, 10'000);
  }
  if (mode == SyntheticDidMode::synthetic_control) lambda.setZero();
  const double post_tr = tr.tail(T1).mean();
  const double pre_tr = lambda.dot(tr.head(T0));
  const Vector post_co = co.rightCols(T1).rowwise().mean();
  const Vector pre_co = co.leftCols(T0) * lambda;
  r.tau = (post_tr - pre_tr) - omega.dot(post_co - pre_co);
  r.unit_weights = std::move(omega);
  r.time_weights = std::move(lambda);
  return r;
}

}  // namespace tailor::pricing
