// tailor/cate/overlap.hpp — propensity/overlap diagnostics, clipping and trimming.
//
// Under unconfoundedness, effects are identified only where 0 < e(x) < 1 (positivity). Real
// campaign data violates it often (Dunnhumby's TypeA campaigns: propensity AUC ≈ 0.99), so every
// fit returns these diagnostics as data (DESIGN §2: never printed):
//  * propensity AUC: ROC AUC of ê against W — 0.5 means the arms look alike, ≈1 means they are
//    almost separable and effects rest on extrapolation;
//  * min / max ê, and the share of units with ê outside [ε, 1 − ε] (Crump et al. 2009 use 0.1);
//  * effective sample sizes of the inverse-propensity weights per arm (Kish 1965):
//    ESS₁ = (Σ_{W=1} 1/ê)² / Σ_{W=1} 1/ê², ESS₀ likewise with 1/(1 − ê);
//  * a plain-words verdict.
// Cost: O(n log n) for the AUC, O(n) otherwise.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tailor/core/errors.hpp"
#include "tailor/core/metrics.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/core/types.hpp"

namespace tailor::cate {

/// How well the treated and control groups overlap in their estimated propensities.
struct OverlapDiagnostics {
  double propensity_auc = 0.5;  ///< ROC AUC of ê(x) for predicting W (0.5 = perfect balance)
  double min_propensity = 0.0;  ///< smallest ê(x) before clipping
  double max_propensity = 1.0;  ///< largest ê(x) before clipping
  double epsilon = 0.05;        ///< the band used for share_outside
  double share_outside = 0.0;   ///< share of units with ê ∉ [ε, 1 − ε]
  double ess_treated = 0.0;     ///< Kish effective sample size of 1/ê among the treated
  double ess_control = 0.0;     ///< Kish effective sample size of 1/(1 − ê) among controls
  Index num_treated = 0;
  Index num_control = 0;
  Index num_clipped = 0;  ///< units whose ê was clipped into [clip, 1 − clip]
  bool poor = false;      ///< true when the verdict warns
  std::string verdict;    ///< plain-words summary for reports
};

/// Clips propensities into [clip, 1 − clip]. clip must be in [0, 0.5).
inline Vector clip_propensity(const VectorRef& propensity, double clip) {
  check_param(clip >= 0.0 && clip < 0.5, "clip_propensity", "clip", clip, "a value in [0, 0.5)");
  return propensity.array().max(clip).min(1.0 - clip).matrix();
}

/// Rows whose propensity lies inside [epsilon, 1 − epsilon] (Crump et al. 2009 trimming).
inline std::vector<Index> overlap_rows(const VectorRef& propensity, double epsilon) {
  check_param(epsilon >= 0.0 && epsilon < 0.5, "overlap_rows", "epsilon", epsilon,
              "a value in [0, 0.5)");
  std::vector<Index> rows;
  rows.reserve(static_cast<std::size_t>(propensity.size()));
  for (Index i = 0; i < propensity.size(); ++i) {
    if (propensity[i] >= epsilon && propensity[i] <= 1.0 - epsilon) rows.push_back(i);
  }
  return rows;
}

/// Computes the diagnostics from treatment w ∈ {0,1} and estimated propensities (unclipped).
/// `clip` is the clipping the estimator applies afterwards (only counted here).
inline OverlapDiagnostics diagnose_overlap(const VectorRef& w, const VectorRef& propensity,
                                           double epsilon = 0.05, double clip = 0.0) {
  constexpr const char* kContext = "diagnose_overlap";
  check_rows(kContext, "propensity", propensity.size(), w.size(), "the length of w");
  check_nonempty(kContext, "w", w.size());
  check_finite(kContext, "propensity", propensity);
  check_param(epsilon >= 0.0 && epsilon < 0.5, kContext, "epsilon", epsilon, "a value in [0, 0.5)");
  OverlapDiagnostics d;
  d.epsilon = epsilon;
  d.min_propensity = propensity.minCoeff();
  d.max_propensity = propensity.maxCoeff();
  double s1 = 0.0, s1sq = 0.0, s0 = 0.0, s0sq = 0.0;
  Index outside = 0;
  for (Index i = 0; i < w.size(); ++i) {
    const double e = propensity[i];
    if (e < 0.0 || e > 1.0) {
      raise<DataError>("{}: propensity[{}] = {}, expected a probability in [0, 1]", kContext, i, e);
    }
    if (e < epsilon || e > 1.0 - epsilon) ++outside;
    if (clip > 0.0 && (e < clip || e > 1.0 - clip)) ++d.num_clipped;
    const double ec = std::clamp(e, std::max(clip, 1e-12), 1.0 - std::max(clip, 1e-12));
    if (w[i] == 1.0) {
      ++d.num_treated;
      s1 += 1.0 / ec;
      s1sq += 1.0 / (ec * ec);
    } else {
      ++d.num_control;
      s0 += 1.0 / (1.0 - ec);
      s0sq += 1.0 / ((1.0 - ec) * (1.0 - ec));
    }
  }
  d.share_outside = static_cast<double>(outside) / static_cast<double>(w.size());
  d.ess_treated = s1sq > 0.0 ? s1 * s1 / s1sq : 0.0;
  d.ess_control = s0sq > 0.0 ? s0 * s0 / s0sq : 0.0;
  d.propensity_auc =
      (d.num_treated > 0 && d.num_control > 0) ? metrics::roc_auc(w, propensity) : 0.5;

  std::vector<std::string> problems;
  if (d.propensity_auc >= 0.9) {
    problems.push_back(
        fmt::format("treated and control units are nearly separable (propensity AUC {:.3f})",
                    d.propensity_auc));
  }
  if (d.share_outside >= 0.1) {
    problems.push_back(fmt::format("{:.1f}% of units have propensity outside [{}, {}]",
                                   100.0 * d.share_outside, epsilon, 1.0 - epsilon));
  }
  const double ess_ratio_t =
      d.num_treated > 0 ? d.ess_treated / static_cast<double>(d.num_treated) : 1.0;
  const double ess_ratio_c =
      d.num_control > 0 ? d.ess_control / static_cast<double>(d.num_control) : 1.0;
  if (std::min(ess_ratio_t, ess_ratio_c) < 0.2) {
    problems.push_back(fmt::format(
        "inverse-propensity weights are concentrated (effective sample size {:.0f} of {} treated, "
        "{:.0f} of {} control)",
        d.ess_treated, d.num_treated, d.ess_control, d.num_control));
  }
  d.poor = !problems.empty();
  if (!d.poor) {
    d.verdict =
        fmt::format("overlap is adequate: propensity AUC {:.3f}, propensities in [{:.3f}, {:.3f}]",
                    d.propensity_auc, d.min_propensity, d.max_propensity);
  } else {
    d.verdict = "poor overlap: ";
    for (std::size_t k = 0; k < problems.size(); ++k) {
      d.verdict += (k ? "; " : "") + problems[k];
    }
    d.verdict +=
        ". Effects for units outside the common support are extrapolated; consider trimming "
        "(overlap_rows) or estimating the effect on the treated (ATT).";
  }
  return d;
}

namespace detail {

/// The diagnostics' fields in a fixed order, for the fitted models' save/load
/// (core/serialization.hpp).
inline void write_overlap(BinaryWriter& out, const OverlapDiagnostics& d) {
  out.write(d.propensity_auc);
  out.write(d.min_propensity);
  out.write(d.max_propensity);
  out.write(d.epsilon);
  out.write(d.share_outside);
  out.write(d.ess_treated);
  out.write(d.ess_control);
  out.write(static_cast<std::int64_t>(d.num_treated));
  out.write(static_cast<std::int64_t>(d.num_control));
  out.write(static_cast<std::int64_t>(d.num_clipped));
  out.write(d.poor);
  out.write(d.verdict);
}

inline OverlapDiagnostics read_overlap(BinaryReader& in) {
  OverlapDiagnostics d;
  d.propensity_auc = in.read<double>("propensity_auc");
  d.min_propensity = in.read<double>("min_propensity");
  d.max_propensity = in.read<double>("max_propensity");
  d.epsilon = in.read<double>("epsilon");
  d.share_outside = in.read<double>("share_outside");
  d.ess_treated = in.read<double>("ess_treated");
  d.ess_control = in.read<double>("ess_control");
  d.num_treated = static_cast<Index>(in.read<std::int64_t>("num_treated"));
  d.num_control = static_cast<Index>(in.read<std::int64_t>("num_control"));
  d.num_clipped = static_cast<Index>(in.read<std::int64_t>("num_clipped"));
  d.poor = in.read<bool>("poor");
  d.verdict = in.read<std::string>("verdict");
  return d;
}

}  // namespace detail

}  // namespace tailor::cate
