// tests/fuzz/model_loaders.hpp — one registry of every fitted model type that meets
// tailor::Serializable (core/serialization.hpp), for model-file hardening: fuzz targets and
// corrupt-file tests iterate model_loaders(), and make_model_corpus.cpp writes one small seed
// file per entry (tests/fuzz/corpus/models/<name>.bin).
//
// Names: the model's type tag in snake case with "::" as "_" (learn::RegressionForest →
// learn_regression_forest, segment::KMeansModel → segment_kmeans_model), plus a suffix where
// several entries share a tag: the base learners of a meta-learner instantiation (_forest:
// RegressionForest / ClassificationForest, _linear: Ridge / LogisticRegression), or the
// estimator that fitted the file (ctr_funnel_model_esmm, ctr_multi_task_model_ple, ...).
// The array is sorted by name (checked at compile time).
//
// Only load and save are instantiated here (no fitting), so including this header stays cheap.
#pragma once

#include <algorithm>
#include <array>
#include <istream>
#include <ostream>
#include <span>
#include <string_view>

#include "tailor/bidding/rlb.hpp"
#include "tailor/cate/causal_forest.hpp"
#include "tailor/cate/meta_learner_common.hpp"
#include "tailor/cate/s_learner.hpp"
#include "tailor/cate/t_learner.hpp"
#include "tailor/cate/x_learner.hpp"
#include "tailor/core/serialization.hpp"
#include "tailor/ctr/calibration.hpp"
#include "tailor/ctr/deepfm.hpp"
#include "tailor/ctr/feature_space.hpp"
#include "tailor/ctr/ffm.hpp"
#include "tailor/ctr/fm.hpp"
#include "tailor/ctr/linear.hpp"
#include "tailor/ctr/multitask.hpp"
#include "tailor/ctr/pnn.hpp"
#include "tailor/ctr/profile_moe.hpp"
#include "tailor/ctr/wide_deep.hpp"
#include "tailor/learn/binning.hpp"
#include "tailor/learn/classification_forest.hpp"
#include "tailor/learn/gradient_boosting.hpp"
#include "tailor/learn/logistic_regression.hpp"
#include "tailor/learn/regression_forest.hpp"
#include "tailor/learn/ridge.hpp"
#include "tailor/learn/tree/forest.hpp"
#include "tailor/policy/policy_tree.hpp"
#include "tailor/segment/kmeans.hpp"
#include "tailor/segment/nmf.hpp"
#include "tailor/segment/segmenter.hpp"
#include "tailor/uplift/uplift_forest.hpp"

