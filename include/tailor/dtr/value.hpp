// tailor/dtr/value.hpp — the value of a dynamic treatment regime from observational data: inverse
// probability weighting and its augmented, doubly robust form, with influence-function standard
// errors, and paired comparisons of regimes.
//
// With C_k = Π_{j<=k} 1{A_j = d_j(H_j)} (the unit followed the regime through stage k) and
// π̄_k = Π_{j<=k} π_j(A_j | H_j) (C_0 = π̄_0 = 1):
//   IPW:   V̂ = mean[ C_K · Y / π̄_K ]
//   AIPW:  V̂ = mean[ C_K · Y / π̄_K + Σ_{k=1}^{K} (C_{k−1}/π̄_{k−1} − C_k/π̄_k) · L_k ]
//          L_k = Σ_{j<k} R_j + Q̂_k^d(H_k, d_k(H_k))
// (Zhang, Tsiatis, Laber & Davidian, Biometrika 2013, eq. 7), consistent when either the
// propensities or the regime's Q-functions Q^d are right and efficient when both are. Q^d are
// fitted here by linear backward induction under d (fit_regime_q_functions) unless given. The
// standard error is the sample sd of the per-unit influence terms / √n; when the propensities
// are estimated (logistic models), the terms include the first-order effect of that estimation
// (the stacked M-estimator's correction), without which IPW intervals are too wide. The Q-
// functions' estimation has no first-order effect on AIPW when the propensity models are right.
// A comparison of two regimes differences the per-unit terms (paired).
// Propensities: the data's known ones, else a logistic model per stage on every history column
// (binary actions). Complexity O(n·K) for the terms, plus the nuisance fits. The terms stream at
// memory speed.
#pragma once

#include <optional>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "tailor/core/errors.hpp"
#include "tailor/core/estimate.hpp"
#include "tailor/core/sample_mean.hpp"
#include "tailor/core/types.hpp"
#include "tailor/dtr/a_learning.hpp"
#include "tailor/dtr/q_learning.hpp"
#include "tailor/dtr/sequential_data.hpp"

