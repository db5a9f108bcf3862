// tailor/cate/x_learner.hpp — the X-learner (Künzel, Sekhon, Bickel & Yu, PNAS 2019).
//
//  1. μ̂₀ on the controls, μ̂₁ on the treated.
//  2. Imputed effects: D¹ᵢ = Yᵢ − μ̂₀(xᵢ) for treated rows, D⁰ᵢ = μ̂₁(xᵢ) − Yᵢ for controls.
//  3. τ̂₁ fitted on (x, D¹) over the treated, τ̂₀ on (x, D⁰) over the controls.
//  4. τ̂(x) = g(x)·τ̂₀(x) + (1 − g(x))·τ̂₁(x) with g = ê, the propensity (the paper's
//     recommended weight): where treated units are rare, trust the model learned from controls.
// With supplied (known) propensities g is their mean (a randomized experiment's assignment
// probability), so predict needs no propensity model. Cost: 4 regressions + 1 classifier on all
// rows, plus the K-fold nuisances of meta_learner_common.hpp for AIPW and diagnostics; with
// nuisance_fit = out_of_bag μ̂₀, μ̂₁ and g are those nuisance fits, so 4 regressions + 1
// classifier in all (the paper's cost).
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <ostream>
#include <string_view>
#include <utility>

#include "tailor/cate/default_learners.hpp"
#include "tailor/cate/meta_learner_common.hpp"

namespace tailor::cate {

template <learn::Regressor Outcome, learn::Classifier Propensity, learn::Regressor Effect>
class XLearnerModel : public EffectSummary {
 public:
  using EffectModel = learn::model_t<Effect>;
  using PropensityModel = learn::model_t<Propensity>;
  XLearnerModel(EffectModel tau0, EffectModel tau1, std::optional<PropensityModel> propensity,
                double constant_propensity, double clip, EffectSummary summary)
      : EffectSummary(std::move(summary)),
        tau0_(std::move(tau0)),
        tau1_(std::move(tau1)),
        propensity_(std::move(propensity)),
        constant_propensity_(constant_propensity),
        clip_(clip) {}

  /// τ̂(x) = g(x) τ̂₀(x) + (1 − g(x)) τ̂₁(x).
  Vector predict(const MatrixRef& X) const {
    const Vector t0 = tau0_.predict(X);
    const Vector t1 = tau1_.predict(X);
    Vector g(X.rows());
    if (propensity_) {
      g = clip_propensity(detail::positive_probability(*propensity_, X), clip_);
    } else {
      g.setConstant(constant_propensity_);
    }
    return (g.array() * t0.array() + (1.0 - g.array()) * t1.array()).matrix();
  }

  /// Versioned binary save (header "cate::XLearner" v1: the training summary, the clip and
  /// constant propensity, τ̂₀, τ̂₁, then the propensity model when one was fitted).
  void save(BinaryWriter& out) const requires Serializable<EffectModel> &&
      Serializable<PropensityModel> {
    out.write_header(kTypeTag, kVersion);
    save_summary(out);
    out.write(clip_);
    out.write(constant_propensity_);
    tau0_.save(out);
    tau1_.save(out);
    out.write(propensity_.has_value());
    if (propensity_) propensity_->save(out);
  }
  /// Loads what save wrote; corrupt, truncated or foreign data throws FormatError.
  static XLearnerModel load(BinaryReader& in) requires Serializable<EffectModel> &&
      Serializable<PropensityModel> {
    in.read_header(kTypeTag, kVersion);
    EffectSummary summary = load_summary(in);
    const auto clip = in.read<double>("propensity_clip");
    if (!(clip >= 0.0 && clip < 0.5)) {
      raise<FormatError>("{}: propensity_clip = {}, expected a value in [0, 0.5)", in.context(),
                         clip);
    }
    const auto constant = in.read<double>("constant_propensity");
    if (!(constant >= 0.0 && constant <= 1.0)) {
      raise<FormatError>("{}: constant_propensity = {}, expected a probability in [0, 1]",
                         in.context(), constant);
    }
    EffectModel tau0 = EffectModel::load(in);
    EffectModel tau1 = EffectModel::load(in);
    std::optional<PropensityModel> propensity;
    if (in.read<bool>("has_propensity_model")) propensity.emplace(PropensityModel::load(in));
    return XLearnerModel(std::move(tau0), std::move(tau1), std::move(propensity), constant, clip,
                         std::move(summary));
  }

