// tailor/cate/t_learner.hpp — the T-learner (Künzel, Sekhon, Bickel & Yu, PNAS 2019):
// separate outcome models per arm, τ̂(x) = μ̂₁(x) − μ̂₀(x).
//
// μ̂₀ is fitted on the controls and μ̂₁ on the treated (all rows of each arm); the cross-fitted
// nuisances for AIPW average effects and the overlap diagnostics come from
// meta_learner_common.hpp. Cost: 2 outcome fits + K-fold cross-fitting of μ̂₀, μ̂₁, ê; with
// nuisance_fit = out_of_bag the two arm models are the nuisance fits, so 2 fits + 1 classifier.
#pragma once

#include <cstdint>
#include <istream>
#include <ostream>
#include <string_view>
#include <utility>

#include "tailor/cate/default_learners.hpp"
#include "tailor/cate/meta_learner_common.hpp"

namespace tailor::cate {

template <learn::Regressor Outcome>
class TLearnerModel : public EffectSummary {
 public:
  using OutcomeModel = learn::model_t<Outcome>;
  TLearnerModel(OutcomeModel mu0, OutcomeModel mu1, EffectSummary summary)
      : EffectSummary(std::move(summary)), mu0_(std::move(mu0)), mu1_(std::move(mu1)) {}

  /// τ̂(x) = μ̂₁(x) − μ̂₀(x).
  Vector predict(const MatrixRef& X) const { return mu1_.predict(X) - mu0_.predict(X); }
  const OutcomeModel& control_model() const { return mu0_; }
  const OutcomeModel& treated_model() const { return mu1_; }

  /// Versioned binary save (header "cate::TLearner" v1: the training summary, μ̂₀, μ̂₁).
  void save(BinaryWriter& out) const requires Serializable<OutcomeModel> {
    out.write_header(kTypeTag, kVersion);
    save_summary(out);
    mu0_.save(out);
    mu1_.save(out);
  }
  /// Loads what save wrote; corrupt, truncated or foreign data throws FormatError.
  static TLearnerModel load(BinaryReader& in) requires Serializable<OutcomeModel> {
    in.read_header(kTypeTag, kVersion);
    EffectSummary summary = load_summary(in);
    OutcomeModel mu0 = OutcomeModel::load(in);
    OutcomeModel mu1 = OutcomeModel::load(in);
    return TLearnerModel(std::move(mu0), std::move(mu1), std::move(summary));
  }

 private:
  static constexpr std::string_view kTypeTag = "cate::TLearner";
  static constexpr std::uint32_t kVersion = 1;
  OutcomeModel mu0_, mu1_;
};

template <learn::Regressor Outcome = DefaultRegressor,
          learn::Classifier Propensity = DefaultClassifier>
class TLearner : public detail::MetaLearnerBase<Outcome, Propensity, Outcome> {
  using Base = detail::MetaLearnerBase<Outcome, Propensity, Outcome>;

 public:
  explicit TLearner(MetaLearnerParams params = {}, Outcome outcome = Outcome(), Propensity propensity = Propensity())
      : Base("TLearner", params, outcome, std::move(propensity), outcome) {}

  TLearnerModel<Outcome> fit(const CausalData& data) const {
    if constexpr (detail::supports_out_of_bag<Outcome, Propensity>) {
      if (this->params_.nuisance_fit == NuisanceFit::out_of_bag) {
        // The arm models are the out-of-bag nuisance fits themselves.
        auto nu = detail::fit_out_of_bag(this->outcome_, this->propensity_, data, this->params_);
        return TLearnerModel<Outcome>(std::move(nu.mu0), std::move(nu.mu1),
                                      std::move(nu.summary));
      }
    }
    const Folds folds = detail::treatment_folds(data, this->params_);
    EffectSummary summary =
        detail::summarize(this->outcome_, this->propensity_, data, folds, this->params_);
    const auto rows = detail::all_rows(data.num_rows());
    auto mu0 = detail::fit_on(this->outcome_, data.X(), data.y(), data,
                              detail::rows_where(data.w(), 0.0, rows));
    auto mu1 = detail::fit_on(this->outcome_, data.X(), data.y(), data,
                              detail::rows_where(data.w(), 1.0, rows));
    return TLearnerModel<Outcome>(std::move(mu0), std::move(mu1), std::move(summary));
  }
};

}  // namespace tailor::cate
