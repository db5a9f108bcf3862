// tailor/cate/r_learner.hpp — the R-learner (Nie & Wager, Biometrika 2021).
//
// Robinson's decomposition Y − m(x) = (W − e(x))·τ(x) + ε with m(x) = E[Y | X = x] gives the
// R-loss  Σᵢ [(Yᵢ − m̂(xᵢ)) − (Wᵢ − êᵢ) τ(xᵢ)]²  =  Σᵢ (Wᵢ − êᵢ)² [Ỹᵢ − τ(xᵢ)]²  with the
// pseudo-outcome Ỹᵢ = (Yᵢ − m̂ᵢ)/(Wᵢ − êᵢ). So τ̂ is any weighted regression of Ỹ on x with
// weights (W − ê)² (times the sample weights). m̂ and ê are cross-fitted; m̂ is assembled from
// the cross-fitted arm models as m̂ = ê μ̂₁ + (1 − ê) μ̂₀ (the identity m = μ₀ + e·τ), so one
// set of nuisance fits serves both the R-loss and the AIPW average effects. Clipping ê into
// [c, 1 − c] bounds |W − ê| ≥ c, so pseudo-outcomes stay finite.
// Cost: the K-fold (or out-of-bag: 3 fits) nuisances plus one weighted regression on all rows.
#pragma once

#include <utility>

#include "tailor/cate/default_learners.hpp"
#include "tailor/cate/meta_learner_common.hpp"

namespace tailor::cate {

/// A fitted the R-learner: one effect regression on top of the shared nuisances.
template <learn::Regressor Effect>
using RLearnerModel = SecondStageModel<Effect>;

template <learn::Regressor Outcome = DefaultRegressor,
          learn::Classifier Propensity = DefaultClassifier, learn::Regressor Effect = Outcome>
class RLearner : public detail::MetaLearnerBase<Outcome, Propensity, Effect> {
  using Base = detail::MetaLearnerBase<Outcome, Propensity, Effect>;

 public:
  /// Outcome and propensity learners; the effect learner is a copy of the outcome learner when
  /// the types agree, else a default-constructed Effect.
  explicit RLearner(MetaLearnerParams params = {}, Outcome outcome = Outcome(),
                    Propensity propensity = Propensity())
      : Base("RLearner", params, outcome, std::move(propensity),
             detail::default_effect<Effect>(outcome)) {}
  RLearner(MetaLearnerParams params, Outcome outcome, Propensity propensity, Effect effect)
      : Base("RLearner", params, std::move(outcome), std::move(propensity), std::move(effect)) {}

  RLearnerModel<Effect> fit(const CausalData& data) const {
    EffectSummary summary =
        detail::nuisance_summary(this->outcome_, this->propensity_, data, this->params_);
    const auto& nu = summary.nuisances();
    const Vector& e = nu.propensity;
    const Vector m = (e.array() * nu.mu1.array() + (1.0 - e.array()) * nu.mu0.array()).matrix();
    const Vector residual_w = data.w() - e;
    const Vector pseudo = ((data.y() - m).array() / residual_w.array()).matrix();
    const Vector r_weights = residual_w.array().square().matrix();
    auto tau = detail::fit_on(this->effect_, data.X(), pseudo, data,
                              detail::all_rows(data.num_rows()), r_weights);
    return RLearnerModel<Effect>(std::move(tau), std::move(summary));
  }
};

}  // namespace tailor::cate