namespace tailor::dtr {

/// Options of evaluate_regime / compare_regimes.
struct ValueParams {
  /// Columns of the regime's linear Q-functions (augmentation) and the propensity models.
  std::vector<StageDesign> stages = {};
  double ridge = 0.0;
};

/// A regime's value by IPW and AIPW, with the per-unit influence terms (their means are the
/// estimates; their sd / √n the standard errors).
struct RegimeValue {
  Estimate ipw;
  Estimate aipw;
  Vector ipw_terms;
  Vector aipw_terms;
};

namespace detail {

/// The propensity model of one stage: P(A = 1 | h) on [1, h_propensity] (binary actions), or
/// known observed-action probabilities (then x is empty).
struct StagePropensity {
  Vector observed;  ///< P(A = observed action | H)
  Matrix x;         ///< [1, h_propensity] when estimated
  Vector pi;        ///< P(A = 1 | H) when estimated
};

inline std::vector<StagePropensity> fit_propensities(const SequentialData& data,
                                                     const std::vector<StageDesign>& designs,
                                                     std::string_view context) {
  std::vector<StagePropensity> out;
  for (Index k = 0; k < data.num_stages(); ++k) {
    const Stage& s = data.stage(k);
    StagePropensity p;
    if (s.propensity.size() > 0) {
      p.observed = s.propensity;
      out.push_back(std::move(p));
      continue;
    }
    if (s.num_actions != 2) {
      raise<InvalidArgument>(
          "{}: stage {} has {} actions and no known propensities, expected "
          "binary actions (or give Stage::propensity)",
          context, k + 1, s.num_actions);
    }
    const auto cols = resolve_design(designs, data.num_stages(), k, s.history.cols(), context);
    p.x = with_intercept(s.history, cols.propensity);
    p.pi = binary_propensity(s, p.x, context, k).first;
    p.observed.resize(p.pi.size());
    for (Index i = 0; i < p.pi.size(); ++i) {
      p.observed[i] = s.action[i] == 1 ? p.pi[i] : 1.0 - p.pi[i];
    }
    out.push_back(std::move(p));
  }
  return out;
}

/// The observed-action probabilities as an n × K matrix.
inline Matrix observed_matrix(const std::vector<StagePropensity>& props, Index n) {
  Matrix p(n, static_cast<Index>(props.size()));
  for (std::size_t k = 0; k < props.size(); ++k) p.col(static_cast<Index>(k)) = props[k].observed;
  return p;
}

/// Per-unit IPW and AIPW terms, with the weights W_k = C_k/π̄_k (n × (K+1), W_0 = 1) and the
/// augmentation values L_k (n × K) that the propensity correction needs.
struct ValueTerms {
  Vector ipw, aipw;
  Matrix weight, augmentation;
};

template <class QFunctions>
ValueTerms value_terms(const SequentialData& data, const Regime& regime, const Matrix& propensities,
                       const QFunctions& q, std::string_view context) {
  const Index n = data.num_rows();
  const Index K = data.num_stages();
  check_param(regime.num_stages() == K, context, "regime stages", regime.num_stages(),
              fmt::format("{} (the data's stages)", K));
  if (propensities.rows() != n || propensities.cols() != K) {
    raise<ShapeMismatch>("{}: propensities is {} x {}, expected {} x {}", context,
                         propensities.rows(), propensities.cols(), n, K);
  }
  ValueTerms t;
  t.weight.resize(n, K + 1);
  t.weight.col(0).setOnes();
  t.augmentation.resize(n, K);
  t.aipw = Vector::Zero(n);
  Vector past = Vector::Zero(n);  // Σ_{j<k} R_j
  for (Index k = 0; k < K; ++k) {
    const Stage& s = data.stage(k);
    const Eigen::VectorXi d = regime.actions(k, s, context);
    Vector qd;
    if constexpr (requires { q.q_at(k, s.history, d); }) {
      qd = q.q_at(k, s.history, d);
    } else {
      qd = pick(q.q_values(k, s.history), d);
    }
    // Branch-free, vectorised: W_k = W_{k−1} · 1{A_k = d_k} / π_k.
    const auto followed = (s.action.array() == d.array()).cast<double>();
    t.weight.col(k + 1).array() = t.weight.col(k).array() * followed / propensities.col(k).array();
    t.augmentation.col(k) = past + qd;
    t.aipw.array() +=
        (t.weight.col(k) - t.weight.col(k + 1)).array() * t.augmentation.col(k).array();
    past += data.rewards().col(k);
  }
  t.ipw = t.weight.col(K).array() * past.array();
  t.aipw += t.ipw;
  return t;
}

/// A RegimeValue from its per-unit terms (the estimates are their means).
inline RegimeValue regime_value_from(Vector ipw_terms, Vector aipw_terms) {
  RegimeValue v;
  v.ipw = tailor::mean_estimate(ipw_terms);
  v.aipw = tailor::mean_estimate(aipw_terms);
  v.ipw_terms = std::move(ipw_terms);
  v.aipw_terms = std::move(aipw_terms);
  return v;
}

/// Adds to `terms` the first-order effect of the estimated propensity models:
/// φ_i = t_i − Σ_k E[∂t/∂γ_k]ᵀ H_k⁻¹ U_k,i with U_k = x_k(A_k − π_k) the logistic score and H_k its
/// summed derivative −Σ π(1−π) x xᵀ. With ∂W_m/∂γ_k = −W_m (A_k − π_k) x_k for m >= k,
/// ∂t_i/∂γ_k = (A_k − π_k) x_k · g_k with g_k = −W_K·Y + Σ_{m>=k} W_m L_m − Σ_{m>k} W_{m−1} L_m
/// for AIPW (only the first term for IPW).
inline void correct_for_propensities(Vector& terms, const ValueTerms& t, const Vector& outcome,
                                     const SequentialData& data,
                                     const std::vector<StagePropensity>& props, bool augmented) {
  const Index K = data.num_stages();
  const Index n = data.num_rows();
  for (Index k = 0; k < K; ++k) {
    const StagePropensity& p = props[static_cast<std::size_t>(k)];
    if (p.x.size() == 0) continue;  // known
    // g_k per row (k 0-based: stage k + 1 in the formula; W columns 0..K, L columns 0..K−1).
    Vector g = -(t.weight.col(K).array() * outcome.array()).matrix();
    if (augmented) {
      for (Index m = k; m < K; ++m) {
        g.array() += t.weight.col(m + 1).array() * t.augmentation.col(m).array();
        if (m > k) g.array() -= t.weight.col(m).array() * t.augmentation.col(m).array();
      }
    }
    const Vector a = data.stage(k).action.cast<double>();
    const Vector s = a - p.pi;
    const Vector gs = g.array() * s.array();
    const Vector mean_derivative = p.x.transpose() * gs / static_cast<double>(n);
    const Vector v = p.pi.array() * (1.0 - p.pi.array());
    const Matrix hessian =
        -(p.x.transpose() * (p.x.array().colwise() * v.array()).matrix()) / static_cast<double>(n);
    const Vector direction = hessian.ldlt().solve(mean_derivative);  // H⁻¹ E[∂t/∂γ]
    terms -= (p.x * direction).cwiseProduct(s);
  }
}

}  // namespace detail

/// P(A_k = observed | H_k) for every stage: n × K (known, or logistic for binary actions).
inline Matrix observed_propensities(const SequentialData& data,
                                    const std::vector<StageDesign>& designs = {}) {
  const auto props = detail::fit_propensities(data, designs, "observed_propensities");
  return detail::observed_matrix(props, data.num_rows());
}

/// IPW and AIPW of `regime` with given propensities (n × K, observed actions; treated as known)
/// and the regime's Q-functions `q` (anything with q_values(k, H) -> n × m).
template <class QFunctions>
RegimeValue regime_value(const SequentialData& data, const Regime& regime,
                         const Matrix& propensities, const QFunctions& q) {
  detail::ValueTerms t = detail::value_terms(data, regime, propensities, q, "regime_value");
  return detail::regime_value_from(std::move(t.ipw), std::move(t.aipw));
}

/// The value of `regime` by IPW and AIPW, fitting the propensities (unless known; their
/// estimation enters the standard errors) and the regime's linear Q-functions.
inline RegimeValue evaluate_regime(const SequentialData& data, const Regime& regime,
                                   const ValueParams& params = {}) {
  constexpr std::string_view kContext = "evaluate_regime";
  check_param(regime.num_stages() == data.num_stages(), kContext, "regime stages",
              regime.num_stages(), fmt::format("{} (the data's stages)", data.num_stages()));
  const auto props = detail::fit_propensities(data, params.stages, kContext);
  const Matrix p = detail::observed_matrix(props, data.num_rows());
  const LinearQModel q = fit_regime_q_functions(data, regime, params.stages, params.ridge);
  const detail::ValueTerms t = detail::value_terms(data, regime, p, q, kContext);
  Vector ipw = t.ipw, aipw = t.aipw;
  const Vector y = data.outcome();
  detail::correct_for_propensities(ipw, t, y, data, props, false);
  detail::correct_for_propensities(aipw, t, y, data, props, true);
  return detail::regime_value_from(std::move(ipw), std::move(aipw));
}

/// V(a) − V(b) by IPW and AIPW with paired standard errors.
struct RegimeComparison {
  Estimate ipw;
  Estimate aipw;
};

inline RegimeComparison compare_regimes(const SequentialData& data, const Regime& a,
                                        const Regime& b, const ValueParams& params = {}) {
  const RegimeValue va = evaluate_regime(data, a, params);
  const RegimeValue vb = evaluate_regime(data, b, params);
  return {tailor::mean_estimate(va.ipw_terms - vb.ipw_terms),
          tailor::mean_estimate(va.aipw_terms - vb.aipw_terms)};
}

}  // namespace tailor::dtr
