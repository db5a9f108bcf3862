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
// Out-of-bag nuisances (nuisance_fit = NuisanceFit::out_of_bag; base learners whose models give
// out-of-bag predictions, i.e. the forests): μ̂₀ is fitted once on all controls and μ̂₁ on all
// treated rows, ê once on all rows. A control row's μ̂₀ is its out-of-bag prediction (only trees
// that did not sample it), a treated row's μ̂₀ the plain prediction (μ̂₀ never saw it); likewise
// μ̂₁, and ê is out of bag for every row. Each nuisance value is thus still free of its own
// row's outcome, as grf's out-of-bag Ŷ and Ŵ are (Athey, Tibshirani & Wager 2019, §6.1), at 3
// fits instead of 3K, and the T/X-learners reuse those same fits as their first stage (the
// X-learner: 5 forests instead of 5 + 3K). num_folds is then unused.
//
// Save/load: a fitted model whose base-learner models are tailor::Serializable
// (core/serialization.hpp: the forests, boosting, Ridge, logistic regression) is itself
// Serializable (tailor::save(model, out), tailor::load<Model>(in)) in tailor's versioned binary
// format (core/serialization.hpp): its own header, the training summary below (y, w, sample
// weights, cross-fitted nuisances, overlap diagnostics), then each base-learner model with its
// own header, so a file of another method or another base learner throws FormatError. Models
// over learners without save/load still compile; they just have no save/load.
#pragma once

#include <cmath>
#include <concepts>
#include <cstdint>
#include <istream>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "tailor/cate/average_effect.hpp"
#include "tailor/cate/effect_summary.hpp"
#include "tailor/cate/overlap.hpp"
#include "tailor/core/data.hpp"
#include "tailor/core/errors.hpp"
#include "tailor/core/estimate.hpp"
#include "tailor/core/folds.hpp"
#include "tailor/core/parallel.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/core/types.hpp"
#include "tailor/learn/concepts.hpp"
#include "tailor/learn/cross_fit.hpp"