 private:
  static constexpr std::string_view kTypeTag = "cate::XLearner";
  static constexpr std::uint32_t kVersion = 1;
  EffectModel tau0_, tau1_;
  std::optional<PropensityModel> propensity_;
  double constant_propensity_;
  double clip_;
};

template <learn::Regressor Outcome = DefaultRegressor,
          learn::Classifier Propensity = DefaultClassifier, learn::Regressor Effect = Outcome>
class XLearner : public detail::MetaLearnerBase<Outcome, Propensity, Effect> {
  using Base = detail::MetaLearnerBase<Outcome, Propensity, Effect>;

 public:
  /// Outcome and propensity learners; the effect learner is a copy of the outcome learner when
  /// the types agree, else a default-constructed Effect.
  explicit XLearner(MetaLearnerParams params = {}, Outcome outcome = Outcome(),
                    Propensity propensity = Propensity())
      : Base("XLearner", params, outcome, std::move(propensity),
             detail::default_effect<Effect>(outcome)) {}
  XLearner(MetaLearnerParams params, Outcome outcome, Propensity propensity, Effect effect)
      : Base("XLearner", params, std::move(outcome), std::move(propensity), std::move(effect)) {}

  XLearnerModel<Outcome, Propensity, Effect> fit(const CausalData& data) const {
    if constexpr (detail::supports_out_of_bag<Outcome, Propensity>) {
      if (this->params_.nuisance_fit == NuisanceFit::out_of_bag) {
        // μ̂₀, μ̂₁ and the propensity model g are the out-of-bag nuisance fits themselves.
        auto nu = detail::fit_out_of_bag(this->outcome_, this->propensity_, data, this->params_);
        return fit_effects(data, nu.mu0, nu.mu1, std::move(nu.propensity), std::move(nu.summary));
      }
    }
    const Folds folds = detail::treatment_folds(data, this->params_);
    EffectSummary summary =
        detail::summarize(this->outcome_, this->propensity_, data, folds, this->params_);
    const auto rows = detail::all_rows(data.num_rows());
    const auto mu0 = detail::fit_on(this->outcome_, data.X(), data.y(), data,
                                    detail::rows_where(data.w(), 0.0, rows));
    const auto mu1 = detail::fit_on(this->outcome_, data.X(), data.y(), data,
                                    detail::rows_where(data.w(), 1.0, rows));
    std::optional<learn::model_t<Propensity>> g_model;
    if (!data.has_propensity()) {
      g_model.emplace(this->propensity_.fit(data.X(), data.w(), detail::weights_of(data)));
    }
    return fit_effects(data, mu0, mu1, std::move(g_model), std::move(summary));
  }

 private:
  /// Steps 2–4 of the header comment, given the arm outcome models and the propensity model
  /// (absent with known propensities: g is then their mean).
  XLearnerModel<Outcome, Propensity, Effect> fit_effects(
      const CausalData& data, const learn::model_t<Outcome>& mu0,
      const learn::model_t<Outcome>& mu1, std::optional<learn::model_t<Propensity>> g_model,
      EffectSummary summary) const {
    const auto rows = detail::all_rows(data.num_rows());
    const auto treated = detail::rows_where(data.w(), 1.0, rows);
    const auto control = detail::rows_where(data.w(), 0.0, rows);

    // Imputed individual effects, each from the model of the other arm.
    Vector imputed(data.num_rows());
    {
      const Matrix Xt = data.X()(treated, Eigen::all);
      const Matrix Xc = data.X()(control, Eigen::all);
      const Vector mu0_t = mu0.predict(Xt);
      const Vector mu1_c = mu1.predict(Xc);
      for (std::size_t k = 0; k < treated.size(); ++k) {
        imputed[treated[k]] = data.y()[treated[k]] - mu0_t[static_cast<Index>(k)];
      }
      for (std::size_t k = 0; k < control.size(); ++k) {
        imputed[control[k]] = mu1_c[static_cast<Index>(k)] - data.y()[control[k]];
      }
    }
    auto tau1 = detail::fit_on(this->effect_, data.X(), imputed, data, treated);
    auto tau0 = detail::fit_on(this->effect_, data.X(), imputed, data, control);

    const double g_constant = data.has_propensity() ? data.propensity().mean() : 0.5;
    return XLearnerModel<Outcome, Propensity, Effect>(
        std::move(tau0), std::move(tau1), std::move(g_model), g_constant,
        this->params_.propensity_clip, std::move(summary));
  }
};

}  // namespace tailor::cate
