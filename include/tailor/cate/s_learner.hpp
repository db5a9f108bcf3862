// tailor/cate/s_learner.hpp — the S-learner (Künzel et al., PNAS 2019): one outcome model
// μ̂(x, w) with the treatment as an extra feature, τ̂(x) = μ̂(x, 1) − μ̂(x, 0).
//
// Its bias: a regularized learner may ignore w (τ̂ shrunk to 0). Its nuisances for AIPW come
// from cross-fitting the same single model (μ̂₀ = μ̂(x, 0), μ̂₁ = μ̂(x, 1) out of fold), with ê
// cross-fitted as in meta_learner_common.hpp. Cost: 1 + K outcome fits on p + 1 features. With
// nuisance_fit = out_of_bag the single model cannot give out-of-bag values at the other arm, so
// the AIPW nuisances come from meta_learner_common.hpp's out-of-bag arm models (μ̂₀ on the
// controls, μ̂₁ on the treated, ê): 1 + 2 outcome fits + 1 classifier.
#pragma once

#include <cstdint>
#include <istream>
#include <ostream>
#include <string_view>
#include <utility>

#include "tailor/cate/default_learners.hpp"
#include "tailor/cate/meta_learner_common.hpp"

namespace tailor::cate {

namespace detail {
/// [X, value]: X with a constant treatment column appended.
inline Matrix with_treatment(const MatrixRef& X, double value) {
  Matrix out(X.rows(), X.cols() + 1);
  out.leftCols(X.cols()) = X;
  out.col(X.cols()).setConstant(value);
  return out;
}
}  // namespace detail

template <learn::Regressor Outcome>
class SLearnerModel : public EffectSummary {
 public:
  using OutcomeModel = learn::model_t<Outcome>;
  SLearnerModel(OutcomeModel model, EffectSummary summary)
      : EffectSummary(std::move(summary)), model_(std::move(model)) {}

  /// τ̂(x) = μ̂(x, 1) − μ̂(x, 0).
  Vector predict(const MatrixRef& X) const {
    return model_.predict(detail::with_treatment(X, 1.0)) -
           model_.predict(detail::with_treatment(X, 0.0));
  }
  const OutcomeModel& outcome_model() const { return model_; }

  /// Versioned binary save (header "cate::SLearner" v1: the training summary, then μ̂(x, w)).
  void save(BinaryWriter& out) const requires Serializable<OutcomeModel> {
    out.write_header(kTypeTag, kVersion);
    save_summary(out);
    model_.save(out);
  }
  /// Loads what save wrote; corrupt, truncated or foreign data throws FormatError.
  static SLearnerModel load(BinaryReader& in) requires Serializable<OutcomeModel> {
    in.read_header(kTypeTag, kVersion);
    EffectSummary summary = load_summary(in);
    OutcomeModel model = OutcomeModel::load(in);
    return SLearnerModel(std::move(model), std::move(summary));
  }

 private:
  static constexpr std::string_view kTypeTag = "cate::SLearner";
  static constexpr std::uint32_t kVersion = 1;
  OutcomeModel model_;
};

template <learn::Regressor Outcome = DefaultRegressor,
          learn::Classifier Propensity = DefaultClassifier>
class SLearner : public detail::MetaLearnerBase<Outcome, Propensity, Outcome> {
  using Base = detail::MetaLearnerBase<Outcome, Propensity, Outcome>;

 public:
  explicit SLearner(MetaLearnerParams params = {}, Outcome outcome = Outcome(),
                    Propensity propensity = Propensity())
      : Base("SLearner", params, outcome, std::move(propensity), outcome) {}

  SLearnerModel<Outcome> fit(const CausalData& data) const {
    const Index n = data.num_rows();
    Matrix Xw(n, data.num_features() + 1);
    Xw.leftCols(data.num_features()) = data.X();
    Xw.col(data.num_features()) = data.w();
    const Vector weights = detail::weights_of(data);
    if (this->params_.nuisance_fit == NuisanceFit::out_of_bag) {
      EffectSummary summary =
          detail::nuisance_summary(this->outcome_, this->propensity_, data, this->params_);
      return SLearnerModel<Outcome>(this->outcome_.fit(Xw, data.y(), weights), std::move(summary));
    }
    const Folds folds = detail::treatment_folds(data, this->params_);

    // Out-of-fold μ̂(x, 0) and μ̂(x, 1) from the same single-model learner.
    const Matrix mu = learn::cross_fit(
        "SLearner", folds, 1, this->params_.num_threads,
        [&](Index, Index, const std::vector<Index>& train, const std::vector<Index>& test) {
          const auto model = detail::fit_on(this->outcome_, Xw, data.y(), data, train);
          const Matrix Xtest = data.X()(test, Eigen::all);
          Matrix both(static_cast<Index>(test.size()), 2);
          both.col(0) = model.predict(detail::with_treatment(Xtest, 0.0));
          both.col(1) = model.predict(detail::with_treatment(Xtest, 1.0));
          return both;
        });
    const Vector e_raw =
        detail::cross_fit_propensity(this->propensity_, data, folds, this->params_.num_threads);
    EffectSummary summary = detail::make_summary(data, mu.col(0), mu.col(1), e_raw, this->params_);
    auto model = this->outcome_.fit(Xw, data.y(), weights);
    return SLearnerModel<Outcome>(std::move(model), std::move(summary));
  }
};

}  // namespace tailor::cate