namespace tailor::cate {

/// How the meta-learners get the nuisances μ̂₀, μ̂₁, ê of their training rows.
enum class NuisanceFit : std::uint8_t {
  cross_fit,   ///< K-fold cross-fitting (any base learner)
  out_of_bag,  ///< one fit each, out-of-bag predictions (base-learner models with oob_*)
};

/// Settings shared by the meta-learners.
struct MetaLearnerParams {
  Index num_folds = 5;  ///< cross-fitting folds (≥ 2; unused with out_of_bag)
  NuisanceFit nuisance_fit = NuisanceFit::cross_fit;  ///< see the header comment
  double propensity_clip = 0.01;  ///< ê is clipped into [clip, 1 − clip]; in [0, 0.5)
  double overlap_epsilon = 0.05;  ///< band for OverlapDiagnostics::share_outside
  std::uint64_t seed = 0;         ///< fold assignment
  Index num_threads = 0;          ///< folds fitted in parallel (0 = all cores)
};

namespace detail {

inline void validate(const MetaLearnerParams& p, const char* context) {
  check_count(context, "num_folds", p.num_folds, 2, limits::kMaxFolds);
  check_param(p.propensity_clip >= 0.0 && p.propensity_clip < 0.5, context, "propensity_clip",
              p.propensity_clip, "a value in [0, 0.5)");
  check_param(p.overlap_epsilon >= 0.0 && p.overlap_epsilon < 0.5, context, "overlap_epsilon",
              p.overlap_epsilon, "a value in [0, 0.5)");
  check_param(p.num_threads >= 0, context, "num_threads", p.num_threads,
              "0 (all cores) or a positive count");
  check_param(p.nuisance_fit == NuisanceFit::cross_fit || p.nuisance_fit == NuisanceFit::out_of_bag,
              context, "nuisance_fit", static_cast<int>(p.nuisance_fit),
              "NuisanceFit::cross_fit or NuisanceFit::out_of_bag");
}

/// True when both learners' fitted models give out-of-bag predictions of their training rows.
template <class Outcome, class Propensity>
inline constexpr bool supports_out_of_bag =
    learn::OutOfBagRegressionModel<learn::model_t<Outcome>>&&
        learn::OutOfBagProbabilityModel<learn::model_t<Propensity>>;

/// A learner configured not to compute out-of-bag predictions (a forest with compute_oob =
/// false) is refused up front rather than after its first fit.
template <class L>
void check_computes_oob(const L& learner, const char* context, const char* which) {
  if constexpr (requires { learner.forest_params().compute_oob; }) {
    if (!learner.forest_params().compute_oob) {
      raise<InvalidArgument>(
          "{}: nuisance_fit = out_of_bag, but the {} learner has compute_oob = false, expected "
          "true (or nuisance_fit = cross_fit)",
          context, which);
    }
  }
}

/// Sample weights of `data` (length 0 when the data is unweighted).
inline Vector weights_of(const CausalData& data) {
  return data.sample_weights();
}

/// Sample weights of `data` restricted to `rows` (length 0 when the data is unweighted).
inline Vector weights_of(const CausalData& data, const std::vector<Index>& rows) {
  if (!data.has_sample_weights()) return Vector();
  return data.sample_weights()(rows).eval();
}

using learn::detail::rows_where;

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
  return learn::cross_fit(
             "propensity", folds, 1, num_threads,
             [&](Index, Index, const std::vector<Index>& train, const std::vector<Index>& test) {
               const auto model = learner.fit(data.X()(train, Eigen::all), data.w()(train),
                                              weights_of(data, train));
               return Matrix(positive_probability(model, data.X()(test, Eigen::all)));
             })
      .col(0);
}

/// Out-of-fold arm outcome models: μ̂_a fitted on the other folds' rows of arm a (part a).
template <learn::Regressor R>
std::pair<Vector, Vector> cross_fit_arm_outcomes(const R& learner, const CausalData& data,
                                                 const Folds& folds, Index num_threads) {
  const Matrix mu = learn::cross_fit(
      "outcome", folds, 2, num_threads,
      [&](Index, Index arm, const std::vector<Index>& train, const std::vector<Index>& test) {
        const auto model = fit_on(learner, data.X(), data.y(), data,
                                  rows_where(data.w(), static_cast<double>(arm), train));
        return Matrix(model.predict(data.X()(test, Eigen::all)));
      });
  return {mu.col(0), mu.col(1)};
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
    if (params_.nuisance_fit == NuisanceFit::out_of_bag) {
      if constexpr (!supports_out_of_bag<Outcome, Propensity>) {
        raise<InvalidArgument>(
            "{}: nuisance_fit = out_of_bag, expected outcome and propensity learners whose "
            "models give out-of-bag predictions (learn::RegressionForest, "
            "learn::ClassificationForest); use NuisanceFit::cross_fit with these learners",
            name);
      } else {
        check_computes_oob(outcome_, name, "outcome");
        check_computes_oob(propensity_, name, "propensity");
      }
    }
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
  void save(BinaryWriter& out) const requires Serializable<EffectModel> {
    out.write_header(kTypeTag, kVersion);
    save_summary(out);
    tau_.save(out);
  }
  /// Loads what save wrote; corrupt, truncated or foreign data throws FormatError.
  static SecondStageModel load(BinaryReader& in) requires Serializable<EffectModel> {
    in.read_header(kTypeTag, kVersion);
    EffectSummary summary = load_summary(in);
    EffectModel tau = EffectModel::load(in);
    return SecondStageModel(std::move(tau), std::move(summary));
  }

 private:
  static constexpr std::string_view kTypeTag = "cate::SecondStageModel";
  static constexpr std::uint32_t kVersion = 1;
  EffectModel tau_;
};

namespace detail {

/// Clips ê, diagnoses overlap and packs the training summary.
inline EffectSummary make_summary(const CausalData& data, Vector mu0, Vector mu1,
                                  const Vector& e_raw, const MetaLearnerParams& params) {
  OverlapDiagnostics diag =
      diagnose_overlap(data.w(), e_raw, params.overlap_epsilon, params.propensity_clip);
  NuisanceEstimates nu{std::move(mu0), std::move(mu1),
                       clip_propensity(e_raw, params.propensity_clip)};
  return EffectSummary(data, std::move(nu), std::move(diag));
}

/// Cross-fits the arm outcome models and the propensity, clips ê, and diagnoses overlap.
template <learn::Regressor R, learn::Classifier C>
EffectSummary summarize(const R& outcome, const C& propensity, const CausalData& data,
                        const Folds& folds, const MetaLearnerParams& params) {
  auto [mu0, mu1] = cross_fit_arm_outcomes(outcome, data, folds, params.num_threads);
  const Vector e_raw = cross_fit_propensity(propensity, data, folds, params.num_threads);
  return make_summary(data, std::move(mu0), std::move(mu1), e_raw, params);
}

/// Throws when an out-of-bag value is missing (every tree sampled the row).
inline void check_oob_value(double value, Index row, const char* which) {
  if (!std::isfinite(value)) {
    raise<DataError>(
        "out-of-bag nuisances: {} has no out-of-bag prediction for training row {} (every tree "
        "sampled it), expected a finite value; use more trees or nuisance_fit = cross_fit",
        which, row);
  }
}

/// The three nuisance models fitted once on all rows (out_of_bag mode) and the training summary
/// built from their out-of-bag predictions. The propensity model is absent when the data carries
/// known propensities.
template <learn::Regressor R, learn::Classifier C>
struct OutOfBagNuisances {
  learn::model_t<R> mu0, mu1;
  std::optional<learn::model_t<C>> propensity;
  EffectSummary summary;
};

/// Fits μ̂₀ on the controls, μ̂₁ on the treated and ê on all rows, and assembles the nuisances
/// of the header comment from their out-of-bag predictions.
template <learn::Regressor R, learn::Classifier C>
requires supports_out_of_bag<R, C> OutOfBagNuisances<R, C> fit_out_of_bag(
    const R& outcome, const C& propensity, const CausalData& data,
    const MetaLearnerParams& params) {
  const Index n = data.num_rows();
  const auto rows = all_rows(n);
  const auto control = rows_where(data.w(), 0.0, rows);
  const auto treated = rows_where(data.w(), 1.0, rows);
  auto mu0_model = fit_on(outcome, data.X(), data.y(), data, control);
  auto mu1_model = fit_on(outcome, data.X(), data.y(), data, treated);

  // Each arm's model predicts the other arm's rows plainly and its own rows out of bag.
  auto assemble = [&](const auto& model, const std::vector<Index>& own,
                      const std::vector<Index>& other, const char* which) {
    const Vector oob = model.oob_predictions();
    if (oob.size() != static_cast<Index>(own.size())) {
      raise<InvalidArgument>(
          "out-of-bag nuisances: {} gave {} out-of-bag predictions, expected {} (one per "
          "training row; was it fitted with compute_oob = false?)",
          which, oob.size(), own.size());
    }
    Vector out(n);
    for (std::size_t k = 0; k < own.size(); ++k) {
      const double v = oob[static_cast<Index>(k)];
      check_oob_value(v, own[k], which);
      out[own[k]] = v;
    }
    if (!other.empty()) {
      const Vector pred = model.predict(data.X()(other, Eigen::all));
      for (std::size_t k = 0; k < other.size(); ++k) out[other[k]] = pred[static_cast<Index>(k)];
    }
    return out;
  };
  Vector mu0 = assemble(mu0_model, control, treated, "mu0 (the control outcome model)");
  Vector mu1 = assemble(mu1_model, treated, control, "mu1 (the treated outcome model)");

  std::optional<learn::model_t<C>> e_model;
  Vector e_raw;
  if (data.has_propensity()) {
    e_raw = data.propensity();
  } else {
    e_model.emplace(propensity.fit(data.X(), data.w(), weights_of(data)));
    const Matrix oob = e_model->oob_proba();
    if (oob.rows() != n || oob.cols() < 2) {
      raise<InvalidArgument>(
          "out-of-bag nuisances: the propensity model gave {}×{} out-of-bag probabilities, "
          "expected {}×2 (was it fitted with compute_oob = false?)",
          oob.rows(), oob.cols(), n);
    }
    e_raw = oob.col(oob.cols() - 1);
    for (Index i = 0; i < n; ++i) check_oob_value(e_raw[i], i, "the propensity model");
  }
  EffectSummary summary = make_summary(data, std::move(mu0), std::move(mu1), e_raw, params);
  return {std::move(mu0_model), std::move(mu1_model), std::move(e_model), std::move(summary)};
}

/// The training summary by the configured nuisance_fit (cross-fitted or out of bag).
template <learn::Regressor R, learn::Classifier C>
EffectSummary nuisance_summary(const R& outcome, const C& propensity, const CausalData& data,
                               const MetaLearnerParams& params) {
  if constexpr (supports_out_of_bag<R, C>) {
    if (params.nuisance_fit == NuisanceFit::out_of_bag) {
      return fit_out_of_bag(outcome, propensity, data, params).summary;
    }
  }
  return summarize(outcome, propensity, data, treatment_folds(data, params), params);
}

}  // namespace detail
}  // namespace tailor::cate
