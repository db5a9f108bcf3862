// tailor/cate/meta_learner_common.hpp — what the S/T/X/R/DR meta-learners share: parameters,
// cross-fitted nuisances (μ̂₀, μ̂₁, ê), overlap diagnostics and AIPW average effects on the
// fitted model.
//
// Nuisances are cross-fitted (Chernozhukov et al. 2018): rows are split into K folds
// stratified on W; for fold k, μ̂₀ (controls only), μ̂₁ (treated only) and ê are fitted on the
// other K − 1 folds and predicted on fold k. Known propensities (a randomized experiment) are
// used as given. ê is clipped into [propensity_clip, 1 − propensity_clip] before it divides
// anything (default 0.01, so inverse weights are at most 100: numerically sane even when
// overlap is poor — the diagnostics say so). Folds run in parallel; each fold's fit is
// independent of the thread that runs it, so results are identical for every num_threads.
// Cost: K fits of each nuisance learner on (K − 1)/K of the rows.
//
// Save/load: a fitted model whose base-learner models have save(BinaryWriter&) and a static
// load(BinaryReader&) (detail::SerializableModel: the forests, boosting, Ridge, logistic
// regression) gets save(std::ostream&) / Model::load(std::istream&) in tailor's versioned binary
// format (core/serialization.hpp): its own header, the training summary below (y, w, sample
// weights, cross-fitted nuisances, overlap diagnostics), then each base-learner model with its
// own header, so a file of another method or another base learner throws FormatError. Models
// over learners without save/load still compile; they just have no save/load.
#pragma once

#include <cmath>
#include <concepts>
#include <cstdint>
#include <istream>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "tailor/cate/average_effect.hpp"
#include "tailor/cate/overlap.hpp"
#include "tailor/core/data.hpp"
#include "tailor/core/errors.hpp"
#include "tailor/core/folds.hpp"
#include "tailor/core/parallel.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/core/types.hpp"
#include "tailor/learn/concepts.hpp"

