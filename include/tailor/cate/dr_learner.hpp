// tailor/cate/dr_learner.hpp — the DR-learner (Kennedy, Electronic Journal of Statistics 2023).
//
// Regress the cross-fitted doubly-robust (AIPW) scores
//     Γᵢ = μ̂₁(xᵢ) − μ̂₀(xᵢ) + Wᵢ(Yᵢ − μ̂₁(xᵢ))/êᵢ − (1 − Wᵢ)(Yᵢ − μ̂₀(xᵢ))/(1 − êᵢ)
// on x: E[Γ | X = x] = τ(x) when either the outcome models or the propensity are right, and the
// error of τ̂ is second order in the nuisance errors (Kennedy's oracle inequality). ê is clipped
// into [c, 1 − c], which bounds the scores' inverse weights by 1/c.
// Cost: the K-fold (or out-of-bag: 3 fits) nuisances plus one regression on all rows.
#pragma once

#include <utility>

#include "tailor/cate/default_learners.hpp"
#include "tailor/cate/meta_learner_common.hpp"

namespace tailor::cate {

/// A fitted the DR-learner: one effect regression on top of the shared nuisances.
template <learn::Regressor Effect>
using DRLearnerModel = SecondStageModel<Effect>;

template <learn::Regressor Outcome = DefaultRegressor,
          learn::Classifier Propensity = DefaultClassifier, learn::Regressor Effect = Outcome>
class DRLearner : public detail::MetaLearnerBase<Outcome, Propensity, Effect> {
  using Base = detail::MetaLearnerBase<Outcome, Propensity, Effect>;

 public:
  /// Outcome and propensity learners; the effect learner is a copy of the outcome learner when
  /// the types agree, else a default-constructed Effect.
  explicit DRLearner(MetaLearnerParams params = {}, Outcome outcome = Outcome(),
                     Propensity propensity = Propensity())
      : Base("DRLearner", params, outcome, std::move(propensity),
             detail::default_effect<Effect>(outcome)) {}
  DRLearner(MetaLearnerParams params, Outcome outcome, Propensity propensity, Effect effect)
      : Base("DRLearner", params, std::move(outcome), std::move(propensity), std::move(effect)) {}

  DRLearnerModel<Effect> fit(const CausalData& data) const {
    EffectSummary summary =
        detail::nuisance_summary(this->outcome_, this->propensity_, data, this->params_);
    const Vector scores = summary.doubly_robust_scores();
    auto tau =
        detail::fit_on(this->effect_, data.X(), scores, data, detail::all_rows(data.num_rows()));
    return DRLearnerModel<Effect>(std::move(tau), std::move(summary));
  }
};

}  // namespace tailor::cate
