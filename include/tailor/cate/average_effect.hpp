// tailor/cate/average_effect.hpp — augmented inverse-propensity-weighted (AIPW) average effects
// with influence-function standard errors: ATE, ATT, ATC, on all rows or any subset.
//
// With outcome models μ̂₀, μ̂₁ and propensity ê (cross-fitted, so the nuisance errors are
// independent of the row they are evaluated on — Chernozhukov et al. 2018), the doubly-robust
// score of row i is (Robins, Rotnitzky & Zhao 1994)
//     Γᵢ = μ̂₁(xᵢ) − μ̂₀(xᵢ) + Wᵢ(Yᵢ − μ̂₁(xᵢ))/êᵢ − (1 − Wᵢ)(Yᵢ − μ̂₀(xᵢ))/(1 − êᵢ).
//  ATE  = mean Γᵢ, influence function φᵢ = Γᵢ − ATE.
//  ATT  = Σ aᵢ / Σ Wᵢ with aᵢ = Wᵢ(Yᵢ − μ̂₀ᵢ) − (1 − Wᵢ) êᵢ/(1 − êᵢ) (Yᵢ − μ̂₀ᵢ)
//         (the estimator in grf's average_treatment_effect(target.sample = "treated")),
//         influence function φᵢ ∝ aᵢ − Wᵢ·ATT.
//  ATC  = Σ cᵢ / Σ (1 − Wᵢ) with cᵢ = Wᵢ (1 − êᵢ)/êᵢ (Yᵢ − μ̂₁ᵢ) − (1 − Wᵢ)(Yᵢ − μ̂₁ᵢ),
//         influence function φᵢ ∝ cᵢ − (1 − Wᵢ)·ATC.
// With sample weights vᵢ every sum is weighted and se = √(Σ vᵢ² φᵢ²)/Σ vᵢ(denominator), the
// sandwich variance of a ratio estimator, times √(m/(m − 1)) (m rows with vᵢ > 0).
// Cost O(n).
#pragma once

#include <cmath>
#include <span>
#include <vector>

#include "tailor/core/data.hpp"
#include "tailor/core/errors.hpp"
#include "tailor/core/estimate.hpp"
#include "tailor/core/types.hpp"

namespace tailor::cate {

/// Which population an average effect refers to.
enum class TargetSample {
  all,      ///< ATE: E[Y(1) − Y(0)]
  treated,  ///< ATT: E[Y(1) − Y(0) | W = 1]
  control,  ///< ATC: E[Y(1) − Y(0) | W = 0]
};

/// The library's one binary-treatment nuisance type (core/data.hpp).
using tailor::NuisanceEstimates;

/// The doubly-robust scores Γᵢ (see the header comment); their mean is the AIPW ATE.
inline Vector aipw_scores(const VectorRef& y, const VectorRef& w, const NuisanceEstimates& nu) {
  const auto& e = nu.propensity.array();
  return (nu.mu1.array() - nu.mu0.array() + w.array() * (y.array() - nu.mu1.array()) / e -
          (1.0 - w.array()) * (y.array() - nu.mu0.array()) / (1.0 - e))
      .matrix();
}

/// AIPW average effect on `target`, restricted to `rows` (all rows when empty), with optional
/// sample weights (length 0 = unit weights).
inline Estimate aipw_average_effect(const VectorRef& y, const VectorRef& w,
                                    const NuisanceEstimates& nu,
                                    TargetSample target = TargetSample::all,
                                    std::span<const Index> rows = {},
                                    const VectorRef& sample_weights = Vector()) {
  constexpr const char* kContext = "aipw_average_effect";
  const Index n = y.size();
  check_rows(kContext, "w", w.size(), n, "the length of y");
  check_rows(kContext, "mu0", nu.mu0.size(), n, "the length of y");
  check_rows(kContext, "mu1", nu.mu1.size(), n, "the length of y");
  check_rows(kContext, "propensity", nu.propensity.size(), n, "the length of y");
  if (sample_weights.size() != 0)
    check_rows(kContext, "sample_weights", sample_weights.size(), n, "the length of y");
  for (Index i = 0; i < n; ++i) {
    const double e = nu.propensity[i];
    if (!(e > 0.0 && e < 1.0)) {
      raise<DataError>(
          "{}: propensity[{}] = {}, expected a value strictly between 0 and 1 (clip it)", kContext,
          i, e);
    }
  }
  std::vector<Index> all_rows;
  if (rows.empty()) {
    all_rows.resize(static_cast<std::size_t>(n));
    for (Index i = 0; i < n; ++i) all_rows[static_cast<std::size_t>(i)] = i;
    rows = all_rows;
  }
  auto weight = [&](Index i) { return sample_weights.size() ? sample_weights[i] : 1.0; };

  // numerator score aᵢ and denominator dᵢ: estimate = Σ v a / Σ v d.
  auto score = [&](Index i, double& a, double& d) {
    const double e = nu.propensity[i];
    const double wi = w[i];
    switch (target) {
      case TargetSample::all:
        a = nu.mu1[i] - nu.mu0[i] + wi * (y[i] - nu.mu1[i]) / e -
            (1.0 - wi) * (y[i] - nu.mu0[i]) / (1.0 - e);
        d = 1.0;
        break;
      case TargetSample::treated:
        a = wi * (y[i] - nu.mu0[i]) - (1.0 - wi) * e / (1.0 - e) * (y[i] - nu.mu0[i]);
        d = wi;
        break;
      case TargetSample::control:
        a = wi * (1.0 - e) / e * (y[i] - nu.mu1[i]) - (1.0 - wi) * (y[i] - nu.mu1[i]);
        d = 1.0 - wi;
        break;
    }
  };
  double num = 0.0, den = 0.0;
  Index m = 0;
  for (Index i : rows) {
    if (i < 0 || i >= n) {
      raise<InvalidArgument>("{}: rows contains {}, expected a row index in [0, {})", kContext, i,
                             n);
    }
    double a = 0.0, d = 0.0;
    score(i, a, d);
    const double v = weight(i);
    num += v * a;
    den += v * d;
    if (v > 0.0) ++m;
  }
  if (!(den > 0.0)) {
    raise<DataError>("{}: the target sample has no {} rows with positive weight", kContext,
                     target == TargetSample::treated   ? "treated"
                     : target == TargetSample::control ? "control"
                                                       : "");
  }
  const double estimate = num / den;
  double ss = 0.0;
  for (Index i : rows) {
    double a = 0.0, d = 0.0;
    score(i, a, d);
    const double v = weight(i);
    const double phi = v * (a - d * estimate);
    ss += phi * phi;
  }
  const double correction = m > 1 ? static_cast<double>(m) / static_cast<double>(m - 1) : 1.0;
  return Estimate{estimate, std::sqrt(ss * correction) / den};
}

}  // namespace tailor::cate