namespace tailor::cate {

/// Settings shared by the meta-learners.
struct MetaLearnerParams {
  Index num_folds = 5;            ///< cross-fitting folds (≥ 2)
  double propensity_clip = 0.01;  ///< ê is clipped into [clip, 1 − clip]; in [0, 0.5)
  double overlap_epsilon = 0.05;  ///< band for OverlapDiagnostics::share_outside
  std::uint64_t seed = 0;         ///< fold assignment
  Index num_threads = 0;          ///< folds fitted in parallel (0 = all cores)
};

namespace detail {

inline void validate(const MetaLearnerParams& p, const char* context) {
  check_param(p.num_folds >= 2, context, "num_folds", p.num_folds, "at least 2");
  check_param(p.propensity_clip >= 0.0 && p.propensity_clip < 0.5, context, "propensity_clip",
              p.propensity_clip, "a value in [0, 0.5)");
  check_param(p.overlap_epsilon >= 0.0 && p.overlap_epsilon < 0.5, context, "overlap_epsilon",
              p.overlap_epsilon, "a value in [0, 0.5)");
  check_param(p.num_threads >= 0, context, "num_threads", p.num_threads,
              "0 (all cores) or a positive count");
}

/// Sample weights of `data` restricted to `rows` (length 0 when the data is unweighted).
inline Vector weights_of(const CausalData& data, const std::vector<Index>& rows) {
  if (!data.has_sample_weights()) return Vector();
  return data.sample_weights()(rows).eval();
}

inline std::vector<Index> rows_where(const VectorRef& w, double arm,
                                     const std::vector<Index>& among) {
  std::vector<Index> out;
  for (Index i : among) {
    if (w[i] == arm) out.push_back(i);
  }
  return out;
}

inline std::vector<Index> all_rows(Index n) {
  std::vector<Index> rows(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) rows[static_cast<std::size_t>(i)] = i;
  return rows;
}

/// Fits `learner` on `rows` of (X, target) with the data's sample weights times `extra`.
template <learn::Regressor L>
auto fit_on(const L& learner, const MatrixRef& X, const VectorRef& target, const CausalData& data,
            const std::vector<Index>& rows, const Vector& extra_weights = Vector()) {
  const Matrix Xr = X(rows, Eigen::all);
  const Vector yr = target(rows);
  Vector weights = weights_of(data, rows);
  if (extra_weights.size() != 0) {
    const Vector extra = extra_weights(rows);
    weights = weights.size() ? Vector(weights.cwiseProduct(extra)) : extra;
  }
  return learner.fit(Xr, yr, weights);
}

/// P(W = 1 | X) from a fitted binary probability model.
template <learn::ProbabilityModel M>
Vector positive_probability(const M& model, const MatrixRef& X) {
  const Matrix proba = model.predict_proba(X);
  return proba.col(proba.cols() - 1);
}

/// Out-of-fold propensities (unclipped), or the supplied ones.
template <learn::Classifier C>
Vector cross_fit_propensity(const C& learner, const CausalData& data, const Folds& folds,
                            Index num_threads) {
  if (data.has_propensity()) return data.propensity();
  const Index n = data.num_rows();
  Vector out(n);
  parallel_for(0, folds.num_folds, num_threads, [&](Index k) {
    const std::vector<Index> train = folds.train_rows(k);
    const std::vector<Index> test = folds.test_rows(k);
    const Matrix Xtrain = data.X()(train, Eigen::all);
    const Vector wtrain = data.w()(train);
    const auto model = learner.fit(Xtrain, wtrain, weights_of(data, train));
    const Matrix Xtest = data.X()(test, Eigen::all);
    const Vector p = positive_probability(model, Xtest);
    for (std::size_t t = 0; t < test.size(); ++t) out[test[t]] = p[static_cast<Index>(t)];
  });
  return out;
}

/// Out-of-fold arm outcome models: μ̂_a fitted on the other folds' rows of arm a.
template <learn::Regressor R>
std::pair<Vector, Vector> cross_fit_arm_outcomes(const R& learner, const CausalData& data,
                                                 const Folds& folds, Index num_threads) {
  const Index n = data.num_rows();
  Vector mu0(n), mu1(n);
  parallel_for(0, 2 * folds.num_folds, num_threads, [&](Index task) {
    const Index k = task / 2;
    const double arm = static_cast<double>(task % 2);
    const std::vector<Index> train = rows_where(data.w(), arm, folds.train_rows(k));
    const std::vector<Index> test = folds.test_rows(k);
    const auto model = fit_on(learner, data.X(), data.y(), data, train);
    const Matrix Xtest = data.X()(test, Eigen::all);
    const Vector pred = model.predict(Xtest);
    Vector& out = arm == 1.0 ? mu1 : mu0;
    for (std::size_t t = 0; t < test.size(); ++t) out[test[t]] = pred[static_cast<Index>(t)];
  });
  return {std::move(mu0), std::move(mu1)};
}

/// The effect (second-stage) learner: a copy of the outcome learner when the types agree.
template <class Effect, class Outcome>
Effect default_effect(const Outcome& outcome) {
  if constexpr (std::is_same_v<Effect, Outcome>) {
    return outcome;
  } else {
    return Effect{};
  }
}

/// Holds and validates what every meta-learner is configured with: parameters, the outcome
/// learner, the propensity learner and the effect (second-stage) learner.
template <class Outcome, class Propensity, class Effect>
class MetaLearnerBase {
 public:
  const MetaLearnerParams& params() const { return params_; }

 protected:
  MetaLearnerBase(const char* name, MetaLearnerParams params, Outcome outcome,
                  Propensity propensity, Effect effect)
      : outcome_(std::move(outcome)),
        propensity_(std::move(propensity)),
        effect_(std::move(effect)),
        params_(params) {
    validate(params_, name);
  }

