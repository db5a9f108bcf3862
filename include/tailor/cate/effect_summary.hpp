// tailor/cate/effect_summary.hpp — what every fitted effect model shares besides predict(): the
// training rows' outcome, treatment, sample weights and nuisance estimates (μ̂₀, μ̂₁, ê), the
// overlap diagnostics, and the AIPW average effects (ATE/ATT/ATC, on all rows or a subset) and
// doubly-robust scores built from them (cate/average_effect.hpp). The meta-learners and the
// causal forest hold one, so the average-effect code exists once. save_summary/load_summary
// write and validate it inside a model file.
// Cost: O(n) per average effect; memory 6 vectors of n doubles.
#pragma once

#include <cmath>
#include <span>
#include <string>
#include <utility>

#include "tailor/cate/average_effect.hpp"
#include "tailor/cate/overlap.hpp"
#include "tailor/core/data.hpp"
#include "tailor/core/errors.hpp"
#include "tailor/core/estimate.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/core/types.hpp"

namespace tailor::cate {

/// What every fitted effect model (the meta-learners, the causal forest) offers besides
/// predict(): the training rows' nuisances, overlap diagnostics, and AIPW average effects and
/// doubly-robust scores built from them.
class EffectSummary {
 public:
  EffectSummary() = default;
  EffectSummary(const CausalData& data, NuisanceEstimates nuisances, OverlapDiagnostics diagnostics)
      : EffectSummary(data.y(), data.w(), data.sample_weights(), std::move(nuisances),
                      std::move(diagnostics)) {}
  /// From the training outcome, treatment and sample weights (length 0 = unit weights).
  EffectSummary(Vector y, Vector w, Vector sample_weights, NuisanceEstimates nuisances,
                OverlapDiagnostics diagnostics)
      : y_(std::move(y)),
        w_(std::move(w)),
        sample_weights_(std::move(sample_weights)),
        nuisances_(std::move(nuisances)),
        diagnostics_(std::move(diagnostics)) {}

  /// Overlap diagnostics of the training data (propensity AUC, extremes, ESS, verdict).
  const OverlapDiagnostics& diagnostics() const { return diagnostics_; }
  /// Cross-fitted μ̂₀, μ̂₁ and clipped ê for the training rows.
  const NuisanceEstimates& nuisances() const { return nuisances_; }

  /// AIPW average effect on the training sample: ATE (all), ATT (treated) or ATC (control).
  Estimate average_effect(TargetSample target = TargetSample::all) const {
    return aipw_average_effect(y_, w_, nuisances_, target, {}, sample_weights_);
  }
  /// AIPW average effect on a subset of the training rows (e.g. one segment).
  Estimate average_effect(std::span<const Index> rows,
                          TargetSample target = TargetSample::all) const {
    if (rows.empty()) {
      raise<InvalidArgument>(
          "average_effect: rows is empty, expected at least one training row index");
    }
    return aipw_average_effect(y_, w_, nuisances_, target, rows, sample_weights_);
  }
  /// The doubly-robust scores Γᵢ of the training rows (their mean is the ATE).
  Vector doubly_robust_scores() const { return aipw_scores(y_, w_, nuisances_); }

  /// Writes the training summary inside a model file (part of the meta-learners' save).
  void save_summary(BinaryWriter& out) const {
    out.write(y_);
    out.write(w_);
    out.write(sample_weights_);
    out.write(nuisances_.mu0);
    out.write(nuisances_.mu1);
    out.write(nuisances_.propensity);
    detail::write_overlap(out, diagnostics_);
  }

  /// Reads what save_summary wrote; inconsistent lengths or impossible values (non-binary w,
  /// non-finite values, propensities outside [0, 1], negative weights) throw FormatError.
  static EffectSummary load_summary(BinaryReader& in) {
    EffectSummary s;
    s.y_ = in.read<Vector>("y");
    s.w_ = in.read<Vector>("w");
    s.sample_weights_ = in.read<Vector>("sample_weights");
    s.nuisances_.mu0 = in.read<Vector>("mu0");
    s.nuisances_.mu1 = in.read<Vector>("mu1");
    s.nuisances_.propensity = in.read<Vector>("propensity");
    const std::string& where = in.context();
    const Index n = s.y_.size();
    if (n < 1 || s.w_.size() != n ||
        (s.sample_weights_.size() != 0 && s.sample_weights_.size() != n) ||
        s.nuisances_.mu0.size() != n || s.nuisances_.mu1.size() != n ||
        s.nuisances_.propensity.size() != n) {
      raise<FormatError>(
          "{}: training summary has inconsistent lengths (y {}, w {}, sample_weights {}, mu0 {}, "
          "mu1 {}, propensity {}), expected {} each (sample_weights: 0 or {})",
          where, n, s.w_.size(), s.sample_weights_.size(), s.nuisances_.mu0.size(),
          s.nuisances_.mu1.size(), s.nuisances_.propensity.size(), n, n);
    }
    for (Index i = 0; i < n; ++i) {
      const double e = s.nuisances_.propensity[i];
      const bool weight_ok = s.sample_weights_.size() == 0 ||
                             (std::isfinite(s.sample_weights_[i]) && s.sample_weights_[i] >= 0.0);
      if (!(s.w_[i] == 0.0 || s.w_[i] == 1.0) || !(e >= 0.0 && e <= 1.0) ||
          !std::isfinite(s.y_[i]) || !std::isfinite(s.nuisances_.mu0[i]) ||
          !std::isfinite(s.nuisances_.mu1[i]) || !weight_ok) {
        raise<FormatError>("{}: training summary row {} is corrupt", where, i);
      }
    }
    s.diagnostics_ = detail::read_overlap(in);
    return s;
  }

 protected:
  /// The training outcome, treatment and sample weights (length 0 = unit weights).
  const Vector& training_y() const { return y_; }
  const Vector& training_w() const { return w_; }
  const Vector& training_weights() const { return sample_weights_; }

 private:
  Vector y_, w_, sample_weights_;
  NuisanceEstimates nuisances_;
  OverlapDiagnostics diagnostics_;
};

}  // namespace tailor::cate