namespace tailor_fuzz {

struct ModelLoader {
  std::string_view name;                                    ///< file stem, e.g. "learn_ridge"
  void (*load)(std::istream& in);                           ///< tailor::load<M>(in), discarded
  void (*round_trip)(std::istream& in, std::ostream& out);  ///< save(load<M>(in), out)
};

namespace detail {

template <tailor::Serializable M>
void load_model(std::istream& in) {
  (void)tailor::load<M>(in);
}

template <tailor::Serializable M>
void round_trip_model(std::istream& in, std::ostream& out) {
  tailor::save(tailor::load<M>(in), out);
}

template <tailor::Serializable M>
constexpr ModelLoader entry(std::string_view name) {
  return ModelLoader{name, &load_model<M>, &round_trip_model<M>};
}

// The meta-learner instantiations (the model types name only the learners they keep).
using ForestRegressor = tailor::learn::RegressionForest;
using ForestClassifier = tailor::learn::ClassificationForest;
using LinearRegressor = tailor::learn::Ridge;
using LinearClassifier = tailor::learn::LogisticRegression;

inline constexpr std::array kModelLoaders = {
    entry<tailor::bidding::RlbValueFunction>("bidding_rlb_value_function"),
    entry<tailor::cate::CausalForestModel>("cate_causal_forest"),
    entry<tailor::cate::SLearnerModel<ForestRegressor>>("cate_s_learner_forest"),
    entry<tailor::cate::SLearnerModel<LinearRegressor>>("cate_s_learner_linear"),
    // R- and DR-learner models are one type, SecondStageModel<Effect>.
    entry<tailor::cate::SecondStageModel<ForestRegressor>>("cate_second_stage_model_forest"),
    entry<tailor::cate::SecondStageModel<LinearRegressor>>("cate_second_stage_model_linear"),
    entry<tailor::cate::TLearnerModel<ForestRegressor>>("cate_t_learner_forest"),
    entry<tailor::cate::TLearnerModel<LinearRegressor>>("cate_t_learner_linear"),
    entry<tailor::cate::XLearnerModel<ForestRegressor, ForestClassifier, ForestRegressor>>(
        "cate_x_learner_forest"),
    entry<tailor::cate::XLearnerModel<LinearRegressor, LinearClassifier, LinearRegressor>>(
        "cate_x_learner_linear"),
    entry<tailor::ctr::DeepFMModel>("ctr_deepfm"),
    entry<tailor::ctr::FactorizationMachineModel>("ctr_factorization_machine"),
    entry<tailor::ctr::FeatureSpace>("ctr_feature_space"),
    entry<tailor::ctr::FieldAwareFactorizationMachineModel>(
        "ctr_field_aware_factorization_machine"),
    entry<tailor::ctr::FunnelModel>("ctr_funnel_model_escm2"),
    entry<tailor::ctr::FunnelModel>("ctr_funnel_model_esmm"),
    entry<tailor::ctr::IsotonicCalibrator>("ctr_isotonic_calibrator"),
    entry<tailor::ctr::MultiTaskModel>("ctr_multi_task_model_mmoe"),
    entry<tailor::ctr::MultiTaskModel>("ctr_multi_task_model_ple"),
    entry<tailor::ctr::PlattCalibrator>("ctr_platt_calibrator"),
    entry<tailor::ctr::PNNModel>("ctr_pnn"),
    entry<tailor::ctr::ProfileMoeModel>("ctr_profile_moe"),
    entry<tailor::ctr::SparseLogisticRegressionModel>("ctr_sparse_logistic_regression"),
    entry<tailor::ctr::WideDeepModel>("ctr_wide_deep"),
    entry<tailor::learn::BinMapper>("learn_bin_mapper"),
    entry<tailor::learn::ClassificationForestModel>("learn_classification_forest"),
    entry<tailor::learn::GradientBoostingClassificationModel>("learn_gradient_boosting_classifier"),
    entry<tailor::learn::GradientBoostingRegressionModel>("learn_gradient_boosting_regressor"),
    entry<tailor::learn::LogisticRegressionModel>("learn_logistic_regression"),
    entry<tailor::learn::RegressionForestModel>("learn_regression_forest"),
    entry<tailor::learn::RidgeModel>("learn_ridge"),
    entry<tailor::learn::tree::Forest>("learn_tree_forest"),
    entry<tailor::policy::PolicyTreeModel>("policy_policy_tree"),
    entry<tailor::segment::KMeansModel>("segment_kmeans_model"),
    entry<tailor::segment::NmfModel>("segment_nmf_model"),
    entry<tailor::segment::SegmenterModel>("segment_segmenter_model"),
    entry<tailor::segment::SegmenterModel>("segment_segmenter_model_no_nmf"),
    entry<tailor::uplift::UpliftForestModel>("uplift_uplift_forest"),
};

static_assert(std::ranges::adjacent_find(kModelLoaders, std::ranges::greater_equal{},
                                         &ModelLoader::name) == kModelLoaders.end(),
              "model_loaders(): names must be unique and sorted");

}  // namespace detail

/// Every Serializable fitted model type of tailor (see the header comment), sorted by name.
inline std::span<const ModelLoader> model_loaders() {
  return detail::kModelLoaders;
}

}  // namespace tailor_fuzz