  Outcome outcome_;
  Propensity propensity_;
  Effect effect_;
  MetaLearnerParams params_;
};

/// Folds stratified on treatment, so every fold's training part has both arms.
inline Folds treatment_folds(const CausalData& data, const MetaLearnerParams& params) {
  return stratified_kfold(data.w(), params.num_folds, params.seed);
}

}  // namespace detail

namespace detail {

/// A fitted model that can be embedded in another model's file: save(BinaryWriter&) and a
/// static load(BinaryReader&) returning the model (tailor's fitted learn:: models all qualify).
template <class M>
concept SerializableModel = requires(const M& model, BinaryWriter& out, BinaryReader& in) {
  model.save(out);
  { M::load(in) } -> std::same_as<M>;
};

/// Writes a model to a stream in its own binary file (header + payload).
template <class Model>
void save_model_to_stream(const Model& model, std::ostream& out) {
  BinaryWriter writer(out);
  model.save(writer);
}

/// Reads a model file from a stream; trailing bytes after the model are a FormatError.
template <class Model>
Model load_model_from_stream(std::istream& in) {
  BinaryReader reader(in);
  Model model = Model::load(reader);
  reader.expect_end();
  return model;
}

}  // namespace detail

/// What every fitted meta-learner offers besides predict(): the training rows' nuisances,
/// overlap diagnostics, and AIPW average effects built from them.
class EffectSummary {
 public:
  EffectSummary() = default;
  EffectSummary(const CausalData& data, NuisanceEstimates nuisances, OverlapDiagnostics diagnostics)
      : y_(data.y()),
        w_(data.w()),
        sample_weights_(data.has_sample_weights() ? Vector(data.sample_weights()) : Vector()),
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
      tailor::detail::raise<InvalidArgument>(
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
      tailor::detail::raise<FormatError>(
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
        tailor::detail::raise<FormatError>("{}: training summary row {} is corrupt", where, i);
      }
    }
    s.diagnostics_ = detail::read_overlap(in);
    return s;
  }

 private:
  Vector y_, w_, sample_weights_;
  NuisanceEstimates nuisances_;
  OverlapDiagnostics diagnostics_;
};

/// A fitted meta-learner whose CATE is a single second-stage regression τ̂(x) (the R- and
/// DR-learners), plus the training summary.
template <learn::Regressor Effect>
class SecondStageModel : public EffectSummary {
 public:
  using EffectModel = learn::model_t<Effect>;
  SecondStageModel(EffectModel tau, EffectSummary summary)
      : EffectSummary(std::move(summary)), tau_(std::move(tau)) {}
  Vector predict(const MatrixRef& X) const { return tau_.predict(X); }
  const EffectModel& effect_model() const { return tau_; }

  /// Versioned binary save (header "cate::SecondStageModel" v1: the training summary, then the
  /// effect model). R- and DR-learner models are this one type, so they share the tag.
  void save(BinaryWriter& out) const requires detail::SerializableModel<EffectModel> {
    out.write_header(kTypeTag, kVersion);
    save_summary(out);
    tau_.save(out);
  }
  void save(std::ostream& out) const requires detail::SerializableModel<EffectModel> {
    detail::save_model_to_stream(*this, out);
  }
  /// Loads what save wrote; corrupt, truncated or foreign data throws FormatError.
  static SecondStageModel load(BinaryReader& in) requires detail::SerializableModel<EffectModel> {
    in.read_header(kTypeTag, kVersion);
    EffectSummary summary = load_summary(in);
    EffectModel tau = EffectModel::load(in);
    return SecondStageModel(std::move(tau), std::move(summary));
  }
  static SecondStageModel load(std::istream& in) requires detail::SerializableModel<EffectModel> {
    return detail::load_model_from_stream<SecondStageModel>(in);
  }

 private:
  static constexpr std::string_view kTypeTag = "cate::SecondStageModel";
  static constexpr std::uint32_t kVersion = 1;
  EffectModel tau_;
};

namespace detail {

/// Cross-fits the arm outcome models and the propensity, clips ê, and diagnoses overlap.
template <learn::Regressor R, learn::Classifier C>
EffectSummary summarize(const R& outcome, const C& propensity, const CausalData& data,
                        const Folds& folds, const MetaLearnerParams& params) {
  auto [mu0, mu1] = cross_fit_arm_outcomes(outcome, data, folds, params.num_threads);
  const Vector e_raw = cross_fit_propensity(propensity, data, folds, params.num_threads);
  OverlapDiagnostics diag =
      diagnose_overlap(data.w(), e_raw, params.overlap_epsilon, params.propensity_clip);
  NuisanceEstimates nu{std::move(mu0), std::move(mu1),
                       clip_propensity(e_raw, params.propensity_clip)};
  return EffectSummary(data, std::move(nu), std::move(diag));
}

}  // namespace detail
}  // namespace tailor::cate
